//! Deliveries against real axum receivers on loopback: retries, timeouts, redirects and policy.

mod fixtures;

use fixtures::{FastClock, Receiver, RecordingSink, Reply, Report};
use guardrails_agent::signing::{DELIVERY_HEADER, WEBHOOK_TIMESTAMP};
use guardrails_agent::{
    AllowList, AttemptOutcome, Deliverer, Delivery, DeliveryReport, Event, NetworkGuard, Outcome,
    Policy, SigningSecret, Verifier,
};
use jiff::Timestamp;
use serde_json::json;
use std::time::Duration;

fn private_ok() -> NetworkGuard {
    NetworkGuard {
        allow_private: true,
        ..NetworkGuard::default()
    }
}

fn event() -> Event {
    Event::completed(
        "task-uid-1",
        json!({"status": "success", "pii": {"detected": 0, "entities": []}}),
    )
}

fn fast_deliverer(guard: NetworkGuard) -> Deliverer {
    Deliverer::new(guard).unwrap().with_clock(FastClock::new())
}

async fn deliver(
    deliverer: &Deliverer,
    url: &str,
    policy: Policy,
) -> (DeliveryReport, RecordingSink) {
    let sink = RecordingSink::default();
    let delivery = Delivery::new(event(), url, policy).unwrap();
    let report = deliverer
        .deliver(&delivery, Vec::new(), &sink)
        .await
        .unwrap();
    (report, sink)
}

fn outcomes(report: &DeliveryReport) -> Vec<(AttemptOutcome, Option<u16>)> {
    report
        .attempts
        .iter()
        .map(|a| (a.outcome, a.http_status))
        .collect()
}

fn gap_ms(report: &DeliveryReport, later: usize) -> i64 {
    let (a, b) = (&report.attempts[later - 1], &report.attempts[later]);
    b.started_at.duration_since(a.started_at).as_millis() as i64
}

#[tokio::test]
async fn a_200_is_delivered_in_one_attempt_with_all_headers() {
    let receiver = Receiver::start(vec![]).await;
    let secret = SigningSecret::new("whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=").unwrap();
    let policy = Policy {
        sign: true,
        secrets: vec![secret.clone()],
        ..Policy::default()
    };
    let (report, sink) = deliver(&fast_deliverer(private_ok()), &receiver.url(), policy).await;

    assert_eq!(report.outcome, Outcome::Succeeded);
    assert_eq!(outcomes(&report), [(AttemptOutcome::Succeeded, Some(200))]);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["user-agent"], "Guardrails-Webhook/1.0");
    assert_eq!(request.headers["x-guardrails-event"], "task.completed");
    assert_eq!(
        request.headers["webhook-id"],
        request.headers[DELIVERY_HEADER]
    );
    assert!(
        request.headers["x-guardrails-signature"]
            .to_str()
            .unwrap()
            .starts_with("sha256=")
    );
    Verifier::new(vec![secret])
        .verify(&request.headers, &request.body, Timestamp::now())
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["task"]["id"], "task-uid-1");
    // The sink heard of the attempt before it was sent and after it ended.
    let reports = sink.reports();
    assert!(
        matches!(&reports[..], [Report::Started(s), Report::Finished(f)]
        if s.outcome == AttemptOutcome::InProgress && f.outcome == AttemptOutcome::Succeeded)
    );
}

#[tokio::test]
async fn two_500s_then_200_take_three_attempts_one_and_two_seconds_apart_on_a_fast_clock() {
    let receiver = Receiver::start(vec![Reply::Status(500), Reply::Status(500)]).await;
    let (report, _) = deliver(
        &fast_deliverer(private_ok()),
        &receiver.url(),
        Policy::default(),
    )
    .await;

    assert_eq!(report.outcome, Outcome::Succeeded);
    assert_eq!(
        outcomes(&report),
        [
            (AttemptOutcome::HttpError, Some(500)),
            (AttemptOutcome::HttpError, Some(500)),
            (AttemptOutcome::Succeeded, Some(200))
        ]
    );
    assert!(
        (1000..2000).contains(&gap_ms(&report, 1)),
        "first gap {} ms",
        gap_ms(&report, 1)
    );
    assert!(
        (2000..3000).contains(&gap_ms(&report, 2)),
        "second gap {} ms",
        gap_ms(&report, 2)
    );
    // Every retry carries the same delivery id, and its own Standard Webhooks timestamp header.
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(
        received
            .iter()
            .all(|r| r.headers[DELIVERY_HEADER] == received[0].headers[DELIVERY_HEADER])
    );
    assert!(
        received
            .iter()
            .all(|r| !r.headers.contains_key(WEBHOOK_TIMESTAMP)),
        "unsigned by default"
    );
}

