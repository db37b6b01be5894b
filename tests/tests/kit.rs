//! The test kit's own behaviour: receivers, Redis, a Controller and the Event recorder against
//! the cluster of a test.

use std::time::Duration;

use futures::StreamExt;
use guardrails_e2e::kit::{RedisServer, Reply, TestCluster, WebhookReceiver, wait_for_object};
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::{
    Api, ResourceExt,
    api::{DynamicObject, ListParams, Patch, PatchParams, PostParams},
    runtime::{
        Controller,
        controller::Action,
        events::{Event, EventType, Recorder, Reporter},
        watcher,
    },
};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(30);

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_receiver_records_requests_and_answers_from_its_script() {
    let receiver = WebhookReceiver::start([
        Reply::Status(503),
        Reply::Delayed(Duration::from_millis(20), 429),
    ])
    .await
    .unwrap();
    let client = http();
    let mut codes = Vec::new();
    for i in 0..3 {
        let response = client
            .post(receiver.url())
            .header("X-Guardrails-Delivery", format!("evt-{i}"))
            .body(format!("{{\"n\":{i}}}"))
            .send()
            .await
            .unwrap();
        codes.push(response.status().as_u16());
    }
    assert_eq!(codes, [503, 429, 200]);
    let seen = receiver.wait_for_requests(3, DEADLINE).await.unwrap();
    assert_eq!(seen[1].header("x-guardrails-delivery"), Some("evt-1"));
    assert_eq!(seen[2].body, br#"{"n":2}"#);
    assert_eq!(seen[2].json().unwrap()["n"], 2);
    assert!(seen[0].received_at <= seen[2].received_at);
}

#[tokio::test]
async fn a_hanging_receiver_makes_the_client_time_out() {
    let receiver = WebhookReceiver::start([Reply::Hang]).await.unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client
        .post(receiver.url())
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn waiting_for_more_requests_than_arrive_reports_what_came() {
    let receiver = WebhookReceiver::start([]).await.unwrap();
    http().post(receiver.url()).body("{}").send().await.unwrap();
    let err = receiver
        .wait_for_requests(2, Duration::from_millis(100))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("1 request(s)"), "{err}");
}

#[tokio::test]
async fn a_redis_is_available_for_the_run() {
    let redis = RedisServer::start().await.unwrap();
    assert!(redis.url().starts_with("redis://"));
}

async fn widgets(cluster: &TestCluster) -> Api<DynamicObject> {
    cluster
        .api_for("e2e.guardrails.io", "v1", "Widget")
        .await
        .unwrap()
}

async fn fixture_cluster() -> TestCluster {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crds");
    TestCluster::with_crds(&dir).await.unwrap()
}

#[tokio::test]
async fn a_kube_runtime_controller_reconciles_against_the_cluster() {
    let cluster = fixture_cluster().await;
    let api = widgets(&cluster).await;
    let resource = kube::discovery::pinned_kind(
        &cluster.client(),
        &kube::api::GroupVersionKind::gvk("e2e.guardrails.io", "v1", "Widget"),
    )
    .await
    .unwrap()
    .0;
    let controller_api = api.clone();
    let controller = tokio::spawn(
        Controller::new_with(api.clone(), watcher::Config::default(), resource)
            .run(
                move |obj, ctx: std::sync::Arc<Api<DynamicObject>>| async move {
                    let status = json!({"status": {"phase": "Reconciled", "observedGeneration": obj.metadata.generation}});
                    ctx.patch_status(&obj.name_any(), &PatchParams::default(), &Patch::Merge(status)).await?;
                    Ok::<_, kube::Error>(Action::await_change())
                },
                |_, _, _| Action::requeue(Duration::from_secs(1)),
                std::sync::Arc::new(controller_api),
            )
            .for_each(|_| async {}),
    );
    let w: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "e2e.guardrails.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"text": "a"}
    }))
    .unwrap();
    api.create(&PostParams::default(), &w).await.unwrap();
    wait_for_object(
        &api,
        "w",
        "the controller to reconcile",
        DEADLINE,
        &[],
        |o| o.data.pointer("/status/phase") == Some(&json!("Reconciled")),
    )
    .await
    .unwrap();
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"size": 3}})),
    )
    .await
    .unwrap();
    wait_for_object(
        &api,
        "w",
        "the controller to see generation 2",
        DEADLINE,
        &[],
        |o| o.data.pointer("/status/observedGeneration") == Some(&json!(2)),
    )
    .await
    .unwrap();
    controller.abort();
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_event_recorder_publishes_events_about_an_object() {
    let cluster = fixture_cluster().await;
    let api = widgets(&cluster).await;
    let w: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "e2e.guardrails.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"text": "a"}
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &w).await.unwrap();
    let recorder = Recorder::new(
        cluster.client(),
        Reporter {
            controller: "guardrails-e2e".into(),
            instance: None,
        },
    );
    let resource = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("e2e.guardrails.io", "v1", "Widget"),
        "widgets",
    );
    let reference = kube::Resource::object_ref(&created, &resource);
    let event = Event {
        type_: EventType::Normal,
        reason: "Analyzed".into(),
        note: Some("analysis finished".into()),
        action: "Analyze".into(),
        secondary: None,
    };
    recorder.publish(&event, &reference).await.unwrap();
    recorder.publish(&event, &reference).await.unwrap();
    let events: Api<K8sEvent> = Api::namespaced(cluster.client(), cluster.namespace());
    let listed = events.list(&ListParams::default()).await.unwrap();
    assert_eq!(
        listed.items.len(),
        1,
        "a repeated event becomes a series, not a second Event"
    );
    let only = &listed.items[0];
    assert_eq!(only.reason.as_deref(), Some("Analyzed"));
    assert_eq!(
        only.regarding.as_ref().and_then(|r| r.name.as_deref()),
        Some("w")
    );
    assert_eq!(only.series.as_ref().map(|s| s.count), Some(2));
    cluster.cleanup().await.unwrap();
}
