//! The kube-runtime `Controller` over `AnalysisTask`: its `Context`, `reconcile` (which
//! measures and delegates), `error_policy`, and `run`, which wires the binary together.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt;
use guardrails_analysis::Analysis;
use guardrails_crds::{AnalysisTask, AnalysisTaskStatus, TaskPhase};
use guardrails_runtime::{
    leader::Election,
    shutdown::{self, Signal},
};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{DeleteParams, Patch, PostParams},
    runtime::{
        Controller, WatchStreamExt,
        controller::{self, Action},
        events::{Event, EventType, Recorder, Reporter},
        reflector, watcher,
    },
};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::{
    Error, Result,
    config::Config,
    decision::{self, Next},
    engine::{self, Engine},
    failure::TaskFailure,
    metrics::{self, Health, Metrics, ReasonLabels},
    result_secret, status,
};

/// Name of the controller in Events and logs.
pub const CONTROLLER_NAME: &str = "guardrails-operator";
/// How often a task whose text Secret is missing looks again during the grace period.
const TEXT_RETRY_EVERY: Duration = Duration::from_secs(2);
/// Requeue delay after a reconcile error.
const ERROR_REQUEUE: Duration = Duration::from_secs(5);

/// Task handling settings taken from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Time to live of finished tasks without their own.
    pub default_ttl_seconds: Option<u32>,
    /// How long a missing text Secret is waited for.
    pub text_secret_grace: Duration,
    /// How long an analysis runs before the task is marked Running.
    pub running_status_after: Duration,
}

/// What every reconcile shares.
pub struct Context {
    /// Kubernetes client.
    pub client: Client,
    /// The analysis engine and its limits.
    pub engine: Engine,
    /// Task handling settings.
    pub settings: Settings,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Who publishes Events.
    pub reporter: Reporter,
    /// Uids this process finished whose finished state the cache has not shown yet, so a stale
    /// cached copy is never analysed again.
    finished_here: Mutex<HashSet<String>>,
}

impl Context {
    /// A context for the controller.
    pub fn new(
        client: Client,
        engine: Engine,
        settings: Settings,
        metrics: Arc<Metrics>,
        identity: Option<String>,
    ) -> Self {
        Context {
            client,
            engine,
            settings,
            metrics,
            reporter: Reporter {
                controller: CONTROLLER_NAME.into(),
                instance: identity,
            },
            finished_here: Mutex::default(),
        }
    }

