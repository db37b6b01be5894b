//! The reconciler: one finished AnalysisTask's delivery, persisted after every attempt.

use super::endpoint_status::{EndpointEvent, EndpointStatusBook};
use super::metrics::SidecarMetrics;
use super::policy::{Resolved, resolve};
use super::status::{
    self, apply, mark_interrupted, record_attempt, record_suspension, round_history, settle,
    to_status_attempt,
};
use crate::attempt::{AttemptOutcome, DeliveryAttempt, Outcome};
use crate::deliverer::{AttemptSink, Deliverer, Delivery, SinkError, Step};
use crate::event::{Event, task_event_id};
use crate::policy::Policy;
use crate::{Error, Result, decision::NextStep, next_step};
use guardrails_crds::delivery::{DeliveryPhase, DeliveryStatus};
use guardrails_crds::result_secret::RESULT_KEY;
use guardrails_crds::{AnalysisTask, TaskPhase, WebhookEndpoint};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event as KubeEvent, EventType, Recorder};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often a suspended endpoint is looked at again.
const SUSPENDED_RECHECK: Duration = Duration::from_secs(15);

/// How soon a delivery whose host has no free share of the send slots is looked at again.
const HOST_BUSY_RECHECK: Duration = Duration::from_secs(1);

/// Everything a reconcile needs.
pub struct Context {
    /// Client of the API server.
    pub client: Client,
    /// The delivery engine.
    pub deliverer: Deliverer,
    /// The policy of deliveries no WebhookEndpoint governs, from the environment.
    pub defaults: Policy,
    /// Every WebhookEndpoint watched.
    pub endpoints: Store<WebhookEndpoint>,
    /// Every Secret watched.
    pub secrets: Store<Secret>,
    /// Events on tasks.
    pub recorder: Recorder,
    /// The sidecar's metrics.
    pub metrics: SidecarMetrics,
    /// Endpoint counters.
    pub endpoint_book: EndpointStatusBook,
    /// The delivery status this process last wrote, by task uid: newer than a lagging cache.
    pub written: Mutex<HashMap<String, DeliveryStatus>>,
    /// Turns true when this replica lost its Lease: attempts in flight are cut at once.
    pub cut: watch::Receiver<bool>,
    /// Tasks held by a suspended endpoint, by uid: reconciled again when an endpoint of their
    /// namespace changes, so a resumed endpoint does not wait for the next periodic check.
    pub held: Arc<Mutex<HashMap<String, ObjectRef<AnalysisTask>>>>,
}

impl Context {
    /// Completes when attempts in flight must be cut (leadership lost).
    async fn cut_off(&self) {
        let mut cut = self.cut.clone();
        // NB: a closed channel (the sender gone) is no reason to cut anything.
        if cut.wait_for(|cut| *cut).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    fn remembered(&self, uid: &str) -> Option<DeliveryStatus> {
        self.written.lock().expect("poisoned").get(uid).cloned()
    }

    fn remember(&self, uid: &str, delivery: &DeliveryStatus) {
        self.written
            .lock()
            .expect("poisoned")
            .insert(uid.to_owned(), delivery.clone());
    }

    /// Forgets the remembered status and holds of tasks no longer present.
    pub fn forget_missing(&self, present: impl Fn(&str) -> bool) {
        self.written
            .lock()
            .expect("poisoned")
            .retain(|uid, _| present(uid));
        self.held
            .lock()
            .expect("poisoned")
            .retain(|uid, _| present(uid));
    }

    /// Refreshes the `Ready` condition of every WebhookEndpoint of `namespace` from its Secrets;
    /// false if a write failed.
    pub async fn refresh_endpoints(&self, namespace: &str) -> bool {
        let mut written = true;
        for endpoint in namespace_endpoints(self, namespace) {
            match self
                .endpoint_book
                .refresh_ready(&endpoint, self.secret(namespace))
                .await
            {
                Ok(true) => {
                    tracing::info!(endpoint = %endpoint.name_any(), %namespace, "WebhookEndpoint Ready refreshed from its Secrets");
                }
                Ok(false) => {}
                Err(e) => {
                    written = false;
                    tracing::warn!(endpoint = %endpoint.name_any(), error = %e, "could not refresh the WebhookEndpoint status");
                }
            }
        }
        written
    }

    fn secret(&self, namespace: &str) -> impl Fn(&str) -> Option<Arc<Secret>> + '_ {
        let namespace = namespace.to_owned();
        move |name| self.secrets.get(&ObjectRef::new(name).within(&namespace))
    }

