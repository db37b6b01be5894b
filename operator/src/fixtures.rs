//! Test fixtures: a chainable task builder, a sample analysis, and a mocked Kubernetes API that
//! checks each request the operator sends, in order, and answers it.

use std::time::Duration;

use guardrails_analysis::{Analysis, Analyzer, Options};
use guardrails_crds::{
    AnalysisTask, AnalysisTaskSpec, AnalysisTaskStatus, DeliveryPhase, DeliveryStatus, TaskPhase,
    conditions::{self, DELIVERED},
    task::{LocalSecretRef, SecretKeyRef, TextSource, WebhookTarget},
};
use http::{Method, Request, Response, StatusCode};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{Client, client::Body};
use serde_json::{Value, json};

use crate::decision::SPEC_CHANGED;

/// Uid of every task the builder makes unless told otherwise.
pub const TASK_UID: &str = "5e1f7a8c-3d2b-4f60-9c11-2a7b8d9e0f12";

/// Builds an AnalysisTask in namespace `ns` step by step.
pub struct TaskBuilder(AnalysisTask);

impl TaskBuilder {
    /// A pending task named `name` with an inline text.
    pub fn new(name: &str) -> Self {
        let mut task = AnalysisTask::new(
            name,
            AnalysisTaskSpec {
                text: Some("Mail jane@example.com please".into()),
                ..AnalysisTaskSpec::default()
            },
        );
        task.metadata.namespace = Some("ns".into());
        task.metadata.uid = Some(TASK_UID.into());
        task.metadata.generation = Some(1);
        task.metadata.resource_version = Some("1".into());
        task.metadata.creation_timestamp = Some(Time(Timestamp::from_second(1).unwrap()));
        TaskBuilder(task)
    }

    /// Sets the uid.
    pub fn uid(mut self, uid: &str) -> Self {
        self.0.metadata.uid = Some(uid.into());
        self
    }

    /// Sets the inline text.
    pub fn text(mut self, text: &str) -> Self {
        self.0.spec.text = Some(text.into());
        self
    }

    /// Takes the text from key `key` of Secret `name` instead.
    pub fn text_from(mut self, name: &str, key: &str) -> Self {
        self.0.spec.text = None;
        self.0.spec.text_from = Some(TextSource {
            secret_key_ref: SecretKeyRef {
                name: name.into(),
                key: key.into(),
            },
        });
        self
    }

    /// Sets spec.ttlSecondsAfterFinished.
    pub fn ttl(mut self, seconds: i32) -> Self {
        self.0.spec.ttl_seconds_after_finished = Some(seconds);
        self
    }

    /// Adds a webhook.
    pub fn webhook(mut self) -> Self {
        self.0.spec.webhook = Some(WebhookTarget {
            url: "https://hooks.example.com/x".into(),
            sign_payload: false,
        });
        self
    }

    /// Sets metadata.generation.
    pub fn generation(mut self, generation: i64) -> Self {
        self.0.metadata.generation = Some(generation);
        self
    }

    fn status(&mut self) -> &mut AnalysisTaskStatus {
        self.0
            .status
            .get_or_insert_with(AnalysisTaskStatus::default)
    }

    /// Marks the task Running since `started`, for generation 1.
    pub fn running(mut self, started: Timestamp) -> Self {
        let status = self.status();
        status.phase = Some(TaskPhase::Running);
        status.started_at = Some(Time(started));
        status.observed_generation = Some(1);
        conditions::set_condition(
            &mut status.conditions,
            conditions::new_condition("Analyzed", false, "Running", "", Some(1), Time(started)),
        );
        self
    }

    /// Marks the task Succeeded at `completed` with its result in `<name>-result`.
    pub fn succeeded(self, completed: Timestamp) -> Self {
        let name = format!(
            "{}-result",
            self.0.metadata.name.clone().unwrap_or_default()
        );
        let mut this = self.running(completed);
        let status = this.status();
        status.phase = Some(TaskPhase::Succeeded);
        status.completed_at = Some(Time(completed));
        status.result = Some(Default::default());
        status.result_secret_ref = Some(LocalSecretRef { name });
        this
    }

    /// Marks the task Failed at `completed`.
    pub fn failed(self, completed: Timestamp) -> Self {
        let mut this = self.running(completed);
        let status = this.status();
        status.phase = Some(TaskPhase::Failed);
        status.completed_at = Some(Time(completed));
        status.error = Some("failed".into());
        this
    }

    /// Sets the agent's delivery phase.
    pub fn delivery(mut self, phase: DeliveryPhase) -> Self {
        self.status().delivery = Some(DeliveryStatus {
            phase,
            ..DeliveryStatus::default()
        });
        self
    }

