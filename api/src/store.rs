//! The durable store of standalone mode: tasks, their queued texts, their results and their
//! pending webhook deliveries, in one embedded redb file (or in memory for tests).
//!
//! Every write is one transaction committed to disk before it returns, so a `kill -9` leaves
//! the store as of the last completed call.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use guardrails_agent::{DeliveryAttempt, EventType};
use jiff::Timestamp;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{Submission, TaskView};

/// Task views (without their result) by task id.
const TASKS: TableDefinition<&str, &[u8]> = TableDefinition::new("tasks");
/// Submissions accepted and not analysed yet, by task id.
const QUEUED: TableDefinition<&str, &[u8]> = TableDefinition::new("queued");
/// Analysis results (their JSON) by task id.
const RESULTS: TableDefinition<&str, &[u8]> = TableDefinition::new("results");
/// Deliveries not finished yet, by task id.
const DELIVERIES: TableDefinition<&str, &[u8]> = TableDefinition::new("deliveries");
/// Finished tasks by the second they expire at, then task id.
const EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("expiry");

/// Name of the store file in the data directory.
pub const FILE_NAME: &str = "guardrails.redb";

/// Page cache of the database file: results are read from disk, not kept in memory.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Most submissions committed in one transaction.
const MAX_GROUP: usize = 256;

/// Why the store cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (I/O, corruption, a full disk).
    #[error("the task store failed: {0}")]
    Database(#[from] redb::Error),
    /// The store file cannot be opened (another process has it, no permission, a bad file).
    #[error("cannot open the task store `{path}`: {source}")]
    Open {
        /// The store file.
        path: String,
        /// Why.
        #[source]
        source: redb::Error,
    },
    /// The thread committing submissions has stopped (the process is shutting down).
    #[error("the task store is closed")]
    Closed,
    /// A record does not decode (written by an incompatible version).
    #[error("a record of the task store cannot be read: {0}")]
    Record(#[from] serde_json::Error),
}

/// Turns any of redb's error types into a [`StoreError`] with `?`.
trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> Db<T> for Result<T, E> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Database(e.into()))
    }
}

/// A webhook delivery not finished yet: enough to send the same event again after a restart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingDelivery {
    /// The event id (`X-Guardrails-Delivery`, `webhook-id`), the same on every attempt.
    pub event_id: String,
    /// `task.completed` (the payload carries the stored result) or `task.failed`.
    pub event_type: EventType,
    /// When the event happened, as in its payload.
    pub timestamp: Timestamp,
    /// The error of a failed task.
    pub error: Option<String>,
    /// The destination URL.
    pub url: String,
    /// Whether the delivery is signed.
    pub sign: bool,
    /// Attempts of the current round so far, oldest first; the retry schedule follows from them.
    pub attempts: Vec<DeliveryAttempt>,
    /// The delivery round: 1, then + 1 per redelivery.
    #[serde(default = "first_round")]
    pub round: u32,
    /// Whether the round ended (kept so the delivery can be started again by a redelivery).
    #[serde(default)]
    pub finished: bool,
}

fn first_round() -> u32 {
    1
}

/// What a restart finds in the store.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Every task kept, oldest submission first.
    pub tasks: Vec<TaskView>,
    /// Ids of the tasks to analyse, oldest first (their texts stay in the store until then).
    pub queued: Vec<String>,
    /// Deliveries to resume, by task id.
    pub deliveries: Vec<(String, PendingDelivery)>,
}

/// The redb database of standalone mode.
pub struct Store {
    db: Arc<Database>,
    grouped: Option<Sender<Grouped>>,
    committer: Option<JoinHandle<()>>,
}

