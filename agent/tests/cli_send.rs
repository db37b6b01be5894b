//! `guardrails-agent send`, run as a process against loopback receivers.

mod fixtures;

use fixtures::{Receiver, Reply};
use guardrails_agent::{SigningSecret, Verifier};
use serde_json::Value;
use std::process::Output;
use tokio::process::Command;

/// Runs `guardrails-agent send` with none of the test environment's agent variables, plus `env`.
async fn send(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guardrails-agent"));
    command.arg("send").args(args);
    for name in [
        "WEBHOOK_SIGNING_SECRET",
        "ALLOWED_WEBHOOK_DOMAINS",
        "WEBHOOK_RATE_LIMIT_PER_MINUTE",
        "WEBHOOK_ALLOW_PRIVATE_DESTINATIONS",
        "WEBHOOK_ALLOWED_CIDRS",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "RUST_LOG",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test]
async fn a_200_prints_one_attempt_and_a_summary_and_exits_0() {
    let receiver = Receiver::start(vec![]).await;
    let output = send(
        &[
            "--url",
            &receiver.url(),
            "--allow-private",
            "--task-id",
            "uid-42",
        ],
        &[],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("attempt 1 ") && lines[0].contains("succeeded HTTP 200"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("succeeded: task.completed uid-42 to 127.0.0.1 after 1 attempt"),
        "{text}"
    );
    let body: Value = serde_json::from_slice(&receiver.received()[0].body).unwrap();
    assert_eq!(body["task"]["id"], "uid-42");
}

#[tokio::test]
async fn json_output_has_a_line_per_attempt_and_a_summary() {
    let receiver = Receiver::start(vec![Reply::Status(503)]).await;
    let output = send(
        &[
            "--url",
            &receiver.url(),
            "--allow-private",
            "--event",
            "failed",
            "--json",
        ],
        &[],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["attempt"]["httpStatus"], 503);
    assert_eq!(lines[1]["attempt"]["outcome"], "succeeded");
    assert_eq!(lines[2]["type"], "summary");
    assert_eq!(lines[2]["outcome"], "succeeded");
    assert_eq!(lines[2]["eventType"], "task.failed");
    assert_eq!(lines[2]["attempts"], 2);
}

#[tokio::test]
async fn the_secret_named_by_secret_env_signs_the_delivery() {
    let receiver = Receiver::start(vec![]).await;
    let output = send(
        &[
            "--url",
            &receiver.url(),
            "--allow-private",
            "--secret-env",
            "PARTNER_SECRET",
        ],
        &[("PARTNER_SECRET", "p4rtner")],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let request = &receiver.received()[0];
    let verifier = Verifier::new(vec![SigningSecret::new("p4rtner").unwrap()]);
    verifier
        .verify(&request.headers, &request.body, jiff::Timestamp::now())
        .unwrap();
    assert!(
        !stdout(&output).contains("p4rtner")
            && !String::from_utf8_lossy(&output.stderr).contains("p4rtner")
    );
}

#[tokio::test]
async fn a_payload_file_becomes_the_result() {
    let receiver = Receiver::start(vec![]).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        r#"{"status":"success","risk":{"overall_score":0.5}}"#,
    )
    .unwrap();
    let output = send(
        &[
            "--url",
            &receiver.url(),
            "--allow-private",
            "--payload",
            file.path().to_str().unwrap(),
        ],
        &[],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body: Value = serde_json::from_slice(&receiver.received()[0].body).unwrap();
    assert_eq!(body["result"]["risk"]["overall_score"], 0.5);
}

#[tokio::test]
async fn a_400_exits_1() {
    let receiver = Receiver::start(vec![Reply::Status(400)]).await;
    let output = send(&["--url", &receiver.url(), "--allow-private"], &[]).await;

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output)
            .lines()
            .last()
            .unwrap()
            .starts_with("failed:")
    );
}

#[tokio::test]
async fn loopback_without_allow_private_is_rejected_and_exits_1() {
    let receiver = Receiver::start(vec![]).await;
    let output = send(&["--url", &receiver.url()], &[]).await;

    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("rejected"), "{}", stdout(&output));
    assert!(receiver.received().is_empty());
}

/// Arguments, extra environment and the message expected on stderr.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[tokio::test]
async fn bad_usage_and_configuration_exit_2_with_a_clear_message() {
    let cases: [Case; 4] = [
        (&["--url", "ftp://partner.io/x"], &[], "scheme `ftp`"),
        (
            &[
                "--url",
                "https://partner.io/x",
                "--secret-env",
                "NOT_SET_ANYWHERE",
            ],
            &[],
            "`NOT_SET_ANYWHERE` is not set",
        ),
        (
            &["--url", "https://partner.io/x"],
            &[("WEBHOOK_ALLOWED_CIDRS", "10.0.0.0/99")],
            "10.0.0.0/99",
        ),
        (
            &["--url", "https://partner.io/x", "--event", "sideways"],
            &[],
            "invalid value 'sideways'",
        ),
    ];
    for (args, env, message) in cases {
        let output = send(args, env).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn the_rate_limiter_uses_redis_url_from_the_environment() {
    let redis = fixtures::Redis::own();
    let receiver = Receiver::start(vec![]).await;
    let env = [
        ("WEBHOOK_RATE_LIMIT_PER_MINUTE", "5"),
        ("REDIS_URL", redis.url.as_str()),
    ];
    let output = send(&["--url", &receiver.url(), "--allow-private"], &env).await;

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("webhook_rate:127.0.0.1:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
}

#[tokio::test]
async fn without_redis_url_the_celery_broker_is_used_and_an_unreachable_one_fails_open() {
    let receiver = Receiver::start(vec![]).await;
    let closed = format!("redis://127.0.0.1:{}/0", fixtures::free_port());
    let env = [
        ("WEBHOOK_RATE_LIMIT_PER_MINUTE", "5"),
        ("CELERY_BROKER_URL", closed.as_str()),
    ];
    let output = send(&["--url", &receiver.url(), "--allow-private"], &env).await;

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach Redis"));
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn the_allowlist_from_the_environment_rejects_other_hosts() {
    let receiver = Receiver::start(vec![]).await;
    let output = send(
        &["--url", &receiver.url(), "--allow-private"],
        &[("ALLOWED_WEBHOOK_DOMAINS", "partner.io")],
    )
    .await;

    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("not in the webhook allowlist"));
    assert!(receiver.received().is_empty());
}
