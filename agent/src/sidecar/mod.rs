//! The `guardrails-agent run` sidecar: delivers the webhooks of finished AnalysisTasks.
//!
//! - [`reconcile`]: one task's delivery, persisted in `status.delivery` around every attempt;
//! - [`policy`]: the effective policy from the namespace's WebhookEndpoints and Secrets;
//! - [`status`]: conversions to `status.delivery` and the agent's server-side apply;
//! - [`endpoint_status`]: WebhookEndpoint counters, last delivery and `Ready`;
//! - [`metrics`]: the sidecar's Prometheus metrics.
//!
//! Leader election on the agent's own Lease, the `/healthz`, `/readyz`, `/metrics` server and the
//! shutdown signal come from `guardrails-runtime`.

pub mod endpoint_status;
#[cfg(test)]
mod fixtures;
pub mod metrics;
pub mod policy;
pub mod reconcile;
pub mod status;

use crate::config::Config;
use crate::deliverer::Deliverer;
use crate::rate_limit::RateLimiter;
use crate::{Error, Result};
use futures::StreamExt;
use guardrails_crds::{AnalysisTask, WebhookEndpoint};
use guardrails_runtime::leader::{self, Election};
use guardrails_runtime::ops_server::{self, Ops};
use guardrails_runtime::shutdown;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Controller, WatchStreamExt, controller, watcher};
use kube::{Api, Client, ResourceExt};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// Arguments of `guardrails-agent run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Address of `/healthz`, `/readyz` and `/metrics`.
    #[arg(long, env = "GUARDRAILS_AGENT_LISTEN", default_value = "0.0.0.0:8081")]
    pub listen: SocketAddr,
    /// Watch only this namespace (default: every namespace).
    #[arg(long, env = "GUARDRAILS_AGENT_NAMESPACE")]
    pub namespace: Option<String>,
    /// Most tasks reconciled at once (each sends at most one attempt at a time).
    #[arg(long, env = "GUARDRAILS_AGENT_MAX_CONCURRENT", default_value_t = 64)]
    pub max_concurrent: u16,
    /// Elect a leader on a Lease, so only one of several replicas delivers.
    #[arg(long, env = "GUARDRAILS_AGENT_LEADER_ELECTION", default_value_t = false, action = clap::ArgAction::Set)]
    pub leader_election: bool,
    /// Name of the agent's Lease.
    #[arg(
        long,
        env = "GUARDRAILS_AGENT_LEASE_NAME",
        default_value = "guardrails-agent"
    )]
    pub lease_name: String,
    /// Namespace of the Lease (default: POD_NAMESPACE, else `default`).
    #[arg(long, env = "GUARDRAILS_AGENT_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Seconds the Lease is held without renewal before another replica may take it.
    #[arg(
        long,
        env = "GUARDRAILS_AGENT_LEASE_DURATION_SECONDS",
        default_value_t = 15
    )]
    pub lease_duration_seconds: u64,
    /// Delivery settings.
    #[command(flatten)]
    pub config: Config,
}

