//! Load benchmark of `guardrails-api` in Kubernetes mode against the e2e test API server, with
//! `wrk` on loopback (64 connections). Not a test: run it on purpose, with a release api binary:
//!
//! ```text
//! cargo build --release -p guardrails-api
//! GUARDRAILS_E2E_BIN_GUARDRAILS_API=$CARGO_TARGET_DIR/release/guardrails-api \
//!   cargo test -p guardrails-e2e --test api_bench -- --ignored --nocapture
//! ```

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use guardrails_e2e::kit::{Probe, RunningBinary, TestCluster, free_local_addr, wait_for};

const KEY: &str = "bench-key";

fn wrk(base: &str, path: &str, duration: &str) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../api/bench/request.lua");
    let output = Command::new("wrk")
        .args(["-t", "2", "-c", "64", "-d", duration, "--latency", "-s"])
        .arg(&script)
        .arg(base)
        .args(["--", path])
        .env("BENCH_API_KEY", KEY)
        .output()
        .expect("wrk is needed for this benchmark: apt-get install wrk");
    assert!(
        output.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run with --ignored --nocapture (needs wrk)"]
async fn load_of_the_sync_and_async_endpoints_against_the_test_api_server() {
    let cluster = TestCluster::start().await.unwrap();
    let addr = free_local_addr().unwrap();
    let spec = cluster
        .binary("guardrails-api", "guardrails-api")
        .args([
            "--listen",
            &addr.to_string(),
            "--namespace",
            cluster.namespace(),
        ])
        .env("API_KEYS", KEY)
        .env("RUST_LOG", "warn");
    let api = RunningBinary::start(spec).await.unwrap();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    wait_for(
        "the api to be ready",
        Duration::from_secs(30),
        &[&api],
        || async {
            match http.get(format!("{base}/readyz")).send().await {
                Ok(r) if r.status() == 200 => Probe::Ready(()),
                other => Probe::Pending(format!("{other:?}")),
            }
        },
    )
    .await
    .unwrap();
    for path in ["/api/v1/analyze", "/api/v1/analyze/async"] {
        let base = base.clone();
        let report = tokio::task::spawn_blocking(move || wrk(&base, path, "10s"))
            .await
            .unwrap();
        println!("== {path} (Kubernetes mode, test API server), 64 connections, 10s\n{report}");
    }
    cluster.cleanup().await.unwrap();
}
