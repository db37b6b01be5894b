//! Test kit of the api's HTTP tests: a standalone app on the real router, requests, receivers.
#![allow(dead_code)]

pub mod process;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use guardrails_agent::{AllowList, Deliverer, NetworkGuard, Policy, SigningSecret};
use guardrails_api::auth::ApiKeys;
use guardrails_api::backend::Backend;
use guardrails_api::budget::MemoryBudget;
use guardrails_api::connections::{self, HttpLimits};
use guardrails_api::metrics::Metrics;
use guardrails_api::routes::AppState;
use guardrails_api::server::router;
use guardrails_api::standalone::{Limits, StandaloneTasks};
use guardrails_api::store::Store;
use guardrails_api::webhook_url::WebhookRules;
use guardrails_api::workers::Workers;
use serde_json::Value;
use tower::ServiceExt;

/// The API key the test app accepts.
pub const KEY: &str = "test-key-0123456789";

/// The signing secret of the test app.
pub const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtZm9yLWd1YXJkcmFpbHM=";

/// A standalone app on the real router, and its task store.
pub struct App {
    pub router: Router,
    pub tasks: Arc<StandaloneTasks>,
    /// The app's two analysis workers (a test can reserve them to hold every job back).
    pub workers: Workers,
}

/// How the test app is configured.
pub struct AppBuilder {
    allowlist: String,
    allow_private: bool,
    max_body_bytes: usize,
    max_text_bytes: usize,
    max_queued: usize,
    memory_budget: usize,
}

impl App {
    /// A builder with loopback webhooks allowed, no allowlist, 64 KiB body and 32 KiB text limits.
    pub fn builder() -> AppBuilder {
        AppBuilder {
            allowlist: String::new(),
            allow_private: true,
            max_body_bytes: 64 * 1024,
            max_text_bytes: 32 * 1024,
            max_queued: 100,
            memory_budget: 16 * 1024 * 1024,
        }
    }

    /// The default test app.
    pub fn new() -> App {
        App::builder().build()
    }

    /// Sends a request with the test API key.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, body)
    }

    /// POSTs a JSON body (as bytes) with the API key.
    pub async fn post(&self, path: &str, body: impl Into<Body>) -> (StatusCode, HeaderMap, Bytes) {
        self.send(
            Request::post(path)
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {KEY}"))
                .body(body.into())
                .unwrap(),
        )
        .await
    }

    /// GETs a path with the API key and parses the JSON answer.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self
            .send(
                Request::get(path)
                    .header("authorization", format!("Bearer {KEY}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Serves the app on a loopback socket under `limits` until the test ends; its address.
    pub async fn serve(&self, limits: HttpLimits) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = self.router.clone();
        let forever = std::future::pending::<()>();
        tokio::spawn(connections::serve(
            listener,
            router,
            limits,
            forever,
            std::time::Duration::ZERO,
        ));
        addr
    }

    /// Polls a task until `done` holds for its view (10 s at most).
    pub async fn wait_for_task(&self, task_id: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..400 {
            let (status, view) = self.get(&format!("/api/v1/tasks/{task_id}")).await;
            assert_eq!(status, StatusCode::OK, "{view}");
            if done(&view) {
                return view;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("task {task_id} never reached the expected state");
    }
}

impl AppBuilder {
    /// Only these comma-separated hosts may receive webhooks.
    pub fn allowlist(mut self, list: &str) -> Self {
        self.allowlist = list.into();
        self
    }

    /// At most `max_queued` submissions wait for a worker.
    pub fn max_queued(mut self, max_queued: usize) -> Self {
        self.max_queued = max_queued;
        self
    }

    /// At most `bytes` of text are held for analysis.
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// Private and loopback destinations are refused, as in production.
    pub fn public_destinations_only(mut self) -> Self {
        self.allow_private = false;
        self
    }

    /// The app.
    pub fn build(self) -> App {
        let guard = NetworkGuard {
            allow_private: self.allow_private,
            allowed_cidrs: Vec::new(),
        };
        let allowlist = AllowList::from_comma_separated(&self.allowlist).unwrap();
        let workers = Workers::new(2);
        let policy = Policy {
            allowlist: allowlist.clone(),
            secrets: vec![SigningSecret::new(SECRET).unwrap()],
            ..Policy::default()
        };
        let deliverer = Deliverer::new(guard.clone()).unwrap();
        let budget = MemoryBudget::new(self.memory_budget);
        let limits = Limits {
            budget: budget.clone(),
            max_queued: self.max_queued,
            max_in_memory: 1000,
            ttl: std::time::Duration::from_secs(3600),
        };
        let store = Arc::new(Store::in_memory().unwrap());
        let tasks =
            StandaloneTasks::new(workers.clone(), Arc::new(deliverer), policy, store, limits)
                .unwrap();
        let state = AppState {
            backend: Backend::Standalone(tasks.clone()),
            workers: workers.clone(),
            rules: Arc::new(WebhookRules {
                allowlist,
                guard,
                endpoints: None,
            }),
            max_text_bytes: self.max_text_bytes,
            budget,
            body_read_timeout: std::time::Duration::from_secs(2),
            metrics: Metrics::new(|_| {}),
        };
        let keys = ApiKeys::load(None, &[KEY.into()]).unwrap();
        App {
            router: router(state, Some(Arc::new(keys)), self.max_body_bytes),
            tasks,
            workers,
        }
    }
}

/// A delivery a receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A webhook receiver on loopback answering from a script of statuses (then 200).
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver answering `script` in order, then 200.
    pub async fn start(script: Vec<u16>) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::<Received>::new()));
        let script = Arc::new(Mutex::new(script.into_iter()));
        let app = {
            let received = received.clone();
            Router::new().route(
                "/hook",
                axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                    let received = received.clone();
                    let script = script.clone();
                    async move {
                        received.lock().unwrap().push(Received { headers, body });
                        let status = script.lock().unwrap().next().unwrap_or(200);
                        StatusCode::from_u16(status).unwrap()
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, received }
    }

    /// The receiver's URL.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The deliveries so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (6 s at most) until `count` deliveries arrived; the deliveries then.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..600 {
            if self.received().len() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.received()
    }
}
