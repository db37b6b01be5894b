//! Benchmark of the `guardrails-agent run` sidecar against the e2e test API server: 1,000 tasks
//! finished at 200 tasks/s, each webhook received by a loopback receiver. Not a test: run it on
//! purpose, with a release agent binary:
//!
//! ```text
//! cargo build --release -p guardrails-agent
//! GUARDRAILS_E2E_BIN_GUARDRAILS_AGENT=$CARGO_TARGET_DIR/release/guardrails-agent \
//!   cargo test --release -p guardrails-e2e --test agent_bench -- --ignored --nocapture
//! ```
//!
//! Latency is measured from the moment the finishing status write returned (the operator's
//! `completedAt`, which the API stores with one-second precision only) to the receiver's arrival
//! time of the request.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime};

use guardrails_crds::AnalysisTask;
use guardrails_e2e::kit::{
    BinarySpec, Probe, RunningBinary, TestCluster, WebhookReceiver, free_local_addr, wait_for,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

const TASKS: usize = 1_000;
const RATE_PER_SECOND: u64 = 200;

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on purpose with --ignored --nocapture"]
async fn a_thousand_finished_tasks_reach_their_receiver() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let agent = RunningBinary::start(
        BinarySpec::new("guardrails-agent", "guardrails-agent")
            .kubeconfig(cluster.kubeconfig_path())
            .args(["run", "--namespace", cluster.namespace()])
            .args([
                "--listen".to_owned(),
                free_local_addr().unwrap().to_string(),
            ])
            .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true")
            .env("WEBHOOK_SIGNING_SECRET", "bench-secret")
            .env("REDIS_URL", "redis://127.0.0.1:1/0")
            .env("RUST_LOG", "warn"),
    )
    .await
    .unwrap();
    let tasks: Api<AnalysisTask> = Api::namespaced(cluster.client(), cluster.namespace());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), cluster.namespace());
    let result =
        serde_json::to_vec(&json!({"status": "success", "pii": {"detected": 0, "entities": []}}))
            .unwrap();
    for i in 0..TASKS {
        let name = format!("bench-{i}");
        let task: AnalysisTask = serde_json::from_value(json!({
            "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask", "metadata": {"name": name},
            "spec": {"text": "nothing here", "webhook": {"url": receiver.url(), "signPayload": true}},
        }))
        .unwrap();
        tasks.create(&PostParams::default(), &task).await.unwrap();
        let mut secret = Secret::default();
        secret.metadata.name = Some(format!("{name}-result"));
        secret.data = Some(BTreeMap::from([(
            "result.json".to_owned(),
            ByteString(result.clone()),
        )]));
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }

    // NB: each finishing write is its own task started on the pace, so a slow answer of the
    // test server never lowers the offered rate.
    let start = Instant::now();
    let pace = Duration::from_micros(1_000_000 / RATE_PER_SECOND);
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..TASKS {
        let tasks = tasks.clone();
        writes.spawn(async move {
            tokio::time::sleep_until((start + pace * i as u32).into()).await;
            let name = format!("bench-{i}");
            let now = jiff::Timestamp::now().to_string();
            let patch = json!({"apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask", "status": {
                "phase": "Succeeded", "startedAt": now, "completedAt": now,
                "resultSecretRef": {"name": format!("{name}-result")}}});
            let task = tasks
                .patch_status(&name, &PatchParams::apply("guardrails-operator"), &Patch::Apply(&patch))
                .await
                .unwrap();
            (task.metadata.uid.unwrap(), SystemTime::now())
        });
    }
    let mut finished: HashMap<String, SystemTime> = HashMap::new();
    while let Some(done) = writes.join_next().await {
        let (uid, at) = done.unwrap();
        finished.insert(uid, at);
    }
    let offered = start.elapsed();
    wait_for("every webhook", Duration::from_secs(120), &[&agent], || {
        let n = receiver.requests().len();
        async move {
            if n >= TASKS {
                Probe::Ready(())
            } else {
                Probe::Pending(format!("{n} received"))
            }
        }
    })
    .await
    .unwrap();
    let mut latencies: Vec<Duration> = receiver
        .requests()
        .iter()
        .map(|r| {
            let id = r.json().unwrap()["task"]["id"].as_str().unwrap().to_owned();
            r.received_at
                .duration_since(finished[&id])
                .unwrap_or_default()
        })
        .collect();
    latencies.sort();
    let pid = agent.pid().unwrap();
    println!(
        "agent bench: {TASKS} tasks offered at {RATE_PER_SECOND}/s in {:.2} s; received {}; \
         finish write->receipt p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; agent RSS {} KiB (peak {} KiB)",
        offered.as_secs_f64(),
        latencies.len(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        rss_kib(pid, "VmRSS:"),
        rss_kib(pid, "VmHWM:"),
    );
    cluster.cleanup().await.unwrap();
}