    fn finished_here(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.finished_here.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reconciles one task: measures it and delegates to the task's handling.
pub async fn reconcile(task: Arc<AnalysisTask>, ctx: Arc<Context>) -> Result<Action> {
    let start = Instant::now();
    let result = reconcile_task(&task, &ctx).await;
    ctx.metrics.observe_reconcile(start.elapsed());
    result
}

/// Logs and counts a reconcile error, then retries the task a little later.
pub fn error_policy(task: Arc<AnalysisTask>, error: &Error, ctx: Arc<Context>) -> Action {
    warn!(task = %task.name_any(), namespace = ?task.namespace(), uid = ?task.uid(), %error, "reconcile failed");
    ctx.metrics
        .reconcile_errors
        .get_or_create(&ReasonLabels {
            reason: error.metric_label(),
        })
        .inc();
    Action::requeue(ERROR_REQUEUE)
}

async fn reconcile_task(task: &AnalysisTask, ctx: &Context) -> Result<Action> {
    let uid = task.uid().ok_or(Error::MissingObjectKey(".metadata.uid"))?;
    let namespace = task
        .namespace()
        .ok_or(Error::MissingObjectKey(".metadata.namespace"))?;
    let tasks: Api<AnalysisTask> = Api::namespaced(ctx.client.clone(), &namespace);
    if task.phase().is_finished() {
        ctx.finished_here().remove(&uid);
    } else if ctx.finished_here().contains(&uid) {
        debug!(task = %task.name_any(), %uid, "cached copy is older than the finished task; waiting");
        return Ok(Action::await_change());
    }
    let now = Timestamp::now();
    match decision::next_step(task, ctx.settings.default_ttl_seconds, now) {
        Next::Start => {
            info!(task = %task.name_any(), %namespace, %uid, "analysis started");
            analyse(task, ctx, &tasks, now).await
        }
        Next::Resume => {
            let started = task
                .status
                .as_ref()
                .and_then(|s| s.started_at.as_ref())
                .map_or(now, |t| t.0);
            let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
            if let Some(secret) = secrets.get_opt(&result_secret::name(task)).await?
                && result_secret::is_owned_by(&secret, task)
            {
                info!(task = %task.name_any(), %namespace, %uid, "finishing from the existing result Secret");
                return finish(task, ctx, &tasks, started, &result_secret::read(&secret)?).await;
            }
            analyse(task, ctx, &tasks, started).await
        }
        Next::ReportSpecChange => {
            // NB: the cached copy has no result (see `slim`); the whole status is re-applied.
            let live = tasks.get(&task.name_any()).await?;
            write_status(&tasks, &live, &status::spec_changed(&live, now)).await?;
            warn!(task = %task.name_any(), %namespace, %uid, "spec changed after the analysis; not analysed again");
            Ok(Action::await_change())
        }
        Next::Delete => {
            info!(task = %task.name_any(), %namespace, %uid, "time to live passed; deleting the task");
            match tasks
                .delete(&task.name_any(), &DeleteParams::background())
                .await
            {
                Ok(_) => Ok(Action::await_change()),
                Err(kube::Error::Api(e)) if e.code == 404 => Ok(Action::await_change()),
                Err(e) => Err(e.into()),
            }
        }
        Next::Wait(Some(after)) => Ok(Action::requeue(after)),
        Next::Wait(None) => Ok(Action::await_change()),
    }
}

/// Resolves the text, analyses it, stores the result Secret and marks the task Succeeded, or
/// marks it Failed; requeues while a missing text Secret is within its grace period.
async fn analyse(
    task: &AnalysisTask,
    ctx: &Context,
    tasks: &Api<AnalysisTask>,
    started: Timestamp,
) -> Result<Action> {
    let text = match resolve_text(task, ctx).await? {
        Ok(text) => text,
        Err(failure) if failure.is_transient() => {
            if let Some(left) =
                decision::grace_left(started, ctx.settings.text_secret_grace, Timestamp::now())
            {
                debug!(task = %task.name_any(), reason = failure.reason(), "text not there yet; looking again");
                show_running(task, tasks, started).await?;
                return Ok(Action::requeue(left.min(TEXT_RETRY_EVERY)));
            }
            return fail(task, ctx, tasks, started, failure).await;
        }
        Err(failure) => return fail(task, ctx, tasks, started, failure).await,
    };
    ctx.metrics.text_size.observe(text.len() as f64);
    let clock = Instant::now();
    let outcome = run_analysis(task, ctx, tasks, text, started).await;
    ctx.metrics
        .analysis_duration
        .observe(clock.elapsed().as_secs_f64());
    let analysis = match outcome {
        Ok(analysis) => analysis,
        Err(failure) => return fail(task, ctx, tasks, started, failure).await,
    };
    let secrets: Api<Secret> =
        Api::namespaced(ctx.client.clone(), &task.namespace().unwrap_or_default());
    let stored = match secrets
        .create(
            &PostParams::default(),
            &result_secret::build(task, &analysis)?,
        )
        .await
    {
        Ok(_) => analysis,
        Err(kube::Error::Api(e)) if e.code == 409 => {
            // NB: another replica or an earlier run stored it first; its result is the one kept.
            let existing = secrets.get(&result_secret::name(task)).await?;
            if !result_secret::is_owned_by(&existing, task) {
                let name = result_secret::name(task);
                return fail(
                    task,
                    ctx,
                    tasks,
                    started,
                    TaskFailure::ResultSecretConflict { name },
                )
                .await;
            }
            result_secret::read(&existing)?
        }
        Err(e) => return Err(e.into()),
    };
    finish(task, ctx, tasks, started, &stored).await
}

/// Runs the engine on `text`; a task still running after `running_status_after` is marked
/// Running meanwhile, so only slow analyses cost that status write.
async fn run_analysis(
    task: &AnalysisTask,
    ctx: &Context,
    tasks: &Api<AnalysisTask>,
    text: String,
    started: Timestamp,
) -> Result<Analysis, TaskFailure> {
    let analysis = ctx.engine.analyze(text, &task.spec);
    tokio::pin!(analysis);
    tokio::select! {
        outcome = &mut analysis => return outcome,
        () = tokio::time::sleep(ctx.settings.running_status_after) => {}
    }
    if let Err(e) = show_running(task, tasks, started).await {
        // NB: the Running phase only informs; the outcome's write is the one that matters.
        warn!(task = %task.name_any(), error = %e, "cannot mark the task Running");
    }
    analysis.await
}

/// Marks the task Running (phase, startedAt, the `Analyzed` condition) unless it already is.
async fn show_running(
    task: &AnalysisTask,
    tasks: &Api<AnalysisTask>,
    started: Timestamp,
) -> Result<()> {
    if task.phase() == TaskPhase::Running {
        return Ok(());
    }
    write_status(tasks, task, &status::running(task, started)).await
}

/// Marks the task Succeeded with the summary of `analysis` (already stored in its Secret).
async fn finish(
    task: &AnalysisTask,
    ctx: &Context,
    tasks: &Api<AnalysisTask>,
    started: Timestamp,
    analysis: &Analysis,
) -> Result<Action> {
    let summary = engine::summarize(analysis);
    let detected = summary.pii.detected;
    let secret = result_secret::name(task);
    write_status(
        tasks,
        task,
        &status::succeeded(task, started, summary, secret, Timestamp::now()),
    )
    .await?;
    ctx.finished_here().insert(task.uid().unwrap_or_default());
    ctx.metrics.task_successes.inc();
    info!(task = %task.name_any(), namespace = ?task.namespace(), uid = ?task.uid(), entities = detected, "analysis succeeded");
    Ok(Action::await_change())
}

/// Marks the task Failed because of `failure`.
async fn fail(
    task: &AnalysisTask,
    ctx: &Context,
    tasks: &Api<AnalysisTask>,
    started: Timestamp,
    failure: TaskFailure,
) -> Result<Action> {
    write_status(
        tasks,
        task,
        &status::failed(task, started, &failure, Timestamp::now()),
    )
    .await?;
    ctx.finished_here().insert(task.uid().unwrap_or_default());
    ctx.metrics
        .task_failures
        .get_or_create(&ReasonLabels {
            reason: failure.reason().into(),
        })
        .inc();
    warn!(task = %task.name_any(), namespace = ?task.namespace(), uid = ?task.uid(), reason = failure.reason(), error = %failure, "analysis failed");
    publish(
        ctx,
        task,
        EventType::Warning,
        failure.reason(),
        failure.to_string(),
    )
    .await;
    Ok(Action::await_change())
}

/// The task's text, or why it cannot be had (a missing Secret or key may still appear).
async fn resolve_text(task: &AnalysisTask, ctx: &Context) -> Result<Result<String, TaskFailure>> {
    if let Some(text) = &task.spec.text {
        return Ok(Ok(text.clone()));
    }
    let Some(source) = &task.spec.text_from else {
        return Ok(Err(TaskFailure::AnalysisError(
            "the spec has neither text nor textFrom".into(),
        )));
    };
    let r = &source.secret_key_ref;
    let secrets: Api<Secret> =
        Api::namespaced(ctx.client.clone(), &task.namespace().unwrap_or_default());
    let Some(secret) = secrets.get_opt(&r.name).await? else {
        return Ok(Err(TaskFailure::TextSecretNotFound {
            name: r.name.clone(),
        }));
    };
    let Some(value) = secret.data.and_then(|mut d| d.remove(&r.key)) else {
        return Ok(Err(TaskFailure::TextKeyNotFound {
            name: r.name.clone(),
            key: r.key.clone(),
        }));
    };
    Ok(
        String::from_utf8(value.0).map_err(|_| TaskFailure::TextNotUtf8 {
            name: r.name.clone(),
            key: r.key.clone(),
        }),
    )
}

/// Server-side applies the operator's status fields.
async fn write_status(
    tasks: &Api<AnalysisTask>,
    task: &AnalysisTask,
    status: &AnalysisTaskStatus,
) -> Result<()> {
    let body = status::apply_body(&task.name_any(), status);
    tasks
        .patch_status(
            &task.name_any(),
            &status::apply_params(),
            &Patch::Apply(&body),
        )
        .await?;
    Ok(())
}

/// Publishes an Event about the task; a failure to publish is logged, never fatal.
async fn publish(ctx: &Context, task: &AnalysisTask, type_: EventType, reason: &str, note: String) {
    // NB: one recorder per Event: the recorder's series cache would otherwise grow with every task.
    let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: "Analyze".into(),
        secondary: None,
    };
    if let Err(e) = recorder.publish(&event, &task.object_ref(&())).await {
        warn!(task = %task.name_any(), error = %e, "cannot publish Event");
    }
}

/// Drops what the cache does not need: managed fields, the last-applied annotation (which may
/// repeat the text) and the text of finished tasks.
fn slim(task: &mut AnalysisTask) {
    task.managed_fields_mut().clear();
    task.annotations_mut()
        .remove("kubectl.kubernetes.io/last-applied-configuration");
    if task.phase().is_finished() {
        task.spec.text = None;
        if let Some(status) = &mut task.status {
            status.result = None;
        }
    }
}

/// Runs the operator until SIGTERM or SIGINT: health server, leader election, controller.
pub async fn run(config: Config) -> Result<()> {
    config.validate()?;
    let client = Client::try_default()
        .await
        .map_err(|e| Error::KubeConfigError(e.to_string()))?;
    let health = Health::new(Arc::new(Metrics::new()));
    let (stop, stopped) = watch::channel(false);
    let stop = Arc::new(stop);
    tokio::spawn(stop_on_signal(stop.clone()));
    let server = metrics::serve(
        config.listen,
        health.clone(),
        until_stopped(stopped.clone()),
    )
    .await?;
    info!(listen = %config.listen, namespace = config.namespace.as_deref().unwrap_or("<all>"), "guardrails-operator starting");
    let identity = config.identity();
    let outcome = if config.leader_election {
        run_elected(&config, client, &health, &identity, stopped.clone()).await
    } else {
        health.ops.set_ready(true);
        health.metrics.leader.set(1);
        run_controller(
            &config,
            client,
            &health,
            &identity,
            until_stopped(stopped.clone()),
        )
        .await;
        Ok(())
    };
    let _ = stop.send(true);
    match server.await {
        Ok(Err(e)) => warn!(error = %e, "metrics server ended with an error"),
        Err(e) => warn!(error = %e, "metrics server task failed"),
        Ok(Ok(())) => {}
    }
    info!("guardrails-operator stopped");
    outcome
}

/// Waits to lead, reconciles while leading, and gives the Lease back on shutdown.
async fn run_elected(
    config: &Config,
    client: Client,
    health: &Health,
    identity: &str,
    stopped: watch::Receiver<bool>,
) -> Result<()> {
    let namespace = config.lease_namespace();
    let mut election = Election::join(
        client.clone(),
        &config.lease_name,
        &namespace,
        identity,
        config.lease_duration_seconds,
        "guardrails-operator",
    )
    .await?;
    health.ops.set_ready(true);
    info!(lease = %config.lease_name, %namespace, %identity, "waiting to lead");
    tokio::select! {
        acquired = election.acquired() => acquired?,
        () = until_stopped(stopped.clone()) => return Ok(election.release().await?),
    }
    info!(%identity, "leading: reconciling tasks");
    health.metrics.leader.set(1);
    let lost = election.lost();
    let shutdown = async move {
        tokio::select! {
            () = until_stopped(stopped) => {},
            () = lost => warn!("leadership lost: stopping"),
        }
    };
    run_controller(config, client, health, identity, shutdown).await;
    health.metrics.leader.set(0);
    let leading = election.is_leading();
    election.release().await?;
    if leading {
        Ok(())
    } else {
        Err(Error::LeadershipLost)
    }
}

/// Runs the controller until `shutdown` completes and every reconcile in flight has ended.
async fn run_controller(
    config: &Config,
    client: Client,
    health: &Health,
    identity: &str,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<AnalysisTask> = match &config.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(slim)
        .reflect(writer)
        .touched_objects();
    let _ = health.tasks.set(reader.clone());
    let engine = Engine::new(
        config.analysis_permits(),
        config.analysis_timeout,
        config.max_text_bytes,
    );
    let settings = Settings {
        default_ttl_seconds: config.default_ttl_seconds,
        text_secret_grace: config.text_secret_grace,
        running_status_after: config.running_status_after,
    };
    let ctx = Arc::new(Context::new(
        client,
        engine,
        settings,
        health.metrics.clone(),
        Some(identity.to_owned()),
    ));
    Controller::for_stream(stream, reader)
        .with_config(controller::Config::default().concurrency(config.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|outcome| async move {
            if let Err(e) = outcome {
                debug!(error = %e, "controller event");
            }
        })
        .await;
}

async fn until_stopped(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

async fn stop_on_signal(stop: Arc<watch::Sender<bool>>) {
    match shutdown::signal().await {
        Signal::Terminate => info!("SIGTERM: finishing the tasks in flight, then stopping"),
        Signal::Interrupt => info!("SIGINT: finishing the tasks in flight, then stopping"),
    }
    let _ = stop.send(true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{
        Exchange, Recorded, TaskBuilder, api_error, mock_client, sample_analysis,
    };
    use base64::Engine as _;
    use http::{Method, StatusCode};
    use serde_json::{Value, json};

    const STATUS: &str = "/apis/guardrails.io/v1alpha1/namespaces/ns/analysistasks/t/status?";
    const SECRETS: &str = "/api/v1/namespaces/ns/secrets?";
    const RESULT: &str = "/api/v1/namespaces/ns/secrets/t-result";

    fn context(client: Client, engine: Engine, running_status_after: Duration) -> Arc<Context> {
        let settings = Settings {
            default_ttl_seconds: None,
            text_secret_grace: Duration::from_secs(30),
            running_status_after,
        };
        Arc::new(Context::new(
            client,
            engine,
            settings,
            Arc::new(Metrics::new()),
            None,
        ))
    }

    async fn reconcile_with(
        task: AnalysisTask,
        max_text_bytes: usize,
        exchanges: Vec<Exchange>,
    ) -> (Action, Recorded) {
        let engine = Engine::new(1, Duration::from_secs(30), max_text_bytes);
        reconcile_on(engine, task, exchanges).await
    }

    async fn reconcile_on(
        engine: Engine,
        task: AnalysisTask,
        exchanges: Vec<Exchange>,
    ) -> (Action, Recorded) {
        reconcile_marking_running_after(Duration::from_secs(30), engine, task, exchanges).await
    }

    async fn reconcile_marking_running_after(
        running_status_after: Duration,
        engine: Engine,
        task: AnalysisTask,
        exchanges: Vec<Exchange>,
    ) -> (Action, Recorded) {
        let (client, verifier) = mock_client();
        let server = verifier.run(exchanges);
        let ctx = context(client, engine, running_status_after);
        let action = reconcile(Arc::new(task), ctx)
            .await
            .expect("reconcile succeeds");
        (action, server.await.expect("every expected request came"))
    }

    fn json_of<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap()
    }

    fn patch_status(task: &AnalysisTask) -> Exchange {
        Exchange::new(Method::PATCH, STATUS, json_of(task))
    }

    fn text_secret(key: &str, text: &str) -> Value {
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "input", "namespace": "ns"}, "data": {key: encoded}})
    }

