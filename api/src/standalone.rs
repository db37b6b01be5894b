//! Standalone mode: tasks kept in the embedded [`Store`], analysed on the worker pool, and their
//! webhooks delivered by the delivery engine of `guardrails-agent` — no Kubernetes. A restart
//! serves every kept task, analyses what was queued and resumes pending deliveries.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use guardrails_agent::deliverer::SinkError;
use guardrails_agent::{
    AttemptOutcome, AttemptSink, Deliverer, Delivery, DeliveryAttempt, Event, EventType, NextStep,
    Outcome, Policy, next_step,
};
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::budget::{MemoryBudget, Reservation};
use crate::model::{
    AttemptView, SUBMITTED_MESSAGE, Submission, SubmittedTask, TaskState, TaskView, WebhookView,
    rfc3339,
};
use crate::problem::{ApiError, Code};
use crate::store::{PendingDelivery, Store, StoreError};
use crate::workers::{AnalysisFailure, Slot, Workers};

/// Most attempts shown per task, as in `status.delivery.attempts`.
const MAX_ATTEMPTS_SHOWN: usize = guardrails_crds::delivery::MAX_STATUS_ATTEMPTS;

/// How often expired tasks are removed.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// How much work is held and how long tasks are kept.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Text bytes waiting for a worker or being analysed, shared with the sync endpoint.
    pub budget: MemoryBudget,
    /// Submissions waiting for a worker before the async endpoint answers 503.
    pub max_queued: usize,
    /// Task views kept in memory; older ones are read from the store.
    pub max_in_memory: usize,
    /// How long a finished task is kept.
    pub ttl: Duration,
}

/// The tasks of standalone mode: durable in the store, recent views cached in memory.
pub struct StandaloneTasks {
    views: Mutex<Views>,
    store: Arc<Store>,
    jobs: mpsc::Sender<Job>,
    deliverer: Arc<Deliverer>,
    policy: Policy,
    limits: Limits,
}

/// Recent task views by id, and their ids oldest first.
#[derive(Default)]
struct Views {
    by_id: HashMap<Uuid, TaskView>,
    order: VecDeque<Uuid>,
}

/// A submission waiting for a worker.
struct Job {
    id: Uuid,
    /// The submission, or `None` for one recovered after a restart (read from the store).
    submission: Option<Submission>,
    /// The text's share of the memory budget, given back once the outcome is stored.
    reservation: Option<Reservation>,
}

impl StandaloneTasks {
    /// Tasks kept in `store`, analysed on `workers` and delivered with `deliverer` under
    /// `policy` (the environment's); what the store holds from a previous run is resumed.
    pub fn new(
        workers: Workers,
        deliverer: Arc<Deliverer>,
        policy: Policy,
        store: Arc<Store>,
        limits: Limits,
    ) -> Result<Arc<Self>, StoreError> {
        let recovered = store.recover()?;
        let capacity = limits.max_queued.max(recovered.queued.len()).max(1);
        let (jobs, queue) = mpsc::channel(capacity);
        let tasks = Arc::new(Self {
            views: Mutex::new(Views::default()),
            store,
            jobs,
            deliverer,
            policy,
            limits,
        });
        for view in recovered.tasks {
            if let Ok(id) = Uuid::parse_str(&view.task_id) {
                tasks.remember(id, view);
            }
        }
        let (queued, deliveries) = (recovered.queued.len(), recovered.deliveries.len());
        for task_id in recovered.queued {
            let Ok(id) = Uuid::parse_str(&task_id) else {
                continue;
            };
            tasks.update(id, |view| {
                view.status = TaskState::Pending;
                view.started_at = None;
            });
            // NB: the channel was made large enough for every recovered job.
            let _ = tasks.jobs.try_send(Job {
                id,
                submission: None,
                reservation: None,
            });
        }
        for (task_id, delivery) in recovered.deliveries {
            if let Ok(id) = Uuid::parse_str(&task_id) {
                tokio::spawn(tasks.clone().deliver(id, delivery, None));
            }
        }
        if queued + deliveries > 0 {
            tracing::info!(queued, deliveries, "resuming the work of the previous run");
        }
        tokio::spawn(dispatch(queue, workers, Arc::downgrade(&tasks)));
        tokio::spawn(sweep(Arc::downgrade(&tasks)));
        Ok(tasks)
    }