/// A change to the tables, applied inside a write transaction.
type Change = Box<dyn Fn(&mut Tables<'_>) -> Result<(), StoreError> + Send>;

/// A change waiting for the next group commit, and where its outcome goes.
struct Grouped {
    change: Change,
    done: SyncSender<Result<(), StoreError>>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        let failed = |source: redb::Error| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| failed(redb::Error::Io(e)))?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| failed(e.into()))?;
        Self::with_tables(db)
    }

    /// A store in memory: nothing survives the process (for tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .db()?;
        Self::with_tables(db)
    }

    fn with_tables(db: Database) -> Result<Self, StoreError> {
        let db = Arc::new(db);
        write(&db, |_| Ok(()))?;
        let (grouped, pending) = channel();
        let committer = {
            let db = db.clone();
            std::thread::Builder::new()
                .name("store-commits".into())
                .spawn(move || commit_in_groups(&db, &pending))
                .map_err(|e| StoreError::Database(redb::Error::Io(e)))?
        };
        Ok(Self {
            db,
            grouped: Some(grouped),
            committer: Some(committer),
        })
    }

    /// Records an accepted submission: its view and its text, to analyse.
    pub fn save_submitted(
        &self,
        view: &TaskView,
        submission: &Submission,
    ) -> Result<(), StoreError> {
        let record = serde_json::to_vec(submission)?;
        let view = view.clone();
        // NB: committed together with the submissions arriving meanwhile: one fsync for all.
        self.write_grouped(move |tables| {
            tables.put_view(&view)?;
            tables
                .queued
                .insert(view.task_id.as_str(), record.as_slice())
                .db()?;
            Ok(())
        })
    }

    /// Records the end of an analysis in one transaction: the view, the result, the delivery to
    /// make (if any) and when the task expires; the queued text is removed.
    pub fn save_analysed(
        &self,
        view: &TaskView,
        result: Option<&[u8]>,
        delivery: Option<&PendingDelivery>,
        expires_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let delivery = delivery.map(serde_json::to_vec).transpose()?;
        let (view, result) = (view.clone(), result.map(<[u8]>::to_vec));
        self.write_grouped(move |tables| {
            let id = view.task_id.as_str();
            tables.put_view(&view)?;
            tables.queued.remove(id).db()?;
            if let Some(result) = &result {
                tables.results.insert(id, result.as_slice()).db()?;
            }
            if let Some(delivery) = &delivery {
                tables.deliveries.insert(id, delivery.as_slice()).db()?;
            }
            if let Some(at) = expires_at {
                tables.expiry.insert((unix_seconds(at), id), ()).db()?;
            }
            Ok(())
        })
    }

    /// Records the attempts of a delivery still going on, with the task's view.
    pub fn save_delivery(
        &self,
        view: &TaskView,
        delivery: &PendingDelivery,
    ) -> Result<(), StoreError> {
        let record = serde_json::to_vec(delivery)?;
        let view = view.clone();
        self.write_grouped(move |tables| {
            tables.put_view(&view)?;
            tables
                .deliveries
                .insert(view.task_id.as_str(), record.as_slice())
                .db()?;
            Ok(())
        })
    }

    /// Records the end of a delivery round: the final view, and the delivery marked finished so
    /// a restart does not resume it (a redelivery may start it again).
    pub fn finish_delivery(
        &self,
        view: &TaskView,
        delivery: &PendingDelivery,
    ) -> Result<(), StoreError> {
        let finished = PendingDelivery {
            finished: true,
            ..delivery.clone()
        };
        self.save_delivery(view, &finished)
    }

    /// The delivery record of a task, finished or not.
    pub fn delivery(&self, task_id: &str) -> Result<Option<PendingDelivery>, StoreError> {
        self.read(DELIVERIES, task_id)?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// The view of a task, if it is kept.
    pub fn view(&self, task_id: &str) -> Result<Option<TaskView>, StoreError> {
        self.read(TASKS, task_id)?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// The submission of a task not analysed yet.
    pub fn queued(&self, task_id: &str) -> Result<Option<Submission>, StoreError> {
        self.read(QUEUED, task_id)?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// The result JSON of a task, if it succeeded and is kept.
    pub fn result(&self, task_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(RESULTS, task_id)
    }

    /// Removes every task that expired at or before `now`; returns their ids.
    pub fn remove_expired(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        let mut removed = Vec::new();
        self.write(|tables| {
            let due: Vec<(u64, String)> = tables
                .expiry
                .range(..=(unix_seconds(now), "\u{10ffff}"))
                .db()?
                .map(|entry| entry.map(|(key, _)| (key.value().0, key.value().1.to_owned())))
                .collect::<Result<_, _>>()
                .db()?;
            for (at, id) in due {
                tables.expiry.remove((at, id.as_str())).db()?;
                tables.tasks.remove(id.as_str()).db()?;
                tables.results.remove(id.as_str()).db()?;
                tables.deliveries.remove(id.as_str()).db()?;
                removed.push(id);
            }
            Ok(())
        })?;
        Ok(removed)
    }

    /// Everything to serve and resume after a restart.
    pub fn recover(&self) -> Result<Recovered, StoreError> {
        let read = self.db.begin_read().db()?;
        let mut tasks: Vec<TaskView> = all(&read.open_table(TASKS).db()?)?;
        tasks.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at));
        Ok(Recovered {
            queued: queued_ids(&read.open_table(QUEUED).db()?, &tasks)?,
            tasks,
            deliveries: all_by_id::<PendingDelivery>(&read.open_table(DELIVERIES).db()?)?
                .into_iter()
                .filter(|(_, delivery)| !delivery.finished)
                .collect(),
        })
    }

    fn read(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read().db()?;
        let table = read.open_table(table).db()?;
        Ok(table.get(key).db()?.map(|value| value.value().to_vec()))
    }

    fn write(
        &self,
        change: impl FnOnce(&mut Tables<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        write(&self.db, change)
    }

    /// Writes `change` in the next group commit and waits until it is on disk.
    fn write_grouped(
        &self,
        change: impl Fn(&mut Tables<'_>) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), StoreError> {
        let (done, outcome) = sync_channel(1);
        let grouped = Grouped {
            change: Box::new(change),
            done,
        };
        let sender = self.grouped.as_ref().ok_or(StoreError::Closed)?;
        sender.send(grouped).map_err(|_| StoreError::Closed)?;
        outcome.recv().map_err(|_| StoreError::Closed)?
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // NB: the committer holds the database; it must be gone before the file can reopen.
        self.grouped.take();
        if let Some(committer) = self.committer.take() {
            let _ = committer.join();
        }
    }
}

/// One write transaction running `change`, committed to disk.
fn write(
    db: &Database,
    change: impl FnOnce(&mut Tables<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let write = db.begin_write().db()?;
    {
        let mut tables = Tables {
            tasks: write.open_table(TASKS).db()?,
            queued: write.open_table(QUEUED).db()?,
            results: write.open_table(RESULTS).db()?,
            deliveries: write.open_table(DELIVERIES).db()?,
            expiry: write.open_table(EXPIRY).db()?,
        };
        change(&mut tables)?;
    }
    write.commit().db()
}

/// Commits the changes waiting, as many as have arrived, in one transaction each round; if the
/// group fails, each change is retried alone so one bad change fails only its own caller.
fn commit_in_groups(db: &Database, pending: &Receiver<Grouped>) {
    while let Ok(first) = pending.recv() {
        let mut group = vec![first];
        group.extend(pending.try_iter().take(MAX_GROUP - 1));
        let together = write(db, |tables| {
            group
                .iter()
                .try_for_each(|grouped| (grouped.change)(tables))
        });
        for grouped in &group {
            let outcome = match &together {
                Ok(()) => Ok(()),
                Err(_) => write(db, |tables| (grouped.change)(tables)),
            };
            let _ = grouped.done.send(outcome);
        }
    }
}

/// The tables open in one write transaction.
struct Tables<'t> {
    tasks: redb::Table<'t, &'static str, &'static [u8]>,
    queued: redb::Table<'t, &'static str, &'static [u8]>,
    results: redb::Table<'t, &'static str, &'static [u8]>,
    deliveries: redb::Table<'t, &'static str, &'static [u8]>,
    expiry: redb::Table<'t, (u64, &'static str), ()>,
}

impl Tables<'_> {
    fn put_view(&mut self, view: &TaskView) -> Result<(), StoreError> {
        let mut record = view.clone();
        record.result = None;
        let bytes = serde_json::to_vec(&record)?;
        self.tasks
            .insert(view.task_id.as_str(), bytes.as_slice())
            .db()?;
        Ok(())
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(bytes)?)
}

