//! Benchmark of the `guardrails-agent run` sidecar against the e2e test API server: 1,000 tasks
//! finished at 200 tasks/s, each webhook received by a loopback receiver. Not a test: run it on
//! purpose, with a release agent binary:
//!
//! ```text
//! cargo build --release -p guardrails-agent
//! GUARDRAILS_E2E_BIN_GUARDRAILS_AGENT=$CARGO_TARGET_DIR/release/guardrails-agent \
//!   cargo test --release -p guardrails-e2e --test agent_bench -- --ignored --nocapture --test-threads=1
//! ```
//!
//! `GUARDRAILS_BENCH_RATE=<tasks/s>` offers another rate than the target's 200/s.
//!
//! Latency is measured from the moment the finishing status write returned (the operator's
//! `completedAt`, which the API stores with one-second precision only) to the receiver's arrival
//! time of the request. It also reports the API requests the agent made per delivery (from the
//! test server's request log) and the CPU time of the agent and of the test process (test
//! server, receiver and client). The second benchmark measures the test server alone: the same
//! status applies without an agent, one after another and 64 at a time.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime};

use guardrails_crds::AnalysisTask;
use guardrails_e2e::kit::measure::{cpu_time, load_average, memory_kib, percentile};
use guardrails_e2e::kit::{
    BinarySpec, Probe, RunningBinary, TestCluster, WebhookReceiver, apply_status_as_operator,
    free_local_addr, wait_for,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

const TASKS: usize = 1_000;
/// The offered rate of the issue's target; `GUARDRAILS_BENCH_RATE` overrides it to find the knee.
const RATE_PER_SECOND: u64 = 200;

fn offered_rate() -> u64 {
    std::env::var("GUARDRAILS_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(RATE_PER_SECOND)
}

/// The agent of the benchmarks: the cluster's namespace, private destinations allowed, no Redis.
fn bench_agent(cluster: &TestCluster) -> BinarySpec {
    BinarySpec::new("guardrails-agent", "guardrails-agent")
        .kubeconfig(cluster.kubeconfig_path())
        .args(["run", "--namespace", cluster.namespace()])
        .args([
            "--listen".to_owned(),
            free_local_addr().unwrap().to_string(),
        ])
        .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true")
        .env("REDIS_URL", "redis://127.0.0.1:1/0")
        .env("RUST_LOG", "warn")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on purpose with --ignored --nocapture"]
async fn a_thousand_finished_tasks_reach_their_receiver() {
    let cluster = TestCluster::start().await.unwrap();
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let agent =
        RunningBinary::start(bench_agent(&cluster).env("WEBHOOK_SIGNING_SECRET", "bench-secret"))
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
    let pid = agent.pid().unwrap();
    let requests_before = cluster.test_server().map_or(0, |s| s.requests().len());
    let agent_cpu_before = cpu_time(&pid.to_string());
    let test_cpu_before = cpu_time("self");
    let load_before = load_average();
    let start = Instant::now();
    let rate = offered_rate();
    let pace = Duration::from_micros(1_000_000 / rate);
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..TASKS {
        let tasks = tasks.clone();
        writes.spawn(async move {
            tokio::time::sleep_until((start + pace * i as u32).into()).await;
            let name = format!("bench-{i}");
            let now = jiff::Timestamp::now().to_string();
            let status = json!({"phase": "Succeeded", "startedAt": now, "completedAt": now,
                "resultSecretRef": {"name": format!("{name}-result")}});
            let task = apply_status_as_operator(&tasks, &name, status).await;
            (task.metadata.uid.unwrap(), SystemTime::now())
        });
    }
    let mut finished: HashMap<String, SystemTime> = HashMap::new();
    while let Some(done) = writes.join_next().await {
        let (uid, at) = done.unwrap();
        finished.insert(uid, at);
    }
    let offered = start.elapsed();
    wait_for("every webhook", Duration::from_secs(300), &[&agent], || {
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
    let latencies = receipt_latencies(&receiver, &finished);
    let drained = start.elapsed();
    let agent_cpu = cpu_time(&pid.to_string()) - agent_cpu_before;
    let test_cpu = cpu_time("self") - test_cpu_before;
    // NB: the agent's last status write lands just before the receiver answers; give the
    // request log a moment so the counts below are whole.
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Some(server) = cluster.test_server() {
        let requests = server.requests();
        let window = &requests[requests_before..];
        let count = |pred: &dyn Fn(&str, &str) -> bool| {
            window
                .iter()
                .filter(|r| pred(&r.method, &r.path_and_query))
                .count()
        };
        let status_applies = count(&|m, p| {
            m == "PATCH" && p.contains("/status") && p.contains("fieldManager=guardrails-agent")
        });
        let events = count(&|m, p| (m == "POST" || m == "PATCH") && p.contains("/events"));
        let gets = count(&|m, p| m == "GET" && !p.contains("watch=true"));
        println!(
            "agent bench: API requests in the run: {} in all; agent status applies {status_applies} \
             ({:.2}/delivery), Events written {events} ({:.2}/delivery), GETs/LISTs {gets}",
            window.len(),
            status_applies as f64 / TASKS as f64,
            events as f64 / TASKS as f64,
        );
    }
    println!(
        "agent bench: load average before {load_before}, after {}; all received {:.2} s after the \
         first finishing write; CPU time: agent {:.2} s ({:.2} ms/delivery), test process (test \
         server + receiver + client) {:.2} s",
        load_average(),
        drained.as_secs_f64(),
        agent_cpu.as_secs_f64(),
        agent_cpu.as_secs_f64() * 1e3 / TASKS as f64,
        test_cpu.as_secs_f64(),
    );
    println!(
        "agent bench: {TASKS} tasks offered at {rate}/s in {:.2} s; received {}; \
         finish write->receipt p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; agent RSS {} KiB (peak {} KiB)",
        offered.as_secs_f64(),
        latencies.len(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.90).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        memory_kib(pid, "VmRSS:"),
        memory_kib(pid, "VmHWM:"),
    );
    cluster.cleanup().await.unwrap();
}

/// The status apply of the agent before an attempt, as the agent sends it.
fn delivery_apply(attempt_outcome: &str) -> serde_json::Value {
    let now = jiff::Timestamp::now().to_string();
    json!({"apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask", "status": {
        "delivery": {"phase": "Pending", "eventId": uuid::Uuid::new_v4().to_string(), "round": 1,
            "attempts": [{"number": 1, "round": 1, "startedAt": now, "outcome": attempt_outcome}]},
        "conditions": [{"type": "Delivered", "status": "False", "reason": "Pending", "message": "",
            "lastTransitionTime": now}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on purpose with --ignored --nocapture"]
async fn the_test_server_alone_takes_the_status_applies_of_a_delivery() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks: Api<AnalysisTask> = Api::namespaced(cluster.client(), cluster.namespace());
    for i in 0..TASKS {
        let task: AnalysisTask = serde_json::from_value(json!({
            "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask",
            "metadata": {"name": format!("bare-{i}")},
            "spec": {"text": "nothing here", "webhook": {"url": "http://127.0.0.1:9/webhook"}},
        }))
        .unwrap();
        tasks.create(&PostParams::default(), &task).await.unwrap();
    }
    let load_before = load_average();
    // One after another: the operator's finishing apply of each task.
    let cpu = cpu_time("self");
    let start = Instant::now();
    for i in 0..TASKS {
        let now = jiff::Timestamp::now().to_string();
        let status = json!({"phase": "Succeeded", "startedAt": now, "completedAt": now,
            "resultSecretRef": {"name": format!("bare-{i}-result")}});
        apply_status_as_operator(&tasks, &format!("bare-{i}"), status).await;
    }
    let serial = start.elapsed();
    let serial_cpu = cpu_time("self") - cpu;
    // 64 at a time: two status applies per task under the agent's field manager (an
    // `in_progress` then a `succeeded` record), twice what the agent writes for a delivery.
    let cpu = cpu_time("self");
    let start = Instant::now();
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(64));
    let mut applies = tokio::task::JoinSet::new();
    for i in 0..TASKS {
        let tasks = tasks.clone();
        let permit = limit.clone().acquire_owned().await.unwrap();
        applies.spawn(async move {
            for outcome in ["in_progress", "succeeded"] {
                tasks
                    .patch_status(
                        &format!("bare-{i}"),
                        &PatchParams::apply("guardrails-agent").force(),
                        &Patch::Apply(&delivery_apply(outcome)),
                    )
                    .await
                    .unwrap();
            }
            drop(permit);
        });
    }
    while let Some(done) = applies.join_next().await {
        done.unwrap();
    }
    let concurrent = start.elapsed();
    let concurrent_cpu = cpu_time("self") - cpu;
    println!(
        "test server bench (load average before {load_before}, after {}): {TASKS} operator \
         applies one after another in {:.2} s ({:.0}/s, {:.2} ms CPU each); {} agent applies 64 at \
         a time in {:.2} s ({:.0}/s, {:.2} ms CPU each). CPU is the whole test process: server \
         and client.",
        load_average(),
        serial.as_secs_f64(),
        TASKS as f64 / serial.as_secs_f64(),
        serial_cpu.as_secs_f64() * 1e3 / TASKS as f64,
        2 * TASKS,
        concurrent.as_secs_f64(),
        (2 * TASKS) as f64 / concurrent.as_secs_f64(),
        concurrent_cpu.as_secs_f64() * 1e3 / (2 * TASKS) as f64,
    );
    cluster.cleanup().await.unwrap();
}

/// Creates task `name` with a webhook to `url` (its outcome needs no result Secret: it failed).
async fn create_failed_task(tasks: &Api<AnalysisTask>, name: &str, url: &str) {
    let task: AnalysisTask = serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask", "metadata": {"name": name},
        "spec": {"text": "nothing here", "webhook": {"url": url}},
    }))
    .unwrap();
    tasks.create(&PostParams::default(), &task).await.unwrap();
}

/// Finishes `name` as the operator does for a failed analysis; its uid and when the write returned.
async fn finish_failed(tasks: &Api<AnalysisTask>, name: &str) -> (String, SystemTime) {
    let now = jiff::Timestamp::now().to_string();
    let status = json!({"phase": "Failed", "startedAt": now, "completedAt": now, "error": "bench"});
    let task = apply_status_as_operator(tasks, name, status).await;
    (task.metadata.uid.unwrap(), SystemTime::now())
}

/// Finishes `count` tasks `<prefix>-<i>` to `receiver` at 20/s; sorted finish → receipt latencies.
async fn paced_healthy(
    tasks: &Api<AnalysisTask>,
    receiver: &WebhookReceiver,
    prefix: &str,
    count: usize,
    agent: &RunningBinary,
) -> Vec<Duration> {
    for i in 0..count {
        create_failed_task(tasks, &format!("{prefix}-{i}"), &receiver.url()).await;
    }
    let start = Instant::now();
    let mut finished = HashMap::new();
    for i in 0..count {
        tokio::time::sleep_until((start + Duration::from_millis(50) * i as u32).into()).await;
        let (uid, at) = finish_failed(tasks, &format!("{prefix}-{i}")).await;
        finished.insert(uid, at);
    }
    wait_for(
        "the healthy webhooks",
        Duration::from_secs(120),
        &[agent],
        || {
            let n = finished
                .keys()
                .filter(|uid| {
                    receiver
                        .requests()
                        .iter()
                        .any(|r| r.json().unwrap()["task"]["id"] == uid.as_str())
                })
                .count();
            async move {
                if n >= count {
                    Probe::Ready(())
                } else {
                    Probe::Pending(format!("{n} received"))
                }
            }
        },
    )
    .await
    .unwrap();
    receipt_latencies(receiver, &finished)
}

/// For each request of a task in `finished` (uid → when its finishing write returned), the time
/// from that write to the request's arrival; sorted.
fn receipt_latencies(
    receiver: &WebhookReceiver,
    finished: &HashMap<String, SystemTime>,
) -> Vec<Duration> {
    let mut latencies: Vec<Duration> = receiver
        .requests()
        .iter()
        .filter_map(|r| {
            let id = r.json().unwrap()["task"]["id"].as_str()?.to_owned();
            Some(
                r.received_at
                    .duration_since(*finished.get(&id)?)
                    .unwrap_or_default(),
            )
        })
        .collect();
    latencies.sort();
    latencies
}

/// The sidecar's fairness: 100 tasks whose receiver accepts connections and never answers, then
/// 100 tasks at 20/s to a healthy receiver; the healthy p50/p99 alone and beside the stuck ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on purpose with --ignored --nocapture"]
async fn a_receiver_that_never_answers_does_not_delay_the_others() {
    let cluster = TestCluster::start().await.unwrap();
    let healthy = WebhookReceiver::start([]).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stuck_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let agent = RunningBinary::start(bench_agent(&cluster)).await.unwrap();
    let tasks: Api<AnalysisTask> = Api::namespaced(cluster.client(), cluster.namespace());
    let load_before = load_average();
    let alone = paced_healthy(&tasks, &healthy, "alone", 100, &agent).await;

    for i in 0..100 {
        create_failed_task(&tasks, &format!("stuck-{i}"), &stuck_url).await;
    }
    for i in 0..100 {
        finish_failed(&tasks, &format!("stuck-{i}")).await;
    }
    let beside = paced_healthy(&tasks, &healthy, "beside", 100, &agent).await;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "agent fairness bench (load average before {load_before}, after {}): 100 tasks at 20/s to \
         a healthy receiver, finish write -> receipt: alone p50 {:.1} ms, p99 {:.1} ms; beside 100 \
         tasks to a receiver that never answers: p50 {:.1} ms, p99 {:.1} ms ({:.2}x the p99 alone)",
        load_average(),
        ms(percentile(&alone, 0.5)),
        ms(percentile(&alone, 0.99)),
        ms(percentile(&beside, 0.5)),
        ms(percentile(&beside, 0.99)),
        ms(percentile(&beside, 0.99)) / ms(percentile(&alone, 0.99)),
    );
    cluster.cleanup().await.unwrap();
}
