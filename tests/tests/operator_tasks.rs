//! The real `guardrails-operator` binary against the test API server (or the real cluster named
//! by `E2E_KUBECONFIG`): tasks end Succeeded or Failed as a user would check with kubectl.

use std::{collections::BTreeMap, time::Duration};

use base64::Engine as _;
use guardrails_e2e::kit::{
    BinarySpec, Probe, RunningBinary, TestCluster, wait_for, wait_for_deletion, wait_for_object,
};
use k8s_openapi::api::{core::v1::Secret, events::v1::Event};
use kube::{
    Api,
    api::{DynamicObject, ListParams, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(60);

/// A free loopback port for the operator's metrics server.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The operator scoped to the test namespace, with a short grace for missing text Secrets.
fn operator(cluster: &TestCluster) -> BinarySpec {
    BinarySpec::new("guardrails-operator", "guardrails-operator")
        .kubeconfig(cluster.kubeconfig_path())
        .args([
            "--namespace",
            cluster.namespace(),
            "--text-secret-grace",
            "1s",
        ])
        .args(["--listen".to_owned(), format!("127.0.0.1:{}", free_port())])
        .env("RUST_LOG", "info")
}

async fn tasks_api(cluster: &TestCluster) -> Api<DynamicObject> {
    cluster
        .api_for("guardrails.io", "v1alpha1", "AnalysisTask")
        .await
        .unwrap()
}

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

fn finished(obj: &DynamicObject) -> bool {
    matches!(phase(obj), Some("Succeeded" | "Failed"))
}

async fn wait_finished(
    tasks: &Api<DynamicObject>,
    name: &str,
    procs: &[&RunningBinary],
) -> DynamicObject {
    wait_for_object(tasks, name, "the task to finish", DEADLINE, procs, finished)
        .await
        .unwrap()
}

/// The `result.json` of a task's result Secret.
async fn stored_result(cluster: &TestCluster, secret: &str) -> (Secret, Value) {
    let secret = Api::<Secret>::namespaced(cluster.client(), cluster.namespace())
        .get(secret)
        .await
        .unwrap();
    let bytes = &secret.data.as_ref().expect("data")["result.json"].0;
    let json = serde_json::from_slice(bytes).expect("result.json is JSON");
    (secret, json)
}

/// Reasons of the Events about `name`, in creation order.
async fn event_reasons(cluster: &TestCluster, name: &str) -> Vec<String> {
    let events = Api::<Event>::namespaced(cluster.client(), cluster.namespace())
        .list(&ListParams::default())
        .await
        .unwrap();
    events
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .filter_map(|e| e.reason)
        .collect()
}

/// How many log lines of `procs` contain both `needle` and `uid`.
fn log_lines_with(procs: &[&RunningBinary], needle: &str, uid: &str) -> usize {
    procs
        .iter()
        .map(|p| {
            p.logs()
                .lines()
                .filter(|l| l.contains(needle) && l.contains(uid))
                .count()
        })
        .sum()
}

#[tokio::test]
async fn an_inline_task_succeeds_with_a_pii_free_summary_and_a_result_secret() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let op = RunningBinary::start(operator(&cluster)).await.unwrap();
    let spec = json!({"text": "Card 4111 1111 1111 1111, mail jane.doe@example.com", "frameworks": ["PCI_DSS"], "includeRedaction": true});
    let created = tasks
        .create(&PostParams::default(), &task("inline", spec))
        .await
        .unwrap();

    let done = wait_finished(&tasks, "inline", &[&op]).await;
    let status = &done.data["status"];
    assert_eq!(phase(&done), Some("Succeeded"), "{status}");
    assert_eq!(status["result"]["pii"]["detected"], 2, "{status}");
    assert_eq!(status["result"]["pii"]["byType"]["CREDIT_CARD"], 1);
    assert_eq!(status["result"]["compliance"]["compliant"], false);
    assert_eq!(status["result"]["risk"]["overallLevel"], "critical");
    assert!(status["startedAt"].is_string() && status["completedAt"].is_string());
    assert_eq!(status["conditions"][0]["type"], "Analyzed");
    assert_eq!(status["conditions"][0]["status"], "True");
    let status_text = status.to_string();
    assert!(
        !status_text.contains("4111") && !status_text.contains("jane.doe"),
        "PII in status: {status_text}"
    );

    let secret_name = status["resultSecretRef"]["name"].as_str().unwrap();
    assert_eq!(secret_name, "inline-result");
    let (secret, result) = stored_result(&cluster, secret_name).await;
    let owner = &secret.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(Some(&owner.uid), created.metadata.uid.as_ref());
    assert_eq!(owner.controller, Some(true));
    assert_eq!(result["status"], "success");
    let values: Vec<&str> = result["pii"]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["value"].as_str())
        .collect();
    assert!(values.contains(&"jane.doe@example.com"), "{result}");
    assert!(
        !result["redacted_text"]
            .as_str()
            .unwrap()
            .contains("jane.doe"),
        "{result}"
    );
    assert!(
        event_reasons(&cluster, "inline").await.is_empty(),
        "a success needs no one to act: no Event"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_task_reading_its_text_from_a_secret_succeeds() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let secrets = Api::<Secret>::namespaced(cluster.client(), cluster.namespace());
    let input: Secret = serde_json::from_value(json!({
        "metadata": {"name": "input"},
        "stringData": {"text": "Patient SSN 536-22-1234"},
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &input)
        .await
        .unwrap();
    let op = RunningBinary::start(operator(&cluster)).await.unwrap();
    let spec = json!({"textFrom": {"secretKeyRef": {"name": "input", "key": "text"}}, "frameworks": ["HIPAA"]});
    tasks
        .create(&PostParams::default(), &task("from-secret", spec))
        .await
        .unwrap();

    let done = wait_finished(&tasks, "from-secret", &[&op]).await;
    assert_eq!(phase(&done), Some("Succeeded"), "{}", done.data["status"]);
    assert_eq!(
        done.data["status"]["result"]["pii"]["byType"]["US_SSN"], 1,
        "{}",
        done.data["status"]
    );
    let (_, result) = stored_result(&cluster, "from-secret-result").await;
    assert_eq!(result["pii"]["entities"][0]["value"], "536-22-1234");
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_task_whose_text_secret_is_missing_fails_with_a_clear_error() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let op = RunningBinary::start(operator(&cluster)).await.unwrap();
    let spec = json!({"textFrom": {"secretKeyRef": {"name": "nowhere", "key": "text"}}});
    tasks
        .create(&PostParams::default(), &task("missing", spec))
        .await
        .unwrap();

    let done = wait_finished(&tasks, "missing", &[&op]).await;
    let status = &done.data["status"];
    assert_eq!(phase(&done), Some("Failed"), "{status}");
    assert!(
        status["error"]
            .as_str()
            .unwrap()
            .contains("Secret `nowhere`"),
        "{status}"
    );
    assert_eq!(status["conditions"][0]["reason"], "TextSecretNotFound");
    assert!(status.get("resultSecretRef").is_none());
    // The Warning Event is published just after the status write.
    let reasons = wait_for("the task's Warning Event", DEADLINE, &[&op], || async {
        match event_reasons(&cluster, "missing").await {
            reasons if reasons.is_empty() => Probe::Pending("no Event yet".into()),
            reasons => Probe::Ready(reasons),
        }
    })
    .await
    .unwrap();
    assert_eq!(reasons, vec!["TextSecretNotFound"]);
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_text_over_the_limit_fails_the_task() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let op = RunningBinary::start(operator(&cluster).args(["--max-text-bytes", "16"]))
        .await
        .unwrap();
    tasks
        .create(
            &PostParams::default(),
            &task("big", json!({"text": "x".repeat(17)})),
        )
        .await
        .unwrap();
    let done = wait_finished(&tasks, "big", &[&op]).await;
    assert_eq!(phase(&done), Some("Failed"));
    assert_eq!(
        done.data["status"]["conditions"][0]["reason"],
        "TextTooLarge"
    );
    assert!(
        done.data["status"]["error"]
            .as_str()
            .unwrap()
            .contains("17 bytes")
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_agents_delivery_status_survives_the_operators_writes() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    tasks
        .create(
            &PostParams::default(),
            &task("shared", json!({"text": "nothing to see"})),
        )
        .await
        .unwrap();
    let agent_status = json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask", "metadata": {"name": "shared"},
        "status": {"delivery": {"phase": "NotRequested"}, "conditions": [{
            "type": "Delivered", "status": "False", "reason": "NotRequested", "message": "",
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    });
    tasks
        .patch_status(
            "shared",
            &PatchParams::apply("guardrails-agent"),
            &Patch::Apply(&agent_status),
        )
        .await
        .unwrap();
    let op = RunningBinary::start(operator(&cluster)).await.unwrap();

    let done = wait_finished(&tasks, "shared", &[&op]).await;
    let status = &done.data["status"];
    assert_eq!(status["delivery"]["phase"], "NotRequested", "{status}");
    let types: Vec<&str> = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    assert!(
        types.contains(&"Delivered") && types.contains(&"Analyzed"),
        "{status}"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_task_left_running_with_its_result_secret_is_finished_from_it_after_a_restart() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let mut first = RunningBinary::start(operator(&cluster)).await.unwrap();
    tasks
        .create(
            &PostParams::default(),
            &task("resumed", json!({"text": "mail jane@example.com"})),
        )
        .await
        .unwrap();
    let done = wait_finished(&tasks, "resumed", &[&first]).await;
    let uid = done.metadata.uid.clone().unwrap();
    first.stop(Duration::from_secs(10)).await.unwrap();

    // What a crash between storing the result and writing Succeeded leaves behind.
    let crashed = json!({"status": {
        "phase": "Running", "completedAt": null, "result": null, "resultSecretRef": null, "conditions": null
    }});
    tasks
        .patch_status("resumed", &PatchParams::default(), &Patch::Merge(&crashed))
        .await
        .unwrap();
    assert_eq!(phase(&tasks.get("resumed").await.unwrap()), Some("Running"));

    let second = RunningBinary::start(operator(&cluster)).await.unwrap();
    let again = wait_finished(&tasks, "resumed", &[&second]).await;
    assert_eq!(phase(&again), Some("Succeeded"));
    assert_eq!(again.data["status"]["result"]["pii"]["detected"], 1);
    assert_eq!(
        log_lines_with(
            &[&second],
            "finishing from the existing result Secret",
            &uid
        ),
        1,
        "{}",
        second.logs()
    );
    assert_eq!(
        log_lines_with(&[&second], "analysis started", &uid),
        0,
        "not analysed again"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_operator_killed_mid_run_leaves_every_task_completed_once_after_restart() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let names: Vec<String> = (0..60).map(|i| format!("batch-{i}")).collect();
    for name in &names {
        tasks
            .create(
                &PostParams::default(),
                &task(name, json!({"text": "Call 212-555-0199 or mail a@b.io"})),
            )
            .await
            .unwrap();
    }
    let mut first = RunningBinary::start(operator(&cluster).args(["--concurrency", "2"]))
        .await
        .unwrap();
    wait_for("some tasks to finish", DEADLINE, &[&first], || {
        let tasks = tasks.clone();
        async move {
            let list = tasks.list(&ListParams::default()).await.unwrap();
            let done = list.items.iter().filter(|t| finished(t)).count();
            if done >= 1 {
                Probe::Ready(())
            } else {
                Probe::Pending(format!("{done} finished"))
            }
        }
    })
    .await
    .unwrap();
    first.kill().await.unwrap();

    let second = RunningBinary::start(operator(&cluster)).await.unwrap();
    for name in &names {
        let done = wait_finished(&tasks, name, &[&first, &second]).await;
        assert_eq!(
            phase(&done),
            Some("Succeeded"),
            "{name}: {}",
            done.data["status"]
        );
        let uid = done.metadata.uid.clone().unwrap();
        let successes = log_lines_with(&[&first, &second], "analysis succeeded", &uid);
        assert!(successes <= 1, "{name} succeeded {successes} times");
    }
    let secrets = Api::<Secret>::namespaced(cluster.client(), cluster.namespace());
    let stored = secrets
        .list(&ListParams::default().labels("app.kubernetes.io/component=analysis-result"))
        .await
        .unwrap();
    assert_eq!(
        stored.items.len(),
        names.len(),
        "one result Secret per task"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn two_replicas_with_leader_election_analyse_each_task_once() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let replica = |id: &str| {
        operator(&cluster)
            .args([
                "--leader-election",
                "--lease-duration-seconds",
                "4",
                "--identity",
                id,
            ])
            .args(["--lease-namespace", cluster.namespace()])
    };
    let a = RunningBinary::start(replica("replica-a")).await.unwrap();
    let b = RunningBinary::start(replica("replica-b")).await.unwrap();
    let names: Vec<String> = (0..20).map(|i| format!("pair-{i}")).collect();
    for name in &names {
        tasks
            .create(
                &PostParams::default(),
                &task(name, json!({"text": "mail jane@example.com"})),
            )
            .await
            .unwrap();
    }
    let mut uids = BTreeMap::new();
    for name in &names {
        let done = wait_finished(&tasks, name, &[&a, &b]).await;
        uids.insert(name.clone(), done.metadata.uid.clone().unwrap());
    }
    for (name, uid) in &uids {
        assert_eq!(
            log_lines_with(&[&a, &b], "analysis started", uid),
            1,
            "{name} was not analysed exactly once"
        );
        assert!(event_reasons(&cluster, name).await.is_empty(), "{name}");
    }
    let leader_logged = |p: &RunningBinary| p.logs().contains("leading: reconciling tasks");
    assert!(
        leader_logged(&a) ^ leader_logged(&b),
        "exactly one replica leads"
    );

    // The leader stops; the other takes over and analyses new tasks.
    let (mut leader, standby) = if leader_logged(&a) { (a, b) } else { (b, a) };
    assert_eq!(
        leader.stop(Duration::from_secs(20)).await.unwrap().code(),
        Some(0),
        "{}",
        leader.logs()
    );
    let standby = &standby;
    tasks
        .create(
            &PostParams::default(),
            &task("after-handover", json!({"text": "hello"})),
        )
        .await
        .unwrap();
    let done = wait_finished(&tasks, "after-handover", &[standby]).await;
    assert_eq!(phase(&done), Some("Succeeded"));
    assert!(
        standby.logs().contains("leading: reconciling tasks"),
        "{}",
        standby.logs()
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_finished_task_is_deleted_with_its_result_secret_after_its_ttl() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let op = RunningBinary::start(operator(&cluster)).await.unwrap();
    // NB: `completedAt` has whole seconds, as Kubernetes' timestamps do, so a TTL of 1 can
    // delete a task that finished late in a second within milliseconds, before the test sees it
    // finished; with 2 it stays finished for at least a second.
    tasks
        .create(
            &PostParams::default(),
            &task(
                "short-lived",
                json!({"text": "mail a@b.io", "ttlSecondsAfterFinished": 2}),
            ),
        )
        .await
        .unwrap();
    tasks
        .create(
            &PostParams::default(),
            &task("kept", json!({"text": "mail a@b.io"})),
        )
        .await
        .unwrap();
    wait_finished(&tasks, "short-lived", &[&op]).await;
    let secrets = Api::<Secret>::namespaced(cluster.client(), cluster.namespace());
    wait_for_deletion(&tasks, "short-lived", DEADLINE, &[&op])
        .await
        .unwrap();
    wait_for_deletion(&secrets, "short-lived-result", DEADLINE, &[&op])
        .await
        .unwrap();
    let kept = wait_finished(&tasks, "kept", &[&op]).await;
    assert_eq!(phase(&kept), Some("Succeeded"), "a task without TTL stays");
    assert!(secrets.get_opt("kept-result").await.unwrap().is_some());
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_pending_delivery_keeps_the_task_past_its_ttl() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let op = RunningBinary::start(operator(&cluster)).await.unwrap();
    let spec = json!({"text": "hi", "ttlSecondsAfterFinished": 1, "webhook": {"url": "https://hooks.example.com/x"}});
    tasks
        .create(&PostParams::default(), &task("waiting", spec))
        .await
        .unwrap();
    wait_finished(&tasks, "waiting", &[&op]).await;
    let pending = json!({"apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask", "metadata": {"name": "waiting"}, "status": {"delivery": {"phase": "Pending"}}});
    tasks
        .patch_status(
            "waiting",
            &PatchParams::apply("guardrails-agent"),
            &Patch::Apply(&pending),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        tasks.get_opt("waiting").await.unwrap().is_some(),
        "deleted while its delivery was pending"
    );
    let ended = json!({"apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask", "metadata": {"name": "waiting"}, "status": {"delivery": {"phase": "Failed"}}});
    tasks
        .patch_status(
            "waiting",
            &PatchParams::apply("guardrails-agent"),
            &Patch::Apply(&ended),
        )
        .await
        .unwrap();
    wait_for_deletion(&tasks, "waiting", DEADLINE, &[&op])
        .await
        .unwrap();
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn debug_logs_contain_none_of_the_submitted_pii() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let secrets = Api::<Secret>::namespaced(cluster.client(), cluster.namespace());
    let input: Secret = serde_json::from_value(json!({
        "metadata": {"name": "input"}, "stringData": {"text": "Ssn 078-05-1120 for zelda.quux@example.org"},
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &input)
        .await
        .unwrap();
    let mut op = RunningBinary::start(operator(&cluster).env("RUST_LOG", "debug"))
        .await
        .unwrap();
    let inline = json!({"text": "Card 5500 0000 0000 0004 of Quentin Zebulon, iban DE89370400440532013000", "includeRedaction": true});
    tasks
        .create(&PostParams::default(), &task("inline", inline))
        .await
        .unwrap();
    tasks
        .create(
            &PostParams::default(),
            &task(
                "secret",
                json!({"textFrom": {"secretKeyRef": {"name": "input", "key": "text"}}}),
            ),
        )
        .await
        .unwrap();
    for name in ["inline", "secret"] {
        assert_eq!(
            phase(&wait_finished(&tasks, name, &[&op]).await),
            Some("Succeeded")
        );
    }
    op.stop(Duration::from_secs(20)).await.unwrap();
    let logs = op.logs();
    assert!(
        logs.contains("analysis succeeded"),
        "debug logs were captured:\n{logs}"
    );
    for pii in [
        "078-05-1120",
        "zelda.quux",
        "5500 0000",
        "Zebulon",
        "DE89370400440532013000",
    ] {
        assert!(!logs.contains(pii), "`{pii}` appears in the logs");
    }
    let encoded = base64::engine::general_purpose::STANDARD
        .encode("Ssn 078-05-1120 for zelda.quux@example.org");
    assert!(
        !logs.contains(&encoded),
        "the Secret's base64 value appears in the logs"
    );
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn sigterm_stops_the_operator_cleanly_and_metrics_count_the_tasks() {
    let cluster = TestCluster::start().await.unwrap();
    let tasks = tasks_api(&cluster).await;
    let port = free_port();
    let spec = BinarySpec::new("guardrails-operator", "guardrails-operator")
        .kubeconfig(cluster.kubeconfig_path())
        .args([
            "--namespace".to_owned(),
            cluster.namespace().to_owned(),
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
        ]);
    let mut op = RunningBinary::start(spec).await.unwrap();
    tasks
        .create(
            &PostParams::default(),
            &task("counted", json!({"text": "mail a@b.io"})),
        )
        .await
        .unwrap();
    wait_finished(&tasks, "counted", &[&op]).await;

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = wait_for("the cache to count the task", DEADLINE, &[&op], || {
        let request = http.get(format!("{base}/metrics")).send();
        async move {
            let text = request.await.unwrap().text().await.unwrap();
            if text.contains("guardrails_operator_tasks{phase=\"Succeeded\"} 1") {
                Probe::Ready(text)
            } else {
                Probe::Pending(text)
            }
        }
    })
    .await
    .unwrap();
    assert!(
        metrics.contains("guardrails_operator_task_successes_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("guardrails_operator_analysis_duration_seconds_count 1"),
        "{metrics}"
    );

    let status = op.stop(Duration::from_secs(20)).await.unwrap();
    assert_eq!(status.code(), Some(0), "{}", op.logs());
}

#[tokio::test]
async fn bad_flags_and_a_missing_cluster_exit_with_code_2() {
    let mut bad_flag = RunningBinary::start(
        BinarySpec::new("guardrails-operator", "guardrails-operator")
            .args(["--max-text-bytes", "lots"]),
    )
    .await
    .unwrap();
    assert_eq!(bad_flag.wait_exit(DEADLINE).await.unwrap().code(), Some(2));
    assert!(
        bad_flag.logs().contains("--max-text-bytes"),
        "{}",
        bad_flag.logs()
    );

    let dir = tempfile::tempdir().unwrap();
    let no_cluster = BinarySpec::new("guardrails-operator", "guardrails-operator")
        .env(
            "KUBECONFIG",
            dir.path().join("absent").display().to_string(),
        )
        .env("KUBERNETES_SERVICE_HOST", "")
        .args(["--listen", "127.0.0.1:0"]);
    let mut no_cluster = RunningBinary::start(no_cluster).await.unwrap();
    assert_eq!(
        no_cluster.wait_exit(DEADLINE).await.unwrap().code(),
        Some(2),
        "{}",
        no_cluster.logs()
    );

    let mut help = RunningBinary::start(
        BinarySpec::new("guardrails-operator", "guardrails-operator").arg("--help"),
    )
    .await
    .unwrap();
    assert_eq!(help.wait_exit(DEADLINE).await.unwrap().code(), Some(0));
    for flag in [
        "--namespace",
        "--concurrency",
        "--analysis-timeout",
        "--default-ttl-seconds",
        "--log-format",
        "--leader-election",
        "GUARDRAILS_MAX_TEXT_BYTES",
    ] {
        assert!(help.logs().contains(flag), "--help does not explain {flag}");
    }
}