    async fn persist(
        &self,
        api: &Api<AnalysisTask>,
        task: &AnalysisTask,
        uid: &str,
        delivery: &DeliveryStatus,
    ) -> Result<()> {
        apply(api, task, delivery).await?;
        self.remember(uid, delivery);
        Ok(())
    }

    async fn publish(&self, task: &AnalysisTask, type_: EventType, reason: &str, note: String) {
        let event = KubeEvent {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: "Deliver".into(),
            secondary: None,
        };
        // NB: off the delivery path, so an Event never delays the next attempt or delivery.
        let recorder = self.recorder.clone();
        let reference = task.object_ref(&());
        tokio::spawn(async move {
            if let Err(e) = recorder.publish(&event, &reference).await {
                tracing::warn!(error = %e, reason = %event.reason, "could not publish an Event");
            }
        });
    }
}

/// One task in a reconcile: what every write and report about its delivery needs.
struct TaskScope<'a> {
    ctx: &'a Context,
    api: Api<AnalysisTask>,
    task: &'a AnalysisTask,
    uid: &'a str,
}

impl TaskScope<'_> {
    /// Applies `delivery` to the task's status and remembers it.
    async fn persist(&self, delivery: &DeliveryStatus) -> Result<()> {
        self.ctx
            .persist(&self.api, self.task, self.uid, delivery)
            .await
    }
}

/// How a delivery ended, as recorded and reported.
struct Ending {
    outcome: Outcome,
    message: String,
    http_status: Option<u16>,
}

/// Reconciles one task: records NotRequested, starts or resumes its delivery, or waits.
pub async fn reconcile(task: Arc<AnalysisTask>, ctx: Arc<Context>) -> Result<Action> {
    let phase = task.phase();
    if !phase.is_finished() {
        return Ok(Action::await_change());
    }
    let (Some(uid), Some(namespace)) = (task.task_id(), task.namespace()) else {
        return Ok(Action::await_change());
    };
    ctx.held.lock().expect("poisoned").remove(uid);
    let scope = TaskScope {
        ctx: &ctx,
        api: Api::namespaced(ctx.client.clone(), &namespace),
        task: &task,
        uid,
    };
    let Some(webhook) = &task.spec.webhook else {
        return not_requested(&scope).await;
    };
    let Some(delivery) = delivery_to_drive(&scope) else {
        return Ok(Action::await_change());
    };
    let event = build_event(&ctx, &task, &namespace, phase, &delivery).await?;
    let resolved = match crate::deliverer::parse_destination(&webhook.url) {
        Ok(url) => resolve(
            &ctx.defaults,
            &namespace_endpoints(&ctx, &namespace),
            &url,
            webhook.sign_payload,
            ctx.secret(&namespace),
        ),
        Err(_) => Resolved {
            policy: ctx.defaults.clone(),
            endpoint: None,
        },
    };
    match Delivery::new(event, &webhook.url, resolved.policy.clone()) {
        Ok(target) => drive(&scope, delivery, &target, &resolved).await,
        Err(e) => {
            let ending = Ending {
                outcome: Outcome::Rejected,
                message: e.to_string(),
                http_status: None,
            };
            finish(&scope, delivery, ending, &resolved).await
        }
    }
}