    fn result_secret_of(task: &AnalysisTask) -> Value {
        json_of(&result_secret::build(task, &sample_analysis()).unwrap())
    }

    #[tokio::test]
    async fn a_quick_new_task_is_stored_then_succeeded_in_one_status_write() {
        let task = TaskBuilder::new("t").build();
        let exchanges = vec![
            Exchange::new(Method::POST, SECRETS, result_secret_of(&task)),
            patch_status(&task),
        ];
        let (action, got) = reconcile_with(task, 1024, exchanges).await;
        assert_eq!(action, Action::await_change());
        let (_, done_path, _) = &got.requests[1];
        assert!(
            done_path.contains("fieldManager=guardrails-operator"),
            "{done_path}"
        );
        assert!(done_path.contains("force=true"), "{done_path}");
        let secret = &got.requests[0].2;
        assert_eq!(secret["metadata"]["name"], "t-result");
        assert_eq!(secret["metadata"]["ownerReferences"][0]["controller"], true);
        let stored = base64::engine::general_purpose::STANDARD
            .decode(secret["data"]["result.json"].as_str().unwrap())
            .unwrap();
        let stored: Value = serde_json::from_slice(&stored).unwrap();
        assert_eq!(stored["pii"]["entities"][0]["value"], "jane@example.com");
        let done = &got.requests[1].2["status"];
        assert_eq!(done["phase"], "Succeeded");
        assert_eq!(done["result"]["pii"]["byType"]["EMAIL_ADDRESS"], 1);
        assert_eq!(done["resultSecretRef"]["name"], "t-result");
        assert!(
            !done.to_string().contains("jane@example.com"),
            "PII in status: {done}"
        );
        assert!(
            got.events.is_empty(),
            "no Event for a success: {:?}",
            got.events
        );
    }

