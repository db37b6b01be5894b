//! Standalone mode: tasks kept in memory, analysed on the worker pool, and their webhooks
//! delivered by the delivery engine of `guardrails-agent` — no Kubernetes. Nothing survives a
//! restart.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use guardrails_agent::deliverer::SinkError;
use guardrails_agent::{AttemptSink, Deliverer, Delivery, DeliveryAttempt, Event, Outcome, Policy};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::model::{
    AttemptView, SUBMITTED_MESSAGE, Submission, SubmittedTask, TaskState, TaskView, WebhookView,
    rfc3339,
};
use crate::problem::{ApiError, Code};
use crate::workers::{AnalysisFailure, Workers};

/// Most attempts shown per task, as in `status.delivery.attempts`.
const MAX_ATTEMPTS_SHOWN: usize = guardrails_crds::delivery::MAX_STATUS_ATTEMPTS;

/// The in-memory task store of standalone mode and the jobs that fill it.
pub struct StandaloneTasks {
    tasks: Mutex<Tasks>,
    workers: Workers,
    deliverer: Arc<Deliverer>,
    policy: Policy,
    queue: Arc<Semaphore>,
    max_tasks: usize,
}

#[derive(Default)]
struct Tasks {
    by_id: HashMap<String, TaskView>,
    order: VecDeque<String>,
}

impl StandaloneTasks {
    /// A store that analyses on `workers`, delivers with `deliverer` under `policy` (the
    /// environment's), accepts at most `max_queued` unfinished analyses and remembers the last
    /// `max_tasks` tasks.
    pub fn new(
        workers: Workers,
        deliverer: Arc<Deliverer>,
        policy: Policy,
        max_queued: usize,
        max_tasks: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            tasks: Mutex::new(Tasks::default()),
            workers,
            deliverer,
            policy,
            queue: Arc::new(Semaphore::new(max_queued.max(1))),
            max_tasks: max_tasks.max(1),
        })
    }

    /// Accepts a submission: records it as PENDING and starts its job.
    pub fn submit(self: &Arc<Self>, submission: Submission) -> Result<SubmittedTask, ApiError> {
        let permit = self.queue.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                Code::Unavailable,
                "too many analyses are waiting; retry in a moment",
            )
        })?;
        let task_id = uuid::Uuid::new_v4().to_string();
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
        self.insert(view);
        tokio::spawn(self.clone().run(task_id.clone(), submission, permit));
        Ok(SubmittedTask {
            task_id,
            status: TaskState::Pending,
            submitted_at,
            message: SUBMITTED_MESSAGE.into(),
        })
    }

    /// The task with this id, if it is known.
    pub fn get(&self, task_id: &str) -> Option<TaskView> {
        self.lock().by_id.get(task_id).cloned()
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

    fn insert(&self, view: TaskView) {
        let mut tasks = self.lock();
        tasks.order.push_back(view.task_id.clone());
        tasks.by_id.insert(view.task_id.clone(), view);
        while tasks.by_id.len() > self.max_tasks {
            let Some(oldest) = tasks.order.pop_front() else {
                break;
            };
            tasks.by_id.remove(&oldest);
        }
    }

    fn update(&self, task_id: &str, change: impl FnOnce(&mut TaskView)) {
        if let Some(view) = self.lock().by_id.get_mut(task_id) {
            change(view);
        }
    }

    /// The job of one task: analysis, then the webhook delivery if one was asked for.
    async fn run(
        self: Arc<Self>,
        task_id: String,
        submission: Submission,
        permit: OwnedSemaphorePermit,
    ) {
        self.update(&task_id, |v| {
            v.status = TaskState::Started;
            v.started_at = Some(rfc3339(jiff::Timestamp::now()));
        });
        let options = submission.options();
        let outcome = self
            .workers
            .analyze(submission.text, options)
            .await
            .and_then(|analysis| {
                serde_json::to_value(analysis).map_err(|_| AnalysisFailure::Crashed)
            });
        drop(permit);
        let event = match outcome {
            Ok(result) => {
                self.update(&task_id, |v| {
                    v.status = TaskState::Success;
                    v.completed_at = Some(rfc3339(jiff::Timestamp::now()));
                    v.result = Some(result.clone());
                });
                Event::completed(task_id.clone(), result)
            }
            Err(failure) => {
                let error = failure.to_string();
                self.update(&task_id, |v| {
                    v.status = TaskState::Failure;
                    v.completed_at = Some(rfc3339(jiff::Timestamp::now()));
                    v.error = Some(error.clone());
                });
                Event::failed(task_id.clone(), error)
            }
        };
        tracing::info!(task_id, "analysis finished");
        let Some(webhook) = submission.webhook else {
            return;
        };
        let policy = Policy {
            sign: webhook.sign_payload,
            ..self.policy.clone()
        };
        let delivery = match Delivery::new(event, &webhook.url, policy) {
            Ok(delivery) => delivery,
            Err(err) => {
                self.finish_delivery(&task_id, "Rejected", Some(err.to_string()));
                return;
            }
        };
        let sink = StoreSink {
            tasks: self.clone(),
            task_id: task_id.clone(),
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
                self.finish_delivery(&task_id, phase, message);
            }
            Err(err) => self.finish_delivery(&task_id, "Failed", Some(err.to_string())),
        }
    }

    fn finish_delivery(&self, task_id: &str, phase: &str, message: Option<String>) {
        self.update(task_id, |v| {
            if let Some(webhook) = &mut v.webhook {
                webhook.status = phase.into();
                webhook.message = message;
            }
        });
    }

    fn record_attempt(&self, task_id: &str, attempt: &DeliveryAttempt) {
        self.update(task_id, |v| {
            let Some(webhook) = &mut v.webhook else {
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
    task_id: String,
}

impl AttemptSink for StoreSink {
    async fn started(&self, _: &Delivery, attempt: &DeliveryAttempt) -> Result<(), SinkError> {
        self.tasks.record_attempt(&self.task_id, attempt);
        Ok(())
    }

    async fn finished(&self, _: &Delivery, attempt: &DeliveryAttempt) -> Result<(), SinkError> {
        self.tasks.record_attempt(&self.task_id, attempt);
        Ok(())
    }
}
