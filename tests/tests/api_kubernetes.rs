//! `guardrails-api` in Kubernetes mode against the test server: a REST submission becomes an
//! AnalysisTask whose text sits in a Secret the task owns, its id resolves in GET at every
//! stage, and a half-made submission leaves nothing behind.
//!
//! The operator and the agent are simulated here by patching status as they would, so each stage
//! can be held still; `pipeline.rs` runs the chain through the real operator and agent binaries.

use std::time::Duration;

use base64::Engine;
use guardrails_e2e::apiserver::faults::Fault;
use guardrails_e2e::kit::{
    BinarySpec, Probe, RunningBinary, TestCluster, free_local_addr, wait_for,
};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);
const KEY: &str = "e2e-api-key";
const TEXT: &str = "Patient Jane Doe, SSN 536-22-1234, mail jane@example.com";

/// The api binary on a free port, pointed at the cluster, ready.
struct RestApi {
    process: RunningBinary,
    base: String,
    http: reqwest::Client,
}

async fn start_api(cluster: &TestCluster) -> RestApi {
    let addr = free_local_addr().unwrap();
    let spec: BinarySpec = cluster
        .binary("guardrails-api", "guardrails-api")
        .args([
            "--listen",
            &addr.to_string(),
            "--namespace",
            cluster.namespace(),
        ])
        .env("API_KEYS", KEY)
        .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true")
        .env("RUST_LOG", "info");
    let process = RunningBinary::start(spec).await.unwrap();
    let api = RestApi {
        process,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
    };
    wait_for("the api to be ready", DEADLINE, &[&api.process], || async {
        match api.http.get(format!("{}/readyz", api.base)).send().await {
            Ok(r) if r.status() == 200 => Probe::Ready(()),
            Ok(r) => Probe::Pending(format!("readyz answered {}", r.status())),
            Err(e) => Probe::Pending(e.to_string()),
        }
    })
    .await
    .unwrap();
    api
}

impl RestApi {
    async fn submit(&self, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/analyze/async", self.base))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn task(&self, task_id: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/api/v1/tasks/{task_id}", self.base))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn wait_for_status(&self, task_id: &str, expect: impl Fn(&Value) -> bool) -> Value {
        wait_for(
            "the task to reach the expected state in GET",
            DEADLINE,
            &[&self.process],
            || async {
                let (status, view) = self.task(task_id).await;
                if status == 200 && expect(&view) {
                    Probe::Ready(view)
                } else {
                    Probe::Pending(format!("{status} {view}"))
                }
            },
        )
        .await
        .unwrap()
    }
}

async fn tasks(cluster: &TestCluster) -> Api<DynamicObject> {
    cluster
        .api_for("guardrails.io", "v1alpha1", "AnalysisTask")
        .await
        .unwrap()
}

