//! The HTTP/1.1 server under limits: open connections, header and body read timeouts, and the
//! size of a request head, so slow or hostile clients cannot hold the server's resources.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::problem::{ApiError, Code};

/// Longest request target (path and query) answered normally, in bytes; longer ones get `414`.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Largest header section (names, values and separators), in bytes; larger ones get `431`.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Most header fields in a request; more get `431`.
pub const MAX_HEADERS: usize = 100;

// NB: hyper's own head limits sit above the documented ones, so that a head between the two is
// refused by `check_head` with a problem body; hyper answers a bare status only beyond them.
const HYPER_MAX_BUF_BYTES: usize = 32 * 1024;
const HYPER_MAX_HEADERS: usize = 2 * MAX_HEADERS;

/// How long the server waits for a client, and how many clients it serves at once.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// Time to receive a request's head; also how long an idle keep-alive connection stays open.
    pub header_read_timeout: Duration,
    /// Time to receive a whole request body.
    pub body_read_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish for
/// at most `grace`; returns whether they all finished in time.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> bool {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(HYPER_MAX_BUF_BYTES)
        .max_headers(HYPER_MAX_HEADERS);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // NB: e.g. EMFILE; retrying at once would spin, so wait a moment.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_ok()
}

/// Middleware refusing request heads over the documented limits, with problem bodies.
pub async fn check_head(request: Request, next: Next) -> Response {
    if let Some(error) = head_error(&request) {
        return error.into_response();
    }
    next.run(request).await
}

fn head_error(request: &Request) -> Option<ApiError> {
    let uri = request.uri();
    let target = uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(ApiError::new(
            Code::UriTooLong,
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        ));
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(ApiError::new(
            Code::HeadersTooLarge,
            format!(
                "the request has more than {MAX_HEADERS} header fields or more than \
                 {MAX_HEADER_BYTES} bytes of them"
            ),
        ));
    }
    None
}
