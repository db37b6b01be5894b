//! The real `guardrails-agent run` sidecar against the test API server (or `E2E_KUBECONFIG`):
//! finished tasks get their webhook, every attempt is in `status.delivery`, a restart resumes.
//!
//! The tests finish tasks themselves through the API exactly as the operator does (result Secret
//! `<task>-result` with `result.json`, then the status under the field manager
//! `guardrails-operator`), so that their timing is under control; none runs the operator binary.

use std::collections::BTreeMap;
use std::time::Duration;

use guardrails_crds::delivery::{AttemptOutcome, DeliveryPhase};
use guardrails_crds::{AnalysisTask, WebhookEndpoint};
use guardrails_e2e::kit::{
    BinarySpec, ReceivedRequest, RedisServer, Reply, RunningBinary, TestCluster, WebhookReceiver,
    apply_status_as_operator, free_local_addr, wait_for_object,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(60);

/// An e-mail address that must reach the receiver and never the agent's logs.
const PII: &str = "jane.doe@example.com";

/// The agent scoped to the test namespace, allowed to reach loopback receivers, debug logs on.
fn agent(cluster: &TestCluster, env: &[(&str, &str)]) -> BinarySpec {
    let mut spec = BinarySpec::new("guardrails-agent", "guardrails-agent")
        .kubeconfig(cluster.kubeconfig_path())
        .args(["run", "--namespace", cluster.namespace()])
        // NB: a later `.env` of the same variable wins (see the metrics test).
        .env(
            "GUARDRAILS_AGENT_LISTEN",
            free_local_addr().unwrap().to_string(),
        )
        .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true")
        // NB: without a rate limit this Redis is never asked; the fail-open test relies on it being closed.
        .env("REDIS_URL", "redis://127.0.0.1:1/0")
        .env(
            "RUST_LOG",
            "debug,hyper=info,kube=info,tower=info,h2=info,rustls=info",
        );
    for (key, value) in env {
        spec = spec.env(key, *value);
    }
    spec
}

fn tasks(cluster: &TestCluster) -> Api<AnalysisTask> {
    Api::namespaced(cluster.client(), cluster.namespace())
}

async fn create_task(cluster: &TestCluster, name: &str, webhook: Option<Value>) -> AnalysisTask {
    let mut spec = json!({"text": format!("mail {PII}")});
    if let Some(webhook) = webhook {
        spec["webhook"] = webhook;
    }
    let task: AnalysisTask = serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask",
        "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap();
    tasks(cluster)
        .create(&PostParams::default(), &task)
        .await
        .unwrap()
}

/// The full result the operator would store for the text of [`create_task`].
fn full_result() -> Value {
    json!({"status": "success", "pii": {"detected": 1, "entities": [
        {"type": "EMAIL_ADDRESS", "value": PII, "position": {"start": 5, "end": 25}, "confidence": 1.0}]}})
}

/// Finishes `name` as the operator does: result Secret first, then the status.
async fn finish_as_operator(cluster: &TestCluster, name: &str, error: Option<&str>) {
    let now = jiff::Timestamp::now().to_string();
    let mut status = json!({"phase": "Succeeded", "completedAt": now, "startedAt": now,
        "conditions": [{"type": "Analyzed", "status": "True", "reason": "Succeeded", "message": "done",
            "lastTransitionTime": now}]});
    match error {
        Some(error) => {
            status["phase"] = json!("Failed");
            status["error"] = json!(error);
            status["conditions"][0]["status"] = json!("False");
            status["conditions"][0]["reason"] = json!("AnalysisFailed");
        }
        None => {
            let mut secret = Secret::default();
            secret.metadata.name = Some(format!("{name}-result"));
            secret.data = Some(BTreeMap::from([(
                "result.json".to_owned(),
                ByteString(serde_json::to_vec(&full_result()).unwrap()),
            )]));
            Api::<Secret>::namespaced(cluster.client(), cluster.namespace())
                .create(&PostParams::default(), &secret)
                .await
                .unwrap();
            status["resultSecretRef"] = json!({"name": format!("{name}-result")});
        }
    }
    apply_status_as_operator(&tasks(cluster), name, status).await;
}

fn delivery_phase(task: &AnalysisTask) -> Option<DeliveryPhase> {
    task.delivery_phase()
}

async fn wait_delivery(
    cluster: &TestCluster,
    name: &str,
    phase: DeliveryPhase,
    procs: &[&RunningBinary],
) -> AnalysisTask {
    wait_for_object(
        &tasks(cluster),
        name,
        &format!("delivery {phase:?}"),
        DEADLINE,
        procs,
        |t| delivery_phase(t) == Some(phase),
    )
    .await
    .unwrap()
}

/// Waits until the task's `status.delivery` holds an attempt with `outcome`.
async fn wait_attempt(
    cluster: &TestCluster,
    name: &str,
    outcome: AttemptOutcome,
    procs: &[&RunningBinary],
) -> AnalysisTask {
    wait_for_object(
        &tasks(cluster),
        name,
        &format!("an attempt {outcome:?}"),
        DEADLINE,
        procs,
        |t| delivery_of(t).attempts.iter().any(|a| a.outcome == outcome),
    )
    .await
    .unwrap()
}

async fn create_secret(cluster: &TestCluster, name: &str, key: &str, value: &str) {
    let mut secret = Secret::default();
    secret.metadata.name = Some(name.into());
    secret.data = Some(BTreeMap::from([(
        key.to_owned(),
        ByteString(value.as_bytes().to_vec()),
    )]));
    Api::<Secret>::namespaced(cluster.client(), cluster.namespace())
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
}

async fn create_endpoint(cluster: &TestCluster, name: &str, spec: Value) {
    let endpoint: WebhookEndpoint = serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "WebhookEndpoint",
        "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap();
    Api::<WebhookEndpoint>::namespaced(cluster.client(), cluster.namespace())
        .create(&PostParams::default(), &endpoint)
        .await
        .unwrap();
}

/// The signatures an independent implementation (Python's `hmac`) computes for `request`:
/// `sha256=<hex>` over the body, and `v1,<base64>` over `{id}.{timestamp}.{body}`.
fn python_signatures(request: &ReceivedRequest, secret: &str) -> (String, String) {
    let python = std::env::var("GUARDRAILS_PYTHON").unwrap_or_else(|_| "python3".into());
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, &request.body).unwrap();
    let script = r#"
import base64, hashlib, hmac, sys
secret, msg_id, ts, path = sys.argv[1:5]
body = open(path, 'rb').read()
key = base64.b64decode(secret[6:]) if secret.startswith('whsec_') else secret.encode()
print('sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
signed = msg_id.encode() + b'.' + ts.encode() + b'.' + body
print('v1,' + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode())
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, secret])
        .arg(request.header("webhook-id").expect("webhook-id"))
        .arg(
            request
                .header("webhook-timestamp")
                .expect("webhook-timestamp"),
        )
        .arg(&body)
        .output()
        .unwrap_or_else(|e| panic!("{python} is needed to verify signatures independently: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    (
        lines.next().unwrap().to_owned(),
        lines.next().unwrap().to_owned(),
    )
}