    #[tokio::test]
    async fn a_slow_analysis_marks_the_task_running_meanwhile() {
        let text = "Call Jane Doe at 212-555-0199 or jane@example.com.\n".repeat(20_000);
        let task = TaskBuilder::new("t").text(&text).build();
        let engine = Engine::new(1, Duration::from_secs(60), text.len());
        let exchanges = vec![
            patch_status(&task),
            Exchange::new(Method::POST, SECRETS, result_secret_of(&task)),
            patch_status(&task),
        ];
        let (_, got) =
            reconcile_marking_running_after(Duration::from_millis(1), engine, task, exchanges)
                .await;
        let running = &got.requests[0].2["status"];
        assert_eq!(running["phase"], "Running");
        assert_eq!(running["conditions"][0]["reason"], "Running");
        let done = &got.requests[2].2["status"];
        assert_eq!(done["phase"], "Succeeded");
        assert_eq!(done["startedAt"], running["startedAt"]);
    }

    #[tokio::test]
    async fn a_text_from_a_secret_is_read_and_analysed() {
        let task = TaskBuilder::new("t").text_from("input", "text").build();
        let exchanges = vec![
            Exchange::new(
                Method::GET,
                "/api/v1/namespaces/ns/secrets/input",
                text_secret("text", "SSN 536-22-1234"),
            ),
            Exchange::new(Method::POST, SECRETS, result_secret_of(&task)),
            patch_status(&task),
        ];
        let (_, got) = reconcile_with(task, 1024, exchanges).await;
        let done = &got.requests[2].2["status"];
        assert_eq!(done["phase"], "Succeeded");
        assert_eq!(done["result"]["pii"]["byType"]["US_SSN"], 1, "{done}");
    }