    /// Accepts a submission: stores it as PENDING, then queues its job.
    pub async fn submit(
        self: &Arc<Self>,
        submission: Submission,
    ) -> Result<SubmittedTask, ApiError> {
        let permit = self.jobs.try_reserve().map_err(|_| {
            ApiError::new(
                Code::Unavailable,
                "too many analyses are waiting; retry in a moment",
            )
        })?;
        let reservation = self.limits.budget.try_reserve(submission.text.len())?;
        let id = Uuid::new_v4();
        let submitted_at = rfc3339(Timestamp::now());
        let view = TaskView {
            task_id: id.to_string(),
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
                round: Some(1),
                next_attempt_at: None,
            }),
        };
        let (view, submission) = self
            .with_store(move |store| {
                store.save_submitted(&view, &submission)?;
                Ok((view, submission))
            })
            .await?;
        let task_id = view.task_id.clone();
        self.remember(id, view);
        permit.send(Job {
            id,
            submission: Some(submission),
            reservation: Some(reservation),
        });
        Ok(SubmittedTask {
            task_id,
            status: TaskState::Pending,
            submitted_at,
            message: SUBMITTED_MESSAGE.into(),
        })
    }

    /// The task with this id, with its result read from the store, if it is kept.
    pub async fn get(&self, task_id: &str) -> Result<Option<TaskView>, ApiError> {
        let Ok(id) = Uuid::parse_str(task_id) else {
            return Ok(None);
        };
        let cached = self.lock().by_id.get(&id).cloned();
        let task_id = id.to_string();
        self.with_store(move |store| {
            let Some(mut view) = cached.map_or_else(|| store.view(&task_id), |v| Ok(Some(v)))?
            else {
                return Ok(None);
            };
            if view.status == TaskState::Success {
                // NB: results live on disk only, so memory does not grow with them.
                view.result = store
                    .result(&task_id)?
                    .map(|bytes| serde_json::from_slice(&bytes))
                    .transpose()?;
            }
            Ok(Some(view))
        })
        .await
    }

    /// Runs `call` on the store off the async threads; a failure is a 500 (ours to fix).
    async fn with_store<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || call(&store))
            .await
            .map_err(|_| store_failed("the store call was cancelled"))?
            .map_err(|err| store_failed(&err.to_string()))
    }

    /// The server-wide delivery policy of the webhooks.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many task views are cached in memory.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether no task view is cached in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Views> {
        self.views.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, id: Uuid, view: TaskView) {
        let mut views = self.lock();
        if views.by_id.insert(id, view).is_none() {
            views.order.push_back(id);
        }
        while views.by_id.len() > self.limits.max_in_memory.max(1) {
            let Some(oldest) = views.order.pop_front() else {
                break;
            };
            views.by_id.remove(&oldest);
        }
    }

    /// The view of a task: cached, else read from the store.
    fn current(&self, id: Uuid) -> Option<TaskView> {
        let cached = self.lock().by_id.get(&id).cloned();
        cached.or_else(|| self.store.view(&id.to_string()).ok().flatten())
    }

    /// Changes the view of a task (cached, else read from the store) and returns it.
    fn update(&self, id: Uuid, change: impl FnOnce(&mut TaskView)) -> Option<TaskView> {
        if let Some(view) = self.lock().by_id.get_mut(&id) {
            change(view);
            return Some(view.clone());
        }
        let mut view = self.current(id)?;
        change(&mut view);
        Some(view)
    }

    /// Writes to the store off the async threads; a failure is logged (ours to fix).
    async fn persist(
        &self,
        what: &'static str,
        write: impl FnOnce(&Store) -> Result<(), StoreError> + Send + 'static,
    ) {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || write(&store)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(error = %err, what, "cannot write to the task store"),
            Err(err) => tracing::error!(error = %err, what, "a task store write was cancelled"),
        }
    }

    /// The job of one task on its reserved worker: analysis, then the webhook delivery if one
    /// was asked for.
    async fn run(self: Arc<Self>, job: Job, slot: Slot) {
        let Job {
            id,
            submission,
            reservation,
        } = job;
        let Some(submission) = self.submission(id, submission).await else {
            return;
        };
        self.update(id, |view| {
            view.status = TaskState::Started;
            view.started_at = Some(rfc3339(Timestamp::now()));
        });
        let options = submission.options();
        let outcome = slot
            .analyze(submission.text, options)
            .await
            .and_then(|analysis| {
                serde_json::to_vec(&analysis).map_err(|_| AnalysisFailure::Crashed)
            });
        let now = Timestamp::now();
        let (result, error) = match outcome {
            Ok(result) => (Some(result), None),
            Err(failure) => (None, Some(failure.to_string())),
        };
        let Some(mut view) = self.current(id) else {
            return;
        };
        view.status = if result.is_some() {
            TaskState::Success
        } else {
            TaskState::Failure
        };
        view.completed_at = Some(rfc3339(now));
        view.error.clone_from(&error);
        tracing::info!(task_id = %id, "analysis finished");
        let delivery = submission.webhook.map(|webhook| PendingDelivery {
            event_id: Uuid::new_v4().to_string(),
            event_type: if result.is_some() {
                EventType::Completed
            } else {
                EventType::Failed
            },
            timestamp: now,
            error,
            url: webhook.url,
            sign: webhook.sign_payload,
            attempts: Vec::new(),
            round: 1,
            finished: false,
        });
        let expires_at = now.checked_add(self.limits.ttl).ok();
        let result_value = delivery
            .as_ref()
            .and(result.as_deref())
            .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok());
        let (record, stored) = (delivery.clone(), view.clone());
        self.persist("analysis outcome", move |store| {
            store.save_analysed(&stored, result.as_deref(), record.as_ref(), expires_at)
        })
        .await;
        drop(reservation);
        // NB: shown only once stored, so a SUCCESS read always finds its result.
        self.update(id, |cached| *cached = view);
        if let Some(delivery) = delivery {
            self.deliver(id, delivery, result_value).await;
        }
    }

    /// The submission of a job: its own, else the one kept in the store.
    async fn submission(&self, id: Uuid, given: Option<Submission>) -> Option<Submission> {
        if given.is_some() {
            return given;
        }
        let store = self.store.clone();
        let task_id = id.to_string();
        match tokio::task::spawn_blocking(move || store.queued(&task_id)).await {
            Ok(Ok(Some(submission))) => Some(submission),
            Ok(Ok(None)) => None,
            Ok(Err(err)) => {
                tracing::error!(task_id = %id, error = %err, "cannot read a queued text");
                None
            }
            Err(_) => None,
        }
    }

    /// Drives the delivery of task `id` to its end from the attempts already recorded.
    async fn deliver(self: Arc<Self>, id: Uuid, record: PendingDelivery, result: Option<Value>) {
        let task_id = id.to_string();
        let event = match record.event_type {
            EventType::Completed => {
                let result = match result {
                    Some(result) => result,
                    None => match self.get(&task_id).await {
                        Ok(Some(TaskView {
                            result: Some(result),
                            ..
                        })) => result,
                        _ => {
                            tracing::error!(task_id, "the result of a pending delivery is missing");
                            return;
                        }
                    },
                };
                Event::completed(task_id.clone(), result)
            }
            EventType::Failed => {
                Event::failed(task_id.clone(), record.error.clone().unwrap_or_default())
            }
        }
        .with_id(record.event_id.clone())
        .at(record.timestamp);
        let policy = Policy {
            sign: record.sign,
            ..self.policy.clone()
        };
        let delivery = match Delivery::new(event, &record.url, policy) {
            Ok(delivery) => delivery,
            Err(err) => {
                return self
                    .finish_delivery(id, "Rejected", Some(err.to_string()), record)
                    .await;
            }
        };
        let mut history = record.attempts.clone();
        for attempt in &mut history {
            if attempt.outcome == AttemptOutcome::InProgress {
                // NB: the process stopped while it was sending; the receiver may have seen it.
                attempt.outcome = AttemptOutcome::Interrupted;
            }
        }
        let sink = StoreSink {
            tasks: self.clone(),
            id,
            record: Mutex::new(PendingDelivery {
                attempts: history.clone(),
                ..record
            }),
        };
        match self.deliverer.deliver(&delivery, history, &sink).await {
            Ok(report) => {
                let last_error = report.attempts.last().and_then(|a| a.error.clone());
                let (phase, message) = match report.outcome {
                    Outcome::Succeeded => ("Succeeded", None),
                    Outcome::Failed => ("Failed", last_error),
                    Outcome::Rejected => ("Rejected", last_error),
                };
                let record = sink.record.into_inner().unwrap_or_else(|e| e.into_inner());
                self.finish_delivery(id, phase, message, record).await;
            }
            // NB: the store failed; the delivery stays pending there and resumes on restart.
            Err(err) => tracing::error!(task_id, error = %err, "a delivery stopped"),
        }
    }

    async fn finish_delivery(
        &self,
        id: Uuid,
        phase: &str,
        message: Option<String>,
        record: PendingDelivery,
    ) {
        let Some(view) = self.update(id, |view| {
            if let Some(webhook) = &mut view.webhook {
                webhook.status = phase.into();
                webhook.message = message;
                webhook.next_attempt_at = None;
            }
        }) else {
            return;
        };
        self.persist("delivery outcome", move |store| {
            store.finish_delivery(&view, &record)
        })
        .await;
    }

    /// Starts a new delivery round of a task whose delivery `Failed` or was `Rejected`, with
    /// the same event id; the attempts of earlier rounds stay in its view.
    pub async fn redeliver(self: &Arc<Self>, task_id: &str) -> Result<(), ApiError> {
        let not_found = || ApiError::new(Code::TaskNotFound, "no task has this id");
        let id = Uuid::parse_str(task_id).map_err(|_| not_found())?;
        let key = id.to_string();
        let record = self.with_store(move |store| store.delivery(&key)).await?;
        let Some(record) = record.filter(|r| r.finished) else {
            return Err(ApiError::new(
                Code::Conflict,
                "only a Failed or Rejected delivery can be redelivered",
            ));
        };
        let round = record.round + 1;
        // NB: the phase is checked and changed in one step, so two presses start one round.
        let mut claimed = false;
        let view = self
            .update(id, |view| {
                if let Some(webhook) = &mut view.webhook
                    && matches!(webhook.status.as_str(), "Failed" | "Rejected")
                {
                    webhook.status = "Pending".into();
                    webhook.round = Some(round);
                    webhook.message = Some(format!("redelivery requested; round {round}"));
                    claimed = true;
                }
            })
            .ok_or_else(not_found)?;
        if !claimed {
            return Err(ApiError::new(
                Code::Conflict,
                "only a Failed or Rejected delivery can be redelivered",
            ));
        }
        let record = PendingDelivery {
            attempts: Vec::new(),
            round,
            finished: false,
            ..record
        };
        let saved = record.clone();
        self.with_store(move |store| store.save_delivery(&view, &saved))
            .await?;
        tracing::info!(task_id = %id, round, "redelivery requested");
        tokio::spawn(self.clone().deliver(id, record, None));
        Ok(())
    }

    /// The most recent task views kept in memory, newest first (without results).
    pub fn recent(&self, limit: usize) -> Vec<TaskView> {
        let views = self.lock();
        views
            .order
            .iter()
            .rev()
            .filter_map(|id| views.by_id.get(id))
            .take(limit)
            .cloned()
            .collect()
    }

    fn record_attempt(
        &self,
        id: Uuid,
        round: u32,
        attempt: &DeliveryAttempt,
        next_attempt_at: Option<String>,
    ) -> Option<TaskView> {
        self.update(id, |view| {
            let Some(webhook) = &mut view.webhook else {
                return;
            };
            let shown = AttemptView {
                round: Some(round),
                ..AttemptView::from(attempt)
            };
            match webhook.attempts.last_mut() {
                Some(last) if (last.round, last.number) == (shown.round, shown.number) => {
                    *last = shown;
                }
                _ => webhook.attempts.push(shown),
            }
            let excess = webhook.attempts.len().saturating_sub(MAX_ATTEMPTS_SHOWN);
            webhook.attempts.drain(..excess);
            webhook.round = Some(round);
            webhook.next_attempt_at = next_attempt_at;
        })
    }

    fn forget(&self, ids: &[String]) {
        let mut views = self.lock();
        for id in ids.iter().filter_map(|id| Uuid::parse_str(id).ok()) {
            views.by_id.remove(&id);
        }
        let Views { by_id, order } = &mut *views;
        order.retain(|id| by_id.contains_key(id));
    }
}

