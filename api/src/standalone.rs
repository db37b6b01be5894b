//! Standalone mode: tasks kept in memory, analysed on the worker pool, and their webhooks
//! delivered by the delivery engine of `guardrails-agent` — no Kubernetes. Nothing survives a
//! restart.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use guardrails_agent::deliverer::SinkError;
use guardrails_agent::{AttemptSink, Deliverer, Delivery, DeliveryAttempt, Event, Outcome, Policy};
use guardrails_analysis::Analysis;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::model::{
    AttemptView, SUBMITTED_MESSAGE, Submission, SubmittedTask, TaskState, TaskView, WebhookView,
    rfc3339,
};
use crate::problem::{ApiError, Code};
use crate::workers::{AnalysisFailure, Slot, Workers};

/// Most attempts shown per task, as in `status.delivery.attempts`.
const MAX_ATTEMPTS_SHOWN: usize = guardrails_crds::delivery::MAX_STATUS_ATTEMPTS;

/// The in-memory task store of standalone mode and the jobs that fill it.
pub struct StandaloneTasks {
    tasks: Mutex<Tasks>,
    jobs: mpsc::Sender<Job>,
    deliverer: Arc<Deliverer>,
    policy: Policy,
    max_tasks: usize,
}

/// Tasks by id, and their ids oldest first. NB: entries are small (a boxed task under a
/// 16-byte key), so growing the map moves little memory while the lock is held.
#[derive(Default)]
struct Tasks {
    by_id: HashMap<Uuid, Box<Stored>>,
    order: VecDeque<Uuid>,
}

/// A remembered task: its view, and its analysis kept as a value (made into JSON on `GET`).
struct Stored {
    view: TaskView,
    analysis: Option<Arc<Analysis>>,
}

/// A submission waiting for a worker.
struct Job {
    id: Uuid,
    task_id: String,
    submission: Submission,
}

impl StandaloneTasks {
    /// A store that analyses on `workers`, delivers with `deliverer` under `policy` (the
    /// environment's), keeps at most `max_queued` submissions waiting for a worker and
    /// remembers the last `max_tasks` tasks.
    pub fn new(
        workers: Workers,
        deliverer: Arc<Deliverer>,
        policy: Policy,
        max_queued: usize,
        max_tasks: usize,
    ) -> Arc<Self> {
        let (jobs, queue) = mpsc::channel(max_queued.max(1));
        let tasks = Arc::new(Self {
            tasks: Mutex::new(Tasks::default()),
            jobs,
            deliverer,
            policy,
            max_tasks: max_tasks.max(1),
        });
        tokio::spawn(dispatch(queue, workers, Arc::downgrade(&tasks)));
        tasks
    }

    /// Accepts a submission: records it as PENDING and queues its job.
    pub fn submit(self: &Arc<Self>, submission: Submission) -> Result<SubmittedTask, ApiError> {
        let permit = self.jobs.try_reserve().map_err(|_| {
            ApiError::new(
                Code::Unavailable,
                "too many analyses are waiting; retry in a moment",
            )
        })?;
        let id = Uuid::new_v4();
        let task_id = id.to_string();
        let submitted_at = rfc3339(jiff::Timestamp::now());
        let view = TaskView {
            task_id: task_id.clone(),
            status: TaskState::Pending,
            submitted_at: submitted_at.clone(),
            started_at: None,
            completed_at: None,
            result: None,
            error: None,
            webhook: submission.webhook.as_ref().map(|_| WebhookView {
                status: "Pending".into(),
                attempts: Vec::new(),
                message: None,
            }),
        };
        self.insert(id, view);
        permit.send(Job {
            id,
            task_id: task_id.clone(),
            submission,
        });
        Ok(SubmittedTask {
            task_id,
            status: TaskState::Pending,
            submitted_at,
            message: SUBMITTED_MESSAGE.into(),
        })
    }

    /// The task with this id, if it is known.
    pub fn get(&self, task_id: &str) -> Option<TaskView> {
        let id = Uuid::parse_str(task_id).ok()?;
        let (mut view, analysis) = {
            let tasks = self.lock();
            let stored = tasks.by_id.get(&id)?;
            (stored.view.clone(), stored.analysis.clone())
        };
        // NB: the JSON of a result is made here, outside the lock, and only when it is read.
        view.result = analysis.and_then(|a| serde_json::to_value(&*a).ok());
        Some(view)
    }

