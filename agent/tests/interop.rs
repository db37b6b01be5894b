//! Interop: real Python and Node receivers (the guide's examples) verify what the engine sends.

mod fixtures;

use guardrails_agent::{Deliverer, Delivery, Event, NetworkGuard, Outcome, Policy, SigningSecret};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const RECEIVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/receivers");

/// A receiver process printing its port, then one JSON line per request.
struct ExternalReceiver {
    _child: Child,
    port: u16,
    lines: Lines<BufReader<ChildStdout>>,
}

impl ExternalReceiver {
    async fn start(program: &str, script: &str, secret: &str, verify: &str) -> ExternalReceiver {
        let mut child = Command::new(program)
            .arg(format!("{RECEIVERS}/{script}"))
            .env("GUARDRAILS_WEBHOOK_SECRET", secret)
            .env("VERIFY", verify)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{program}` for the {script} receiver: {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the receiver did not print its port")
            .unwrap()
            .expect("the receiver exited before printing its port")
            .trim()
            .parse()
            .unwrap();
        ExternalReceiver {
            _child: child,
            port,
            lines,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    async fn next_report(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str(&line).unwrap()
    }
}

/// The test Python, checked to have the Standard Webhooks reference library.
fn python_with_standardwebhooks() -> String {
    let python = fixtures::python();
    let found = std::process::Command::new(&python)
        .args(["-c", "import standardwebhooks"])
        .status();
    assert!(
        found.is_ok_and(|s| s.success()),
        "`{python}` cannot import `standardwebhooks`: run `pip install standardwebhooks` in a venv and set \
         GUARDRAILS_PYTHON to its interpreter (scripts/test.sh does both)"
    );
    python
}

/// An event whose canonical body differs from a naive serialisation: non-ASCII, floats, nesting.
fn tricky_event() -> Event {
    Event::completed(
        "3f1c9a6e-uid",
        json!({"status": "success",
            "pii": {"detected": 1, "entities": [{"type": "PERSON", "value": "Zoë Ünal 😀", "position": {"start": 0, "end": 11}, "confidence": 0.85}]},
            "compliance": {"compliant": false, "violations": 1, "frameworks": ["GDPR"]},
            "risk": {"overall_score": 1e-05, "overall_level": "low", "recommendations": ["Ne partagez pas « ça »"]}}),
    )
}

/// A result with no PII: every score an integral float, as the analysis writes it.
fn zero_risk_event() -> Event {
    Event::completed(
        "0a1b2c3d-uid",
        json!({"status": "success",
            "pii": {"detected": 0, "entities": []},
            "compliance": {"compliant": true, "violations": 0, "frameworks": ["GDPR", "HIPAA"]},
            "risk": {"overall_score": 0.0, "overall_level": "low", "recommendations": []}}),
    )
}

/// A result with PII: fractional scores and confidences.
fn high_risk_event() -> Event {
    Event::completed(
        "4e5f6a7b-uid",
        json!({"status": "success",
            "pii": {"detected": 2, "entities": [
                {"type": "EMAIL", "value": "jane@example.com", "position": {"start": 10, "end": 26}, "confidence": 0.95},
                {"type": "US_SSN", "value": "123-45-6789", "position": {"start": 31, "end": 42}, "confidence": 1.0}]},
            "compliance": {"compliant": false, "violations": 2, "frameworks": ["GDPR", "HIPAA"]},
            "risk": {"overall_score": 0.8734, "overall_level": "critical", "recommendations": ["Remove the SSN"]}}),
    )
}

async fn deliver(url: &str, secrets: &[&str]) -> Outcome {
    deliver_event(tricky_event(), url, secrets).await
}

async fn deliver_event(event: Event, url: &str, secrets: &[&str]) -> Outcome {
    let guard = NetworkGuard {
        allow_private: true,
        ..NetworkGuard::default()
    };
    let secrets = secrets
        .iter()
        .map(|s| SigningSecret::new(*s).unwrap())
        .collect();
    let policy = Policy {
        sign: true,
        secrets,
        ..Policy::default()
    };
    let delivery = Delivery::new(event, url, policy).unwrap();
    Deliverer::new(guard)
        .unwrap()
        .deliver(&delivery, Vec::new(), &())
        .await
        .unwrap()
        .outcome
}

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test]
async fn the_standard_webhooks_reference_library_accepts_our_signature() {
    let mut receiver = ExternalReceiver::start(
        &python_with_standardwebhooks(),
        "receiver.py",
        WHSEC,
        "standard",
    )
    .await;
    assert_eq!(deliver(&receiver.url(), &[WHSEC]).await, Outcome::Succeeded);
    assert_eq!(receiver.next_report().await["verified"], "standard");
}

#[tokio::test]
async fn the_reference_library_accepts_a_plain_secret_given_as_whsec_of_its_bytes() {
    let mut receiver = ExternalReceiver::start(
        &python_with_standardwebhooks(),
        "receiver.py",
        "plain-secret",
        "standard",
    )
    .await;
    assert_eq!(
        deliver(&receiver.url(), &["plain-secret"]).await,
        Outcome::Succeeded
    );
    assert_eq!(receiver.next_report().await["event_type"], "task.completed");
}

#[tokio::test]
async fn during_rotation_a_receiver_still_on_the_previous_secret_accepts() {
    let mut receiver = ExternalReceiver::start(
        &python_with_standardwebhooks(),
        "receiver.py",
        "old-secret",
        "standard",
    )
    .await;
    assert_eq!(
        deliver(&receiver.url(), &[WHSEC, "old-secret"]).await,
        Outcome::Succeeded
    );
    assert_eq!(receiver.next_report().await["verified"], "standard");
}

#[tokio::test]
async fn a_receiver_recomputing_the_hmac_over_reserialised_json_accepts_x_guardrails_signature() {
    let mut receiver = ExternalReceiver::start(
        &fixtures::python(),
        "receiver.py",
        "legacy-secret",
        "reserialised",
    )
    .await;
    assert_eq!(
        deliver(&receiver.url(), &["legacy-secret"]).await,
        Outcome::Succeeded
    );
    assert_eq!(receiver.next_report().await["verified"], "reserialised");
}

#[tokio::test]
async fn a_receiver_checking_the_raw_body_accepts_x_guardrails_signature() {
    let mut receiver = ExternalReceiver::start(
        &fixtures::python(),
        "receiver.py",
        "raw-secret",
        "guardrails",
    )
    .await;
    assert_eq!(
        deliver(&receiver.url(), &["raw-secret"]).await,
        Outcome::Succeeded
    );
    assert_eq!(receiver.next_report().await["verified"], "guardrails");
}

#[tokio::test]
async fn a_receiver_with_another_secret_refuses_and_the_delivery_fails() {
    let mut receiver = ExternalReceiver::start(
        &python_with_standardwebhooks(),
        "receiver.py",
        WHSEC,
        "standard",
    )
    .await;
    assert_eq!(
        deliver(&receiver.url(), &["some-other-secret"]).await,
        Outcome::Failed
    );
    assert!(receiver.next_report().await.get("rejected").is_some());
}

#[tokio::test]
async fn the_node_receiver_of_the_guide_accepts_our_signature() {
    let mut receiver = ExternalReceiver::start("node", "receiver.mjs", WHSEC, "standard").await;
    assert_eq!(deliver(&receiver.url(), &[WHSEC]).await, Outcome::Succeeded);
    assert_eq!(receiver.next_report().await["verified"], "node");
}

#[tokio::test]
async fn the_node_receiver_refuses_a_wrong_signature() {
    let mut receiver =
        ExternalReceiver::start("node", "receiver.mjs", "node-secret", "standard").await;
    assert_eq!(
        deliver(&receiver.url(), &["not-the-node-secret"]).await,
        Outcome::Failed
    );
    assert!(receiver.next_report().await.get("rejected").is_some());
}

#[tokio::test]
async fn the_original_node_verifier_reserialising_the_parsed_body_accepts_a_zero_risk_and_a_high_risk_result()
 {
    let mut receiver =
        ExternalReceiver::start("node", "original-receiver.mjs", "original-secret", "").await;
    for event in [zero_risk_event(), high_risk_event()] {
        assert_eq!(
            deliver_event(event, &receiver.url(), &["original-secret"]).await,
            Outcome::Succeeded
        );
        assert_eq!(receiver.next_report().await["verified"], "original-node");
    }
}

#[tokio::test]
async fn the_original_python_verifier_accepts_a_zero_risk_and_a_high_risk_result() {
    let mut receiver = ExternalReceiver::start(
        &fixtures::python(),
        "receiver.py",
        "original-secret",
        "reserialised",
    )
    .await;
    for event in [zero_risk_event(), high_risk_event()] {
        assert_eq!(
            deliver_event(event, &receiver.url(), &["original-secret"]).await,
            Outcome::Succeeded
        );
        assert_eq!(receiver.next_report().await["verified"], "reserialised");
    }
}