/// Records that a task without a webhook has nothing to deliver (once).
async fn not_requested(scope: &TaskScope<'_>) -> Result<Action> {
    let recorded = scope.task.delivery_phase();
    if recorded != Some(DeliveryPhase::NotRequested) {
        let delivery = DeliveryStatus {
            phase: DeliveryPhase::NotRequested,
            ..Default::default()
        };
        scope.persist(&delivery).await?;
        scope.ctx.metrics.delivery_ended("not_requested");
    }
    Ok(Action::await_change())
}

/// The delivery state to drive: the last one written (this process's, else the task's), a new
/// one, or a new round a redelivery request asks for; `None` when the delivery is over.
fn delivery_to_drive(scope: &TaskScope<'_>) -> Option<DeliveryStatus> {
    let (task, uid) = (scope.task, scope.uid);
    let mut delivery = match scope.ctx.remembered(uid) {
        Some(delivery) => delivery,
        None => {
            let recorded = task.status.as_ref().and_then(|s| s.delivery.clone());
            let mut delivery = recorded.unwrap_or_else(|| DeliveryStatus {
                phase: DeliveryPhase::Pending,
                round: Some(1),
                ..Default::default()
            });
            // NB: only status written by an agent that recorded attempts before sending them.
            if delivery.phase == DeliveryPhase::Pending && mark_interrupted(&mut delivery) {
                scope.ctx.metrics.interrupted.inc();
                tracing::warn!(task = %task.name_any(), task_id = uid, "an attempt was in flight when the agent stopped; recorded as interrupted");
            }
            delivery
        }
    };
    if delivery.event_id.is_none() {
        delivery.event_id = Some(task_event_id(uid));
    }
    if !delivery.phase.is_terminal() {
        return Some(delivery);
    }
    let request = task.redeliver_request();
    let wants_round = matches!(
        delivery.phase,
        DeliveryPhase::Failed | DeliveryPhase::Rejected
    ) && request.is_some()
        && request != delivery.redelivery_request.as_deref();
    if !wants_round {
        return None;
    }
    let round = delivery.round.unwrap_or(1) + 1;
    delivery.phase = DeliveryPhase::Pending;
    delivery.round = Some(round);
    delivery.redelivery_request = request.map(str::to_owned);
    delivery.next_attempt_at = None;
    delivery.delivered_at = None;
    delivery.message = Some(format!("redelivery requested; round {round}"));
    tracing::info!(task = %task.name_any(), task_id = uid, round, "redelivery requested");
    Some(delivery)
}

/// Drives `delivery` of `target` under `resolved` by one step of the engine, then requeues for
/// the next one or records the end.
async fn drive(
    scope: &TaskScope<'_>,
    delivery: DeliveryStatus,
    target: &Delivery,
    resolved: &Resolved,
) -> Result<Action> {
    let ctx = scope.ctx;
    let history = round_history(&delivery);
    let earliest = delivery.next_attempt_at.as_ref().map(|t| t.0);
    let sink = StatusSink {
        scope,
        round: delivery.round.unwrap_or(1),
        endpoint: resolved.endpoint.as_ref().map(|e| e.name_any()),
        delivery: Mutex::new(delivery),
        sending: AtomicBool::new(false),
    };
    let step = ctx.deliverer.step(target, &history, earliest, &sink).await;
    sink.sent();
    let delivery = sink.delivery.into_inner().expect("poisoned");
    match step? {
        Step::Due(at) => wait(scope, delivery, at, &history).await,
        Step::Over(outcome) => finish(scope, delivery, ending(outcome, &history), resolved).await,
        Step::Held(_) => {
            let task = ObjectRef::from_obj(scope.task);
            ctx.held
                .lock()
                .expect("poisoned")
                .insert(scope.uid.to_owned(), task);
            Ok(Action::requeue(SUSPENDED_RECHECK))
        }
        // NB: requeued, not waiting: a reconcile waiting on a stuck host would hold one of the
        // controller's slots that other hosts' deliveries need.
        Step::Busy => Ok(Action::requeue(HOST_BUSY_RECHECK)),
        Step::Cut => cut_short(ctx, scope.task, scope.uid),
        Step::Sent { attempt, next } => {
            // NB: a normal deferral: counted on the endpoint, no Event (nobody must act).
            if attempt.outcome == AttemptOutcome::RateLimited
                && let Some(endpoint) = &resolved.endpoint
            {
                record_endpoint(ctx, endpoint, EndpointEvent::RateLimited, scope.uid, None);
            }
            let mut attempts = history;
            attempts.push(attempt);
            match next {
                NextStep::WaitUntil(at) => wait(scope, delivery, at, &attempts).await,
                NextStep::Finish(outcome) => {
                    finish(scope, delivery, ending(outcome, &attempts), resolved).await
                }
                NextStep::SendNow => Ok(Action::requeue(Duration::ZERO)),
            }
        }
    }
}

