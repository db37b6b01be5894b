//! The whole pipeline as users run it, every part a real process: a REST submission to the api
//! becomes an AnalysisTask, the operator analyses it, the agent delivers the signed webhook, and
//! the 202's task id is the webhook's `task.id` and resolves in GET at every stage.

use std::time::Duration;

use guardrails_agent::{SigningSecret, Verifier};
use guardrails_e2e::kit::{
    BinarySpec, Probe, RunningBinary, TestCluster, WebhookReceiver, free_local_addr, wait_for,
};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(60);
const API_KEY: &str = "pipeline-api-key";
const SIGNING_SECRET: &str = "pipeline-signing-secret";
const SSN: &str = "536-22-1234";

fn binary(cluster: &TestCluster, name: &str) -> BinarySpec {
    BinarySpec::new(name, name)
        .kubeconfig(cluster.kubeconfig_path())
        .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true")
        .env("RUST_LOG", "info")
}

async fn get_task(http: &reqwest::Client, base: &str, task_id: &str) -> (u16, Value) {
    let response = http
        .get(format!("{base}/api/v1/tasks/{task_id}"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_rest_submission_is_analysed_and_delivered_as_a_signed_webhook_with_the_same_task_id() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let api_addr = free_local_addr().unwrap();
    let api = RunningBinary::start(
        binary(&cluster, "guardrails-api")
            .args(["--listen", &api_addr.to_string()])
            .args(["--namespace", cluster.namespace()])
            .env("API_KEYS", API_KEY),
    )
    .await
    .unwrap();
    let base = format!("http://{api_addr}");
    let http = reqwest::Client::new();
    wait_for("the api to be ready", DEADLINE, &[&api], || async {
        match http.get(format!("{base}/readyz")).send().await {
            Ok(r) if r.status() == 200 => Probe::Ready(()),
            Ok(r) => Probe::Pending(format!("readyz answered {}", r.status())),
            Err(e) => Probe::Pending(e.to_string()),
        }
    })
    .await
    .unwrap();

    let submitted = http
        .post(format!("{base}/api/v1/analyze/async"))
        .bearer_auth(API_KEY)
        .json(&json!({
            "text": format!("Patient Jane Doe, SSN {SSN}, card 4111 1111 1111 1111."),
            "frameworks": ["HIPAA", "PCI_DSS"],
            "webhook_url": receiver.url(),
            "sign_payload": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 202);
    let task_id = submitted.json::<Value>().await.unwrap()["task_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, pending) = get_task(&http, &base, &task_id).await;
    assert_eq!((status, pending["status"].as_str()), (200, Some("PENDING")));

    let operator_addr = free_local_addr().unwrap().to_string();
    let agent_addr = free_local_addr().unwrap().to_string();
    let operator = RunningBinary::start(binary(&cluster, "guardrails-operator").args([
        "--namespace",
        cluster.namespace(),
        "--listen",
        &operator_addr,
    ]))
    .await
    .unwrap();
    let agent = RunningBinary::start(
        binary(&cluster, "guardrails-agent")
            .args(["run", "--namespace", cluster.namespace()])
            .env("GUARDRAILS_AGENT_LISTEN", &agent_addr)
            .env("WEBHOOK_SIGNING_SECRET", SIGNING_SECRET),
    )
    .await
    .unwrap();

    let received = receiver.wait_for_requests(1, DEADLINE).await.unwrap();
    let webhook = &received[0];
    let payload = webhook.json().unwrap();
    assert_eq!(payload["event_type"], "task.completed");
    assert_eq!(payload["task"]["id"], task_id.as_str());
    assert_eq!(payload["task"]["status"], "SUCCESS");
    let entities = payload["result"]["pii"]["entities"].as_array().unwrap();
    assert!(
        entities
            .iter()
            .any(|e| e["type"] == "US_SSN" && e["value"] == SSN),
        "the webhook carries the values from the result Secret: {entities:?}"
    );
    assert_eq!(payload["result"]["compliance"]["compliant"], false);

    let verifier = Verifier::new(vec![SigningSecret::new(SIGNING_SECRET).unwrap()]);
    let now = jiff::Timestamp::now();
    let mut headers = webhook.header_map();
    verifier
        .verify(&headers, &webhook.body, now)
        .expect("the Standard Webhooks signature verifies");
    headers.remove("webhook-signature");
    verifier
        .verify(&headers, &webhook.body, now)
        .expect("X-Guardrails-Signature verifies");

    let view = wait_for(
        "GET to show the delivered task",
        DEADLINE,
        &[&api, &operator, &agent],
        || async {
            let (status, view) = get_task(&http, &base, &task_id).await;
            if status == 200
                && view["status"] == "SUCCESS"
                && view["webhook"]["status"] == "Succeeded"
            {
                Probe::Ready(view)
            } else {
                Probe::Pending(format!("{status} {view}"))
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(view["task_id"], task_id.as_str());
    assert!(
        view["result"]["pii"]["detected"].as_u64().unwrap() >= 2,
        "{view}"
    );
    assert_eq!(view["webhook"]["attempts"][0]["outcome"], "succeeded");
    for process in [&api, &operator, &agent] {
        assert!(
            !process.logs().contains(SSN),
            "a process logged the submitted SSN:\n{}",
            process.logs_section()
        );
    }
    cluster.cleanup().await.unwrap();
}
