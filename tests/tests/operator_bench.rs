//! Benchmark of the real `guardrails-operator` against the test API server: tasks per second
//! from creation to `Succeeded` (1,000 small tasks), and the operator's resident memory once
//! 10,000 tasks have finished. Two rates are measured: a backlog of 1,000 tasks created before
//! the operator starts (the operator's own rate, from process start to the last `Succeeded`), then
//! 1,000 tasks created while it runs (bounded by how fast the client can create them).
//! Ignored by default; run it with
//! `cargo test --release -p guardrails-e2e --test operator_bench -- --ignored --nocapture`
//! (`OPERATOR_BENCH_TASKS` and `OPERATOR_BENCH_TOTAL` change the 1,000 and 10,000).

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use guardrails_e2e::kit::measure::memory_kib;
use guardrails_e2e::kit::{BinarySpec, Probe, RunningBinary, TestCluster, wait_for};
use kube::{
    Api,
    api::{DynamicObject, PostParams},
};
use serde_json::json;

const CREATORS_IN_FLIGHT: usize = 32;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn task(name: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1",
        "kind": "AnalysisTask",
        "metadata": {"name": name},
        "spec": {"text": "Call Jane at 212-555-0199 or jane@example.com", "frameworks": ["GDPR"]},
    }))
    .unwrap()
}

/// Creates tasks `from..to`, `CREATORS_IN_FLIGHT` at a time.
async fn create_tasks(tasks: &Api<DynamicObject>, from: usize, to: usize) {
    stream::iter(from..to)
        .for_each_concurrent(CREATORS_IN_FLIGHT, |i| {
            let tasks = tasks.clone();
            async move {
                tasks
                    .create(&PostParams::default(), &task(&format!("bench-{i}")))
                    .await
                    .unwrap();
            }
        })
        .await;
}

/// The operator's count of tasks it finished as Succeeded, from `/metrics`.
async fn successes(http: &reqwest::Client, metrics_url: &str) -> usize {
    let Ok(response) = http.get(metrics_url).send().await else {
        return 0;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("guardrails_operator_task_successes_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as usize)
}

async fn wait_successes(http: &reqwest::Client, url: &str, want: usize, op: &RunningBinary) {
    wait_for(
        &format!("{want} tasks to succeed"),
        Duration::from_secs(1800),
        &[op],
        || async move {
            let got = successes(http, url).await;
            if got >= want {
                Probe::Ready(())
            } else {
                Probe::Pending(format!("{got} succeeded"))
            }
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
async fn operator_throughput_and_memory() {
    let first = count("OPERATOR_BENCH_TASKS", 1_000);
    let total = count("OPERATOR_BENCH_TOTAL", 10_000).max(first);
    let cluster = TestCluster::start().await.unwrap();
    let tasks = cluster
        .api_for("guardrails.io", "v1alpha1", "AnalysisTask")
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = BinarySpec::new("guardrails-operator", "guardrails-operator")
        .kubeconfig(cluster.kubeconfig_path())
        .args([
            "--namespace".to_owned(),
            cluster.namespace().to_owned(),
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn");
    // A backlog created before the operator exists: its rate is the operator's own.
    create_tasks(&tasks, 0, first).await;
    let start = Instant::now();
    let op = RunningBinary::start(spec).await.unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let metrics_url = format!("{base}/metrics");
    wait_successes(&http, &metrics_url, first, &op).await;
    let done = start.elapsed();
    println!(
        "operator bench: backlog of {first} tasks, all Succeeded {:.2}s after the operator started: {:.0} tasks/s",
        done.as_secs_f64(),
        first as f64 / done.as_secs_f64()
    );
    let rss_backlog = memory_kib(op.pid().unwrap(), "VmRSS:");

    // Tasks created while the operator runs.
    let live = (2 * first).min(total);
    let start = Instant::now();
    create_tasks(&tasks, first, live).await;
    let created = start.elapsed();
    wait_successes(&http, &metrics_url, live, &op).await;
    let done = start.elapsed();
    println!(
        "operator bench: {} tasks created live in {:.2}s ({:.0}/s), all Succeeded after {:.2}s: {:.0} tasks/s",
        live - first,
        created.as_secs_f64(),
        (live - first) as f64 / created.as_secs_f64(),
        done.as_secs_f64(),
        (live - first) as f64 / done.as_secs_f64()
    );

    create_tasks(&tasks, live, total).await;
    wait_successes(&http, &metrics_url, total, &op).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = memory_kib(op.pid().unwrap(), "VmRSS:");
    println!(
        "operator bench: RSS {:.1} MiB after the backlog, {:.1} MiB with {total} finished tasks",
        rss_backlog as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    assert!(successes(&http, &metrics_url).await >= total);
    cluster.cleanup().await.unwrap();
}
