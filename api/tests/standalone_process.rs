//! The `guardrails-api --standalone` binary as a real process: what it logs and counts when it
//! refuses work.

mod support;

use serde_json::json;
use support::process::Server;

#[tokio::test]
async fn a_full_queue_answers_503_counted_and_never_logged_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        ":memory:",
        &["--analysis-workers", "1", "--max-queued-tasks", "1"],
        &[("RUST_LOG", "info")],
        dir.path(),
    )
    .await;
    let client = reqwest::Client::new();
    let text = "Jane Doe, SSN 536-22-1234, card 4111 1111 1111 1111. ".repeat(4000);
    let body = json!({"text": text, "include_redaction": true}).to_string();
    let submissions = (0..20).map(|_| {
        client
            .post(server.url("/api/v1/analyze/async"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    });
    let statuses: Vec<u16> = futures::future::join_all(submissions)
        .await
        .into_iter()
        .map(|answer| answer.unwrap().status().as_u16())
        .collect();
    let refused = statuses.iter().filter(|&&s| s == 503).count();
    assert!(refused > 0, "nothing was refused: {statuses:?}");
    assert!(
        statuses.iter().all(|&s| s == 202 || s == 503),
        "{statuses:?}"
    );
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!("guardrails_api_tasks_refused_total {refused}")),
        "{metrics}"
    );
    let logs = server.logs();
    assert!(!logs.contains("ERROR"), "{logs}");
    assert!(
        logs.contains("status=503"),
        "the refusals are answered and logged: {logs}"
    );
}