fn store_failed(detail: &str) -> ApiError {
    tracing::error!(error = detail, "the task store failed");
    ApiError::new(Code::Internal, "the task could not be stored")
}

/// Records each attempt of a delivery in the store before and after it is made, so a restart
/// resumes the delivery with the same event id and schedule; `GET` shows the attempts.
struct StoreSink {
    tasks: Arc<StandaloneTasks>,
    id: Uuid,
    record: Mutex<PendingDelivery>,
}

impl StoreSink {
    async fn record(
        &self,
        delivery: &Delivery,
        attempt: &DeliveryAttempt,
    ) -> Result<(), SinkError> {
        let record = {
            let mut record = self.record.lock().unwrap_or_else(|e| e.into_inner());
            match record.attempts.last_mut() {
                Some(last) if last.number == attempt.number => *last = attempt.clone(),
                _ => record.attempts.push(attempt.clone()),
            }
            record.clone()
        };
        let next_attempt_at = match next_step(delivery.policy(), &record.attempts, Timestamp::now())
        {
            NextStep::WaitUntil(at) => Some(rfc3339(at)),
            _ => None,
        };
        let Some(view) = self
            .tasks
            .record_attempt(self.id, record.round, attempt, next_attempt_at)
        else {
            return Err("the task of this delivery is gone".into());
        };
        let store = self.tasks.store.clone();
        tokio::task::spawn_blocking(move || store.save_delivery(&view, &record))
            .await
            .map_err(|e| Box::new(e) as SinkError)??;
        Ok(())
    }
}

impl AttemptSink for StoreSink {
    async fn started(
        &self,
        delivery: &Delivery,
        attempt: &DeliveryAttempt,
    ) -> Result<(), SinkError> {
        self.record(delivery, attempt).await
    }

    async fn finished(
        &self,
        delivery: &Delivery,
        attempt: &DeliveryAttempt,
    ) -> Result<(), SinkError> {
        self.record(delivery, attempt).await
    }
}

/// Hands queued jobs to workers as they free up, oldest first; each job then runs on its own
/// task (its delivery may outlive the analysis). Ends when the tasks are dropped.
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

/// Removes expired tasks from the store and from memory, every minute.
async fn sweep(tasks: Weak<StandaloneTasks>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        let Some(tasks) = tasks.upgrade() else {
            return;
        };
        let store = tasks.store.clone();
        match tokio::task::spawn_blocking(move || store.remove_expired(Timestamp::now())).await {
            Ok(Ok(removed)) => tasks.forget(&removed),
            Ok(Err(err)) => tracing::error!(error = %err, "cannot remove expired tasks"),
            Err(_) => return,
        }
    }
}