    /// Adds the agent's Delivered condition.
    pub fn delivered_condition(mut self) -> Self {
        let cond = conditions::new_condition(
            DELIVERED,
            true,
            "Delivered",
            "",
            Some(1),
            Time(Timestamp::UNIX_EPOCH),
        );
        conditions::set_condition(&mut self.status().conditions, cond);
        self
    }

    /// Records that a spec change to `generation` was already reported.
    pub fn spec_change_reported(mut self, generation: i64) -> Self {
        let cond = conditions::new_condition(
            SPEC_CHANGED,
            true,
            "SpecChangedAfterAnalysis",
            "",
            Some(generation),
            Time(Timestamp::UNIX_EPOCH),
        );
        conditions::set_condition(&mut self.status().conditions, cond);
        self
    }

    /// The task.
    pub fn build(self) -> AnalysisTask {
        self.0
    }
}

/// A real analysis of a short text with one e-mail address.
pub fn sample_analysis() -> Analysis {
    Analyzer::new()
        .analyze("Mail jane@example.com please", &Options::default())
        .expect("analysis")
}

/// One request the operator is expected to send, and the answer it gets.
pub struct Exchange {
    method: Method,
    path: String,
    status: StatusCode,
    reply: Value,
}

impl Exchange {
    /// Expects `method` on a path starting with `path`; answers 200 with `reply`.
    pub fn new(method: Method, path: &str, reply: Value) -> Self {
        Exchange {
            method,
            path: path.into(),
            status: StatusCode::OK,
            reply,
        }
    }

    /// Answers with `status` instead of 200.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

/// A Kubernetes `Status` error body.
pub fn api_error(code: u16, reason: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": reason, "reason": reason, "code": code})
}

/// The mocked API: hands out a client and checks the requests it receives.
pub struct ApiServerVerifier(tower_test::mock::Handle<Request<Body>, Response<Body>>);

/// A client whose requests go to the returned verifier.
pub fn mock_client() -> (Client, ApiServerVerifier) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, "default"), ApiServerVerifier(handle))
}

impl ApiServerVerifier {
    /// Serves `exchanges` in order, returning the JSON body of each request; panics on any
    /// request that does not match. Event creations are answered and recorded but not matched.
    pub fn run(mut self, exchanges: Vec<Exchange>) -> tokio::task::JoinHandle<Recorded> {
        tokio::spawn(async move {
            let mut recorded = Recorded::default();
            for expected in exchanges {
                let (method, path, body, send) = loop {
                    let (request, send) =
                        tokio::time::timeout(Duration::from_secs(10), self.0.next_request())
                            .await
                            .unwrap_or_else(|_| {
                                panic!(
                                    "no request came; expected {} {}",
                                    expected.method, expected.path
                                )
                            })
                            .expect("the service is alive");
                    let method = request.method().clone();
                    let path = request.uri().to_string();
                    let bytes = request
                        .into_body()
                        .collect_bytes()
                        .await
                        .expect("request body");
                    let body: Value = if bytes.is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_slice(&bytes).expect("JSON body")
                    };
                    if path.starts_with("/apis/events.k8s.io/v1/") {
                        send.send_response(
                            Response::builder()
                                .status(201)
                                .body(Body::from(bytes.to_vec()))
                                .unwrap(),
                        );
                        recorded.events.push(body);
                        continue;
                    }
                    break (method, path, body, send);
                };
                assert_eq!(
                    (&method, path.starts_with(&expected.path)),
                    (&expected.method, true),
                    "unexpected request {method} {path}"
                );
                let reply = serde_json::to_vec(&expected.reply).unwrap();
                send.send_response(
                    Response::builder()
                        .status(expected.status)
                        .body(Body::from(reply))
                        .unwrap(),
                );
                recorded.requests.push((method, path, body));
            }
            // Events sent after the last expected request.
            while let Ok(Some((request, send))) =
                tokio::time::timeout(Duration::from_millis(200), self.0.next_request()).await
            {
                let path = request.uri().to_string();
                assert!(
                    path.starts_with("/apis/events.k8s.io/v1/"),
                    "unexpected extra request {path}"
                );
                let bytes = request
                    .into_body()
                    .collect_bytes()
                    .await
                    .expect("request body");
                recorded
                    .events
                    .push(serde_json::from_slice(&bytes).expect("JSON event"));
                send.send_response(
                    Response::builder()
                        .status(201)
                        .body(Body::from(bytes.to_vec()))
                        .unwrap(),
                );
            }
            recorded
        })
    }
}

/// What the mocked API received.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Method, path and JSON body of each matched request, in order.
    pub requests: Vec<(Method, String, Value)>,
    /// Bodies of the Events created.
    pub events: Vec<Value>,
}

impl Recorded {
    /// The reasons of the Events created, in order.
    pub fn event_reasons(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}
