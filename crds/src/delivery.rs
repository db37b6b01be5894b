//! Webhook delivery state of a task, written by the agent in `status.delivery`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Most attempts kept in status; older ones are dropped first.
pub const MAX_STATUS_ATTEMPTS: usize = 20;

/// Where the webhook delivery of a task stands.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStatus {
    /// NotRequested, Pending, Succeeded, Failed or Rejected.
    pub phase: DeliveryPhase,

    /// Id of the webhook event, the same on every attempt and round (X-Guardrails-Delivery,
    /// webhook-id); receivers deduplicate on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,

    /// Delivery round, starting at 1; a redelivery request starts the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub round: Option<i32>,

    /// Value of the guardrails.io/redeliver annotation that started the current round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub redelivery_request: Option<String>,

    /// The last 20 attempts, oldest first.
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub attempts: Vec<DeliveryAttempt>,

    /// When the next attempt is due, while the delivery is Pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Time>,

    /// When the receiver acknowledged the delivery with a 2xx response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Time>,

    /// Why the delivery is waiting, failed or was rejected, without secrets or PII.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub message: Option<String>,
}

/// Phase of a task's webhook delivery.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeliveryPhase {
    /// The task has no webhook.
    NotRequested,
    /// Attempts are running or scheduled.
    #[default]
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every allowed attempt failed, or the receiver refused the event.
    Failed,
    /// Policy forbids the destination (allowlist or private address); nothing was sent.
    Rejected,
}

impl DeliveryPhase {
    /// Whether no more attempts will be made (until a redelivery is requested).
    pub fn is_terminal(self) -> bool {
        !matches!(self, DeliveryPhase::Pending)
    }
}

/// One try at delivering the webhook.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// Attempt number within its round, starting at 1.
    #[schemars(range(min = 1))]
    pub number: i32,

    /// Delivery round this attempt belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub round: Option<i32>,

    /// When the attempt started.
    pub started_at: Time,

    /// How long the attempt took, in milliseconds; unset while in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub duration_ms: Option<i64>,

    /// What happened.
    pub outcome: AttemptOutcome,

    /// HTTP status code of the response, if one arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100, max = 599))]
    pub http_status: Option<i32>,

    /// What went wrong, without secrets or PII.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub error: Option<String>,

    /// Something to know about a delivered attempt, e.g. that it was sent unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub warning: Option<String>,
}

/// Outcome of one delivery attempt.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Recorded before sending; the attempt has not ended yet.
    InProgress,
    /// The receiver answered 2xx.
    Succeeded,
    /// The receiver answered with a non-2xx status.
    HttpError,
    /// No response within the timeout.
    Timeout,
    /// The connection could not be made or broke.
    ConnectionError,
    /// Deferred to the next rate-limit window; nothing was sent.
    RateLimited,
    /// Deferred because the WebhookEndpoint is suspended; nothing was sent.
    Suspended,
    /// The agent stopped while the attempt was in flight; the receiver may have seen it.
    Interrupted,
}

impl DeliveryStatus {
    /// Appends an attempt, dropping the oldest ones beyond `MAX_STATUS_ATTEMPTS`.
    pub fn push_attempt(&mut self, attempt: DeliveryAttempt) {
        self.attempts.push(attempt);
        let excess = self.attempts.len().saturating_sub(MAX_STATUS_ATTEMPTS);
        self.attempts.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(number: i32) -> DeliveryAttempt {
        DeliveryAttempt {
            number,
            round: Some(1),
            started_at: Time(jiff::Timestamp::UNIX_EPOCH),
            duration_ms: Some(3),
            outcome: AttemptOutcome::HttpError,
            http_status: Some(500),
            error: None,
            warning: None,
        }
    }

    #[test]
    fn keeps_only_the_latest_attempts() {
        let mut status = DeliveryStatus::default();
        for n in 1..=25 {
            status.push_attempt(attempt(n));
        }
        assert_eq!(status.attempts.len(), MAX_STATUS_ATTEMPTS);
        assert_eq!(status.attempts.first().map(|a| a.number), Some(6));
        assert_eq!(status.attempts.last().map(|a| a.number), Some(25));
    }

    #[test]
    fn only_pending_is_not_terminal() {
        assert!(!DeliveryPhase::Pending.is_terminal());
        for phase in [
            DeliveryPhase::NotRequested,
            DeliveryPhase::Succeeded,
            DeliveryPhase::Failed,
            DeliveryPhase::Rejected,
        ] {
            assert!(phase.is_terminal(), "{phase:?}");
        }
    }

    #[test]
    fn outcomes_serialize_in_snake_case() {
        assert_eq!(
            serde_json::to_value(AttemptOutcome::RateLimited).unwrap(),
            "rate_limited"
        );
        assert_eq!(
            serde_json::to_value(AttemptOutcome::InProgress).unwrap(),
            "in_progress"
        );
    }
}
