//! The history of a delivery: one record per attempt, as kept in `status.delivery.attempts[]`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What happened in one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Recorded before sending; the attempt has not ended yet.
    InProgress,
    /// The receiver answered 2xx.
    Succeeded,
    /// The receiver answered with another status (see `http_status`).
    HttpError,
    /// No response within the timeout.
    Timeout,
    /// The connection could not be made or broke.
    ConnectionError,
    /// The agent stopped while the attempt was in flight; the receiver may have seen it.
    Interrupted,
    /// Policy forbids the destination (allowlist or non-public address); nothing was sent.
    Rejected,
    /// Deferred to the next rate-limit window; nothing was sent.
    RateLimited,
    /// Held because the governing WebhookEndpoint is suspended; nothing was sent.
    Suspended,
}

impl AttemptOutcome {
    /// Whether bytes may have reached the receiver (counts against `maxAttempts`).
    pub fn is_send(self) -> bool {
        !matches!(
            self,
            AttemptOutcome::Rejected | AttemptOutcome::RateLimited | AttemptOutcome::Suspended
        )
    }

    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::InProgress => "in_progress",
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::HttpError => "http_error",
            AttemptOutcome::Timeout => "timeout",
            AttemptOutcome::ConnectionError => "connection_error",
            AttemptOutcome::Interrupted => "interrupted",
            AttemptOutcome::Rejected => "rejected",
            AttemptOutcome::RateLimited => "rate_limited",
            AttemptOutcome::Suspended => "suspended",
        }
    }
}

impl fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One try at delivering an event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// Attempt number, starting at 1.
    pub number: u32,
    /// When the attempt started.
    pub started_at: Timestamp,
    /// How long the attempt took, in milliseconds; unset while in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// What happened.
    pub outcome: AttemptOutcome,
    /// HTTP status code of the response, if one arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// What went wrong, without secrets or PII.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Something to know about the attempt, e.g. that it was sent unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The receiver's `Retry-After`, in seconds, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

impl DeliveryAttempt {
    /// A new attempt `number`, in progress since `started_at`.
    pub fn new(number: u32, started_at: Timestamp) -> Self {
        Self {
            number,
            started_at,
            duration_ms: None,
            outcome: AttemptOutcome::InProgress,
            http_status: None,
            error: None,
            warning: None,
            retry_after_seconds: None,
        }
    }

    /// When the attempt ended, if it has.
    pub fn ended_at(&self) -> Option<Timestamp> {
        let ms = self.duration_ms?;
        self.started_at
            .checked_add(jiff::SignedDuration::from_millis(ms as i64))
            .ok()
    }
}

/// The final outcome of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The receiver acknowledged the event with 2xx.
    Succeeded,
    /// Every allowed attempt failed, or the receiver refused the event.
    Failed,
    /// Policy forbids the destination; nothing was sent.
    Rejected,
}

impl Outcome {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Rejected => "rejected",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_serialise_with_the_status_field_names() {
        let mut attempt = DeliveryAttempt::new(2, "2026-03-01T12:00:00Z".parse().unwrap());
        attempt.duration_ms = Some(15);
        attempt.outcome = AttemptOutcome::HttpError;
        attempt.http_status = Some(503);
        let json = serde_json::to_value(&attempt).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"number": 2, "startedAt": "2026-03-01T12:00:00Z", "durationMs": 15,
                "outcome": "http_error", "httpStatus": 503})
        );
        assert_eq!(
            serde_json::from_value::<DeliveryAttempt>(json).unwrap(),
            attempt
        );
    }

    #[test]
    fn rejected_and_rate_limited_attempts_sent_nothing() {
        assert!(!AttemptOutcome::Rejected.is_send());
        assert!(!AttemptOutcome::RateLimited.is_send());
        assert!(!AttemptOutcome::Suspended.is_send());
        assert!(AttemptOutcome::Timeout.is_send());
    }
}
