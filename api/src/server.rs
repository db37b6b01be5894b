//! The router with its middleware, the wiring of both modes, and graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::middleware::{from_fn, from_fn_with_state, map_request, map_response};
use axum::routing::{get, post};
use guardrails_agent::{Deliverer, RateLimiter};
use guardrails_crds::{AnalysisTask, WebhookEndpoint};
use kube::Api;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use tower::ServiceBuilder;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Span;

use crate::auth::{self, ApiKeys};
use crate::backend::Backend;
use crate::budget::MemoryBudget;
use crate::config::{AuthMode, Config, DataDir};
use crate::connections;
use crate::kubernetes::KubernetesTasks;
use crate::metrics::{self, Metrics};
use crate::portal::namespaces::PortalNamespaces;
use crate::problem;
use crate::routes::{self, AppState};
use crate::standalone::{self, StandaloneTasks};
use crate::store::Store;
use crate::task_cache::TaskCache;
use crate::webhook_url::WebhookRules;
use crate::workers::Workers;
use crate::{Error, Result};

/// Header carrying the request id (generated when the client sends none or an unusable one).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest request id kept from a client.
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// The HTTP router: API routes behind `keys` (when set), operations routes open.
pub fn router(state: AppState, keys: Option<Arc<ApiKeys>>, max_body_bytes: usize) -> Router {
    let mut api = Router::new()
        .route("/api/v1/analyze", post(routes::analyze))
        .route("/api/v1/analyze/async", post(routes::analyze_async))
        .route("/api/v1/tasks/{task_id}", get(routes::get_task));
    let portal = crate::portal::router(state.clone(), keys.clone());
    if let Some(keys) = keys {
        api = api.route_layer(from_fn_with_state(keys, auth::require_api_key));
    }
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    Router::new()
        .merge(api)
        .merge(portal)
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(routes::metrics))
        .route("/openapi.json", get(routes::openapi))
        .route_layer(from_fn_with_state(state.metrics.clone(), metrics::track))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(from_fn(connections::check_head))
        .layer(map_response(problem::ensure_problem_json))
        .layer(
            ServiceBuilder::new()
                .layer(map_request(drop_unusable_request_id))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    // NB: the span names method, path and request id only: no query, no body.
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<_>| {
                            let id = request
                                .headers()
                                .get(REQUEST_ID_HEADER)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default();
                            tracing::info_span!("request", method = %request.method(),
                            path = %request.uri().path(), request_id = %id)
                        })
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                        .on_failure(log_failure),
                )
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
        .with_state(state)
}