    #[tokio::test]
    async fn a_missing_text_secret_is_looked_for_again_within_the_grace_period() {
        let task = TaskBuilder::new("t")
            .text_from("input", "text")
            .running(Timestamp::now())
            .build();
        let exchanges = vec![
            Exchange::new(Method::GET, RESULT, api_error(404, "NotFound"))
                .status(StatusCode::NOT_FOUND),
            Exchange::new(
                Method::GET,
                "/api/v1/namespaces/ns/secrets/input",
                api_error(404, "NotFound"),
            )
            .status(StatusCode::NOT_FOUND),
        ];
        let (action, got) = reconcile_with(task, 1024, exchanges).await;
        assert_eq!(action, Action::requeue(TEXT_RETRY_EVERY));
        assert!(got.events.is_empty());
    }

    #[tokio::test]
    async fn a_new_task_waiting_for_its_text_secret_is_marked_running() {
        let task = TaskBuilder::new("t").text_from("input", "text").build();
        let exchanges = vec![
            Exchange::new(
                Method::GET,
                "/api/v1/namespaces/ns/secrets/input",
                api_error(404, "NotFound"),
            )
            .status(StatusCode::NOT_FOUND),
            patch_status(&task),
        ];
        let (action, got) = reconcile_with(task, 1024, exchanges).await;
        assert_eq!(action, Action::requeue(TEXT_RETRY_EVERY));
        let running = &got.requests[1].2["status"];
        assert_eq!(running["phase"], "Running");
        assert!(running["startedAt"].is_string(), "{running}");
    }

