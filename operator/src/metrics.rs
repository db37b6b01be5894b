//! Prometheus metrics of the operator and its `/healthz`, `/readyz`, `/metrics` server.

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use guardrails_crds::{AnalysisTask, TaskPhase};
use guardrails_runtime::ops_server::{self, Ops};
use kube::runtime::reflector::Store;
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::{Error, Result};

/// Label set with one `reason`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// Why: an error label or a failure reason.
    pub reason: String,
}

/// Label set with one task `phase`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    /// Pending, Running, Succeeded or Failed.
    pub phase: String,
}

/// Every metric the operator exports (prefix `guardrails_operator_`).
pub struct Metrics {
    registry: Arc<Registry>,
    /// Reconciles run.
    pub reconciles: Counter,
    /// Reconciles that ended in an error, by error label.
    pub reconcile_errors: Family<ReasonLabels, Counter>,
    /// Tasks that ended Failed, by condition reason.
    pub task_failures: Family<ReasonLabels, Counter>,
    /// Tasks that ended Succeeded.
    pub task_successes: Counter,
    /// Time of one reconcile, in seconds.
    pub reconcile_duration: Histogram,
    /// Time of one analysis, in seconds.
    pub analysis_duration: Histogram,
    /// Size of the analysed texts, in bytes.
    pub text_size: Histogram,
    /// Tasks in the operator's cache by phase (computed at scrape time).
    pub tasks: Family<PhaseLabels, Gauge>,
    /// 1 while this replica reconciles (leader, or leader election off), else 0.
    pub leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("guardrails_operator");
        let m = Metrics {
            registry: Arc::default(),
            reconciles: Counter::default(),
            reconcile_errors: Family::default(),
            task_failures: Family::default(),
            task_successes: Counter::default(),
            reconcile_duration: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            analysis_duration: Histogram::new(exponential_buckets(0.0001, 2.0, 20)),
            text_size: Histogram::new(exponential_buckets(64.0, 4.0, 10)),
            tasks: Family::default(),
            leader: Gauge::default(),
        };
        registry.register("reconciles", "Reconciles run", m.reconciles.clone());
        registry.register(
            "reconcile_errors",
            "Reconciles that ended in an error, by reason",
            m.reconcile_errors.clone(),
        );
        registry.register(
            "task_failures",
            "Tasks that ended Failed, by reason",
            m.task_failures.clone(),
        );
        registry.register(
            "task_successes",
            "Tasks that ended Succeeded",
            m.task_successes.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time of one reconcile",
            m.reconcile_duration.clone(),
        );
        registry.register(
            "analysis_duration_seconds",
            "Time of one analysis",
            m.analysis_duration.clone(),
        );
        registry.register(
            "text_size_bytes",
            "Size of the analysed texts",
            m.text_size.clone(),
        );
        registry.register(
            "tasks",
            "Tasks in the operator's cache by phase",
            m.tasks.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica reconciles",
            m.leader.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            ..m
        }
    }

    /// Sets the tasks-by-phase gauge from the cached tasks.
    pub fn count_tasks(&self, tasks: &Store<AnalysisTask>) {
        let mut counts = [0i64; 4];
        for task in tasks.state() {
            counts[phase_index(task.phase())] += 1;
        }
        for (phase, count) in [
            TaskPhase::Pending,
            TaskPhase::Running,
            TaskPhase::Succeeded,
            TaskPhase::Failed,
        ]
        .iter()
        .zip(counts)
        {
            self.tasks
                .get_or_create(&PhaseLabels {
                    phase: format!("{phase:?}"),
                })
                .set(count);
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // NB: writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Records one reconcile duration.
    pub fn observe_reconcile(&self, took: Duration) {
        self.reconciles.inc();
        self.reconcile_duration.observe(took.as_secs_f64());
    }
}

fn phase_index(phase: TaskPhase) -> usize {
    match phase {
        TaskPhase::Pending => 0,
        TaskPhase::Running => 1,
        TaskPhase::Succeeded => 2,
        TaskPhase::Failed => 3,
    }
}

/// What the health and metrics server reads.
#[derive(Clone)]
pub struct Health {
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The endpoints; ready once the operator is connected (leading or standing by).
    pub ops: Ops,
    /// The controller's cache of tasks, once the controller runs.
    pub tasks: Arc<OnceLock<Store<AnalysisTask>>>,
}

impl Health {
    /// A not-yet-ready state around `metrics`; each scrape counts the cached tasks by phase.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        let tasks: Arc<OnceLock<Store<AnalysisTask>>> = Arc::default();
        let ops = Ops::new(metrics.registry.clone()).with_before_scrape({
            let metrics = metrics.clone();
            let tasks = tasks.clone();
            move || {
                if let Some(tasks) = tasks.get() {
                    metrics.count_tasks(tasks);
                }
            }
        });
        Health {
            metrics,
            ops,
            tasks,
        }
    }
}

/// Binds `addr` (fails at once if it cannot) and serves until `shutdown` completes.
pub async fn serve(
    addr: SocketAddr,
    health: Health,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<tokio::task::JoinHandle<Result<()>>> {
    let listener = ops_server::bind(addr).await.map_err(Error::ServerError)?;
    Ok(tokio::spawn(async move {
        ops_server::serve(listener, health.ops, shutdown)
            .await
            .map_err(Error::ServerError)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_exported_with_the_prefix() {
        let metrics = Metrics::new();
        metrics
            .reconcile_errors
            .get_or_create(&ReasonLabels {
                reason: "api_409".into(),
            })
            .inc();
        metrics
            .task_failures
            .get_or_create(&ReasonLabels {
                reason: "TextTooLarge".into(),
            })
            .inc();
        metrics.observe_reconcile(Duration::from_millis(3));
        let text = metrics.encode();
        for name in [
            "guardrails_operator_reconciles_total 1",
            "guardrails_operator_reconcile_errors_total{reason=\"api_409\"} 1",
            "guardrails_operator_task_failures_total{reason=\"TextTooLarge\"} 1",
            "guardrails_operator_reconcile_duration_seconds_count 1",
            "guardrails_operator_analysis_duration_seconds_count 0",
            "guardrails_operator_text_size_bytes_count 0",
            "guardrails_operator_leader 0",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }

    #[tokio::test]
    async fn each_scrape_counts_the_cached_tasks_by_phase() {
        use crate::fixtures::TaskBuilder;
        use axum::body::{Body, to_bytes};
        use kube::runtime::{reflector, watcher};
        use tower::ServiceExt;

        let health = Health::new(Arc::new(Metrics::new()));
        let (reader, mut writer) = reflector::store::<AnalysisTask>();
        let _ = health.tasks.set(reader);
        let scrape = || async {
            let response = ops_server::router(health.ops.clone())
                .oneshot(http::Request::get("/metrics").body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), http::StatusCode::OK);
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            String::from_utf8(body.to_vec()).unwrap()
        };
        let text = scrape().await;
        assert!(
            text.contains("guardrails_operator_tasks{phase=\"Pending\"} 0\n"),
            "{text}"
        );
        for name in ["a", "b"] {
            writer.apply_watcher_event(&watcher::Event::Apply(TaskBuilder::new(name).build()));
        }
        let text = scrape().await;
        assert!(
            text.contains("guardrails_operator_tasks{phase=\"Pending\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("guardrails_operator_tasks{phase=\"Succeeded\"} 0\n"),
            "{text}"
        );
    }
}
