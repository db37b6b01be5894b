//! Deliveries to real HTTPS receivers on loopback behind a private CA made here: one plain, one
//! requiring a client certificate, one requiring a bearer header; and endpoints whose transport
//! Secrets are missing or unusable.

use guardrails_agent::sidecar::endpoint_status::readiness;
use guardrails_agent::sidecar::policy::endpoint_transport;
use guardrails_agent::transport::{ClientPool, TlsSettings, Transport, static_headers};
use guardrails_agent::{
    AttemptOutcome, Deliverer, Delivery, DeliveryReport, Event, NetworkGuard, Outcome, Policy,
};
use guardrails_crds::WebhookEndpoint;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use rcgen::{BasicConstraints, Certificate, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A certificate authority made for one test.
struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pem: String,
}

impl TestCa {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        Self {
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `name` signed by this CA, with its key.
    fn issue(&self, name: &str) -> (Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        (cert, key)
    }
}

/// An HTTPS receiver on loopback answering 200, or 401 without the bearer it requires.
struct HttpsReceiver {
    url: String,
    accepted: Arc<AtomicUsize>,
    bearer: Arc<std::sync::Mutex<Option<String>>>,
}

impl HttpsReceiver {
    /// Serves `localhost` with a certificate of `ca`; asks for a client certificate of
    /// `client_ca` when given.
    async fn start(ca: &TestCa, client_ca: Option<&TestCa>, bearer: Option<&str>) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match client_ca {
            Some(client_ca) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(client_ca.der.clone()).unwrap();
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let (cert, key) = ca.issue("localhost");
        let config = builder
            .with_single_cert(
                vec![cert.der().clone()],
                PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let bearer = Arc::new(std::sync::Mutex::new(bearer.map(str::to_owned)));
        let (count, required) = (accepted.clone(), bearer.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, count, required) =
                    (acceptor.clone(), count.clone(), required.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let head = read_head(&mut tls).await;
                    let wanted = required.lock().unwrap().clone();
                    let authorized = wanted.is_none_or(|token| {
                        head.contains(&format!("\r\nauthorization: Bearer {token}\r\n"))
                    });
                    let status = if authorized {
                        count.fetch_add(1, Ordering::SeqCst);
                        "200 OK"
                    } else {
                        "401 Unauthorized"
                    };
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = tls.write_all(reply.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self {
            url: format!("https://localhost:{port}/hook"),
            accepted,
            bearer,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn require_bearer(&self, token: &str) {
        *self.bearer.lock().unwrap() = Some(token.to_owned());
    }
}

/// The request head, lower-cased header names kept as sent (reqwest sends them lower-case).
async fn read_head(tls: &mut (impl AsyncReadExt + Unpin)) -> String {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    while !bytes.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn deliverer() -> Deliverer {
    Deliverer::new(NetworkGuard {
        allow_private: true,
        ..NetworkGuard::default()
    })
    .unwrap()
}

fn transport(tls: TlsSettings, headers: &[(&str, &str)]) -> Transport {
    Transport {
        owner: "ns/partner".into(),
        tls,
        headers: static_headers(headers.iter().map(|(k, v)| (*k, v.as_bytes()))).unwrap(),
    }
}

async fn deliver(
    deliverer: &Deliverer,
    url: &str,
    transport: Result<Transport, String>,
) -> DeliveryReport {
    let policy = Policy {
        max_attempts: 1,
        transport,
        ..Policy::default()
    };
    let delivery = Delivery::new(Event::failed("task-1", "boom"), url, policy).unwrap();
    deliverer.deliver(&delivery, Vec::new(), &()).await.unwrap()
}

fn error(report: &DeliveryReport) -> String {
    report.attempts[0].error.clone().unwrap_or_default()
}

#[tokio::test]
async fn a_receiver_behind_a_private_ca_is_reached_only_with_that_ca() {
    let ca = TestCa::new();
    let receiver = HttpsReceiver::start(&ca, None, None).await;
    let deliverer = deliverer();

    let public_only = deliver(&deliverer, &receiver.url, Ok(Transport::default())).await;
    assert_eq!(public_only.outcome, Outcome::Failed);
    assert_eq!(
        public_only.attempts[0].outcome,
        AttemptOutcome::ConnectionError
    );
    assert!(
        error(&public_only).contains("UnknownIssuer"),
        "{}",
        error(&public_only)
    );
    assert_eq!(receiver.accepted(), 0);

    for replace in [false, true] {
        let tls = TlsSettings::default()
            .with_ca(ca.pem.as_bytes(), replace)
            .unwrap();
        let report = deliver(&deliverer, &receiver.url, Ok(transport(tls, &[]))).await;
        assert_eq!(report.outcome, Outcome::Succeeded, "{}", error(&report));
    }
    assert_eq!(receiver.accepted(), 2);
}

#[tokio::test]
async fn a_receiver_requiring_a_client_certificate_gets_the_configured_one() {
    let (ca, client_ca) = (TestCa::new(), TestCa::new());
    let receiver = HttpsReceiver::start(&ca, Some(&client_ca), None).await;
    let deliverer = deliverer();
    let trusted = || {
        TlsSettings::default()
            .with_ca(ca.pem.as_bytes(), false)
            .unwrap()
    };

    let without = deliver(&deliverer, &receiver.url, Ok(transport(trusted(), &[]))).await;
    assert_eq!(without.outcome, Outcome::Failed);
    assert!(
        error(&without).contains("CertificateRequired"),
        "{}",
        error(&without)
    );
    assert_eq!(receiver.accepted(), 0);

    let (cert, key) = client_ca.issue("guardrails-agent");
    let with = trusted()
        .with_client_cert(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
        .unwrap();
    let report = deliver(&deliverer, &receiver.url, Ok(transport(with, &[]))).await;
    assert_eq!(report.outcome, Outcome::Succeeded, "{}", error(&report));

    // A rotated certificate from a CA the receiver does not trust is refused on the next attempt.
    let (stranger, stranger_key) = TestCa::new().issue("guardrails-agent");
    let rotated = trusted()
        .with_client_cert(
            stranger.pem().as_bytes(),
            stranger_key.serialize_pem().as_bytes(),
        )
        .unwrap();
    let report = deliver(&deliverer, &receiver.url, Ok(transport(rotated, &[]))).await;
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(receiver.accepted(), 1);
}

#[tokio::test]
async fn a_receiver_requiring_a_bearer_gets_the_static_header_and_its_rotation() {
    let ca = TestCa::new();
    let receiver = HttpsReceiver::start(&ca, None, Some("first")).await;
    let deliverer = deliverer();
    let tls = || {
        TlsSettings::default()
            .with_ca(ca.pem.as_bytes(), false)
            .unwrap()
    };

    let without = deliver(&deliverer, &receiver.url, Ok(transport(tls(), &[]))).await;
    assert_eq!(without.outcome, Outcome::Failed);
    assert_eq!(without.attempts[0].http_status, Some(401));

    let first = [("Authorization", "Bearer first")];
    let report = deliver(&deliverer, &receiver.url, Ok(transport(tls(), &first))).await;
    assert_eq!(report.outcome, Outcome::Succeeded);

    receiver.require_bearer("second");
    let stale = deliver(&deliverer, &receiver.url, Ok(transport(tls(), &first))).await;
    assert_eq!(stale.attempts[0].http_status, Some(401));
    let second = [("Authorization", "Bearer second")];
    let report = deliver(&deliverer, &receiver.url, Ok(transport(tls(), &second))).await;
    assert_eq!(report.outcome, Outcome::Succeeded);
    assert_eq!(receiver.accepted(), 2);
}

#[tokio::test]
async fn an_unusable_transport_fails_the_attempt_with_its_reason_and_sends_nothing() {
    let ca = TestCa::new();
    let receiver = HttpsReceiver::start(&ca, None, None).await;
    let reason = "Secret `partner-ca` key `ca.crt` holds no PEM certificate".to_owned();
    let report = deliver(&deliverer(), &receiver.url, Err(reason.clone())).await;
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(error(&report), reason);
    assert_eq!(receiver.accepted(), 0);
}

#[test]
fn a_settings_change_of_one_owner_drops_its_old_client() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let pool = ClientPool::new(NetworkGuard::default()).unwrap();
    let with_ca = |ca: &TestCa, owner: &str| Transport {
        owner: owner.into(),
        tls: TlsSettings::default()
            .with_ca(ca.pem.as_bytes(), false)
            .unwrap(),
        ..Transport::default()
    };
    pool.client(&with_ca(&ca, "ns/a")).unwrap();
    pool.client(&with_ca(&ca, "ns/b")).unwrap();
    assert_eq!(pool.custom_clients(), 1, "equal settings share a client");
    pool.client(&with_ca(&other, "ns/a")).unwrap();
    assert_eq!(pool.custom_clients(), 2, "different CAs never share one");
    pool.client(&with_ca(&other, "ns/b")).unwrap();
    assert_eq!(pool.custom_clients(), 1, "the unused client is dropped");
}

fn secret(name: &str, data: &[(&str, &[u8])]) -> Arc<Secret> {
    let mut secret = Secret::default();
    secret.metadata.name = Some(name.into());
    secret.data = Some(
        data.iter()
            .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
            .collect::<BTreeMap<_, _>>(),
    );
    Arc::new(secret)
}

fn endpoint() -> WebhookEndpoint {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "WebhookEndpoint",
        "metadata": {"name": "partner", "namespace": "ns", "generation": 1},
        "spec": {"domains": ["localhost"],
            "caSecretRef": {"name": "partner-ca"},
            "clientCertSecretRef": {"name": "partner-mtls"},
            "headersSecretRef": {"name": "partner-auth"}},
    }))
    .unwrap()
}

#[test]
fn unusable_transport_secrets_make_the_endpoint_not_ready_without_showing_their_content() {
    let ca = TestCa::new();
    let (cert, key) = ca.issue("agent");
    let (_, other_key) = ca.issue("agent");
    let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
    let other_key_pem = other_key.serialize_pem();
    let good_ca = secret("partner-ca", &[("ca.crt", ca.pem.as_bytes())]);
    let good_mtls = secret(
        "partner-mtls",
        &[
            ("tls.crt", cert_pem.as_bytes()),
            ("tls.key", key_pem.as_bytes()),
        ],
    );
    let good_auth = secret("partner-auth", &[("Authorization", b"Bearer s3cr3t")]);
    let cases = [
        (
            None,
            "TransportSecretMissing",
            "Secret `partner-ca` not found",
        ),
        (
            Some(secret("partner-ca", &[("ca.crt", b"not a certificate")])),
            "TransportSecretInvalid",
            "Secret `partner-ca` key `ca.crt`",
        ),
        (
            Some(secret(
                "partner-mtls",
                &[
                    ("tls.crt", cert_pem.as_bytes()),
                    ("tls.key", other_key_pem.as_bytes()),
                ],
            )),
            "TransportSecretInvalid",
            "does not match its certificate",
        ),
        (
            Some(secret(
                "partner-auth",
                &[("X-Guardrails-Signature", b"forged")],
            )),
            "TransportSecretInvalid",
            "header `X-Guardrails-Signature` is refused",
        ),
        (
            Some(secret("partner-auth", &[("Content-Type", b"text/plain")])),
            "TransportSecretInvalid",
            "header `Content-Type` is refused",
        ),
    ];
    for (replacement, reason, message) in cases {
        let secrets = [&good_ca, &good_mtls, &good_auth];
        let lookup = |name: &str| -> Option<Arc<Secret>> {
            match &replacement {
                Some(r) if r.metadata.name.as_deref() == Some(name) => Some(r.clone()),
                None if name == "partner-ca" => None,
                _ => secrets
                    .iter()
                    .find(|s| s.metadata.name.as_deref() == Some(name))
                    .map(|s| (*s).clone()),
            }
        };
        let (ready, got_reason, got_message) = readiness(&endpoint(), &lookup);
        assert!(!ready, "{message}");
        assert_eq!(got_reason, reason, "{got_message}");
        assert!(got_message.contains(message), "{got_message}");
        for content in [
            "not a certificate",
            "forged",
            "text/plain",
            "BEGIN",
            "s3cr3t",
        ] {
            assert!(!got_message.contains(content), "{got_message}");
        }
    }
    let all_good = |name: &str| {
        [&good_ca, &good_mtls, &good_auth]
            .into_iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
            .cloned()
    };
    let transport = endpoint_transport(&endpoint(), &all_good).unwrap();
    assert!(!format!("{transport:?}").contains("s3cr3t"));
    assert!(readiness(&endpoint(), &all_good).0);
}

#[tokio::test]
async fn send_tries_an_endpoint_with_its_ca_client_certificate_and_headers_from_files() {
    let (ca, client_ca) = (TestCa::new(), TestCa::new());
    let receiver = HttpsReceiver::start(&ca, Some(&client_ca), Some("t0k")).await;
    let (cert, key) = client_ca.issue("guardrails-agent");
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let files = [
        ("--ca-file", file("ca.crt", &ca.pem)),
        ("--client-cert", file("tls.crt", &cert.pem())),
        ("--client-key", file("tls.key", &key.serialize_pem())),
        (
            "--header-file",
            file("headers", "Authorization: Bearer t0k\n"),
        ),
    ];
    let send = |with: usize| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_guardrails-agent"));
        command
            .args([
                "send",
                "--url",
                &receiver.url,
                "--allow-private",
                "--max-attempts",
                "1",
            ])
            .env_clear();
        for (flag, path) in &files[..with] {
            command.args([*flag, path.as_str()]);
        }
        command.output()
    };
    let without_headers = send(3).await.unwrap();
    assert_eq!(without_headers.status.code(), Some(1));
    assert_eq!(receiver.accepted(), 0);
    let sent = send(4).await.unwrap();
    assert_eq!(
        sent.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sent.stdout)
    );
    assert_eq!(receiver.accepted(), 1);
    let output =
        String::from_utf8_lossy(&sent.stdout).into_owned() + &String::from_utf8_lossy(&sent.stderr);
    assert!(
        !output.contains("t0k") && !output.contains("BEGIN"),
        "{output}"
    );
}