/// Requeues a delivery for its next attempt at `at`, recording the schedule unless the write
/// after the last attempt already did.
async fn wait(
    scope: &TaskScope<'_>,
    mut delivery: DeliveryStatus,
    at: jiff::Timestamp,
    history: &[DeliveryAttempt],
) -> Result<Action> {
    let at = status::whole_second_from(at);
    if delivery.next_attempt_at != Some(Time(at)) || delivery.phase != DeliveryPhase::Pending {
        settle(&mut delivery, NextStep::WaitUntil(at), history);
        scope.persist(&delivery).await?;
    }
    let wait = at.duration_since(jiff::Timestamp::now());
    Ok(Action::requeue(
        Duration::try_from(wait)
            .unwrap_or_default()
            .max(Duration::from_millis(1)),
    ))
}

/// How a delivery whose attempts are `attempts` ended with `outcome`.
fn ending(outcome: Outcome, attempts: &[DeliveryAttempt]) -> Ending {
    let last = attempts.last();
    let message = match outcome {
        Outcome::Succeeded => status::delivered_message(attempts),
        _ => last
            .and_then(|a| a.error.clone())
            .unwrap_or_else(|| "delivery failed".into()),
    };
    Ending {
        outcome,
        message,
        http_status: last.and_then(|a| a.http_status),
    }
}

/// Leaves an attempt cut by the loss of leadership unrecorded: the next leader repeats it with
/// the same event id.
fn cut_short(ctx: &Context, task: &AnalysisTask, uid: &str) -> Result<Action> {
    ctx.metrics.interrupted.inc();
    tracing::warn!(task = %task.name_any(), task_id = uid, "leadership lost during an attempt; the next leader repeats it");
    Ok(Action::await_change())
}

/// Logs a failed reconcile and tries again shortly.
pub fn error_policy(task: Arc<AnalysisTask>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(task = %task.name_any(), error = %error, "delivery reconcile failed; retrying in 5 s");
    Action::requeue(Duration::from_secs(5))
}