#[tokio::test]
async fn two_500s_then_200_back_off_in_real_time() {
    let receiver = Receiver::start(vec![Reply::Status(500), Reply::Status(500)]).await;
    let deliverer = Deliverer::new(private_ok()).unwrap();
    let (report, _) = deliver(&deliverer, &receiver.url(), Policy::default()).await;

    assert_eq!(report.outcome, Outcome::Succeeded);
    let at: Vec<_> = receiver.received().iter().map(|r| r.at).collect();
    assert_eq!(at.len(), 3);
    let (first, second) = (at[1] - at[0], at[2] - at[1]);
    // Generous bounds: the order and rough size of the waits, not their precision.
    assert!(
        first >= Duration::from_millis(900) && first < Duration::from_secs(4),
        "{first:?}"
    );
    assert!(
        second >= Duration::from_millis(1900) && second < Duration::from_secs(6),
        "{second:?}"
    );
    assert!(second > first);
}

#[tokio::test]
async fn a_400_fails_after_one_attempt() {
    let receiver = Receiver::start(vec![Reply::Status(400)]).await;
    let (report, _) = deliver(
        &fast_deliverer(private_ok()),
        &receiver.url(),
        Policy::default(),
    )
    .await;

    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(outcomes(&report), [(AttemptOutcome::HttpError, Some(400))]);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_hanging_receiver_times_out_and_the_retry_succeeds() {
    let receiver = Receiver::start(vec![Reply::Hang(Duration::from_secs(5))]).await;
    let policy = Policy {
        timeout: Duration::from_secs(1),
        ..Policy::default()
    };
    let (report, _) = deliver(&fast_deliverer(private_ok()), &receiver.url(), policy).await;

    assert_eq!(report.outcome, Outcome::Succeeded);
    assert_eq!(
        outcomes(&report),
        [
            (AttemptOutcome::Timeout, None),
            (AttemptOutcome::Succeeded, Some(200))
        ]
    );
    assert!(
        report.attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("no response within")
    );
}

#[tokio::test]
async fn a_429_with_retry_after_waits_that_long() {
    let receiver = Receiver::start(vec![Reply::TooManyRequests("7")]).await;
    let (report, _) = deliver(
        &fast_deliverer(private_ok()),
        &receiver.url(),
        Policy::default(),
    )
    .await;

    assert_eq!(report.outcome, Outcome::Succeeded);
    assert_eq!(
        outcomes(&report),
        [
            (AttemptOutcome::HttpError, Some(429)),
            (AttemptOutcome::Succeeded, Some(200))
        ]
    );
    assert_eq!(report.attempts[0].retry_after_seconds, Some(7));
    assert!(
        (7000..8000).contains(&gap_ms(&report, 1)),
        "gap {} ms",
        gap_ms(&report, 1)
    );
}

#[tokio::test]
async fn a_302_is_not_followed() {
    let receiver = Receiver::start(vec![Reply::Redirect("/elsewhere")]).await;
    let (report, _) = deliver(
        &fast_deliverer(private_ok()),
        &receiver.url(),
        Policy::default(),
    )
    .await;

    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(outcomes(&report), [(AttemptOutcome::HttpError, Some(302))]);
    let paths: Vec<_> = receiver.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/hook"]);
}

#[tokio::test]
async fn a_disallowed_domain_is_rejected_and_the_receiver_sees_nothing() {
    let receiver = Receiver::start(vec![]).await;
    let policy = Policy {
        allowlist: AllowList::from_comma_separated("partner.io").unwrap(),
        ..Policy::default()
    };
    let (report, sink) = deliver(&fast_deliverer(private_ok()), &receiver.url(), policy).await;

    assert_eq!(report.outcome, Outcome::Rejected);
    assert_eq!(outcomes(&report), [(AttemptOutcome::Rejected, None)]);
    assert!(
        report.attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("not in the webhook allowlist")
    );
    assert!(receiver.received().is_empty());
    assert!(
        matches!(&sink.reports()[..], [Report::Finished(_)]),
        "nothing sent, so no `started` report"
    );
}

#[tokio::test]
async fn the_ssrf_guard_rejects_private_destinations() {
    let receiver = Receiver::start(vec![]).await;
    let port = receiver.addr.port();
    let deliverer = fast_deliverer(NetworkGuard::default());
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/hook".to_owned(),
    ] {
        let (report, _) = deliver(&deliverer, &url, Policy::default()).await;
        assert_eq!(report.outcome, Outcome::Rejected, "{url}");
        assert_eq!(
            outcomes(&report),
            [(AttemptOutcome::Rejected, None)],
            "{url}"
        );
        assert!(
            report.attempts[0]
                .error
                .as_deref()
                .unwrap()
                .contains("no public address"),
            "{url}"
        );
    }
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn private_destinations_pass_when_allowed_by_switch_or_cidr() {
    let receiver = Receiver::start(vec![]).await;
    let by_cidr = NetworkGuard {
        allow_private: false,
        allowed_cidrs: NetworkGuard::parse_cidrs("127.0.0.0/8").unwrap(),
    };
    let port = receiver.addr.port();
    for (guard, url) in [
        (private_ok(), format!("http://127.0.0.1:{port}/hook")),
        (private_ok(), format!("http://localhost:{port}/hook")),
        (by_cidr, format!("http://127.0.0.1:{port}/hook")),
    ] {
        let (report, _) = deliver(&fast_deliverer(guard), &url, Policy::default()).await;
        assert_eq!(report.outcome, Outcome::Succeeded, "{url}");
    }
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn signing_without_a_secret_sends_unsigned_with_a_warning() {
    let receiver = Receiver::start(vec![]).await;
    let policy = Policy {
        sign: true,
        ..Policy::default()
    };
    let (report, _) = deliver(&fast_deliverer(private_ok()), &receiver.url(), policy).await;

    assert_eq!(report.outcome, Outcome::Succeeded);
    assert!(
        report.attempts[0]
            .warning
            .as_deref()
            .unwrap()
            .contains("sent unsigned")
    );
    assert!(
        !receiver.received()[0]
            .headers
            .contains_key("x-guardrails-signature")
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_until_attempts_run_out() {
    let closed_port = fixtures::free_port();
    let url = format!("http://127.0.0.1:{closed_port}/hook");
    let (report, _) = deliver(&fast_deliverer(private_ok()), &url, Policy::default()).await;

    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(report.attempts.len(), 3);
    assert!(
        report
            .attempts
            .iter()
            .all(|a| a.outcome == AttemptOutcome::ConnectionError)
    );
    assert!(
        !report.attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains(&closed_port.to_string()),
        "no URL in errors"
    );
}

#[tokio::test]
async fn a_delivery_resumes_from_its_recorded_history() {
    let receiver = Receiver::start(vec![Reply::Status(503)]).await;
    let deliverer = fast_deliverer(private_ok());
    let delivery = Delivery::new(event(), &receiver.url(), Policy::default()).unwrap();
    let sink = RecordingSink::default();
    let first = deliverer.attempt(&delivery, 1, &sink).await.unwrap();
    assert_eq!(first.http_status, Some(503));
    // As after a restart: the history is all that is known.
    let report = deliverer
        .deliver(&delivery, vec![first], &sink)
        .await
        .unwrap();

    assert_eq!(report.outcome, Outcome::Succeeded);
    assert_eq!(
        report.attempts.iter().map(|a| a.number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(deliverer.metrics().attempts_with("succeeded"), 1);
    assert_eq!(deliverer.metrics().attempts_with("http_error"), 1);
}
