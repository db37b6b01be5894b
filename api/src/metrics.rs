//! Prometheus metrics of the api: requests by route and status, their latency, tasks submitted.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template, e.g. `/api/v1/tasks/{task_id}` (never the id itself).
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// HTTP status code.
    pub status: u16,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route template.
    pub route: String,
}

/// The api's metrics and the registry they are exposed from.
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Requests answered, by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency in seconds, by route.
    pub latency: Family<RouteLabels, Histogram>,
    /// Async tasks accepted.
    pub tasks_submitted: Counter,
    /// Async submissions refused with `503` because the server is at capacity.
    pub tasks_refused: Counter,
}

impl Metrics {
    /// The metrics, registered under `guardrails_api`; `extra` registers more (e.g. webhooks).
    pub fn new(extra: impl FnOnce(&mut Registry)) -> Arc<Self> {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let tasks_submitted = Counter::default();
        let tasks_refused = Counter::default();
        {
            let api = registry.sub_registry_with_prefix("guardrails_api");
            api.register("requests", "HTTP requests answered", requests.clone());
            api.register(
                "request_duration_seconds",
                "HTTP request latency",
                latency.clone(),
            );
            api.register(
                "tasks_submitted",
                "Analysis tasks accepted by the async endpoint",
                tasks_submitted.clone(),
            );
            api.register(
                "tasks_refused",
                "Async submissions refused with 503 because the server is at capacity",
                tasks_refused.clone(),
            );
        }
        extra(&mut registry);
        Arc::new(Self {
            registry: Mutex::new(registry),
            requests,
            latency,
            tasks_submitted,
            tasks_refused,
        })
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // NB: writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }
}

/// Middleware counting every request by its route template.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