/// Runs the sidecar until SIGTERM/SIGINT; the exit code says whether it stopped cleanly.
pub async fn run(args: RunArgs) -> ExitCode {
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the agent stopped");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: RunArgs) -> Result<()> {
    tracing::info!(config = ?args.config, namespace = ?args.namespace, leader_election = args.leader_election, "starting the delivery sidecar");
    let defaults = args.config.default_policy()?;
    let deliverer = Deliverer::new(args.config.network_guard()?)?
        .with_rate_limiter(RateLimiter::new(args.config.redis_url())?)
        .with_max_in_flight(args.max_concurrent.into());
    let client = Client::try_default().await?;
    let identity = std::env::var("POD_NAME")
        .unwrap_or_else(|_| format!("guardrails-agent-{}", uuid::Uuid::new_v4()));

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown::signal().await;
        tracing::info!("shutting down: finishing attempts in flight");
        let _ = stop_tx.send(true);
    });
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let mut registry = Registry::default();
    deliverer.metrics().register(&mut registry);
    let metrics = metrics::SidecarMetrics::default();
    metrics.register(&mut registry);
    let ops = Ops::new(Arc::new(registry)).with_not_ready_reason("caches are not filled yet");
    let listener = ops_server::bind(args.listen)
        .await
        .map_err(|e| Error::InvalidConfig(format!("cannot listen on {}: {e}", args.listen)))?;
    tracing::info!(listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "health and metrics endpoints up");
    let server = tokio::spawn(ops_server::serve(listener, ops.clone(), stopped()));

    let (tasks, endpoints, secrets): (Api<AnalysisTask>, Api<WebhookEndpoint>, Api<Secret>) =
        match &args.namespace {
            Some(ns) => (
                Api::namespaced(client.clone(), ns),
                Api::namespaced(client.clone(), ns),
                Api::namespaced(client.clone(), ns),
            ),
            None => (
                Api::all(client.clone()),
                Api::all(client.clone()),
                Api::all(client.clone()),
            ),
        };
    // NB: an endpoint's `Ready` follows its Secrets: every change of an endpoint, or of a
    // Secret an endpoint references, marks the namespace for a refresh (done while leading).
    let refresh = Arc::new(endpoint_status::ReadyRefresh::default());
    let endpoint_changes = endpoints.clone();
    let (endpoint_store, endpoint_writer) = reflector::store();
    tokio::spawn({
        let refresh = refresh.clone();
        reflector::reflector(
            endpoint_writer,
            watcher(endpoints, watcher::Config::default()),
        )
        .default_backoff()
        .for_each(move |event| {
            if let Some(namespace) = changed_object(&event).and_then(|e| e.namespace()) {
                refresh.mark(&namespace);
            }
            futures::future::ready(())
        })
    });
    let (secret_store, secret_writer) = reflector::store();
    tokio::spawn({
        let refresh = refresh.clone();
        let endpoints = endpoint_store.clone();
        reflector::reflector(secret_writer, watcher(secrets, watcher::Config::default()))
            .default_backoff()
            .for_each(move |event| {
                if let Some(secret) = changed_object(&event) {
                    let namespace = secret.namespace();
                    let name = secret.name_any();
                    let referenced = endpoints.state().iter().any(|e| {
                        e.namespace() == namespace && endpoint_status::references_secret(e, &name)
                    });
                    if let (true, Some(namespace)) = (referenced, namespace) {
                        refresh.mark(&namespace);
                    }
                }
                futures::future::ready(())
            })
    });
    let caches = async {
        endpoint_store.wait_until_ready().await.ok();
        secret_store.wait_until_ready().await.ok();
    };
    tokio::select! {
        () = caches => {}
        () = stopped() => return Ok(()),
    }
    ops.set_ready(true);

    let election = if args.leader_election {
        let namespace = args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "default".into());
        let mut election = Election::join(
            client.clone(),
            &args.lease_name,
            &namespace,
            &identity,
            args.lease_duration_seconds.max(2),
            "guardrails-agent",
        )
        .await
        .map_err(lease_error)?;
        tracing::info!(lease = %args.lease_name, %namespace, %identity, "waiting to lead");
        tokio::select! {
            acquired = election.acquired() => acquired.map_err(lease_error)?,
            () = stopped() => return election.release().await.map_err(lease_error),
        }
        tracing::info!(lease = %args.lease_name, "leading: delivering webhooks");
        Some(election)
    } else {
        None
    };

    let (cut_tx, cut_rx) = watch::channel(false);
    let held: Arc<std::sync::Mutex<HashMap<String, ObjectRef<AnalysisTask>>>> = Arc::default();
    let ctx = Arc::new(reconcile::Context {
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: "guardrails-agent".into(),
                instance: Some(identity),
            },
        ),
        endpoint_book: endpoint_status::EndpointStatusBook::new(client.clone()),
        client,
        deliverer,
        defaults,
        endpoints: endpoint_store,
        secrets: secret_store,
        metrics,
        written: Default::default(),
        cut: cut_rx,
        held: held.clone(),
    });
    let refresher = {
        let ctx = ctx.clone();
        // NB: every endpoint once at the start, so `Ready` is right before any delivery.
        for endpoint in ctx.endpoints.state() {
            if let Some(namespace) = endpoint.namespace() {
                refresh.mark(&namespace);
            }
        }
        tokio::spawn(async move {
            loop {
                for namespace in refresh.next().await {
                    if !ctx.refresh_endpoints(&namespace).await {
                        let refresh = refresh.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            refresh.mark(&namespace);
                        });
                    }
                }
            }
        })
    };
    let flusher = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(endpoint_status::FLUSH_INTERVAL);
            loop {
                tick.tick().await;
                ctx.endpoint_book.flush().await;
            }
        })
    };
    let lost = election.as_ref().map(|e| e.lost());
    let leadership_lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let shutdown = {
        let stopped = stopped();
        let leadership_lost = leadership_lost.clone();
        async move {
            match lost {
                Some(lost) => tokio::select! {
                    () = stopped => {}
                    () = lost => {
                        tracing::error!("leadership lost: cutting attempts in flight (recorded as interrupted), then exiting");
                        leadership_lost.store(true, Ordering::Relaxed);
                        let _ = cut_tx.send(true);
                    }
                },
                None => stopped.await,
            }
        }
    };
    let task_watch = finished_tasks_watch(&tasks).await?;
    let controller = Controller::new(tasks, task_watch)
        // NB: a changed endpoint (e.g. resumed) reconciles the tasks it held in its namespace.
        .watches(
            endpoint_changes,
            watcher::Config::default(),
            move |endpoint| {
                let namespace = endpoint.namespace();
                held.lock()
                    .expect("poisoned")
                    .values()
                    .filter(|task| task.namespace == namespace)
                    .cloned()
                    .collect::<Vec<_>>()
            },
        )
        .with_config(controller::Config::default().concurrency(args.max_concurrent))
        .graceful_shutdown_on(shutdown);
    let store = controller.store();
    let pruner = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let present: std::collections::HashSet<String> = store
                    .state()
                    .iter()
                    .filter_map(|t| t.metadata.uid.clone())
                    .collect();
                ctx.forget_missing(|uid| present.contains(uid));
            }
        })
    };
    controller
        .run(reconcile::reconcile, reconcile::error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "controller event");
            }
        })
        .await;
    pruner.abort();
    refresher.abort();
    flusher.abort();
    ctx.endpoint_book.flush().await;
    if leadership_lost.load(Ordering::Relaxed) {
        // NB: another replica may deliver now; exiting non-zero makes Kubernetes restart this
        // one (it then waits for the Lease again) and makes the loss visible.
        server.abort();
        if let Some(election) = election {
            let _ = tokio::time::timeout(Duration::from_secs(5), election.release()).await;
        }
        return Err(Error::Lease(
            "this replica lost the Lease; exiting so that it restarts and waits to lead".into(),
        ));
    }
    if let Some(election) = election {
        election.release().await.map_err(lease_error)?;
    }
    let _ = server.await;
    Ok(())
}