    #[tokio::test]
    async fn a_missing_text_key_after_the_grace_period_fails_the_task() {
        let task = TaskBuilder::new("t")
            .text_from("input", "text")
            .running(Timestamp::from_second(10).unwrap())
            .build();
        let exchanges = vec![
            Exchange::new(Method::GET, RESULT, api_error(404, "NotFound"))
                .status(StatusCode::NOT_FOUND),
            Exchange::new(
                Method::GET,
                "/api/v1/namespaces/ns/secrets/input",
                text_secret("other", "x"),
            ),
            patch_status(&task),
        ];
        let (_, got) = reconcile_with(task, 1024, exchanges).await;
        let failed = &got.requests[2].2["status"];
        assert_eq!(failed["phase"], "Failed");
        assert_eq!(failed["startedAt"], "1970-01-01T00:00:10Z");
        assert!(
            failed["error"]
                .as_str()
                .unwrap()
                .contains("Secret `input` has no key `text`"),
            "{failed}"
        );
        assert_eq!(failed["conditions"][0]["reason"], "TextKeyNotFound");
        assert_eq!(got.event_reasons(), vec!["TextKeyNotFound"]);
    }

    #[tokio::test]
    async fn a_text_over_the_limit_fails_the_task_without_analysis() {
        let task = TaskBuilder::new("t").text("0123456789").build();
        let (_, got) = reconcile_with(task.clone(), 8, vec![patch_status(&task)]).await;
        let failed = &got.requests[0].2["status"];
        assert_eq!(failed["phase"], "Failed");
        assert_eq!(failed["conditions"][0]["reason"], "TextTooLarge");
        assert!(
            failed["error"]
                .as_str()
                .unwrap()
                .contains("--max-text-bytes")
        );
        assert_eq!(got.event_reasons(), vec!["TextTooLarge"]);
    }

