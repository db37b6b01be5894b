//! Standalone mode keeps its promises across `kill -9`: a real process is killed with SIGKILL
//! and started again on the same data directory.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::process::Server;
use support::{Receiver, SECRET};

async fn submit(server: &Server, body: &Value) -> String {
    let answer = reqwest::Client::new()
        .post(server.url("/api/v1/analyze/async"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let submitted: Value = answer.json().await.unwrap();
    submitted["task_id"].as_str().unwrap().to_owned()
}

async fn task(server: &Server, task_id: &str) -> Value {
    let answer = reqwest::get(server.url(&format!("/api/v1/tasks/{task_id}")))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "task {task_id} is unknown");
    answer.json().await.unwrap()
}

/// Polls a task until `done` holds (60 s at most).
async fn wait_for(server: &Server, task_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let view = task(server, task_id).await;
        if done(&view) {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "task {task_id} never reached the expected state:\n{}",
        server.logs()
    );
}

#[tokio::test]
async fn accepted_tasks_survive_kill_9_and_the_queued_ones_are_analysed_after_restart() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data_dir = data.path().to_str().unwrap();
    let args = ["--analysis-workers", "1"];
    let mut server = Server::start(data_dir, &args, &[], logs.path()).await;
    let heavy = "Jane Doe, SSN 536-22-1234, card 4111 1111 1111 1111. ".repeat(16_000);
    let mut ids = vec![submit(&server, &json!({"text": heavy})).await];
    for _ in 0..5 {
        ids.push(submit(&server, &json!({"text": "Mail jane@example.com"})).await);
    }
    let last = task(&server, ids.last().unwrap()).await;
    assert_eq!(last["status"], "PENDING", "the queue was already empty");
    server.kill().await;

    let server = Server::start(data_dir, &args, &[], logs.path()).await;
    for id in &ids {
        let view = wait_for(&server, id, |v| v["status"] == "SUCCESS").await;
        assert!(
            view["result"]["pii"]["entities"]
                .as_array()
                .is_some_and(|e| !e.is_empty())
        );
    }
}

#[tokio::test]
async fn a_pending_webhook_resumes_after_kill_9_with_the_same_delivery_id() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data_dir = data.path().to_str().unwrap();
    let env = [
        ("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true"),
        ("WEBHOOK_SIGNING_SECRET", SECRET),
    ];
    let receiver = Receiver::start(vec![503]).await;
    let mut server = Server::start(data_dir, &[], &env, logs.path()).await;
    let task_id = submit(
        &server,
        &json!({"text": "SSN 536-22-1234", "webhook_url": receiver.url(), "sign_payload": true}),
    )
    .await;
    receiver.wait_for(1).await;
    server.kill().await;
    assert_eq!(
        receiver.received().len(),
        1,
        "the retry came before the kill"
    );

    let server = Server::start(data_dir, &[], &env, logs.path()).await;
    let view = wait_for(&server, &task_id, |v| v["webhook"]["status"] == "Succeeded").await;
    let received = receiver.received();
    assert_eq!(received.len(), 2, "{view}");
    assert_eq!(
        received[0].headers["x-guardrails-delivery"],
        received[1].headers["x-guardrails-delivery"],
    );
    assert_eq!(
        received[0].body, received[1].body,
        "the same event is sent again"
    );
    let attempts = view["webhook"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.last().unwrap()["outcome"], "succeeded", "{view}");
}

/// Presses the portal's Redeliver button of a task (a session from a first visit, then its form).
async fn press_redeliver(server: &Server, task_id: &str) -> u16 {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(server.url(&format!("/ui/tasks/{task_id}")))
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let start = html.find(r#"name="csrf" value=""#).unwrap() + 19;
    let token = &html[start..start + 64];
    client
        .post(server.url(&format!("/ui/tasks/{task_id}/redeliver")))
        .header("cookie", cookie)
        .form(&[("csrf", token)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_redelivery_round_is_kept_after_its_end_and_resumes_after_kill_9() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data_dir = data.path().to_str().unwrap();
    let env = [("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true")];
    // NB: 400 ends round 1 at once (not retried); round 2 gets a 503, then 200 after the restart.
    let receiver = Receiver::start(vec![400, 503]).await;
    let mut server = Server::start(data_dir, &[], &env, logs.path()).await;
    let task_id = submit(
        &server,
        &json!({"text": "SSN 536-22-1234", "webhook_url": receiver.url()}),
    )
    .await;
    wait_for(&server, &task_id, |v| v["webhook"]["status"] == "Failed").await;
    server.kill().await;

    let mut server = Server::start(data_dir, &[], &env, logs.path()).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "a failed delivery is not resumed"
    );
    assert_eq!(press_redeliver(&server, &task_id).await, 303);
    receiver.wait_for(2).await;
    server.kill().await;
    assert_eq!(
        receiver.received().len(),
        2,
        "round 2's first attempt came before the kill"
    );

    let server = Server::start(data_dir, &[], &env, logs.path()).await;
    let view = wait_for(&server, &task_id, |v| v["webhook"]["status"] == "Succeeded").await;
    assert_eq!(view["webhook"]["round"], 2, "{view}");
    let rounds: Vec<(u64, u64)> = view["webhook"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["round"].as_u64().unwrap(), a["number"].as_u64().unwrap()))
        .collect();
    assert_eq!(rounds, [(1, 1), (2, 1), (2, 2)], "{view}");
    let ids: Vec<_> = receiver
        .received()
        .iter()
        .map(|r| r.headers["x-guardrails-delivery"].clone())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one event id in every round"
    );
    assert_eq!(
        press_redeliver(&server, &task_id).await,
        409,
        "a delivered task stays delivered"
    );
}
