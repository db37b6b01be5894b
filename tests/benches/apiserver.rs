//! Throughput and watch latency of the test server through `kube::Client`, so e2e tests can be
//! sized: `cargo bench -p guardrails-e2e --bench apiserver`.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use guardrails_e2e::kit::TestCluster;
use kube::{
    Api,
    api::{DynamicObject, Patch, PatchParams, PostParams},
    runtime::{WatchStreamExt, watcher},
};
use serde_json::json;

const OBJECTS: usize = 500;

fn widget(name: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "e2e.guardrails.io/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"text": "a", "size": 1}
    }))
    .expect("valid widget")
}

fn report(what: &str, count: usize, took: Duration) {
    let per_sec = count as f64 / took.as_secs_f64();
    println!(
        "{what:<40} {count:>5} in {:>8.1} ms  ({per_sec:>8.0}/s)",
        took.as_secs_f64() * 1e3
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crds");
    let start = Instant::now();
    let cluster = TestCluster::with_crds(&dir).await.expect("cluster");
    report("cluster start (server, CRD, namespace)", 1, start.elapsed());
    let widgets: Api<DynamicObject> = cluster
        .api_for("e2e.guardrails.io", "v1", "Widget")
        .await
        .expect("api");

    let start = Instant::now();
    for i in 0..OBJECTS {
        widgets
            .create(&PostParams::default(), &widget(&format!("w{i}")))
            .await
            .expect("create");
    }
    report("create (schema + CEL admission)", OBJECTS, start.elapsed());

    let start = Instant::now();
    for i in 0..OBJECTS {
        widgets.get(&format!("w{i}")).await.expect("get");
    }
    report("get", OBJECTS, start.elapsed());

    let start = Instant::now();
    for i in 0..OBJECTS {
        let body = json!({"apiVersion": "e2e.guardrails.io/v1", "kind": "Widget", "metadata": {"name": format!("w{i}")},
                          "status": {"phase": "Running", "conditions": [{"type": "Analyzed", "status": "True"}]}});
        widgets
            .patch_status(
                &format!("w{i}"),
                &PatchParams::apply("bench"),
                &Patch::Apply(body),
            )
            .await
            .expect("apply");
    }
    report("server-side apply on /status", OBJECTS, start.elapsed());

    let start = Instant::now();
    let listed = widgets.list(&Default::default()).await.expect("list");
    report("list of all objects", listed.items.len(), start.elapsed());

    let mut changes = watcher(widgets.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    for _ in 0..OBJECTS {
        changes
            .try_next()
            .await
            .expect("watch")
            .expect("initial object");
    }
    let mut latencies = Vec::new();
    for i in 0..100 {
        let name = format!("w{i}");
        let sent = Instant::now();
        widgets
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"phase": "Done"}})),
            )
            .await
            .expect("patch");
        loop {
            let seen = changes.try_next().await.expect("watch").expect("event");
            if seen.metadata.name.as_deref() == Some(name.as_str()) {
                break;
            }
        }
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    println!(
        "{:<40} p50 {:?}  p99 {:?}  max {:?}",
        "status patch -> watch event (100)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
}