    #[tokio::test]
    async fn an_analysis_over_the_timeout_fails_the_task_with_no_result() {
        let text = "Call Jane Doe at 212-555-0199 or jane@example.com.\n".repeat(50_000);
        let task = TaskBuilder::new("t").text(&text).build();
        let engine = Engine::new(1, Duration::from_micros(1), text.len());
        let (_, got) = reconcile_on(engine, task.clone(), vec![patch_status(&task)]).await;
        let failed = &got.requests[0].2["status"];
        assert_eq!(failed["phase"], "Failed");
        assert_eq!(failed["conditions"][0]["reason"], "AnalysisTimeout");
        assert!(
            failed["error"]
                .as_str()
                .unwrap()
                .contains("--analysis-timeout"),
            "{failed}"
        );
        assert!(failed.get("resultSecretRef").is_none(), "{failed}");
        assert_eq!(got.event_reasons(), vec!["AnalysisTimeout"]);
    }

    #[tokio::test]
    async fn a_running_task_with_its_result_secret_is_finished_without_a_new_analysis() {
        let task = TaskBuilder::new("t")
            .running(Timestamp::from_second(10).unwrap())
            .build();
        let exchanges = vec![
            Exchange::new(Method::GET, RESULT, result_secret_of(&task)),
            patch_status(&task),
        ];
        let (_, got) = reconcile_with(task, 1024, exchanges).await;
        assert_eq!(got.requests.len(), 2, "no Secret is created again");
        let done = &got.requests[1].2["status"];
        assert_eq!(done["phase"], "Succeeded");
        assert_eq!(done["startedAt"], "1970-01-01T00:00:10Z");
    }

