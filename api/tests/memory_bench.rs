//! Benchmark (ignored): resident memory of `guardrails-api --standalone` with its default limits
//! while 200 async PII-dense texts of 900 KB with `include_redaction` are analysed.
//!
//! `cargo build --release -p guardrails-api && GUARDRAILS_API_BIN=$CARGO_TARGET_DIR/release/guardrails-api
//! cargo test --release -p guardrails-api --test memory_bench -- --ignored --nocapture`

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::process::Server;

const TEXT_BYTES: usize = 900 * 1024;
const CLIENTS: usize = 8;

/// Names, SSNs, card numbers and e-mail addresses back to back: about 16 bytes per finding.
fn dense_text() -> String {
    let line = "Jane Doe 536-22-1234 4111 1111 1111 1111 jane.doe@example.com ";
    line.repeat(TEXT_BYTES / line.len())
}

/// `VmRSS` and `VmHWM` (peak) of a process, in MiB.
fn memory_mib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Submits until accepted, waiting `Retry-After` on each `503`; returns the task id and the
/// number of refusals.
async fn submit(client: &reqwest::Client, server: &Server, body: &str) -> (String, usize) {
    let mut refused = 0;
    loop {
        let answer = client
            .post(server.url("/api/v1/analyze/async"))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        match answer.status().as_u16() {
            202 => {
                let submitted: Value = answer.json().await.unwrap();
                return (submitted["task_id"].as_str().unwrap().to_owned(), refused);
            }
            503 => {
                refused += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            status => panic!("unexpected status {status}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run it on a release build (see the file's doc)"]
async fn resident_memory_under_200_dense_900_kb_texts_with_redaction() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = Server::start(data.path().to_str().unwrap(), &[], &[], logs.path()).await;
    let pid = server.pid();
    let body = json!({"text": dense_text(), "include_redaction": true}).to_string();
    let client = reqwest::Client::new();
    let tasks: usize = std::env::var("GUARDRAILS_BENCH_TASKS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let (rss_before, _) = memory_mib(pid);
    let started = Instant::now();
    let mut next = 0..tasks;
    let queue = std::sync::Mutex::new(&mut next);
    let per_client = futures::future::join_all((0..CLIENTS).map(|_| async {
        let mut mine = Vec::new();
        while queue.lock().unwrap().next().is_some() {
            mine.push(submit(&client, &server, &body).await);
        }
        mine
    }))
    .await;
    let submitted: Vec<(String, usize)> = per_client.into_iter().flatten().collect();
    let refusals: usize = submitted.iter().map(|(_, r)| r).sum();
    for (task_id, _) in &submitted {
        loop {
            let view: Value = client
                .get(server.url(&format!("/api/v1/tasks/{task_id}")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if view["status"] == "SUCCESS" {
                break;
            }
            assert_ne!(view["status"], "FAILURE", "{view}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let (rss_after, peak) = memory_mib(pid);
    let store_mib = std::fs::metadata(data.path().join("guardrails.redb"))
        .unwrap()
        .len()
        / (1024 * 1024);
    println!(
        "{tasks} texts of {} KiB, {CLIENTS} clients: {:.0} s, {refusals} 503s retried; RSS \
         {rss_before} MiB before, {rss_after} MiB after, peak {peak} MiB (VmHWM); store {store_mib} MiB",
        TEXT_BYTES / 1024,
        started.elapsed().as_secs_f64()
    );
    assert!(peak < 512, "peak RSS {peak} MiB is over 512 MiB");
}