fn assert_signed_with(request: &ReceivedRequest, secret: &str) {
    let (guardrails, standard) = python_signatures(request, secret);
    assert_eq!(
        request.header("x-guardrails-signature"),
        Some(guardrails.as_str())
    );
    let signatures: Vec<&str> = request
        .header("webhook-signature")
        .unwrap()
        .split(' ')
        .collect();
    assert!(
        signatures.contains(&standard.as_str()),
        "{signatures:?} lacks {standard}"
    );
}

fn outcomes(task: &AnalysisTask) -> Vec<(AttemptOutcome, Option<i32>)> {
    task.status
        .as_ref()
        .unwrap()
        .delivery
        .as_ref()
        .unwrap()
        .attempts
        .iter()
        .map(|a| (a.outcome, a.http_status))
        .collect()
}

#[tokio::test]
async fn finished_tasks_get_signed_webhooks_and_tasks_without_one_are_not_requested() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let agent = RunningBinary::start(agent(
        &cluster,
        &[("WEBHOOK_SIGNING_SECRET", "server-secret")],
    ))
    .await
    .unwrap();
    let hook = json!({"url": format!("{}/hooks/done", receiver.url()), "signPayload": true});
    let ok = create_task(&cluster, "ok", Some(hook.clone())).await;
    let bad = create_task(&cluster, "bad", Some(hook)).await;
    create_task(&cluster, "quiet", None).await;
    finish_as_operator(&cluster, "ok", None).await;
    finish_as_operator(&cluster, "bad", Some("the text Secret `s` does not exist")).await;
    finish_as_operator(&cluster, "quiet", None).await;

    let done = wait_delivery(&cluster, "ok", DeliveryPhase::Succeeded, &[&agent]).await;
    // NB: a failed analysis is still a delivered webhook (a `task.failed` event).
    wait_delivery(&cluster, "bad", DeliveryPhase::Succeeded, &[&agent]).await;
    wait_delivery(&cluster, "quiet", DeliveryPhase::NotRequested, &[&agent]).await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "one webhook per task with a webhook");
    let by_task = |uid: &str| {
        requests
            .iter()
            .find(|r| r.json().unwrap()["task"]["id"] == uid)
            .cloned()
            .unwrap()
    };
    let completed = by_task(ok.metadata.uid.as_deref().unwrap());
    let payload = completed.json().unwrap();
    assert_eq!(payload["event_type"], "task.completed");
    // NB: the confidence `1.0` arrives as `1`: integral numbers are written as integers.
    let mut expected = full_result();
    expected["pii"]["entities"][0]["confidence"] = json!(1);
    assert_eq!(
        payload["result"], expected,
        "values come from the result Secret"
    );
    let base_path = url::Url::parse(&receiver.url()).unwrap().path().to_owned();
    assert_eq!(completed.path, format!("{base_path}/hooks/done"));
    assert_signed_with(&completed, "server-secret");
    let delivery = done.status.as_ref().unwrap().delivery.clone().unwrap();
    assert_eq!(
        completed.header("x-guardrails-delivery"),
        delivery.event_id.as_deref()
    );
    assert!(delivery.delivered_at.is_some());
    assert_eq!(outcomes(&done), [(AttemptOutcome::Succeeded, Some(200))]);
    let conditions: Vec<_> = done
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .map(|c| (c.type_.as_str(), c.status.as_str()))
        .collect();
    assert!(
        conditions.contains(&("Analyzed", "True")),
        "the operator's condition is kept: {conditions:?}"
    );
    assert!(
        conditions.contains(&("Delivered", "True")),
        "{conditions:?}"
    );

    let failure = by_task(bad.metadata.uid.as_deref().unwrap());
    assert_eq!(failure.json().unwrap()["event_type"], "task.failed");
    assert_eq!(
        failure.json().unwrap()["error"],
        "the text Secret `s` does not exist"
    );
    assert_signed_with(&failure, "server-secret");
    assert!(
        !agent.logs().contains(PII),
        "the agent's debug logs hold the PII"
    );
    assert!(
        !agent.logs().contains("server-secret"),
        "the agent's logs hold the secret"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn retries_are_recorded_in_status_and_a_client_error_fails_at_once() {
    let cluster = TestCluster::start().await.unwrap();
    let flaky = WebhookReceiver::start([Reply::Status(500), Reply::Status(500)])
        .await
        .unwrap();
    let refusing = WebhookReceiver::start([Reply::Status(400)]).await.unwrap();
    let agent = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    create_task(&cluster, "flaky", Some(json!({"url": flaky.url()}))).await;
    create_task(&cluster, "refused", Some(json!({"url": refusing.url()}))).await;
    finish_as_operator(&cluster, "flaky", None).await;
    finish_as_operator(&cluster, "refused", None).await;

    let flaky_task = wait_delivery(&cluster, "flaky", DeliveryPhase::Succeeded, &[&agent]).await;
    assert_eq!(
        outcomes(&flaky_task),
        [
            (AttemptOutcome::HttpError, Some(500)),
            (AttemptOutcome::HttpError, Some(500)),
            (AttemptOutcome::Succeeded, Some(200))
        ]
    );
    let attempts = &flaky_task
        .status
        .as_ref()
        .unwrap()
        .delivery
        .as_ref()
        .unwrap()
        .attempts;
    let numbers: Vec<_> = attempts.iter().map(|a| a.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(
        attempts
            .windows(2)
            .all(|w| w[0].started_at.0 < w[1].started_at.0),
        "attempts keep their order and gaps"
    );
    let ids: Vec<_> = flaky
        .requests()
        .iter()
        .map(|r| r.header("x-guardrails-delivery").map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.iter().all(|id| id == &ids[0]),
        "every retry carries the same event id"
    );

    let refused = wait_delivery(&cluster, "refused", DeliveryPhase::Failed, &[&agent]).await;
    assert_eq!(outcomes(&refused), [(AttemptOutcome::HttpError, Some(400))]);
    assert_eq!(refusing.requests().len(), 1);
    let events = wait_for_object_events(&cluster, &agent, &[("refused", "DeliveryFailed")]).await;
    assert!(
        events.iter().all(|(_, note)| !note.contains(PII)),
        "{events:?}"
    );
    assert!(
        events.iter().all(|(reason, _)| reason == "DeliveryFailed"),
        "a success publishes no Event: {events:?}"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_webhook_endpoint_allowlist_rejects_other_hosts_without_sending() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    create_endpoint(&cluster, "partner", json!({"domains": ["partner.example"]})).await;
    let agent = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    create_task(&cluster, "elsewhere", Some(json!({"url": receiver.url()}))).await;
    finish_as_operator(&cluster, "elsewhere", None).await;
    let task = wait_delivery(&cluster, "elsewhere", DeliveryPhase::Rejected, &[&agent]).await;
    let delivery = task.status.unwrap().delivery.unwrap();
    assert!(delivery.message.unwrap().contains("allowlist"));
    assert!(receiver.requests().is_empty(), "nothing was sent");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_killed_agent_resumes_the_delivery_with_the_same_event_id() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([Reply::Status(503)]).await.unwrap();
    // One fast attempt, then a long-term retry 3 s later: the backoff the agent is killed in.
    create_endpoint(
        &cluster,
        "local",
        json!({"domains": ["127.0.0.1"], "maxAttempts": 1, "retrySchedule": ["3s"]}),
    )
    .await;
    let mut first = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    create_task(&cluster, "resumed", Some(json!({"url": receiver.url()}))).await;
    finish_as_operator(&cluster, "resumed", None).await;
    let waiting = wait_for_object(
        &tasks(&cluster),
        "resumed",
        "a scheduled retry",
        DEADLINE,
        &[&first],
        |t| {
            t.status
                .as_ref()
                .and_then(|s| s.delivery.as_ref())
                .is_some_and(|d| d.next_attempt_at.is_some())
        },
    )
    .await
    .unwrap();
    let scheduled = waiting.status.unwrap().delivery.unwrap();
    first.kill().await.unwrap();

    let second = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    let done = wait_delivery(&cluster, "resumed", DeliveryPhase::Succeeded, &[&second]).await;
    assert_eq!(
        outcomes(&done),
        [
            (AttemptOutcome::HttpError, Some(503)),
            (AttemptOutcome::Succeeded, Some(200))
        ]
    );
    let delivery = done.status.unwrap().delivery.unwrap();
    assert_eq!(delivery.event_id, scheduled.event_id);
    assert!(
        delivery.attempts[1].started_at.0 >= scheduled.next_attempt_at.unwrap().0,
        "the schedule was kept"
    );
    let ids: Vec<_> = receiver
        .requests()
        .iter()
        .map(|r| r.header("x-guardrails-delivery").unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        [
            scheduled.event_id.clone().unwrap(),
            scheduled.event_id.unwrap()
        ]
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_attempt_cut_by_a_kill_is_repeated_with_the_same_event_id() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([Reply::Hang]).await.unwrap();
    create_endpoint(
        &cluster,
        "local",
        json!({"domains": ["127.0.0.1"], "timeoutSeconds": 10}),
    )
    .await;
    let mut first = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    create_task(&cluster, "cut", Some(json!({"url": receiver.url()}))).await;
    finish_as_operator(&cluster, "cut", None).await;
    receiver.wait_for_requests(1, DEADLINE).await.unwrap();
    first.kill().await.unwrap();
    let cut = tasks(&cluster).get("cut").await.unwrap();
    assert!(
        cut.status.unwrap().delivery.is_none(),
        "nothing is written before an attempt ends"
    );

    let second = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    let done = wait_delivery(&cluster, "cut", DeliveryPhase::Succeeded, &[&second]).await;
    assert_eq!(
        outcomes(&done),
        [(AttemptOutcome::Succeeded, Some(200))],
        "the cut attempt is not recorded; it was repeated"
    );
    let ids: Vec<_> = receiver
        .requests()
        .iter()
        .map(|r| r.header("x-guardrails-delivery").map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        ids.iter().all(|id| *id == delivery_of(&done).event_id),
        "{ids:?}"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_redeliver_annotation_starts_a_new_round_with_the_same_event_id() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([Reply::Status(410)]).await.unwrap();
    let agent = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    create_task(&cluster, "again", Some(json!({"url": receiver.url()}))).await;
    finish_as_operator(&cluster, "again", None).await;
    wait_delivery(&cluster, "again", DeliveryPhase::Failed, &[&agent]).await;
    let annotate = json!({"metadata": {"annotations": {"guardrails.io/redeliver": "first"}}});
    tasks(&cluster)
        .patch("again", &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .unwrap();
    let done = wait_delivery(&cluster, "again", DeliveryPhase::Succeeded, &[&agent]).await;
    let delivery = done.status.unwrap().delivery.unwrap();
    assert_eq!(delivery.round, Some(2));
    assert_eq!(delivery.redelivery_request.as_deref(), Some("first"));
    let rounds: Vec<_> = delivery
        .attempts
        .iter()
        .map(|a| (a.round, a.number, a.outcome))
        .collect();
    assert_eq!(
        rounds,
        [
            (Some(1), 1, AttemptOutcome::HttpError),
            (Some(2), 1, AttemptOutcome::Succeeded)
        ]
    );
    let ids: Vec<_> = receiver
        .requests()
        .iter()
        .map(|r| r.header("x-guardrails-delivery").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_rotated_endpoint_secret_signs_the_next_delivery_with_both_secrets() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    create_secret(&cluster, "hook-v1", "key", "first-secret").await;
    create_endpoint(
        &cluster,
        "local",
        json!({"domains": ["127.0.0.1"], "signingSecretRef": {"name": "hook-v1", "key": "key"}}),
    )
    .await;
    let agent = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    let hook = json!({"url": receiver.url(), "signPayload": true});
    create_task(&cluster, "before", Some(hook.clone())).await;
    finish_as_operator(&cluster, "before", None).await;
    wait_delivery(&cluster, "before", DeliveryPhase::Succeeded, &[&agent]).await;

    create_secret(&cluster, "hook-v2", "key", "whsec_c2Vjb25kLXNlY3JldA==").await;
    let rotate = json!({"spec": {"signingSecretRef": {"name": "hook-v2", "key": "key"},
        "previousSigningSecretRefs": [{"name": "hook-v1", "key": "key"}]}});
    Api::<WebhookEndpoint>::namespaced(cluster.client(), cluster.namespace())
        .patch("local", &PatchParams::default(), &Patch::Merge(&rotate))
        .await
        .unwrap();
    // NB: the agent learns of the rotation through its watch; give the event a moment to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    create_task(&cluster, "after", Some(hook)).await;
    finish_as_operator(&cluster, "after", None).await;
    wait_delivery(&cluster, "after", DeliveryPhase::Succeeded, &[&agent]).await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_signed_with(&requests[0], "first-secret");
    assert_eq!(
        requests[0]
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        1
    );
    assert_signed_with(&requests[1], "whsec_c2Vjb25kLXNlY3JldA==");
    assert_eq!(
        requests[1]
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        2,
        "both secrets sign during a rotation"
    );
    let (_, old_standard) = python_signatures(&requests[1], "first-secret");
    assert!(
        requests[1]
            .header("webhook-signature")
            .unwrap()
            .contains(&old_standard)
    );

    let endpoint = wait_for_object(
        &Api::<WebhookEndpoint>::namespaced(cluster.client(), cluster.namespace()),
        "local",
        "the endpoint counters",
        DEADLINE,
        &[&agent],
        |e| e.status.as_ref().is_some_and(|s| s.succeeded == 2),
    )
    .await
    .unwrap();
    let status = endpoint.status.unwrap();
    assert_eq!(status.last_delivery.unwrap().outcome, "succeeded");
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    );
    assert!(!agent.logs().contains("first-secret") && !agent.logs().contains("c2Vjb25kLXNlY3JldA"));
    cluster.cleanup().await.unwrap();
}

/// The text of the agent's `/metrics`, from the `--listen` address in its command line.
async fn metrics_text(listen: &str) -> String {
    reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of a metric line that starts with `name` (labels included).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn an_unreachable_redis_fails_open_and_is_counted_in_metrics() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let listen = free_local_addr().unwrap().to_string();
    // NB: REDIS_URL points at a closed port (see `agent`), so every rate-limit check fails open.
    let agent = RunningBinary::start(
        agent(&cluster, &[("WEBHOOK_RATE_LIMIT_PER_MINUTE", "1")])
            .env("GUARDRAILS_AGENT_LISTEN", listen.as_str()),
    )
    .await
    .unwrap();
    for name in ["one", "two"] {
        create_task(&cluster, name, Some(json!({"url": receiver.url()}))).await;
        finish_as_operator(&cluster, name, None).await;
    }
    for name in ["one", "two"] {
        wait_delivery(&cluster, name, DeliveryPhase::Succeeded, &[&agent]).await;
    }
    assert_eq!(
        receiver.requests().len(),
        2,
        "both sent although the limit is 1/min"
    );
    let health = reqwest::get(format!("http://{listen}/healthz"))
        .await
        .unwrap();
    assert!(health.status().is_success());
    let text = metrics_text(&listen).await;
    assert!(
        metric(&text, "guardrails_webhook_rate_limiter_fail_open_total") >= 2.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "guardrails_webhook_deliveries_total{outcome=\"succeeded\"}"
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "guardrails_webhook_completion_to_delivery_seconds_count"
        ),
        2.0,
        "{text}"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_rate_limited_delivery_is_deferred_to_the_next_window_and_delivered() {
    let cluster = TestCluster::start().await.unwrap();
    let redis = RedisServer::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    create_endpoint(
        &cluster,
        "local",
        json!({"domains": ["127.0.0.1"], "rateLimitPerMinute": 1}),
    )
    .await;
    let agent = RunningBinary::start(agent(&cluster, &[]).env("REDIS_URL", redis.url()))
        .await
        .unwrap();
    for name in ["first", "second"] {
        create_task(&cluster, name, Some(json!({"url": receiver.url()}))).await;
        finish_as_operator(&cluster, name, None).await;
    }
    let mut limited = 0;
    for name in ["first", "second"] {
        let task = wait_delivery(&cluster, name, DeliveryPhase::Succeeded, &[&agent]).await;
        limited += outcomes(&task)
            .iter()
            .filter(|(o, _)| *o == AttemptOutcome::RateLimited)
            .count();
    }
    // NB: two deliveries in one minute's window with a limit of 1: at least one waited (two if
    // the minute turned between them and the second window filled first).
    assert!(limited >= 1, "a delivery was deferred");
    assert_eq!(
        receiver.requests().len(),
        2,
        "every delivery arrived, none dropped"
    );
    let endpoint = wait_for_object(
        &Api::<WebhookEndpoint>::namespaced(cluster.client(), cluster.namespace()),
        "local",
        "the endpoint counters",
        DEADLINE,
        &[&agent],
        |e| e.status.as_ref().is_some_and(|s| s.succeeded == 2),
    )
    .await
    .unwrap();
    assert!(endpoint.status.unwrap().rate_limited >= 1);
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn with_leader_election_one_replica_delivers_and_the_other_takes_over() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let elected = |id: &str| {
        agent(&cluster, &[("POD_NAME", id)]).args([
            "--leader-election",
            "true",
            "--lease-name",
            "agent-lease",
            "--lease-namespace",
            cluster.namespace(),
            "--lease-duration-seconds",
            "3",
        ])
    };
    let first = RunningBinary::start(elected("replica-a")).await.unwrap();
    let second = RunningBinary::start(elected("replica-b")).await.unwrap();
    for name in ["t1", "t2", "t3"] {
        create_task(&cluster, name, Some(json!({"url": receiver.url()}))).await;
        finish_as_operator(&cluster, name, None).await;
    }
    for name in ["t1", "t2", "t3"] {
        wait_delivery(&cluster, name, DeliveryPhase::Succeeded, &[&first, &second]).await;
    }
    assert_eq!(receiver.requests().len(), 3, "no task was delivered twice");
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(cluster.client(), cluster.namespace());
    let holder = leases
        .get("agent-lease")
        .await
        .unwrap()
        .spec
        .unwrap()
        .holder_identity
        .unwrap();
    let mut replicas = [("replica-a", first), ("replica-b", second)];
    let leading = replicas
        .iter()
        .position(|(id, _)| *id == holder)
        .expect("a replica holds the Lease");
    let [(_, a), (_, b)] = &mut replicas;
    let (leader, follower) = if leading == 0 { (a, &*b) } else { (b, &*a) };
    leader.stop(Duration::from_secs(10)).await.unwrap();
    create_task(&cluster, "t4", Some(json!({"url": receiver.url()}))).await;
    finish_as_operator(&cluster, "t4", None).await;
    wait_delivery(&cluster, "t4", DeliveryPhase::Succeeded, &[follower]).await;
    assert_eq!(receiver.requests().len(), 4);
    cluster.cleanup().await.unwrap();
}

fn delivery_of(task: &AnalysisTask) -> guardrails_crds::delivery::DeliveryStatus {
    task.status
        .as_ref()
        .and_then(|s| s.delivery.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_suspended_endpoint_holds_the_delivery_as_a_suspended_attempt_until_lifted() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    create_endpoint(
        &cluster,
        "paused",
        json!({"domains": ["127.0.0.1"], "suspend": true}),
    )
    .await;
    let agent = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    create_task(&cluster, "held", Some(json!({"url": receiver.url()}))).await;
    finish_as_operator(&cluster, "held", None).await;
    let held = wait_attempt(&cluster, "held", AttemptOutcome::Suspended, &[&agent]).await;
    let delivery = delivery_of(&held);
    assert_eq!(delivery.phase, DeliveryPhase::Pending);
    assert_eq!(outcomes(&held), [(AttemptOutcome::Suspended, None)]);
    assert!(
        delivery.message.as_deref().unwrap().contains("`paused`"),
        "{delivery:?}"
    );
    assert!(
        receiver.requests().is_empty(),
        "nothing sent while suspended"
    );

    Api::<WebhookEndpoint>::namespaced(cluster.client(), cluster.namespace())
        .patch(
            "paused",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"suspend": false}})),
        )
        .await
        .unwrap();
    let done = wait_delivery(&cluster, "held", DeliveryPhase::Succeeded, &[&agent]).await;
    assert_eq!(
        outcomes(&done),
        [
            (AttemptOutcome::Suspended, None),
            (AttemptOutcome::Succeeded, Some(200))
        ],
        "one hold recorded however long it lasted, then the delivery"
    );
    assert_eq!(receiver.requests().len(), 1);
    cluster.cleanup().await.unwrap();
}

/// The `Ready` condition of the WebhookEndpoint `name`, once it is `(status, reason)`.
async fn wait_ready(
    cluster: &TestCluster,
    name: &str,
    status: &str,
    reason: &str,
    agent: &RunningBinary,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    let endpoint = wait_for_object(
        &Api::<WebhookEndpoint>::namespaced(cluster.client(), cluster.namespace()),
        name,
        &format!("Ready={status} ({reason})"),
        DEADLINE,
        &[agent],
        |e| {
            e.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == status && c.reason == reason)
            })
        },
    )
    .await
    .unwrap();
    endpoint
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
}

#[tokio::test]
async fn an_endpoint_is_ready_while_its_signing_secret_exists_without_any_delivery() {
    let cluster = TestCluster::start().await.unwrap();
    create_endpoint(
        &cluster,
        "partner",
        json!({"domains": ["partner.example"], "signingSecretRef": {"name": "partner-hmac", "key": "secret"}}),
    )
    .await;
    let agent = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    let missing = wait_ready(&cluster, "partner", "False", "SecretMissing", &agent).await;
    assert!(
        missing.message.contains("partner-hmac/secret"),
        "{missing:?}"
    );

    create_secret(&cluster, "partner-hmac", "secret", "hmac-value").await;
    wait_ready(&cluster, "partner", "True", "SecretsFound", &agent).await;

    Api::<Secret>::namespaced(cluster.client(), cluster.namespace())
        .delete("partner-hmac", &Default::default())
        .await
        .unwrap();
    wait_ready(&cluster, "partner", "False", "SecretMissing", &agent).await;
    assert!(!agent.logs().contains("hmac-value"));
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_retry_after_is_recorded_in_the_schedule_and_kept_by_a_restarted_agent() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([Reply::RetryAfter(503, 4)])
        .await
        .unwrap();
    let mut first = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    create_task(&cluster, "later", Some(json!({"url": receiver.url()}))).await;
    finish_as_operator(&cluster, "later", None).await;
    let waiting = wait_for_object(
        &tasks(&cluster),
        "later",
        "the first attempt ended with its retry scheduled",
        DEADLINE,
        &[&first],
        |t| {
            let d = delivery_of(t);
            d.next_attempt_at.is_some()
                && d.attempts
                    .first()
                    .is_some_and(|a| a.http_status == Some(503))
        },
    )
    .await
    .unwrap();
    first.kill().await.unwrap();
    let scheduled = delivery_of(&waiting);
    let attempt = &scheduled.attempts[0];
    assert!(
        attempt
            .error
            .as_deref()
            .unwrap()
            .contains("Retry-After: 4 s"),
        "{attempt:?}"
    );
    let ended =
        attempt.started_at.0 + jiff::SignedDuration::from_millis(attempt.duration_ms.unwrap());
    let next = scheduled.next_attempt_at.clone().unwrap().0;
    assert!(
        next.duration_since(ended) >= jiff::SignedDuration::from_secs(4),
        "the schedule honours Retry-After (4 s), not the 1 s backoff: ended {ended}, next {next}"
    );

    let second = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    let done = wait_delivery(&cluster, "later", DeliveryPhase::Succeeded, &[&second]).await;
    let delivery = delivery_of(&done);
    assert_eq!(
        outcomes(&done),
        [
            (AttemptOutcome::HttpError, Some(503)),
            (AttemptOutcome::Succeeded, Some(200))
        ]
    );
    assert!(
        delivery.attempts[1].started_at.0 >= next,
        "the restarted agent kept the recorded time"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_replica_that_loses_its_lease_cuts_the_attempt_in_flight_unrecorded_and_exits_non_zero() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([Reply::Hang]).await.unwrap();
    create_endpoint(
        &cluster,
        "slow",
        json!({"domains": ["127.0.0.1"], "timeoutSeconds": 60}),
    )
    .await;
    let mut leader = RunningBinary::start(agent(&cluster, &[("POD_NAME", "replica-a")]).args([
        "--leader-election",
        "true",
        "--lease-name",
        "agent-lease",
        "--lease-namespace",
        cluster.namespace(),
        "--lease-duration-seconds",
        "3",
    ]))
    .await
    .unwrap();
    create_task(&cluster, "cut", Some(json!({"url": receiver.url()}))).await;
    finish_as_operator(&cluster, "cut", None).await;
    receiver.wait_for_requests(1, DEADLINE).await.unwrap();

    // Another replica takes the Lease over, as after a partition that outlasted the Lease.
    let takeover = json!({"spec": {"holderIdentity": "replica-b", "leaseDurationSeconds": 60,
        "renewTime": k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(jiff::Timestamp::now())}});
    Api::<k8s_openapi::api::coordination::v1::Lease>::namespaced(
        cluster.client(),
        cluster.namespace(),
    )
    .patch(
        "agent-lease",
        &PatchParams::default(),
        &Patch::Merge(&takeover),
    )
    .await
    .unwrap();
    let exit = leader.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(!exit.success(), "losing the Lease is a failure: {exit:?}");
    assert!(
        leader.logs().contains("leadership lost"),
        "{}",
        leader.logs()
    );
    let task = tasks(&cluster).get("cut").await.unwrap();
    assert!(
        task.status.unwrap().delivery.is_none(),
        "the cut attempt is left for the next leader to repeat"
    );
    cluster.cleanup().await.unwrap();
}

/// Waits until each `(task, reason)` has an Event; returns every `(reason, note)` about the tasks.
async fn wait_for_object_events(
    cluster: &TestCluster,
    agent: &RunningBinary,
    wanted: &[(&str, &str)],
) -> Vec<(String, String)> {
    let api: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(cluster.client(), cluster.namespace());
    guardrails_e2e::kit::wait_for("the agent's Events", DEADLINE, &[agent], || {
        let api = api.clone();
        async move {
            let list = api.list(&Default::default()).await.unwrap().items;
            let seen: Vec<(String, String, String)> = list
                .into_iter()
                .map(|e| {
                    let name = e.regarding.and_then(|r| r.name).unwrap_or_default();
                    (
                        name,
                        e.reason.unwrap_or_default(),
                        e.note.unwrap_or_default(),
                    )
                })
                .collect();
            let all = wanted
                .iter()
                .all(|(task, reason)| seen.iter().any(|(n, r, _)| n == task && r == reason));
            if all {
                guardrails_e2e::kit::Probe::Ready(
                    seen.into_iter().map(|(_, r, n)| (r, n)).collect(),
                )
            } else {
                guardrails_e2e::kit::Probe::Pending(format!("{seen:?}"))
            }
        }
    })
    .await
    .unwrap()
}

/// `url` with its host replaced by `host` (a name under `localhost`, which means loopback).
fn on_host(url: &str, host: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_host(Some(host)).unwrap();
    url.to_string()
}

#[tokio::test]
async fn a_wildcard_endpoint_governs_suspend_secret_rate_limit_and_timeout() {
    let cluster = TestCluster::start().await.unwrap();
    let redis = RedisServer::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let stuck = WebhookReceiver::start([Reply::Hang]).await.unwrap();
    create_secret(&cluster, "wild-hmac", "secret", "wildcard-secret").await;
    create_endpoint(
        &cluster,
        "wild",
        json!({"domains": ["*.partner.localhost"], "suspend": true,
            "signingSecretRef": {"name": "wild-hmac", "key": "secret"},
            "rateLimitPerMinute": 1, "timeoutSeconds": 1, "maxAttempts": 1}),
    )
    .await;
    let agent = RunningBinary::start(
        agent(&cluster, &[("WEBHOOK_SIGNING_SECRET", "server-secret")])
            .env("REDIS_URL", redis.url()),
    )
    .await
    .unwrap();
    let hook = on_host(&receiver.url(), "hook.partner.localhost");
    for name in ["one", "two"] {
        create_task(
            &cluster,
            name,
            Some(json!({"url": hook, "signPayload": true})),
        )
        .await;
        finish_as_operator(&cluster, name, None).await;
        wait_attempt(&cluster, name, AttemptOutcome::Suspended, &[&agent]).await;
    }
    assert!(receiver.requests().is_empty(), "suspend holds both");

    Api::<WebhookEndpoint>::namespaced(cluster.client(), cluster.namespace())
        .patch(
            "wild",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"suspend": false}})),
        )
        .await
        .unwrap();
    let one_deferred = |t: &AnalysisTask| {
        delivery_of(t)
            .attempts
            .iter()
            .any(|a| a.outcome == AttemptOutcome::RateLimited)
    };
    guardrails_e2e::kit::wait_for(
        "one delivered, one rate-limited",
        DEADLINE,
        &[&agent],
        || {
            let api = tasks(&cluster);
            async move {
                let [one, two] = ["one", "two"].map(|n| api.get(n));
                let (one, two) = (one.await.unwrap(), two.await.unwrap());
                let delivered = [&one, &two]
                    .iter()
                    .filter(|t| delivery_phase(t) == Some(DeliveryPhase::Succeeded))
                    .count();
                if delivered == 1 && (one_deferred(&one) || one_deferred(&two)) {
                    guardrails_e2e::kit::Probe::Ready(())
                } else {
                    guardrails_e2e::kit::Probe::Pending(format!(
                        "{:?}",
                        [outcomes(&one), outcomes(&two)]
                    ))
                }
            }
        },
    )
    .await
    .unwrap();
    let requests = receiver.requests();
    assert_eq!(
        requests.len(),
        1,
        "the endpoint's limit of 1/min holds the other"
    );
    assert_signed_with(&requests[0], "wildcard-secret");

    let slow = on_host(&stuck.url(), "slow.partner.localhost");
    create_task(&cluster, "slow", Some(json!({"url": slow}))).await;
    finish_as_operator(&cluster, "slow", None).await;
    let failed = wait_delivery(&cluster, "slow", DeliveryPhase::Failed, &[&agent]).await;
    assert_eq!(
        outcomes(&failed),
        [(AttemptOutcome::Timeout, None)],
        "one attempt (maxAttempts 1) cut at the endpoint's 1 s timeout"
    );
    let error = delivery_of(&failed).attempts[0].error.clone().unwrap();
    assert!(error.contains("within 1 s"), "{error}");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_endpoint_header_secret_is_sent_follows_its_rotation_and_its_absence_fails_deliveries() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    create_endpoint(
        &cluster,
        "local",
        json!({"domains": ["127.0.0.1"], "maxAttempts": 1,
            "headersSecretRef": {"name": "partner-auth"}}),
    )
    .await;
    let agent = RunningBinary::start(agent(&cluster, &[])).await.unwrap();
    let missing = wait_ready(&cluster, "local", "False", "TransportSecretMissing", &agent).await;
    assert!(missing.message.contains("partner-auth"), "{missing:?}");
    let hook = json!({"url": receiver.url()});
    create_task(&cluster, "unsent", Some(hook.clone())).await;
    finish_as_operator(&cluster, "unsent", None).await;
    let failed = wait_delivery(&cluster, "unsent", DeliveryPhase::Failed, &[&agent]).await;
    let error = delivery_of(&failed).attempts[0].error.clone().unwrap();
    assert!(error.contains("Secret `partner-auth` not found"), "{error}");
    assert!(
        receiver.requests().is_empty(),
        "nothing is sent without the headers"
    );

    create_secret(
        &cluster,
        "partner-auth",
        "Authorization",
        "Bearer first-token",
    )
    .await;
    wait_ready(&cluster, "local", "True", "ServerWideSecret", &agent).await;
    create_task(&cluster, "first", Some(hook.clone())).await;
    finish_as_operator(&cluster, "first", None).await;
    wait_delivery(&cluster, "first", DeliveryPhase::Succeeded, &[&agent]).await;

    let rotate = json!({"data": {"Authorization": ByteString(b"Bearer second-token".to_vec())}});
    Api::<Secret>::namespaced(cluster.client(), cluster.namespace())
        .patch(
            "partner-auth",
            &PatchParams::default(),
            &Patch::Merge(&rotate),
        )
        .await
        .unwrap();
    // NB: the agent learns of the rotation through its watch; give the event a moment to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    create_task(&cluster, "second", Some(hook)).await;
    finish_as_operator(&cluster, "second", None).await;
    wait_delivery(&cluster, "second", DeliveryPhase::Succeeded, &[&agent]).await;

    let requests = receiver.requests();
    let tokens: Vec<_> = requests.iter().map(|r| r.header("authorization")).collect();
    assert_eq!(
        tokens,
        [Some("Bearer first-token"), Some("Bearer second-token")]
    );
    let logs = agent.logs();
    assert!(!logs.contains("first-token") && !logs.contains("second-token"));
    cluster.cleanup().await.unwrap();
}
