//! Test kit of the sidecar's unit tests: a mocked API server that checks each request, tasks,
//! a reconcile context and a loopback receiver.

use super::endpoint_status::EndpointStatusBook;
use super::metrics::SidecarMetrics;
use super::reconcile::Context;
use crate::{Deliverer, NetworkGuard, Policy};
use guardrails_crds::{AnalysisTask, WebhookEndpoint};
use http::{Method, Request, Response};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{reflector, watcher};
use kube::{Client, client::Body};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A finished task `t` in namespace `ns`; `webhook` is its URL, if any.
pub fn finished_task(webhook: Option<&str>) -> AnalysisTask {
    let mut spec = json!({"text": "mail jane@example.com"});
    if let Some(url) = webhook {
        spec["webhook"] = json!({"url": url});
    }
    serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask",
        "metadata": {"name": "t", "namespace": "ns", "uid": "0b6a2f1e-uid", "generation": 1},
        "spec": spec,
        "status": {"phase": "Failed", "error": "the text Secret `s` does not exist",
            "completedAt": "2026-03-01T12:00:00Z"},
    }))
    .unwrap()
}

/// A reconcile context talking to `client`, delivering to loopback receivers.
pub fn context(client: Client) -> Arc<Context> {
    context_with_endpoints(client, [])
}

/// A WebhookEndpoint `name` of namespace `ns` with `spec`.
pub fn endpoint(name: &str, spec: Value) -> WebhookEndpoint {
    serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "WebhookEndpoint",
        "metadata": {"name": name, "namespace": "ns"}, "spec": spec,
    }))
    .unwrap()
}

/// A reconcile context like [`context`] whose store holds `watched` WebhookEndpoints.
pub fn context_with_endpoints(
    client: Client,
    watched: impl IntoIterator<Item = WebhookEndpoint>,
) -> Arc<Context> {
    let guard = NetworkGuard {
        allow_private: true,
        ..NetworkGuard::default()
    };
    let (endpoints, mut writer) = reflector::store();
    for endpoint in watched {
        writer.apply_watcher_event(&watcher::Event::Apply(endpoint));
    }
    let (secrets, _) = reflector::store();
    let reporter = Reporter {
        controller: "guardrails-agent".into(),
        instance: None,
    };
    Arc::new(Context {
        recorder: Recorder::new(client.clone(), reporter),
        endpoint_book: EndpointStatusBook::new(client.clone()),
        client,
        deliverer: Deliverer::new(guard).unwrap(),
        defaults: Policy::default(),
        endpoints,
        secrets,
        metrics: SidecarMetrics::default(),
        written: Default::default(),
        cut: tokio::sync::watch::channel(false).1,
        held: Default::default(),
    })
}

/// A receiver on loopback answering every request with `status`; its URL and request count.
pub async fn receiver(status: u16) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().fallback({
        let count = count.clone();
        move || async move {
            count.fetch_add(1, Ordering::SeqCst);
            axum::http::StatusCode::from_u16(status).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, count)
}

/// What the mocked API server received: status applies and Events, in order.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Path and JSON body of each request other than an Event.
    pub writes: Vec<(Method, String, Value)>,
    /// The reasons of the Events created.
    pub event_reasons: Vec<String>,
}

/// A client whose requests are answered (with `task` for its applies) and recorded until no
/// request has come for `quiet` or every client is gone.
pub fn mock_api(
    task: &AnalysisTask,
    quiet: Duration,
) -> (Client, tokio::task::JoinHandle<Recorded>) {
    let task = serde_json::to_value(task).unwrap();
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let recording = tokio::spawn(async move {
        let mut recorded = Recorded::default();
        while let Ok(Some((request, send))) =
            tokio::time::timeout(quiet, handle.next_request()).await
        {
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            let bytes = request.into_body().collect_bytes().await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            // NB: an apply answers with the whole object; an Event creation with the Event.
            let reply = match path.starts_with("/apis/events.k8s.io/") {
                true => body.clone(),
                false => task.clone(),
            };
            if path.starts_with("/apis/events.k8s.io/") {
                recorded
                    .event_reasons
                    .push(body["reason"].as_str().unwrap_or_default().to_owned());
            } else {
                recorded.writes.push((method, path, body));
            }
            let reply = serde_json::to_vec(&reply).unwrap();
            let response = Response::builder().status(200).body(Body::from(reply));
            send.send_response(response.unwrap());
        }
        recorded
    });
    (Client::new(service, "default"), recording)
}
