//! Signatures: `X-Guardrails-Signature` over the body and the Standard Webhooks triple.

use crate::event::EventType;
use crate::policy::SigningSecret;
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use sha2::Sha256;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// `User-Agent` of every delivery.
pub const USER_AGENT_VALUE: &str = "Guardrails-Webhook/1.0";
/// Header naming the event type.
pub const EVENT_HEADER: &str = "x-guardrails-event";
/// Header carrying the event id; receivers dedupe on it.
pub const DELIVERY_HEADER: &str = "x-guardrails-delivery";
/// Header carrying `sha256=<hex HMAC of the body>`.
pub const SIGNATURE_HEADER: &str = "x-guardrails-signature";
/// Header carrying the attempt's ISO 8601 UTC time.
pub const TIMESTAMP_HEADER: &str = "x-guardrails-timestamp";
/// Standard Webhooks message id header.
pub const WEBHOOK_ID: &str = "webhook-id";
/// Standard Webhooks unix-seconds timestamp header.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// Standard Webhooks signature header (`v1,<base64>` per secret, space-separated).
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// The headers of one attempt; signed with `secrets` (current first) when there are any.
pub fn delivery_headers(
    event_id: &str,
    event_type: EventType,
    body: &[u8],
    secrets: &[SigningSecret],
    at: Timestamp,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    headers.insert(EVENT_HEADER, HeaderValue::from_static(event_type.as_str()));
    insert(&mut headers, DELIVERY_HEADER, event_id);
    let Some(current) = secrets.first() else {
        return headers;
    };
    insert(
        &mut headers,
        SIGNATURE_HEADER,
        &guardrails_signature(current, body),
    );
    insert(&mut headers, TIMESTAMP_HEADER, &format!("{:.6}", at));
    let seconds = at.as_second();
    let signatures: Vec<String> = secrets
        .iter()
        .map(|s| standard_signature(s, event_id, seconds, body))
        .collect();
    insert(&mut headers, WEBHOOK_ID, event_id);
    insert(&mut headers, WEBHOOK_TIMESTAMP, &seconds.to_string());
    insert(&mut headers, WEBHOOK_SIGNATURE, &signatures.join(" "));
    headers
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    // NB: event ids come from our callers; one that is not a header value is replaced, not sent broken.
    let value =
        HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    headers.insert(name, value);
}

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// `sha256=<hex HMAC-SHA256(secret bytes, body)>`, the original service's signature.
pub fn guardrails_signature(secret: &SigningSecret, body: &[u8]) -> String {
    let mut mac = mac(secret.guardrails_key());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the Standard Webhooks signature.
pub fn standard_signature(secret: &SigningSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        STANDARD.encode(
            standard_mac(secret, id, timestamp, body)
                .finalize()
                .into_bytes()
        )
    )
}