    #[tokio::test]
    async fn a_result_secret_stored_first_by_another_run_is_the_one_kept() {
        let task = TaskBuilder::new("t").text("nothing personal here").build();
        let exchanges = vec![
            Exchange::new(Method::POST, SECRETS, api_error(409, "AlreadyExists"))
                .status(StatusCode::CONFLICT),
            Exchange::new(Method::GET, RESULT, result_secret_of(&task)),
            patch_status(&task),
        ];
        let (_, got) = reconcile_with(task, 1024, exchanges).await;
        let done = &got.requests[2].2["status"];
        assert_eq!(
            done["result"]["pii"]["detected"], 1,
            "the stored result wins: {done}"
        );
    }

    #[tokio::test]
    async fn a_result_secret_name_taken_by_something_else_fails_the_task() {
        let task = TaskBuilder::new("t").build();
        let foreign = result_secret_of(&TaskBuilder::new("t").uid("another-uid").build());
        let exchanges = vec![
            Exchange::new(Method::POST, SECRETS, api_error(409, "AlreadyExists"))
                .status(StatusCode::CONFLICT),
            Exchange::new(Method::GET, RESULT, foreign),
            patch_status(&task),
        ];
        let (_, got) = reconcile_with(task, 1024, exchanges).await;
        let failed = &got.requests[2].2["status"];
        assert_eq!(failed["conditions"][0]["reason"], "ResultSecretConflict");
    }

    #[tokio::test]
    async fn a_finished_task_is_never_analysed_again() {
        let task = TaskBuilder::new("t")
            .succeeded(Timestamp::from_second(10).unwrap())
            .build();
        let (action, got) = reconcile_with(task, 1024, vec![]).await;
        assert_eq!(action, Action::await_change());
        assert!(got.requests.is_empty() && got.events.is_empty());
    }

    #[tokio::test]
    async fn a_stale_copy_of_a_task_finished_here_is_left_alone() {
        let task = TaskBuilder::new("t").build();
        let (client, verifier) = mock_client();
        let server = verifier.run(vec![
            Exchange::new(Method::POST, SECRETS, result_secret_of(&task)),
            patch_status(&task),
        ]);
        let ctx = context(
            client,
            Engine::new(1, Duration::from_secs(30), 1024),
            Duration::from_secs(30),
        );
        reconcile(Arc::new(task.clone()), ctx.clone())
            .await
            .unwrap();
        let again = reconcile(Arc::new(task), ctx).await.unwrap();
        assert_eq!(again, Action::await_change());
        assert_eq!(
            server.await.unwrap().requests.len(),
            2,
            "the stale copy sent nothing"
        );
    }

    #[tokio::test]
    async fn a_task_past_its_time_to_live_is_deleted() {
        let task = TaskBuilder::new("t")
            .ttl(1)
            .succeeded(Timestamp::from_second(10).unwrap())
            .build();
        let path = "/apis/guardrails.io/v1alpha1/namespaces/ns/analysistasks/t?";
        let (_, got) = reconcile_with(
            task.clone(),
            1024,
            vec![Exchange::new(Method::DELETE, path, json_of(&task))],
        )
        .await;
        assert_eq!(got.requests[0].2["propagationPolicy"], "Background");
    }

    #[tokio::test]
    async fn a_spec_changed_after_the_analysis_is_reported_in_a_condition() {
        let task = TaskBuilder::new("t")
            .succeeded(Timestamp::from_second(10).unwrap())
            .generation(2)
            .build();
        let mut cached = task.clone();
        slim(&mut cached);
        let live = Exchange::new(
            Method::GET,
            "/apis/guardrails.io/v1alpha1/namespaces/ns/analysistasks/t",
            json_of(&task),
        );
        let (_, got) = reconcile_with(cached, 1024, vec![live, patch_status(&task)]).await;
        assert_eq!(
            got.requests[0].1, "/apis/guardrails.io/v1alpha1/namespaces/ns/analysistasks/t",
            "the live task is read with the verb the operator's Role grants (get on the task)"
        );
        let status = &got.requests[1].2["status"];
        assert_eq!(status["phase"], "Succeeded");
        assert_eq!(
            status["result"],
            json_of(&task)["status"]["result"],
            "the result is kept"
        );
        let types: Vec<&str> = status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["type"].as_str())
            .collect();
        assert_eq!(types, vec!["Analyzed", "SpecChanged"]);
    }
}