fn all<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Vec<T>, StoreError> {
    Ok(all_by_id(table)?
        .into_iter()
        .map(|(_, value)| value)
        .collect())
}

fn all_by_id<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Vec<(String, T)>, StoreError> {
    let mut records = Vec::new();
    for entry in table.iter().db()? {
        let (key, value) = entry.db()?;
        records.push((key.value().to_owned(), decode(value.value())?));
    }
    Ok(records)
}

/// The keys of the queue, in the order of `tasks` (oldest first).
fn queued_ids(
    queue: &impl ReadableTable<&'static str, &'static [u8]>,
    tasks: &[TaskView],
) -> Result<Vec<String>, StoreError> {
    let mut ids = Vec::new();
    for task in tasks {
        if queue.get(task.task_id.as_str()).db()?.is_some() {
            ids.push(task.task_id.clone());
        }
    }
    Ok(ids)
}

fn unix_seconds(at: Timestamp) -> u64 {
    u64::try_from(at.as_second()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TaskState, WebhookRequest};

    fn view(task_id: &str) -> TaskView {
        TaskView {
            task_id: task_id.into(),
            status: TaskState::Pending,
            submitted_at: "2026-03-01T12:00:00Z".into(),
            started_at: None,
            completed_at: None,
            result: None,
            error: None,
            webhook: None,
        }
    }

    fn submission() -> Submission {
        Submission {
            text: "SSN 536-22-1234".into(),
            frameworks: Vec::new(),
            include_redaction: false,
            webhook: Some(WebhookRequest {
                url: "https://hooks.example.com/x".into(),
                sign_payload: true,
            }),
        }
    }

    fn delivery() -> PendingDelivery {
        PendingDelivery {
            event_id: "evt-1".into(),
            event_type: EventType::Completed,
            timestamp: "2026-03-01T12:00:01Z".parse().unwrap(),
            error: None,
            url: "https://hooks.example.com/x".into(),
            sign: true,
            attempts: vec![DeliveryAttempt::new(
                1,
                "2026-03-01T12:00:02Z".parse().unwrap(),
            )],
            round: 1,
            finished: false,
        }
    }

    #[test]
    fn a_reopened_store_gives_back_queued_texts_results_and_pending_deliveries() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .save_submitted(&view("queued"), &submission())
                .unwrap();
            store.save_submitted(&view("done"), &submission()).unwrap();
            let mut done = view("done");
            done.status = TaskState::Success;
            store
                .save_analysed(
                    &done,
                    Some(br#"{"status":"success"}"#),
                    Some(&delivery()),
                    None,
                )
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let recovered = store.recover().unwrap();
        assert_eq!(recovered.tasks.len(), 2);
        assert_eq!(recovered.queued, ["queued"]);
        assert_eq!(store.queued("queued").unwrap(), Some(submission()));
        assert_eq!(
            store.queued("done").unwrap(),
            None,
            "analysed texts leave the store"
        );
        assert_eq!(recovered.deliveries, vec![("done".to_owned(), delivery())]);
        assert_eq!(
            store.result("done").unwrap().as_deref(),
            Some(&br#"{"status":"success"}"#[..])
        );
        assert_eq!(
            store.view("done").unwrap().unwrap().status,
            TaskState::Success
        );
    }

    #[test]
    fn a_finished_delivery_is_kept_for_redelivery_but_not_resumed() {
        let store = Store::in_memory().unwrap();
        store.save_submitted(&view("t"), &submission()).unwrap();
        store
            .save_analysed(&view("t"), Some(b"{}"), Some(&delivery()), None)
            .unwrap();
        store.finish_delivery(&view("t"), &delivery()).unwrap();
        assert!(store.recover().unwrap().deliveries.is_empty());
        let kept = store.delivery("t").unwrap().unwrap();
        assert!(kept.finished);
        assert_eq!(kept.event_id, "evt-1");
    }

    #[test]
    fn submissions_written_at_once_are_all_kept() {
        let store = Arc::new(Store::in_memory().unwrap());
        let writers: Vec<_> = (0..32)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store.save_submitted(&view(&format!("t{i:02}")), &submission())
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap().unwrap();
        }
        assert_eq!(store.recover().unwrap().queued.len(), 32);
    }

    #[test]
    fn expired_tasks_leave_with_their_result_and_others_stay() {
        let store = Store::in_memory().unwrap();
        let noon: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        for (id, expires) in [
            ("old", noon),
            ("new", noon + jiff::SignedDuration::from_hours(1)),
        ] {
            store.save_submitted(&view(id), &submission()).unwrap();
            store
                .save_analysed(&view(id), Some(b"{}"), None, Some(expires))
                .unwrap();
        }
        assert_eq!(store.remove_expired(noon).unwrap(), ["old"]);
        assert!(store.view("old").unwrap().is_none());
        assert!(store.result("old").unwrap().is_none());
        assert!(store.view("new").unwrap().is_some());
    }

    #[test]
    fn a_second_opening_of_the_same_directory_is_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let Err(err) = Store::open(dir.path()) else {
            panic!("the store was opened twice");
        };
        assert!(err.to_string().contains(FILE_NAME), "{err}");
    }
}
