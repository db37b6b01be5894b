//! The operations server: `/healthz`, `/readyz` from a readiness flag, `/metrics` from a registry.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{encoding::text::encode, registry::Registry};

/// Content type of `/metrics`: the OpenMetrics text format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the endpoints report; clones share the readiness flag.
#[derive(Clone)]
pub struct Ops {
    registry: Arc<Registry>,
    ready: Arc<AtomicBool>,
    not_ready: &'static str,
    before_scrape: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Ops {
    /// Not-ready endpoints serving `registry` on `/metrics`.
    pub fn new(registry: Arc<Registry>) -> Self {
        Ops {
            registry,
            ready: Arc::default(),
            not_ready: "not ready",
            before_scrape: None,
        }
    }

    /// Sets the body of `/readyz` while not ready (default `not ready`).
    pub fn with_not_ready_reason(mut self, reason: &'static str) -> Self {
        self.not_ready = reason;
        self
    }

    /// Runs `hook` before each scrape of `/metrics`, e.g. to set gauges computed on demand.
    pub fn with_before_scrape(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.before_scrape = Some(Arc::new(hook));
        self
    }

    /// Makes `/readyz` answer 200 (`true`) or 503 (`false`).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// The router of `/healthz`, `/readyz` and `/metrics`.
pub fn router(ops: Ops) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

/// Binds `addr`, failing at once if it cannot (e.g. the port is taken).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// Serves the endpoints on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ops: Ops,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(ops))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn readyz(State(ops): State<Ops>) -> (StatusCode, &'static str) {
    if ops.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, ops.not_ready)
    }
}

async fn metrics(State(ops): State<Ops>) -> Response {
    if let Some(hook) = &ops.before_scrape {
        hook();
    }
    let mut body = String::new();
    match encode(&mut body, &ops.registry) {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
    use tower::ServiceExt;

    async fn get(ops: &Ops, path: &str) -> (StatusCode, Option<String>, String) {
        let response = router(ops.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn readyz_follows_the_flag() {
        let ops = Ops::new(Arc::default()).with_not_ready_reason("caches are not filled yet");
        assert_eq!(
            get(&ops, "/readyz").await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("text/plain; charset=utf-8".into()),
                "caches are not filled yet".into()
            )
        );
        ops.set_ready(true);
        let (status, _, body) = get(&ops, "/readyz").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ready"));
        ops.set_ready(false);
        let (status, _, body) = get(&ops, "/readyz").await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "caches are not filled yet")
        );
    }

    #[tokio::test]
    async fn healthz_answers_ok_even_when_not_ready() {
        let ops = Ops::new(Arc::default());
        let (status, _, body) = get(&ops, "/healthz").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
        let (status, _, body) = get(&ops, "/readyz").await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "not ready")
        );
    }

    #[tokio::test]
    async fn metrics_serves_the_registry_in_the_openmetrics_format() {
        let mut registry = Registry::with_prefix("guardrails_test");
        let requests = Counter::<u64>::default();
        registry.register("requests", "Requests served", requests.clone());
        requests.inc_by(3);
        let ops = Ops::new(Arc::new(registry));
        let (status, content_type, body) = get(&ops, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some(OPENMETRICS_CONTENT_TYPE));
        assert!(
            body.contains("# TYPE guardrails_test_requests counter\n"),
            "{body}"
        );
        assert!(
            body.contains("guardrails_test_requests_total 3\n"),
            "{body}"
        );
        assert!(body.ends_with("# EOF\n"), "{body}");
    }

    #[tokio::test]
    async fn the_hook_runs_before_each_scrape() {
        let mut registry = Registry::default();
        let scrapes = Gauge::<i64>::default();
        registry.register("scrapes", "Scrapes seen by the hook", scrapes.clone());
        let ops = Ops::new(Arc::new(registry)).with_before_scrape({
            let scrapes = scrapes.clone();
            move || {
                scrapes.inc();
            }
        });
        assert!(get(&ops, "/metrics").await.2.contains("scrapes 1\n"));
        assert!(get(&ops, "/metrics").await.2.contains("scrapes 2\n"));
    }

    #[tokio::test]
    async fn serve_answers_on_the_bound_port_until_shutdown() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ops = Ops::new(Arc::default());
        ops.set_ready(true);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, ops, async {
            let _ = stopped.await;
        }));
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("ready"), "{answer}");
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