/// Removes a client's request id that is too long or has characters other than letters,
/// digits and `-_.:`, so a fresh one is made and no client text reaches the logs unchecked.
async fn drop_unusable_request_id(
    mut request: Request<axum::body::Body>,
) -> Request<axum::body::Body> {
    let usable = request.headers().get(REQUEST_ID_HEADER).map(|id| {
        let id = id.as_bytes();
        !id.is_empty()
            && id.len() <= MAX_REQUEST_ID_BYTES
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    });
    if usable == Some(false) {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    request
}

/// Logs a `5xx`: at debug for `503` (an expected refusal, counted in the metrics), else at error.
fn log_failure(class: ServerErrorsFailureClass, latency: Duration, _: &Span) {
    match class {
        ServerErrorsFailureClass::StatusCode(status)
            if status == axum::http::StatusCode::SERVICE_UNAVAILABLE =>
        {
            tracing::debug!(status = status.as_u16(), ?latency, "request refused");
        }
        class => tracing::error!(%class, ?latency, "request failed"),
    }
}

/// Builds the application of `config`: its router, ready to serve.
pub async fn build(config: &Config) -> Result<Router> {
    let keys = match config.auth {
        AuthMode::ApiKey => Some(Arc::new(ApiKeys::load(
            config.api_keys_file.as_deref(),
            &config.api_keys,
        )?)),
        AuthMode::None => None,
    };
    if config.memory_budget_bytes < config.max_text_bytes {
        return Err(Error::Config(
            "--memory-budget-bytes must hold at least one text of --max-text-bytes".into(),
        ));
    }
    let budget = MemoryBudget::new(config.memory_budget_bytes);
    let workers = Workers::new(config.workers());
    let guard = config.delivery.network_guard()?;
    let policy = config.delivery.default_policy()?;
    let mut rules = WebhookRules {
        allowlist: policy.allowlist.clone(),
        guard: guard.clone(),
        endpoints: None,
    };
    let (backend, metrics) = if config.standalone {
        let mut deliverer = Deliverer::new(guard)?;
        if let Some(limiter) = rate_limiter(config).await? {
            deliverer = deliverer.with_rate_limiter(limiter);
        }
        let delivery_metrics = deliverer.metrics().clone();
        let metrics = Metrics::new(|registry| delivery_metrics.register(registry));
        let store = match config.data_dir() {
            DataDir::Memory => Store::in_memory()?,
            DataDir::Path(dir) => {
                let store = Store::open(&dir)?;
                tracing::info!(data_dir = %dir.display(), "tasks are kept in the store here");
                store
            }
        };
        let limits = standalone::Limits {
            budget: budget.clone(),
            max_queued: config.max_queued_tasks,
            max_in_memory: config.max_stored_tasks,
            ttl: config.standalone_ttl(),
        };
        let tasks = StandaloneTasks::new(
            workers.clone(),
            Arc::new(deliverer),
            policy,
            Arc::new(store),
            limits,
        )?;
        (Backend::Standalone(tasks), metrics)
    } else {
        let mut kube_config = kube::Config::infer()
            .await
            .map_err(|e| Error::Config(format!("cannot find a Kubernetes configuration: {e}")))?;
        // NB: kube's default retries back off for minutes; a REST client gets a 503 instead.
        kube_config.default_retry = false;
        let client = kube::Client::try_from(kube_config).map_err(Error::Kubernetes)?;
        let cache = TaskCache::new();
        let task_api: Api<AnalysisTask> = Api::namespaced(client.clone(), &config.namespace);
        tokio::spawn(cache.clone().run(task_api));
        let endpoint_api: Api<WebhookEndpoint> = Api::namespaced(client.clone(), &config.namespace);
        let (endpoints, writer) = reflector::store();
        tokio::spawn(async move {
            use futures::StreamExt;
            let stream = reflector(writer, watcher(endpoint_api, watcher::Config::default()))
                .default_backoff();
            stream.for_each(|_| std::future::ready(())).await;
        });
        rules.endpoints = Some(endpoints);
        let others = PortalNamespaces::watch(&client, &config.portal_namespaces, &config.namespace);
        let tasks = KubernetesTasks::new(
            client,
            config.namespace.clone(),
            cache,
            config.task_ttl_seconds,
        )
        .with_portal_namespaces(others);
        (Backend::Kubernetes(Arc::new(tasks)), Metrics::new(|_| {}))
    };
    let state = AppState {
        backend,
        workers,
        rules: Arc::new(rules),
        max_text_bytes: config.max_text_bytes,
        budget,
        body_read_timeout: config.http_limits().body_read_timeout,
        metrics,
    };
    Ok(router(state, keys, config.max_body_bytes))
}

/// The rate limiter of standalone mode: on `REDIS_URL` when a limit is set and Redis answers.
async fn rate_limiter(config: &Config) -> Result<Option<RateLimiter>> {
    let Some(limiter) = config.delivery.rate_limiter()? else {
        return Ok(None);
    };
    let url = config.delivery.redis_url();
    if redis_answers(url).await {
        tracing::info!(
            per_minute = config.delivery.webhook_rate_limit_per_minute,
            "webhook rate limit counted in Redis"
        );
        Ok(Some(limiter))
    } else {
        tracing::warn!(
            "Redis does not answer at the configured REDIS_URL: the webhook rate limit is not \
             enforced in this run"
        );
        Ok(None)
    }
}

async fn redis_answers(url: &str) -> bool {
    let ping = async {
        let client = redis::Client::open(url).ok()?;
        let mut connection = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), ping).await,
        Ok(Some(_))
    )
}

/// Runs the api of `config` until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn run(config: Config) -> Result<()> {
    if config.standalone && config.data_dir() == DataDir::Memory {
        tracing::warn!("standalone mode with --data-dir :memory:: nothing survives a restart");
    }
    if config.auth == AuthMode::None {
        tracing::warn!(
            "AUTHENTICATION IS OFF (--auth none): anyone who can reach this port can submit texts \
             and read results; use it on your own machine only"
        );
    }
    let app = build(&config).await?;
    let addr = config.listen_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let local = listener.local_addr().map_err(Error::Serve)?;
    tracing::info!(address = %local, mode = if config.standalone { "standalone" } else { "kubernetes" },
        "guardrails-api listening");
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let shutdown = async {
        guardrails_runtime::shutdown::signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
    };
    if !connections::serve(listener, app, config.http_limits(), shutdown, grace).await {
        tracing::warn!("in-flight requests did not finish within the grace period");
    }
    tracing::info!("stopped");
    Ok(())
}
