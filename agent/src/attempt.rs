//! The history of a delivery: one record per attempt, as kept in `status.delivery.attempts[]`.
//!
//! The outcome names are the contract's ([`guardrails_crds::delivery`]); this record is the
//! engine's form of an attempt (unsigned numbers, and the receiver's `Retry-After`).

pub use guardrails_crds::delivery::{AttemptOutcome, Outcome};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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
}