#[tokio::test]
async fn a_rest_submission_becomes_a_task_with_its_text_in_an_owned_secret_and_resolves_at_every_stage()
 {
    let cluster = TestCluster::start().await.unwrap();
    let api = start_api(&cluster).await;
    let (status, submitted) = api
        .submit(
            json!({"text": TEXT, "frameworks": ["HIPAA"], "include_redaction": true,
            "webhook_url": "http://127.0.0.1:9/hook", "sign_payload": true}),
        )
        .await;
    assert_eq!(status, 202, "{submitted}");
    let task_id = submitted["task_id"].as_str().unwrap().to_owned();

    // Read-your-writes: GET right after the 202.
    let (status, view) = api.task(&task_id).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "PENDING");
    assert_eq!(view["webhook"]["status"], "Pending");

    let task_api = tasks(&cluster).await;
    let list = task_api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let task = &list.items[0];
    assert_eq!(
        task.metadata.uid.as_deref(),
        Some(task_id.as_str()),
        "task_id is the uid"
    );
    assert!(
        !serde_json::to_string(task).unwrap().contains("536-22-1234"),
        "no text in the CR"
    );
    assert_eq!(task.data["spec"]["frameworks"], json!(["HIPAA"]));
    assert_eq!(
        task.data["spec"]["webhook"],
        json!({"url": "http://127.0.0.1:9/hook", "signPayload": true})
    );
    let secret_ref = &task.data["spec"]["textFrom"]["secretKeyRef"];
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), cluster.namespace());
    let secret = secrets
        .get(secret_ref["name"].as_str().unwrap())
        .await
        .unwrap();
    let owner = &secret.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("AnalysisTask", task_id.as_str())
    );
    let key = secret_ref["key"].as_str().unwrap();
    assert_eq!(secret.data.as_ref().unwrap()[key].0, TEXT.as_bytes());

    // The operator starts the analysis.
    let name = task.metadata.name.clone().unwrap();
    let params = PatchParams::default();
    task_api
        .patch_status(
            &name,
            &params,
            &Patch::Merge(
                json!({"status": {"phase": "Running", "startedAt": "2026-03-01T12:00:00Z"}}),
            ),
        )
        .await
        .unwrap();
    api.wait_for_status(&task_id, |v| v["status"] == "STARTED")
        .await;

    // The operator finishes: summary in status, full result in a Secret owned by the task.
    let result = json!({"status": "success", "pii": {"detected": 1, "entities": [{"type": "US_SSN", "value": "536-22-1234",
        "position": {"start": 22, "end": 33}, "confidence": 0.95}]},
        "compliance": {"compliant": false, "violations": 1, "frameworks": ["HIPAA"], "details": []},
        "risk": {"overall_score": 0.8, "overall_level": "critical", "recommendations": []}});
    let result_secret: Secret = serde_json::from_value(json!({"metadata": {"name": format!("{name}-result")},
        "data": {"result.json": base64::engine::general_purpose::STANDARD.encode(result.to_string())}})).unwrap();
    secrets
        .create(&PostParams::default(), &result_secret)
        .await
        .unwrap();
    task_api
        .patch_status(&name, &params, &Patch::Merge(json!({"status": {"phase": "Succeeded",
            "completedAt": "2026-03-01T12:00:01Z", "resultSecretRef": {"name": format!("{name}-result")}}})))
        .await
        .unwrap();
    let view = api
        .wait_for_status(&task_id, |v| v["status"] == "SUCCESS")
        .await;
    assert_eq!(view["result"], result);
    assert_eq!(view["completed_at"], "2026-03-01T12:00:01.000000Z");

    // The agent records a failed then a successful attempt.
    task_api
        .patch_status(&name, &params, &Patch::Merge(json!({"status": {"delivery": {"phase": "Succeeded", "eventId": "evt-1",
            "attempts": [
                {"number": 1, "startedAt": "2026-03-01T12:00:02Z", "durationMs": 5, "outcome": "http_error", "httpStatus": 503},
                {"number": 2, "startedAt": "2026-03-01T12:00:03Z", "durationMs": 4, "outcome": "succeeded", "httpStatus": 200}]}}})))
        .await
        .unwrap();
    let view = api
        .wait_for_status(&task_id, |v| v["webhook"]["status"] == "Succeeded")
        .await;
    let attempts = view["webhook"]["attempts"].as_array().unwrap();
    assert_eq!(
        (
            attempts[0]["http_status"].clone(),
            attempts[1]["outcome"].clone()
        ),
        (json!(503), json!("succeeded"))
    );
    assert!(
        !api.process.logs().contains("536-22-1234"),
        "no text in the logs"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_task_created_with_kubectl_resolves_by_uid_and_unknown_ids_are_404() {
    let cluster = TestCluster::start().await.unwrap();
    let api = start_api(&cluster).await;
    let created = tasks(&cluster)
        .await
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
            "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask",
            "metadata": {"name": "from-kubectl"}, "spec": {"text": "hello"}}))
            .unwrap(),
        )
        .await
        .unwrap();
    let uid = created.metadata.uid.unwrap();
    let view = api
        .wait_for_status(&uid, |v| v["status"] == "PENDING")
        .await;
    assert!(view.get("webhook").is_none());
    let (status, problem) = api.task("00000000-0000-0000-0000-000000000000").await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "task_not_found");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_secret_that_cannot_be_created_leaves_no_task_behind() {
    let cluster = TestCluster::start().await.unwrap();
    let Some(server) = cluster.needs_test_server("inject faults") else {
        return;
    };
    let api = start_api(&cluster).await;
    server.inject(
        Fault::respond(500)
            .on_method("POST")
            .on_path_containing("/secrets")
            .times(1),
    );
    let (status, problem) = api.submit(json!({"text": TEXT})).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["code"], "unavailable");
    assert!(!problem.to_string().contains("536-22"));
    let task_api = tasks(&cluster).await;
    wait_for(
        "the half-made task to be deleted",
        DEADLINE,
        &[&api.process],
        || async {
            let left = task_api
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len();
            if left == 0 {
                Probe::Ready(())
            } else {
                Probe::Pending(format!("{left} task(s) left"))
            }
        },
    )
    .await
    .unwrap();
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), cluster.namespace());
    assert!(
        secrets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // The next submission works again.
    let (status, _) = api.submit(json!({"text": TEXT})).await;
    assert_eq!(status, 202);
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn kubernetes_refusing_the_task_is_503_and_creates_nothing() {
    let cluster = TestCluster::start().await.unwrap();
    let Some(server) = cluster.needs_test_server("inject faults") else {
        return;
    };
    let api = start_api(&cluster).await;
    server.inject(
        Fault::respond(503)
            .on_method("POST")
            .on_path_containing("/analysistasks")
            .times(1),
    );
    let (status, problem) = api.submit(json!({"text": TEXT})).await;
    assert_eq!(status, 503, "{problem}");
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), cluster.namespace());
    assert!(
        secrets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        tasks(&cluster)
            .await
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_disallowed_webhook_is_422_before_anything_is_created() {
    let cluster = TestCluster::start().await.unwrap();
    let api = start_api(&cluster).await;
    let endpoint: DynamicObject = serde_json::from_value(json!({"apiVersion": "guardrails.io/v1alpha1",
        "kind": "WebhookEndpoint", "metadata": {"name": "partner"}, "spec": {"domains": ["partner.io"]}})).unwrap();
    cluster
        .api_for("guardrails.io", "v1alpha1", "WebhookEndpoint")
        .await
        .unwrap()
        .create(&PostParams::default(), &endpoint)
        .await
        .unwrap();
    // The endpoint's domains now form the allowlist: other hosts are refused once the api sees it.
    wait_for(
        "the endpoint to restrict the allowlist",
        DEADLINE,
        &[&api.process],
        || async {
            let (status, body) = api
                .submit(json!({"text": "hi", "webhook_url": "https://evil.example/hook"}))
                .await;
            if status == 422 {
                Probe::Ready(body)
            } else {
                Probe::Pending(format!("{status} {body}"))
            }
        },
    )
    .await
    .unwrap();
    let created_before = tasks(&cluster)
        .await
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    let (status, body) = api
        .submit(json!({"text": "hi", "webhook_url": "https://allowed.com@evil.example/"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_webhook_url"))
    );
    let after = tasks(&cluster)
        .await
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(
        after, created_before,
        "nothing is created on a refused webhook"
    );
    cluster.cleanup().await.unwrap();
}