/// The field selector of finished tasks: the agent never sees the writes of a running analysis.
// NB: served for the `selectableFields` of the AnalysisTask CRD (Kubernetes 1.32+); a task
// without a status has an empty phase.
pub const FINISHED_TASKS: &str = "status.phase!=,status.phase!=Pending,status.phase!=Running";

/// The watch of tasks: finished ones only, unless the API server cannot select them by phase
/// (the CRD lacks `selectableFields`, or Kubernetes is older than 1.32).
async fn finished_tasks_watch(tasks: &Api<AnalysisTask>) -> Result<watcher::Config> {
    let probe = kube::api::ListParams::default()
        .fields(FINISHED_TASKS)
        .limit(1);
    match tasks.list_metadata(&probe).await {
        Ok(_) => Ok(watcher::Config::default().fields(FINISHED_TASKS)),
        Err(kube::Error::Api(e)) if e.code == 400 => {
            tracing::warn!(error = %e.message, "the API server cannot select AnalysisTasks by status.phase (apply the chart's CRDs; Kubernetes 1.32+): watching every task");
            Ok(watcher::Config::default())
        }
        Err(e) => Err(e.into()),
    }
}

/// The object a watch event adds, changes or removes (none for the markers of a relist).
fn changed_object<K>(event: &Result<watcher::Event<K>, watcher::Error>) -> Option<&K> {
    match event {
        Ok(watcher::Event::Apply(o) | watcher::Event::Delete(o) | watcher::Event::InitApply(o)) => {
            Some(o)
        }
        _ => None,
    }
}

/// The agent's error for a failed election on its Lease.
fn lease_error(e: leader::Error) -> Error {
    Error::Lease(e.to_string())
}