fn standard_mac(secret: &SigningSecret, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = mac(secret.standard_key());
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks webhooks received from Guardrails, for receivers written in Rust.
#[derive(Clone, Debug)]
pub struct Verifier {
    secrets: Vec<SigningSecret>,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier accepting a signature by any of `secrets`, within five minutes of its timestamp.
    pub fn new(secrets: Vec<SigningSecret>) -> Self {
        Self {
            secrets,
            tolerance: Duration::from_secs(300),
        }
    }

    /// The same verifier with another timestamp tolerance.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies the raw `body` and `headers`: Standard Webhooks when present, else `X-Guardrails-Signature`.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Result<()> {
        if headers.contains_key(WEBHOOK_SIGNATURE) {
            self.verify_standard(headers, body, now)
        } else {
            self.verify_guardrails(headers, body, now)
        }
    }

    fn verify_standard(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Result<()> {
        let id = header(headers, WEBHOOK_ID)?;
        let timestamp: i64 = header(headers, WEBHOOK_TIMESTAMP)?
            .parse()
            .map_err(|_| Error::MissingHeader(WEBHOOK_TIMESTAMP))?;
        self.check_age(
            Timestamp::from_second(timestamp)
                .map_err(|_| Error::MissingHeader(WEBHOOK_TIMESTAMP))?,
            now,
        )?;
        let signatures: Vec<Vec<u8>> = header(headers, WEBHOOK_SIGNATURE)?
            .split(' ')
            .filter_map(|sig| sig.strip_prefix("v1,"))
            .filter_map(|sig| STANDARD.decode(sig).ok())
            .collect();
        let matches = self.secrets.iter().any(|secret| {
            signatures.iter().any(|sig| {
                standard_mac(secret, id, timestamp, body)
                    .verify_slice(sig)
                    .is_ok()
            })
        });
        if matches {
            Ok(())
        } else {
            Err(Error::SignatureMismatch)
        }
    }

    fn verify_guardrails(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Result<()> {
        let signature = header(headers, SIGNATURE_HEADER)?
            .strip_prefix("sha256=")
            .and_then(|hex_sig| hex::decode(hex_sig).ok())
            .ok_or(Error::MissingHeader(SIGNATURE_HEADER))?;
        let timestamp: Timestamp = header(headers, TIMESTAMP_HEADER)?
            .parse()
            .map_err(|_| Error::MissingHeader(TIMESTAMP_HEADER))?;
        self.check_age(timestamp, now)?;
        let matches = self.secrets.iter().any(|secret| {
            let mut mac = mac(secret.guardrails_key());
            mac.update(body);
            mac.verify_slice(&signature).is_ok()
        });
        if matches {
            Ok(())
        } else {
            Err(Error::SignatureMismatch)
        }
    }

    fn check_age(&self, sent: Timestamp, now: Timestamp) -> Result<()> {
        let tolerance = SignedDuration::try_from(self.tolerance).unwrap_or(SignedDuration::MAX);
        if now.duration_since(sent).abs() > tolerance {
            return Err(Error::TimestampOutOfTolerance(self.tolerance.as_secs()));
        }
        Ok(())
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or(Error::MissingHeader(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SigningSecret {
        SigningSecret::new(s).unwrap()
    }

    #[test]
    fn standard_webhooks_published_test_vector_matches() {
        // The specification's vector: secret, id, timestamp, body and the expected signature.
        let key = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let signature = standard_signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn guardrails_signature_is_hex_hmac_of_the_body() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a well-known value.
        let signature = guardrails_signature(
            &secret("key"),
            b"The quick brown fox jumps over the lazy dog",
        );
        assert_eq!(
            signature,
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn unsigned_deliveries_carry_only_the_plain_headers() {
        let headers = delivery_headers("evt-1", EventType::Completed, b"{}", &[], Timestamp::now());
        assert_eq!(headers["user-agent"], USER_AGENT_VALUE);
        assert_eq!(headers[DELIVERY_HEADER], "evt-1");
        assert_eq!(headers[EVENT_HEADER], "task.completed");
        assert!(
            !headers.contains_key(SIGNATURE_HEADER) && !headers.contains_key(WEBHOOK_SIGNATURE)
        );
    }

    #[test]
    fn rotation_sends_one_signature_per_secret_and_both_verify() {
        let (old, new) = (secret("old-secret"), secret("whsec_bmV3LXNlY3JldA=="));
        let now = Timestamp::now();
        let headers = delivery_headers(
            "evt-2",
            EventType::Failed,
            b"{}",
            &[new.clone(), old.clone()],
            now,
        );
        assert_eq!(
            headers[WEBHOOK_SIGNATURE]
                .to_str()
                .unwrap()
                .split(' ')
                .count(),
            2
        );
        assert!(
            Verifier::new(vec![old])
                .verify(&headers, b"{}", now)
                .is_ok()
        );
        assert!(
            Verifier::new(vec![new])
                .verify(&headers, b"{}", now)
                .is_ok()
        );
    }

    #[test]
    fn verification_fails_on_a_changed_body_or_a_wrong_secret() {
        let now = Timestamp::now();
        let headers = delivery_headers(
            "evt-3",
            EventType::Completed,
            b"{\"a\":1}",
            &[secret("right")],
            now,
        );
        let verifier = Verifier::new(vec![secret("right")]);
        assert!(matches!(
            verifier.verify(&headers, b"{\"a\":2}", now),
            Err(Error::SignatureMismatch)
        ));
        let wrong = Verifier::new(vec![secret("wrong")]);
        assert!(matches!(
            wrong.verify(&headers, b"{\"a\":1}", now),
            Err(Error::SignatureMismatch)
        ));
    }

    #[test]
    fn old_timestamps_are_refused() {
        let sent = Timestamp::now();
        let headers = delivery_headers("evt-4", EventType::Completed, b"{}", &[secret("s")], sent);
        let later = sent + SignedDuration::from_secs(301);
        let verifier = Verifier::new(vec![secret("s")]);
        assert!(matches!(
            verifier.verify(&headers, b"{}", later),
            Err(Error::TimestampOutOfTolerance(300))
        ));
    }

    #[test]
    fn the_guardrails_scheme_alone_verifies_too() {
        let now = Timestamp::now();
        let mut headers =
            delivery_headers("evt-5", EventType::Completed, b"{}", &[secret("s")], now);
        headers.remove(WEBHOOK_SIGNATURE);
        assert!(
            Verifier::new(vec![secret("s")])
                .verify(&headers, b"{}", now)
                .is_ok()
        );
        headers.remove(SIGNATURE_HEADER);
        assert!(matches!(
            Verifier::new(vec![secret("s")]).verify(&headers, b"{}", now),
            Err(Error::MissingHeader(_))
        ));
    }
}