/// Records the end of a delivery (unless its last attempt's write already did), publishes an
/// Event when a person must act, and counts it on the governing endpoint.
async fn finish(
    scope: &TaskScope<'_>,
    mut delivery: DeliveryStatus,
    ending: Ending,
    resolved: &Resolved,
) -> Result<Action> {
    let (ctx, task) = (scope.ctx, scope.task);
    let now = jiff::Timestamp::now();
    let outcome = ending.outcome;
    let phase = outcome.phase();
    // NB: a success is already recorded by the write after its attempt (see `StatusSink`).
    if delivery.phase != phase {
        delivery.phase = phase;
        delivery.next_attempt_at = None;
        delivery.delivered_at = (outcome == Outcome::Succeeded).then_some(Time(now));
        delivery.message = Some(status::truncate_message(&ending.message));
        scope.persist(&delivery).await?;
    }
    ctx.metrics.delivery_ended(outcome.as_str());
    let host = task
        .spec
        .webhook
        .as_ref()
        .and_then(|w| url::Url::parse(&w.url).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let message = delivery.message.as_deref().unwrap_or_default();
    match outcome {
        Outcome::Succeeded => {
            // NB: no Event on success: Events are for what a person must act on.
            if let Some(completed) = task.status.as_ref().and_then(|s| s.completed_at.as_ref()) {
                let seconds = now.duration_since(completed.0).as_secs_f64().max(0.0);
                ctx.metrics.completion_to_delivery.observe(seconds);
            }
        }
        Outcome::Failed => {
            let note = format!("webhook to `{host}` failed: {message}");
            ctx.publish(task, EventType::Warning, "DeliveryFailed", note)
                .await;
        }
        Outcome::Rejected => {
            let note = format!("webhook to `{host}` refused by policy: {message}");
            ctx.publish(task, EventType::Warning, "DeliveryRejected", note)
                .await;
        }
    }
    if let Some(endpoint) = &resolved.endpoint {
        let event = EndpointEvent::Ended(outcome);
        record_endpoint(ctx, endpoint, event, scope.uid, ending.http_status);
    }
    Ok(Action::await_change())
}

/// Counts `event` on the endpoint; its status is written by the book's next flush.
fn record_endpoint(
    ctx: &Context,
    endpoint: &WebhookEndpoint,
    event: EndpointEvent,
    uid: &str,
    http_status: Option<u16>,
) {
    ctx.endpoint_book.record(endpoint, event, uid, http_status);
}

fn namespace_endpoints(ctx: &Context, namespace: &str) -> Vec<Arc<WebhookEndpoint>> {
    ctx.endpoints
        .state()
        .into_iter()
        .filter(|e| e.namespace().as_deref() == Some(namespace))
        .collect()
}

/// The task's event: its result from the result Secret, or the operator's error.
async fn build_event(
    ctx: &Context,
    task: &AnalysisTask,
    namespace: &str,
    phase: TaskPhase,
    delivery: &DeliveryStatus,
) -> Result<Event> {
    let status = task.status.clone().unwrap_or_default();
    let uid = task.task_id().unwrap_or_default();
    let event = match phase {
        TaskPhase::Failed => Event::failed(
            uid,
            status.error.unwrap_or_else(|| "the analysis failed".into()),
        ),
        _ => {
            let name = status
                .result_secret_ref
                .as_ref()
                .map(|r| r.name.clone())
                .ok_or_else(|| {
                    Error::InvalidPayload("the task has no status.resultSecretRef yet".into())
                })?;
            let secret = match ctx.secrets.get(&ObjectRef::new(&name).within(namespace)) {
                Some(secret) => secret,
                None => Arc::new(
                    Api::<Secret>::namespaced(ctx.client.clone(), namespace)
                        .get(&name)
                        .await?,
                ),
            };
            let bytes = secret
                .data
                .as_ref()
                .and_then(|d| d.get(RESULT_KEY))
                .ok_or_else(|| {
                    Error::InvalidPayload(format!(
                        "result Secret `{name}` has no key `{RESULT_KEY}`"
                    ))
                })?;
            let result = serde_json::from_slice(&bytes.0).map_err(|_| {
                Error::InvalidPayload(format!(
                    "result Secret `{name}` key `{RESULT_KEY}` is not JSON"
                ))
            })?;
            Event::completed(uid, result)
        }
    };
    let event = event.with_id(delivery.event_id.clone().unwrap_or_default());
    Ok(match status.completed_at {
        Some(at) => event.at(at.0),
        None => event,
    })
}

/// Persists each attempt in `status.delivery` once it ended, with what follows from it.
struct StatusSink<'a> {
    scope: &'a TaskScope<'a>,
    round: i32,
    /// The name of the governing WebhookEndpoint, as shown when it holds the delivery.
    endpoint: Option<String>,
    delivery: Mutex<DeliveryStatus>,
    /// Whether an attempt is being sent (counted in the in-flight gauge).
    sending: AtomicBool,
}

