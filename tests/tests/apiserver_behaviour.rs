//! The API behaviour the binaries rely on, checked through `kube::Client` against the test
//! server (or against a real cluster with `E2E_KUBECONFIG`, which must behave the same).

use std::{path::Path, time::Duration};

use futures::{StreamExt, TryStreamExt};
use guardrails_e2e::{
    apiserver::faults::Fault,
    kit::{TestCluster, wait_for_deletion, wait_for_object},
};
use k8s_openapi::api::{coordination::v1::Lease, core::v1::Secret};
use kube::{
    Api, ResourceExt,
    api::{
        DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
        WatchParams,
    },
    runtime::{WatchStreamExt, watcher},
};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);

async fn cluster() -> (TestCluster, Api<DynamicObject>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crds");
    let cluster = TestCluster::with_crds(&dir).await.unwrap();
    let widgets = cluster
        .api_for("e2e.guardrails.io", "v1", "Widget")
        .await
        .unwrap();
    (cluster, widgets)
}

fn widget(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "e2e.guardrails.io/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec
    }))
    .unwrap()
}

fn api_error(err: kube::Error) -> kube::core::Status {
    match err {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other}"),
    }
}

async fn create(widgets: &Api<DynamicObject>, name: &str, spec: Value) -> DynamicObject {
    widgets
        .create(&PostParams::default(), &widget(name, spec))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_replace_with_a_stale_resource_version_conflicts() {
    let (cluster, widgets) = cluster().await;
    let first = create(&widgets, "w", json!({"text": "a", "size": 1})).await;
    let mut newer = first.clone();
    newer.data["spec"]["size"] = json!(2);
    widgets
        .replace("w", &PostParams::default(), &newer)
        .await
        .unwrap();
    let mut stale = first.clone();
    stale.data["spec"]["size"] = json!(3);
    let status = api_error(
        widgets
            .replace("w", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 409);
    assert!(
        status.message.contains("the object has been modified"),
        "{}",
        status.message
    );
    assert_eq!(widgets.get("w").await.unwrap().data["spec"]["size"], 2);
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_lease_taken_with_a_stale_version_conflicts() {
    let (cluster, _) = cluster().await;
    let leases: Api<Lease> = Api::namespaced(cluster.client(), cluster.namespace());
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "leader"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}
    }))
    .unwrap();
    let held = leases.create(&PostParams::default(), &lease).await.unwrap();
    let mut by_b = held.clone();
    by_b.spec.as_mut().unwrap().holder_identity = Some("b".into());
    leases
        .replace("leader", &PostParams::default(), &by_b)
        .await
        .unwrap();
    let mut by_c = held;
    by_c.spec.as_mut().unwrap().holder_identity = Some("c".into());
    assert_eq!(
        api_error(
            leases
                .replace("leader", &PostParams::default(), &by_c)
                .await
                .unwrap_err()
        )
        .code,
        409
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn generation_bumps_only_when_the_spec_changes() {
    let (cluster, widgets) = cluster().await;
    let merge = |v: Value| Patch::Merge(v);
    let pp = PatchParams::default();
    assert_eq!(
        create(&widgets, "w", json!({"text": "a"}))
            .await
            .metadata
            .generation,
        Some(1)
    );
    let labelled = widgets
        .patch(
            "w",
            &pp,
            &merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(1));
    let status = widgets
        .patch_status("w", &pp, &merge(json!({"status": {"phase": "Running"}})))
        .await
        .unwrap();
    assert_eq!(status.metadata.generation, Some(1));
    let resized = widgets
        .patch("w", &pp, &merge(json!({"spec": {"size": 4}})))
        .await
        .unwrap();
    assert_eq!(resized.metadata.generation, Some(2));
    let same = widgets
        .patch("w", &pp, &merge(json!({"spec": {"size": 4}})))
        .await
        .unwrap();
    assert_eq!(same.metadata.generation, Some(2));
    assert_eq!(
        same.metadata.resource_version, resized.metadata.resource_version,
        "a no-op write stores nothing"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_status_subresource_and_the_main_resource_ignore_each_others_fields() {
    let (cluster, widgets) = cluster().await;
    let pp = PatchParams::default();
    create(&widgets, "w", json!({"text": "a", "size": 1})).await;
    let via_main = widgets
        .patch(
            "w",
            &pp,
            &Patch::Merge(json!({"spec": {"size": 2}, "status": {"phase": "Sneaky"}})),
        )
        .await
        .unwrap();
    assert_eq!(via_main.data["spec"]["size"], 2);
    assert_eq!(via_main.data.get("status"), None);
    let via_status = widgets
        .patch_status(
            "w",
            &pp,
            &Patch::Merge(json!({"spec": {"size": 9}, "status": {"phase": "Running"}})),
        )
        .await
        .unwrap();
    assert_eq!(via_status.data["spec"]["size"], 2);
    assert_eq!(via_status.data["status"]["phase"], "Running");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_status_json_patch_and_replace_work_through_the_subresource() {
    let (cluster, widgets) = cluster().await;
    create(&widgets, "w", json!({"text": "a"})).await;
    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "add", "path": "/status", "value": {"phase": "Pending"}}
    ]))
    .unwrap();
    let patched = widgets
        .patch_status("w", &PatchParams::default(), &Patch::<()>::Json(ops))
        .await
        .unwrap();
    assert_eq!(patched.data["status"]["phase"], "Pending");
    let mut next = patched.clone();
    next.data["status"]["phase"] = json!("Running");
    let replaced = widgets
        .replace_status("w", &PostParams::default(), &next)
        .await
        .unwrap();
    assert_eq!(replaced.data["status"]["phase"], "Running");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn two_apply_managers_keep_their_own_status_subtrees() {
    let (cluster, widgets) = cluster().await;
    create(&widgets, "w", json!({"text": "a"})).await;
    let apply = |manager: &'static str, status: Value| {
        let widgets = widgets.clone();
        async move {
            let body = json!({"apiVersion": "e2e.guardrails.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "status": status});
            widgets
                .patch_status("w", &PatchParams::apply(manager), &Patch::Apply(body))
                .await
        }
    };
    apply("operator", json!({"phase": "Succeeded", "result": {"detected": 2}, "conditions": [{"type": "Analyzed", "status": "True"}]}))
        .await
        .unwrap();
    apply("agent", json!({"delivery": {"phase": "Pending"}, "conditions": [{"type": "Delivered", "status": "False"}]}))
        .await
        .unwrap();
    apply("operator", json!({"phase": "Succeeded", "result": {"detected": 3}, "conditions": [{"type": "Analyzed", "status": "True"}]}))
        .await
        .unwrap();
    let w = widgets.get("w").await.unwrap();
    assert_eq!(w.data["status"]["result"]["detected"], 3);
    assert_eq!(
        w.data["status"]["delivery"]["phase"], "Pending",
        "the agent's subtree survives the operator's apply"
    );
    let mut types: Vec<&str> = w.data["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(types, ["Analyzed", "Delivered"]);
    let managers: Vec<String> = w
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.contains(&"operator".to_string()) && managers.contains(&"agent".to_string()),
        "{managers:?}"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_apply_over_another_managers_field_conflicts_unless_forced() {
    let (cluster, widgets) = cluster().await;
    create(&widgets, "w", json!({"text": "a"})).await;
    let body = |phase: &str| json!({"apiVersion": "e2e.guardrails.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "status": {"phase": phase}});
    widgets
        .patch_status(
            "w",
            &PatchParams::apply("operator"),
            &Patch::Apply(body("Running")),
        )
        .await
        .unwrap();
    let status = api_error(
        widgets
            .patch_status(
                "w",
                &PatchParams::apply("agent"),
                &Patch::Apply(body("Failed")),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 409);
    assert!(status.message.contains("operator"), "{}", status.message);
    let forced = widgets
        .patch_status(
            "w",
            &PatchParams::apply("agent").force(),
            &Patch::Apply(body("Failed")),
        )
        .await
        .unwrap();
    assert_eq!(forced.data["status"]["phase"], "Failed");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn schema_and_cel_refusals_name_the_field_and_the_rule() {
    let (cluster, widgets) = cluster().await;
    let refuse = |spec: Value| {
        let widgets = widgets.clone();
        async move {
            api_error(
                widgets
                    .create(&PostParams::default(), &widget("bad", spec))
                    .await
                    .unwrap_err(),
            )
        }
    };
    let enum_error = refuse(json!({"text": "a", "mode": "warp"})).await;
    assert_eq!(enum_error.code, 422);
    assert!(
        enum_error
            .message
            .contains("spec.mode: Unsupported value: \"warp\""),
        "{}",
        enum_error.message
    );
    let bound = refuse(json!({"text": "a", "size": 11})).await;
    assert!(bound.message.contains("spec.size"), "{}", bound.message);
    let cel = refuse(json!({"size": 1})).await;
    assert!(
        cel.message
            .contains("exactly one of spec.text and spec.textFrom must be set"),
        "{}",
        cel.message
    );
    create(&widgets, "w", json!({"text": "a", "owner": "team-a"})).await;
    let transition = api_error(
        widgets
            .patch(
                "w",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"owner": "team-b"}})),
            )
            .await
            .unwrap_err(),
    );
    assert!(
        transition.message.contains("owner is immutable"),
        "{}",
        transition.message
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn lists_page_with_limit_and_continue_and_filter_by_label() {
    let (cluster, widgets) = cluster().await;
    for i in 0..5 {
        let mut w = widget(&format!("w{i}"), json!({"text": "a"}));
        w.metadata.labels = Some(
            [(
                "parity".to_string(),
                if i % 2 == 0 { "even" } else { "odd" }.to_string(),
            )]
            .into(),
        );
        widgets.create(&PostParams::default(), &w).await.unwrap();
    }
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(2);
    loop {
        let page = widgets.list(&params).await.unwrap();
        assert!(page.items.len() <= 2);
        names.extend(page.items.iter().map(|w| w.name_any()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => {
                params = ListParams::default().limit(2).continue_token(&token)
            }
            _ => break,
        }
    }
    names.sort();
    assert_eq!(names, ["w0", "w1", "w2", "w3", "w4"]);
    let odd = widgets
        .list(&ListParams::default().labels("parity=odd"))
        .await
        .unwrap();
    let mut odd_names: Vec<String> = odd.items.iter().map(|w| w.name_any()).collect();
    odd_names.sort();
    assert_eq!(odd_names, ["w1", "w3"]);
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn deleting_an_owner_deletes_the_secrets_it_owns() {
    let (cluster, widgets) = cluster().await;
    let owner = create(&widgets, "w", json!({"text": "a"})).await;
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), cluster.namespace());
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "w-result", "ownerReferences": [{
            "apiVersion": "e2e.guardrails.io/v1", "kind": "Widget", "name": "w", "uid": owner.uid().unwrap(), "controller": true
        }]},
        "stringData": {"result": "{}"}
    }))
    .unwrap();
    let stored = secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    assert!(
        stored.data.unwrap().contains_key("result"),
        "stringData is stored as data"
    );
    widgets.delete("w", &DeleteParams::default()).await.unwrap();
    wait_for_deletion(&secrets, "w-result", DEADLINE, &[])
        .await
        .unwrap();
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_finalizer_holds_deletion_until_it_is_removed() {
    let (cluster, widgets) = cluster().await;
    let mut w = widget("w", json!({"text": "a"}));
    w.metadata.finalizers = Some(vec!["e2e.guardrails.io/cleanup".into()]);
    widgets.create(&PostParams::default(), &w).await.unwrap();
    widgets.delete("w", &DeleteParams::default()).await.unwrap();
    let marked = widgets.get("w").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": ["e2e.guardrails.io/cleanup"]},
        {"op": "replace", "path": "/metadata/finalizers", "value": []}
    ]))
    .unwrap();
    widgets
        .patch("w", &PatchParams::default(), &Patch::<()>::Json(ops))
        .await
        .unwrap();
    wait_for_deletion(&widgets, "w", DEADLINE, &[])
        .await
        .unwrap();
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_watcher_sees_additions_changes_and_deletions_in_order() {
    let (cluster, widgets) = cluster().await;
    let mut events = watcher(widgets.clone(), watcher::Config::default()).boxed();
    let listed = tokio::time::timeout(DEADLINE, async {
        while let Some(event) = events.try_next().await.unwrap() {
            if matches!(event, watcher::Event::InitDone) {
                return;
            }
        }
    });
    listed.await.expect("the initial list completes");
    widgets
        .create(&PostParams::default(), &widget("w", json!({"text": "a"})))
        .await
        .unwrap();
    widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 5}})),
        )
        .await
        .unwrap();
    widgets.delete("w", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    let watched = tokio::time::timeout(DEADLINE, async {
        while let Some(event) = events.try_next().await.unwrap() {
            match event {
                watcher::Event::Apply(o) => {
                    seen.push(format!("apply size={}", o.data["spec"]["size"]))
                }
                watcher::Event::Delete(_) => {
                    seen.push("delete".into());
                    return;
                }
                other => seen.push(format!("{other:?}")),
            }
        }
    });
    let finished = watched.await.is_ok();
    assert!(finished, "the watcher saw only {seen:?}");
    assert_eq!(seen, ["apply size=null", "apply size=5", "delete"]);
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_watch_from_a_compacted_version_is_gone_and_the_watcher_recovers() {
    let (cluster, widgets) = cluster().await;
    let Some(server) = cluster.needs_test_server("compact the history on demand") else {
        return;
    };
    let old = create(&widgets, "old", json!({"text": "a"}))
        .await
        .resource_version()
        .unwrap();
    create(&widgets, "newer", json!({"text": "a"})).await;
    server.compact();
    let mut raw = widgets
        .watch(&WatchParams::default(), &old)
        .await
        .unwrap()
        .boxed();
    match tokio::time::timeout(DEADLINE, raw.next()).await.unwrap() {
        Some(Ok(WatchEvent::Error(status))) => assert_eq!(status.code, 410),
        other => panic!("expected a 410 event, got {other:?}"),
    }

    let mut objects = watcher(widgets.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    tokio::time::timeout(DEADLINE, objects.try_next())
        .await
        .unwrap()
        .unwrap();
    server.close_watches();
    server.compact();
    create(&widgets, "after", json!({"text": "a"})).await;
    let found = tokio::time::timeout(DEADLINE, async {
        loop {
            match objects.next().await {
                Some(Ok(o)) if o.name_any() == "after" => return o,
                Some(_) => continue,
                None => panic!("the watcher ended"),
            }
        }
    })
    .await
    .expect("the watcher re-lists after its watch closed and sees the new object");
    assert_eq!(found.data["spec"]["text"], "a");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn injected_faults_fail_only_the_chosen_requests() {
    let (cluster, widgets) = cluster().await;
    let Some(server) = cluster.needs_test_server("inject faults") else {
        return;
    };
    create(&widgets, "w", json!({"text": "a"})).await;
    server.inject(
        Fault::respond(500)
            .on_method("PATCH")
            .on_path_containing("/status")
            .times(1),
    );
    let pp = PatchParams::default();
    let body = Patch::Merge(json!({"status": {"phase": "Running"}}));
    assert_eq!(
        api_error(widgets.patch_status("w", &pp, &body).await.unwrap_err()).code,
        500
    );
    widgets.get("w").await.unwrap();
    let ok = widgets.patch_status("w", &pp, &body).await.unwrap();
    assert_eq!(ok.data["status"]["phase"], "Running");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_kube_client_retries_a_503_by_itself() {
    let (cluster, widgets) = cluster().await;
    let Some(server) = cluster.needs_test_server("inject faults") else {
        return;
    };
    create(&widgets, "w", json!({"text": "a"})).await;
    server.inject(
        Fault::respond(503)
            .on_method("PATCH")
            .on_path_containing("/widgets/w")
            .times(2),
    );
    let pp = PatchParams::default();
    let ok = widgets
        .patch_status(
            "w",
            &pp,
            &Patch::Merge(json!({"status": {"phase": "Running"}})),
        )
        .await
        .unwrap();
    assert_eq!(ok.data["status"]["phase"], "Running");
    let patches = server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path_and_query.contains("/widgets/w"))
        .count();
    assert_eq!(patches, 3, "two refused attempts and the one that passed");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_dry_run_validates_without_storing() {
    let (cluster, widgets) = cluster().await;
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let answer = widgets
        .create(&dry, &widget("w", json!({"text": "a"})))
        .await
        .unwrap();
    assert_eq!(answer.data["spec"]["mode"], "fast");
    assert!(widgets.get_opt("w").await.unwrap().is_none());
    assert_eq!(
        api_error(
            widgets
                .create(&dry, &widget("w", json!({"size": 1})))
                .await
                .unwrap_err()
        )
        .code,
        422
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn generate_name_gives_a_fresh_name_for_every_object() {
    let (cluster, widgets) = cluster().await;
    let mut w = widget("", json!({"text": "a"}));
    w.metadata.name = None;
    w.metadata.generate_name = Some("task-".into());
    let a = widgets.create(&PostParams::default(), &w).await.unwrap();
    let b = widgets.create(&PostParams::default(), &w).await.unwrap();
    assert!(a.name_any().starts_with("task-") && b.name_any().starts_with("task-"));
    assert_ne!(a.name_any(), b.name_any());
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_wrong_token_is_unauthorised() {
    let (cluster, _) = cluster().await;
    let Some(server) = cluster.needs_test_server("check the token it issues") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    guardrails_e2e::apiserver::kubeconfig::write(&path, &server.url(), "wrong-token", "default")
        .unwrap();
    let client = guardrails_e2e::apiserver::client_from_kubeconfig(&path)
        .await
        .unwrap();
    let err = Api::<Secret>::namespaced(client, "default")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_error(err).code, 401);
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn waiting_for_a_condition_that_never_holds_shows_the_object() {
    let (cluster, widgets) = cluster().await;
    create(&widgets, "w", json!({"text": "a"})).await;
    let err = wait_for_object(
        &widgets,
        "w",
        "phase Succeeded",
        Duration::from_millis(200),
        &[],
        |w| w.data.pointer("/status/phase") == Some(&json!("Succeeded")),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("phase Succeeded"), "{err}");
    assert!(
        err.contains("text: a"),
        "the last seen object is shown: {err}"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_streaming_list_watcher_gets_the_initial_objects_then_changes() {
    let (cluster, widgets) = cluster().await;
    create(&widgets, "before", json!({"text": "a"})).await;
    let config = watcher::Config::default().streaming_lists();
    let mut objects = watcher(widgets.clone(), config).applied_objects().boxed();
    let first = tokio::time::timeout(DEADLINE, objects.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.name_any(), "before");
    create(&widgets, "after", json!({"text": "a"})).await;
    let next = tokio::time::timeout(DEADLINE, objects.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(next.name_any(), "after");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_object_leaving_a_label_selector_is_a_deletion_for_that_watch() {
    let (cluster, widgets) = cluster().await;
    let mut w = widget("w", json!({"text": "a"}));
    w.metadata.labels = Some([("tier".to_string(), "gold".to_string())].into());
    widgets.create(&PostParams::default(), &w).await.unwrap();
    let mut events = watcher(
        widgets.clone(),
        watcher::Config::default().labels("tier=gold"),
    )
    .boxed();
    tokio::time::timeout(DEADLINE, async {
        while let Some(event) = events.try_next().await.unwrap() {
            if matches!(event, watcher::Event::InitDone) {
                return;
            }
        }
    })
    .await
    .unwrap();
    let relabel = Patch::Merge(json!({"metadata": {"labels": {"tier": "silver"}}}));
    widgets
        .patch("w", &PatchParams::default(), &relabel)
        .await
        .unwrap();
    let event = tokio::time::timeout(DEADLINE, events.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(event, watcher::Event::Delete(ref o) if o.name_any() == "w"),
        "{event:?}"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn metadata_only_reads_and_watches_carry_the_metadata() {
    let (cluster, widgets) = cluster().await;
    create(&widgets, "w", json!({"text": "a"})).await;
    let meta = widgets.get_metadata("w").await.unwrap();
    assert_eq!(meta.name_any(), "w");
    assert!(meta.metadata.uid.is_some());
    let listed = widgets.list_metadata(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let resource = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("e2e.guardrails.io", "v1", "Widget"),
        "widgets",
    );
    let meta_api: Api<kube::core::PartialObjectMeta<DynamicObject>> =
        Api::namespaced_with(cluster.client(), cluster.namespace(), &resource);
    let mut watched = watcher(meta_api, watcher::Config::default())
        .applied_objects()
        .boxed();
    let first = tokio::time::timeout(DEADLINE, watched.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.name_any(), "w");
    cluster.cleanup().await.unwrap();
}
