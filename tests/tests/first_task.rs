//! The harness proves itself: an AnalysisTask created, watched and status-patched through the
//! API, against the test server (or the real cluster named by `E2E_KUBECONFIG`).

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use guardrails_e2e::kit::TestCluster;
use kube::{
    api::{DynamicObject, Patch, PatchParams, PostParams},
    runtime::{WatchStreamExt, watcher},
};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);

fn task(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1",
        "kind": "AnalysisTask",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

fn phase(obj: &DynamicObject) -> Option<&str> {
    obj.data.pointer("/status/phase").and_then(Value::as_str)
}

#[tokio::test]
async fn a_created_task_is_watched_and_its_status_patch_is_seen() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = cluster
        .api_for("guardrails.io", "v1alpha1", "AnalysisTask")
        .await
        .unwrap();

    let created = tasks
        .create(
            &PostParams::default(),
            &task("first", json!({"text": "Call Jane at 555-0100"})),
        )
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(
        created.data["spec"]["includeRedaction"], false,
        "schema defaults are applied"
    );

    let config = watcher::Config::default().fields("metadata.name=first");
    let mut seen = watcher(tasks.clone(), config).applied_objects().boxed();
    let first = tokio::time::timeout(DEADLINE, seen.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.metadata.uid, created.metadata.uid);
    assert_eq!(phase(&first), None);

    let patched = tasks
        .patch_status(
            "first",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Running"}})),
        )
        .await
        .unwrap();
    assert_eq!(phase(&patched), Some("Running"));
    assert_eq!(
        patched.metadata.generation,
        Some(1),
        "a status change does not bump generation"
    );

    let running = tokio::time::timeout(DEADLINE, async {
        while let Some(obj) = seen.try_next().await.unwrap() {
            if phase(&obj) == Some("Running") {
                return obj;
            }
        }
        panic!("the watch ended before the status change arrived");
    })
    .await
    .expect("the status change reaches the watch");
    assert_eq!(
        running.metadata.resource_version,
        patched.metadata.resource_version
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_task_with_both_text_sources_is_refused_with_the_crd_message() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = cluster
        .api_for("guardrails.io", "v1alpha1", "AnalysisTask")
        .await
        .unwrap();
    let both = task(
        "both",
        json!({"text": "x", "textFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}),
    );
    let err = tasks
        .create(&PostParams::default(), &both)
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("expected an API error, got {err}")
    };
    assert_eq!(status.code, 422);
    assert!(
        status
            .message
            .contains("exactly one of spec.text and spec.textFrom must be set"),
        "{}",
        status.message
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_task_spec_cannot_change_after_creation() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = cluster
        .api_for("guardrails.io", "v1alpha1", "AnalysisTask")
        .await
        .unwrap();
    tasks
        .create(
            &PostParams::default(),
            &task("fixed", json!({"text": "first"})),
        )
        .await
        .unwrap();
    let err = tasks
        .patch(
            "fixed",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"text": "second"}})),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("expected an API error, got {err}")
    };
    assert_eq!(status.code, 422);
    assert!(
        status.message.contains("spec is immutable"),
        "{}",
        status.message
    );
    let kept = tasks.get("fixed").await.unwrap();
    assert_eq!(kept.data["spec"]["text"], "first");
    let labelled = tasks
        .patch(
            "fixed",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        labelled.metadata.generation,
        Some(1),
        "metadata changes leave generation alone"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_unknown_framework_is_refused_by_the_schema() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = cluster
        .api_for("guardrails.io", "v1alpha1", "AnalysisTask")
        .await
        .unwrap();
    let bad = task("bad", json!({"text": "x", "frameworks": ["SOX"]}));
    let err = tasks
        .create(&PostParams::default(), &bad)
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("expected an API error, got {err}")
    };
    assert_eq!(status.code, 422);
    assert!(
        status.message.contains("spec.frameworks[0]"),
        "{}",
        status.message
    );
    assert!(
        status.message.contains("Unsupported value: \"SOX\""),
        "{}",
        status.message
    );
    let listed = tasks.list(&Default::default()).await.unwrap();
    assert!(
        listed.items.is_empty(),
        "nothing is created on a refused request"
    );
    cluster.cleanup().await.unwrap();
}