impl StatusSink<'_> {
    /// Uncounts the attempt being sent, if one is (also one the engine cut).
    fn sent(&self) {
        if self.sending.swap(false, Ordering::Relaxed) {
            self.scope.ctx.metrics.in_flight.dec();
        }
    }

    async fn record(&self, policy: &Policy, attempt: &DeliveryAttempt) -> Result<(), SinkError> {
        let Some(record) = to_status_attempt(attempt, self.round) else {
            // NB: a rejection sends nothing and keeps no attempt; `finish` writes it.
            return Ok(());
        };
        let snapshot = {
            let mut delivery = self.delivery.lock().expect("poisoned");
            record_attempt(&mut delivery, record);
            // NB: the write after an attempt also carries what follows from it (the next
            // attempt's time, with a `Retry-After`, or the end): one write fewer per attempt, and
            // a restart at any moment finds the schedule with the attempt.
            if attempt.outcome != AttemptOutcome::InProgress {
                let mut history = round_history(&delivery);
                if let Some(same) = history
                    .iter_mut()
                    .rev()
                    .find(|a| a.number == attempt.number)
                {
                    // NB: status keeps no `Retry-After`; the engine's record has it.
                    *same = attempt.clone();
                }
                let step = next_step(policy, &history, jiff::Timestamp::now());
                settle(&mut delivery, step, &history);
            }
            delivery.clone()
        };
        self.scope
            .persist(&snapshot)
            .await
            .map_err(|e| Box::new(e) as SinkError)
    }
}

