//! Webhook delivery state of a task, written by the agent in `status.delivery`, and the outcome
//! names every reader of it shares (the agent, the REST API, the standalone mode).

use std::fmt;

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

    /// The name, as serialised (`Succeeded`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryPhase::NotRequested => "NotRequested",
            DeliveryPhase::Pending => "Pending",
            DeliveryPhase::Succeeded => "Succeeded",
            DeliveryPhase::Failed => "Failed",
            DeliveryPhase::Rejected => "Rejected",
        }
    }
}

/// How a delivery ended.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// The snake_case name, as serialised (metrics labels, `lastDelivery.outcome`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Rejected => "rejected",
        }
    }

    /// The phase of a delivery that ended so.
    pub fn phase(self) -> DeliveryPhase {
        match self {
            Outcome::Succeeded => DeliveryPhase::Succeeded,
            Outcome::Failed => DeliveryPhase::Failed,
            Outcome::Rejected => DeliveryPhase::Rejected,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Not ended yet (status keeps it only from agent versions that recorded attempts before
    /// sending them).
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
    /// An `in_progress` attempt found after a restart; the receiver may have seen it.
    Interrupted,
    /// Policy forbids the destination; nothing was sent (status records the delivery's
    /// `Rejected` phase instead of such an attempt).
    Rejected,
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
    fn names_are_the_serialised_forms() {
        for outcome in [
            AttemptOutcome::InProgress,
            AttemptOutcome::Succeeded,
            AttemptOutcome::HttpError,
            AttemptOutcome::Timeout,
            AttemptOutcome::ConnectionError,
            AttemptOutcome::RateLimited,
            AttemptOutcome::Suspended,
            AttemptOutcome::Interrupted,
            AttemptOutcome::Rejected,
        ] {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
        for phase in [
            DeliveryPhase::NotRequested,
            DeliveryPhase::Pending,
            DeliveryPhase::Succeeded,
            DeliveryPhase::Failed,
            DeliveryPhase::Rejected,
        ] {
            assert_eq!(serde_json::to_value(phase).unwrap(), phase.as_str());
        }
        for outcome in [Outcome::Succeeded, Outcome::Failed, Outcome::Rejected] {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
            assert_eq!(outcome.phase().as_str().to_lowercase(), outcome.as_str());
        }
    }

    #[test]
    fn rejected_rate_limited_and_suspended_attempts_sent_nothing() {
        assert!(!AttemptOutcome::Rejected.is_send());
        assert!(!AttemptOutcome::RateLimited.is_send());
        assert!(!AttemptOutcome::Suspended.is_send());
        assert!(AttemptOutcome::Timeout.is_send());
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
