//! `status.delivery` of an AnalysisTask: conversions from engine attempts and the agent's apply patch.

use crate::Result;
use crate::attempt::{AttemptOutcome, DeliveryAttempt};
use guardrails_crds::AnalysisTask;
use guardrails_crds::conditions::{DELIVERED, new_condition, set_condition};
use guardrails_crds::delivery::{self as crd, DeliveryPhase, DeliveryStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// The field manager of every write of the agent.
pub const FIELD_MANAGER: &str = "guardrails-agent";

/// Longest `error`/`warning` kept in an attempt (the CRD's limit).
const MAX_ATTEMPT_TEXT: usize = 512;

/// Longest `message` kept in `status.delivery` (the CRD's limit).
const MAX_MESSAGE: usize = 1024;

/// The status record of an engine attempt in `round`; `None` for outcomes status does not keep.
pub fn to_status_attempt(attempt: &DeliveryAttempt, round: i32) -> Option<crd::DeliveryAttempt> {
    let outcome = match attempt.outcome {
        AttemptOutcome::InProgress => crd::AttemptOutcome::InProgress,
        AttemptOutcome::Succeeded => crd::AttemptOutcome::Succeeded,
        AttemptOutcome::HttpError => crd::AttemptOutcome::HttpError,
        AttemptOutcome::Timeout => crd::AttemptOutcome::Timeout,
        AttemptOutcome::ConnectionError => crd::AttemptOutcome::ConnectionError,
        AttemptOutcome::Interrupted => crd::AttemptOutcome::Interrupted,
        AttemptOutcome::RateLimited => crd::AttemptOutcome::RateLimited,
        // NB: a rejection ends the delivery; its reason goes to `status.delivery.message`.
        AttemptOutcome::Rejected => return None,
    };
    Some(crd::DeliveryAttempt {
        number: attempt.number as i32,
        round: Some(round),
        started_at: Time(attempt.started_at),
        duration_ms: attempt.duration_ms.map(|ms| ms as i64),
        outcome,
        http_status: attempt.http_status.map(i32::from),
        error: attempt
            .error
            .as_deref()
            .map(|e| truncate(e, MAX_ATTEMPT_TEXT)),
        warning: attempt
            .warning
            .as_deref()
            .map(|w| truncate(w, MAX_ATTEMPT_TEXT)),
    })
}

/// The engine's view of the attempts of `round` recorded in status, oldest first.
pub fn round_history(delivery: &DeliveryStatus) -> Vec<DeliveryAttempt> {
    let round = delivery.round.unwrap_or(1);
    delivery
        .attempts
        .iter()
        .filter(|a| a.round.unwrap_or(1) == round)
        .map(|a| DeliveryAttempt {
            number: a.number.max(1) as u32,
            started_at: a.started_at.0,
            duration_ms: a.duration_ms.map(|ms| ms.max(0) as u64),
            outcome: match a.outcome {
                crd::AttemptOutcome::InProgress => AttemptOutcome::InProgress,
                crd::AttemptOutcome::Succeeded => AttemptOutcome::Succeeded,
                crd::AttemptOutcome::HttpError => AttemptOutcome::HttpError,
                crd::AttemptOutcome::Timeout => AttemptOutcome::Timeout,
                crd::AttemptOutcome::ConnectionError => AttemptOutcome::ConnectionError,
                crd::AttemptOutcome::Interrupted => AttemptOutcome::Interrupted,
                crd::AttemptOutcome::RateLimited | crd::AttemptOutcome::Suspended => {
                    AttemptOutcome::RateLimited
                }
            },
            http_status: a.http_status.map(|s| s as u16),
            error: a.error.clone(),
            warning: a.warning.clone(),
            retry_after_seconds: None,
        })
        .collect()
}

/// Records `attempt` in `delivery`: replaces the same attempt of the round, else appends it.
pub fn record_attempt(delivery: &mut DeliveryStatus, attempt: crd::DeliveryAttempt) {
    match delivery
        .attempts
        .iter_mut()
        .rev()
        .find(|a| a.number == attempt.number && a.round == attempt.round)
    {
        Some(existing) => *existing = attempt,
        None => delivery.push_attempt(attempt),
    }
}

/// Marks an attempt left `in_progress` by a stopped agent as `interrupted`; true if one was.
pub fn mark_interrupted(delivery: &mut DeliveryStatus) -> bool {
    let round = delivery.round.unwrap_or(1);
    let mut changed = false;
    for attempt in &mut delivery.attempts {
        if attempt.outcome == crd::AttemptOutcome::InProgress && attempt.round.unwrap_or(1) == round
        {
            attempt.outcome = crd::AttemptOutcome::Interrupted;
            attempt.error =
                Some("the agent stopped during this attempt; the receiver may have seen it".into());
            changed = true;
        }
    }
    changed
}

/// The `Delivered` condition for a delivery in `phase`.
pub fn delivered_condition(
    phase: DeliveryPhase,
    message: &str,
    generation: Option<i64>,
) -> Condition {
    let (status, reason) = match phase {
        DeliveryPhase::Succeeded => (true, "Delivered"),
        DeliveryPhase::Pending => (false, "Pending"),
        DeliveryPhase::Failed => (false, "DeliveryFailed"),
        DeliveryPhase::Rejected => (false, "DeliveryRejected"),
        DeliveryPhase::NotRequested => (false, "NotRequested"),
    };
    new_condition(
        DELIVERED,
        status,
        reason,
        message,
        generation,
        Time(jiff::Timestamp::now()),
    )
}

/// Applies `delivery` and the `Delivered` condition to the task's status under the agent's
/// field manager; nothing else of the status is sent, so the operator's fields stay untouched.
pub async fn apply(
    api: &Api<AnalysisTask>,
    task: &AnalysisTask,
    delivery: &DeliveryStatus,
) -> Result<()> {
    let mut conditions = task
        .status
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default();
    let message = delivery.message.clone().unwrap_or_default();
    set_condition(
        &mut conditions,
        delivered_condition(delivery.phase, &message, task.metadata.generation),
    );
    let delivered: Vec<_> = conditions
        .into_iter()
        .filter(|c| c.type_ == DELIVERED)
        .collect();
    let patch = json!({
        "apiVersion": "guardrails.io/v1alpha1",
        "kind": "AnalysisTask",
        "status": {"delivery": delivery, "conditions": delivered},
    });
    let name = task.metadata.name.as_deref().unwrap_or_default();
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}

/// `text` cut to at most `max` bytes on a character boundary.
pub fn truncate_message(text: &str) -> String {
    truncate(text, MAX_MESSAGE)
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(number: u32) -> DeliveryAttempt {
        DeliveryAttempt::new(number, "2026-03-01T12:00:00Z".parse().unwrap())
    }

    #[test]
    fn a_finished_attempt_replaces_its_in_progress_record() {
        let mut delivery = DeliveryStatus::default();
        record_attempt(&mut delivery, to_status_attempt(&started(1), 1).unwrap());
        let mut done = started(1);
        done.outcome = AttemptOutcome::HttpError;
        done.http_status = Some(500);
        done.duration_ms = Some(12);
        record_attempt(&mut delivery, to_status_attempt(&done, 1).unwrap());
        assert_eq!(delivery.attempts.len(), 1);
        assert_eq!(delivery.attempts[0].http_status, Some(500));
        assert_eq!(round_history(&delivery), vec![done]);
    }

    #[test]
    fn history_holds_only_the_current_round() {
        let mut delivery = DeliveryStatus {
            round: Some(2),
            ..Default::default()
        };
        record_attempt(&mut delivery, to_status_attempt(&started(1), 1).unwrap());
        record_attempt(&mut delivery, to_status_attempt(&started(1), 2).unwrap());
        assert_eq!(delivery.attempts.len(), 2);
        assert_eq!(round_history(&delivery).len(), 1);
    }

    #[test]
    fn an_attempt_left_in_progress_becomes_interrupted() {
        let mut delivery = DeliveryStatus::default();
        record_attempt(&mut delivery, to_status_attempt(&started(1), 1).unwrap());
        assert!(mark_interrupted(&mut delivery));
        assert_eq!(
            delivery.attempts[0].outcome,
            crd::AttemptOutcome::Interrupted
        );
        assert!(!mark_interrupted(&mut delivery));
    }

    #[test]
    fn rejections_are_not_kept_as_attempts() {
        let mut rejected = started(1);
        rejected.outcome = AttemptOutcome::Rejected;
        assert!(to_status_attempt(&rejected, 1).is_none());
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let text = "é".repeat(600);
        let cut = truncate_message(&text);
        assert!(cut.len() <= 1024);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