    /// How many tasks are remembered.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether no task is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, id: Uuid, view: TaskView) {
        let stored = Box::new(Stored {
            view,
            analysis: None,
        });
        let mut tasks = self.lock();
        tasks.order.push_back(id);
        tasks.by_id.insert(id, stored);
        while tasks.by_id.len() > self.max_tasks {
            let Some(oldest) = tasks.order.pop_front() else {
                break;
            };
            tasks.by_id.remove(&oldest);
        }
    }

    fn update(&self, id: Uuid, change: impl FnOnce(&mut Stored)) {
        if let Some(stored) = self.lock().by_id.get_mut(&id) {
            change(stored);
        }
    }

    /// The job of one task on its reserved worker: analysis, then the webhook delivery if one
    /// was asked for.
    async fn run(self: Arc<Self>, job: Job, slot: Slot) {
        let Job {
            id,
            task_id,
            submission,
        } = job;
        self.update(id, |s| {
            s.view.status = TaskState::Started;
            s.view.started_at = Some(rfc3339(jiff::Timestamp::now()));
        });
        let options = submission.options();
        let webhook_wanted = submission.webhook.is_some();
        let outcome = slot
            .analyze(submission.text, options)
            .await
            .and_then(|analysis| {
                // The event's copy of the result is made only for a webhook.
                let result = webhook_wanted
                    .then(|| serde_json::to_value(&analysis))
                    .transpose()
                    .map_err(|_| AnalysisFailure::Crashed)?;
                Ok((Arc::new(analysis), result))
            });
        let completed_at = Some(rfc3339(jiff::Timestamp::now()));
        let event = match outcome {
            Ok((analysis, result)) => {
                self.update(id, |s| {
                    s.view.status = TaskState::Success;
                    s.view.completed_at = completed_at;
                    s.analysis = Some(analysis);
                });
                result.map(|result| Event::completed(task_id.clone(), result))
            }
            Err(failure) => {
                let error = failure.to_string();
                self.update(id, |s| {
                    s.view.status = TaskState::Failure;
                    s.view.completed_at = completed_at;
                    s.view.error = Some(error.clone());
                });
                Some(Event::failed(task_id.clone(), error))
            }
        };
        tracing::info!(task_id, "analysis finished");
        let (Some(webhook), Some(event)) = (submission.webhook, event) else {
            return;
        };
        let policy = Policy {
            sign: webhook.sign_payload,
            ..self.policy.clone()
        };
        let delivery = match Delivery::new(event, &webhook.url, policy) {
            Ok(delivery) => delivery,
            Err(err) => {
                self.finish_delivery(id, "Rejected", Some(err.to_string()));
                return;
            }
        };
        let sink = StoreSink {
            tasks: self.clone(),
            id,
        };
        match self.deliverer.deliver(&delivery, Vec::new(), &sink).await {
            Ok(report) => {
                let (phase, message) = match report.outcome {
                    Outcome::Succeeded => ("Succeeded", None),
                    Outcome::Failed => (
                        "Failed",
                        report.attempts.last().and_then(|a| a.error.clone()),
                    ),
                    Outcome::Rejected => (
                        "Rejected",
                        report.attempts.last().and_then(|a| a.error.clone()),
                    ),
                };
                self.finish_delivery(id, phase, message);
            }
            Err(err) => self.finish_delivery(id, "Failed", Some(err.to_string())),
        }
    }

    fn finish_delivery(&self, id: Uuid, phase: &str, message: Option<String>) {
        self.update(id, |s| {
            if let Some(webhook) = &mut s.view.webhook {
                webhook.status = phase.into();
                webhook.message = message;
            }
        });
    }

    fn record_attempt(&self, id: Uuid, attempt: &DeliveryAttempt) {
        self.update(id, |s| {
            let Some(webhook) = &mut s.view.webhook else {
                return;
            };
            let view = AttemptView::from(attempt);
            match webhook.attempts.last_mut() {
                Some(last) if last.number == view.number => *last = view,
                _ => webhook.attempts.push(view),
            }
            let excess = webhook.attempts.len().saturating_sub(MAX_ATTEMPTS_SHOWN);
            webhook.attempts.drain(..excess);
        });
    }
}

/// Records each attempt of a delivery on its task, so `GET` shows it.
struct StoreSink {
    tasks: Arc<StandaloneTasks>,
    id: Uuid,
}

impl AttemptSink for StoreSink {
    async fn started(&self, _: &Delivery, attempt: &DeliveryAttempt) -> Result<(), SinkError> {
        self.tasks.record_attempt(self.id, attempt);
        Ok(())
    }

    async fn finished(&self, _: &Delivery, attempt: &DeliveryAttempt) -> Result<(), SinkError> {
        self.tasks.record_attempt(self.id, attempt);
        Ok(())
    }
}

/// Hands queued jobs to workers as they free up, oldest first; each job then runs on its own
/// task (its delivery may outlive the analysis). Ends when the store is dropped.
async fn dispatch(mut queue: mpsc::Receiver<Job>, workers: Workers, tasks: Weak<StandaloneTasks>) {
    while let Some(job) = queue.recv().await {
        let Ok(slot) = workers.slot().await else {
            return;
        };
        let Some(tasks) = tasks.upgrade() else {
            return;
        };
        tokio::spawn(tasks.run(job, slot));
    }
}