impl AttemptSink for StatusSink<'_> {
    // NB: nothing is written before a send: the event id is fixed by the task, so an attempt
    // lost in a crash is simply repeated with the same id.
    async fn started(&self, _: &Delivery, _: &DeliveryAttempt) -> Result<(), SinkError> {
        self.sending.store(true, Ordering::Relaxed);
        self.scope.ctx.metrics.in_flight.inc();
        Ok(())
    }
    async fn finished(
        &self,
        target: &Delivery,
        attempt: &DeliveryAttempt,
    ) -> Result<(), SinkError> {
        self.sent();
        self.record(target.policy(), attempt).await
    }
    async fn held(&self, _: &Delivery, attempt: &DeliveryAttempt) -> Result<(), SinkError> {
        let endpoint = self.endpoint.as_deref().unwrap_or_default();
        let snapshot = {
            let mut delivery = self.delivery.lock().expect("poisoned");
            record_suspension(&mut delivery, endpoint, attempt.started_at).then(|| delivery.clone())
        };
        let Some(snapshot) = snapshot else {
            return Ok(());
        };
        let (task, uid) = (self.scope.task, self.scope.uid);
        tracing::info!(task = %task.name_any(), task_id = uid, %endpoint, "delivery held: the WebhookEndpoint is suspended");
        self.scope
            .persist(&snapshot)
            .await
            .map_err(|e| Box::new(e) as SinkError)
    }
    async fn cut(&self) {
        self.scope.ctx.cut_off().await;
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{
        context, context_with_endpoints, endpoint, finished_task, mock_api, receiver,
    };
    use super::*;
    use http::Method;

    const STATUS_PATH: &str = "/apis/guardrails.io/v1alpha1/namespaces/ns/analysistasks/t/status";

    async fn reconciled(task: AnalysisTask) -> (Action, super::super::fixtures::Recorded) {
        let (client, api) = mock_api(&task, Duration::from_millis(300));
        let action = reconcile(Arc::new(task), context(client)).await.unwrap();
        (action, api.await.unwrap())
    }

    #[tokio::test]
    async fn a_task_still_running_is_left_alone() {
        let mut task = finished_task(None);
        task.status.as_mut().unwrap().phase = Some(TaskPhase::Running);
        let (action, recorded) = reconciled(task).await;
        assert_eq!(action, Action::await_change());
        assert!(recorded.writes.is_empty(), "{recorded:?}");
    }

    #[tokio::test]
    async fn a_finished_task_without_webhook_gets_one_not_requested_apply() {
        let (action, recorded) = reconciled(finished_task(None)).await;
        assert_eq!(action, Action::await_change());
        assert_eq!(recorded.writes.len(), 1, "{recorded:?}");
        let (method, path, body) = &recorded.writes[0];
        assert_eq!((method, path.as_str()), (&Method::PATCH, STATUS_PATH));
        assert_eq!(body["status"]["delivery"]["phase"], "NotRequested");
        assert!(recorded.event_reasons.is_empty());
    }

    #[tokio::test]
    async fn a_first_try_delivery_is_one_status_apply_and_no_event() {
        let (url, received) = receiver(204).await;
        let (action, recorded) = reconciled(finished_task(Some(&url))).await;
        assert_eq!(action, Action::await_change());
        assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(
            recorded.writes.len(),
            1,
            "nothing before the attempt: {recorded:?}"
        );
        let delivery = &recorded.writes[0].2["status"]["delivery"];
        assert_eq!(delivery["phase"], "Succeeded");
        assert_eq!(delivery["eventId"], task_event_id("0b6a2f1e-uid"));
        assert_eq!(delivery["attempts"][0]["outcome"], "succeeded");
        assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);
        assert!(recorded.event_reasons.is_empty(), "{recorded:?}");
    }

    #[tokio::test]
    async fn a_refused_delivery_is_one_status_apply_and_one_warning_event() {
        let (url, _) = receiver(400).await;
        let (_, recorded) = reconciled(finished_task(Some(&url))).await;
        assert_eq!(recorded.writes.len(), 1, "{recorded:?}");
        let delivery = &recorded.writes[0].2["status"]["delivery"];
        assert_eq!(delivery["phase"], "Failed");
        assert_eq!(delivery["attempts"][0]["httpStatus"], 400);
        assert_eq!(recorded.event_reasons, ["DeliveryFailed"]);
    }

    #[tokio::test]
    async fn a_retryable_failure_is_one_apply_carrying_the_next_attempt() {
        let (url, _) = receiver(503).await;
        let (action, recorded) = reconciled(finished_task(Some(&url))).await;
        assert_eq!(recorded.writes.len(), 1, "{recorded:?}");
        let delivery = &recorded.writes[0].2["status"]["delivery"];
        assert_eq!(delivery["phase"], "Pending");
        assert!(delivery["nextAttemptAt"].is_string(), "{delivery}");
        assert!(recorded.event_reasons.is_empty(), "a retry is no Event");
        assert_ne!(
            action,
            Action::await_change(),
            "requeued for the next attempt"
        );
    }

    #[tokio::test]
    async fn a_suspended_endpoint_holds_the_delivery_with_one_apply_and_nothing_sent() {
        let (url, received) = receiver(204).await;
        let task = finished_task(Some(&url));
        let (client, api) = mock_api(&task, Duration::from_millis(300));
        let suspended = endpoint(
            "held",
            serde_json::json!({"domains": ["127.0.0.1"], "suspend": true}),
        );
        let ctx = context_with_endpoints(client, [suspended]);

        let action = reconcile(Arc::new(task.clone()), ctx.clone())
            .await
            .unwrap();
        let again = reconcile(Arc::new(task), ctx.clone()).await.unwrap();
        drop(ctx);
        let recorded = api.await.unwrap();

        assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(action, Action::requeue(SUSPENDED_RECHECK));
        assert_eq!(again, action);
        assert_eq!(
            recorded.writes.len(),
            1,
            "a hold is recorded once: {recorded:?}"
        );
        let delivery = &recorded.writes[0].2["status"]["delivery"];
        assert_eq!(delivery["phase"], "Pending");
        assert_eq!(delivery["attempts"][0]["outcome"], "suspended");
        assert!(recorded.event_reasons.is_empty(), "{recorded:?}");
    }
}
