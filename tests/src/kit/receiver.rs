//! Loopback webhook receivers: record every request and answer from a script.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use tokio::{sync::Notify, task::JoinHandle};

use crate::Error;

/// How the receiver answers one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Answer at once with this status code.
    Status(u16),
    /// Wait, then answer with this status code.
    Delayed(Duration, u16),
    /// Never answer (until the client gives up).
    Hang,
    /// Answer at once with this status code and `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers in arrival order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The raw body bytes.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: SystemTime,
    /// The reply it was given.
    pub reply: Reply,
}

impl ReceivedRequest {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers as an HTTP header map (what a webhook verifier takes).
    pub fn header_map(&self) -> http::HeaderMap {
        self.headers
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_bytes(name.as_bytes()).expect("a received header name"),
                    http::HeaderValue::from_str(value).expect("a received header value"),
                )
            })
            .collect()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

#[derive(Debug)]
struct ReceiverState {
    script: Mutex<VecDeque<Reply>>,
    default: Reply,
    requests: Mutex<Vec<ReceivedRequest>>,
    arrived: Notify,
}

/// A webhook receiver on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct WebhookReceiver {
    addr: SocketAddr,
    state: Arc<ReceiverState>,
    server: JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts a receiver answering with `script` in order, then `200` for every later request.
    pub async fn start(script: impl IntoIterator<Item = Reply>) -> Result<Self, Error> {
        Self::start_with_default(script, Reply::Status(200)).await
    }

    /// Starts a receiver answering with `script` in order, then `default` for every later request.
    pub async fn start_with_default(
        script: impl IntoIterator<Item = Reply>,
        default: Reply,
    ) -> Result<Self, Error> {
        let state = Arc::new(ReceiverState {
            script: Mutex::new(script.into_iter().collect()),
            default,
            requests: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            state,
            server,
        })
    }

    /// The URL to deliver to, `http://127.0.0.1:<port>/webhook`.
    pub fn url(&self) -> String {
        format!("http://{}/webhook", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.state.requests.lock().expect("receiver lock").clone()
    }

    /// Waits until at least `count` requests arrived; fails with what did arrive.
    pub async fn wait_for_requests(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedRequest>, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.arrived.notified();
            let seen = self.requests();
            if seen.len() >= count {
                return Ok(seen);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen = self.requests();
                let summary = seen
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {} ({} bytes) -> {:?}",
                            r.method,
                            r.path,
                            r.body.len(),
                            r.reply
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                return Err(Error::Timeout {
                    what: format!("{count} webhook request(s) at {}", self.url()),
                    waited_ms: timeout.as_millis(),
                    last_seen: format!("{} request(s):\n{summary}", seen.len()),
                    logs: String::new(),
                });
            }
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = state
        .script
        .lock()
        .expect("receiver lock")
        .pop_front()
        .unwrap_or_else(|| state.default.clone());
    let request = ReceivedRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        received_at: SystemTime::now(),
        reply: reply.clone(),
    };
    state.requests.lock().expect("receiver lock").push(request);
    state.arrived.notify_waiters();
    let code = match reply {
        Reply::RetryAfter(code, seconds) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, [("retry-after", seconds.to_string())]).into_response();
        }
        Reply::Status(code) => code,
        Reply::Delayed(delay, code) => {
            tokio::time::sleep(delay).await;
            code
        }
        Reply::Hang => std::future::pending().await,
    };
    StatusCode::from_u16(code)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}
