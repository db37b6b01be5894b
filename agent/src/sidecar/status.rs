//! `status.delivery` of an AnalysisTask: conversions from engine attempts and the agent's apply patch.

use crate::Result;
use crate::attempt::{AttemptOutcome, DeliveryAttempt, Outcome};
use crate::decision::NextStep;
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
    // NB: a rejection ends the delivery; its reason goes to `status.delivery.message`.
    if attempt.outcome == AttemptOutcome::Rejected {
        return None;
    }
    let outcome = attempt.outcome;
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
            outcome: a.outcome,
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

/// Writes what `step` (decided from `history`, the round's attempts) means for `delivery`: the
/// time of the next attempt, or the end with its phase, `deliveredAt` and message.
///
/// The after-attempt write carries it, so the schedule (with a receiver's `Retry-After`) or the
/// end is persisted together with the attempt that led to it.
pub fn settle(delivery: &mut DeliveryStatus, step: NextStep, history: &[DeliveryAttempt]) {
    let last = history.last();
    let last_error = last.and_then(|a| a.error.clone());
    match step {
        NextStep::SendNow => {
            delivery.phase = DeliveryPhase::Pending;
            delivery.next_attempt_at = None;
        }
        NextStep::WaitUntil(at) => {
            let at = whole_second_from(at);
            delivery.phase = DeliveryPhase::Pending;
            delivery.next_attempt_at = Some(Time(at));
            delivery.message =
                last_error.map(|e| truncate_message(&format!("retrying at {at}: {e}")));
        }
        NextStep::Finish(outcome) => {
            delivery.next_attempt_at = None;
            delivery.phase = outcome.phase();
            delivery.delivered_at = match outcome {
                Outcome::Succeeded => last.and_then(DeliveryAttempt::ended_at).map(Time),
                _ => None,
            };
            let message = match outcome {
                Outcome::Succeeded => delivered_message(history),
                _ => last_error.unwrap_or_else(|| "delivery failed".into()),
            };
            delivery.message = Some(truncate_message(&message));
        }
    }
}

/// `at` rounded up to a whole second: the API stores times in seconds, and a recorded schedule
/// is a "not before" that truncation would bring forward.
pub fn whole_second_from(at: jiff::Timestamp) -> jiff::Timestamp {
    if at.subsec_nanosecond() == 0 {
        return at;
    }
    jiff::Timestamp::from_second(at.as_second().saturating_add(1)).unwrap_or(at)
}

/// The message of a delivered webhook: how many sends it took.
pub fn delivered_message(history: &[DeliveryAttempt]) -> String {
    let sends = history.iter().filter(|a| a.outcome.is_send()).count();
    format!("delivered after {sends} attempt(s)")
}

/// Records that a suspended endpoint (`endpoint`, its name) holds the delivery at `now`: one
/// `suspended` attempt (nothing sent) and a message; true if status changed.
///
/// A hold already recorded as the round's last attempt is not recorded again, so rechecks of a
/// long suspension never push real attempts out of the last 20.
pub fn record_suspension(
    delivery: &mut DeliveryStatus,
    endpoint: &str,
    now: jiff::Timestamp,
) -> bool {
    let round = delivery.round.unwrap_or(1);
    let last = delivery
        .attempts
        .iter()
        .rev()
        .find(|a| a.round.unwrap_or(1) == round);
    let message = format!("WebhookEndpoint `{endpoint}` is suspended; delivery held");
    if last.is_some_and(|a| a.outcome == AttemptOutcome::Suspended)
        && delivery.message.as_deref() == Some(message.as_str())
        && delivery.phase == DeliveryPhase::Pending
    {
        return false;
    }
    if last.is_none_or(|a| a.outcome != AttemptOutcome::Suspended) {
        let number = last.map_or(1, |a| a.number + 1);
        delivery.push_attempt(crd::DeliveryAttempt {
            number,
            round: Some(round),
            started_at: Time(now),
            duration_ms: Some(0),
            outcome: AttemptOutcome::Suspended,
            http_status: None,
            error: Some(truncate(&message, MAX_ATTEMPT_TEXT)),
            warning: None,
        });
    }
    delivery.phase = DeliveryPhase::Pending;
    delivery.next_attempt_at = None;
    delivery.message = Some(message);
    true
}

/// Marks an attempt left `in_progress` (by an agent version that recorded attempts before
/// sending them) as `interrupted`; true if one was.
pub fn mark_interrupted(delivery: &mut DeliveryStatus) -> bool {
    let round = delivery.round.unwrap_or(1);
    let mut changed = false;
    for attempt in &mut delivery.attempts {
        if attempt.outcome == AttemptOutcome::InProgress && attempt.round.unwrap_or(1) == round {
            attempt.outcome = AttemptOutcome::Interrupted;
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
        assert_eq!(delivery.attempts[0].outcome, AttemptOutcome::Interrupted);
        assert!(!mark_interrupted(&mut delivery));
    }

    #[test]
    fn a_suspension_is_recorded_once_as_an_attempt_that_sent_nothing() {
        let mut delivery = DeliveryStatus::default();
        let mut failed = started(1);
        failed.outcome = AttemptOutcome::HttpError;
        failed.duration_ms = Some(3);
        record_attempt(&mut delivery, to_status_attempt(&failed, 1).unwrap());
        let now = "2026-03-01T12:00:05Z".parse().unwrap();
        assert!(record_suspension(&mut delivery, "partner", now));
        assert!(!record_suspension(&mut delivery, "partner", now));
        let recorded: Vec<_> = delivery
            .attempts
            .iter()
            .map(|a| (a.number, a.outcome))
            .collect();
        assert_eq!(
            recorded,
            [
                (1, AttemptOutcome::HttpError),
                (2, AttemptOutcome::Suspended)
            ]
        );
        assert_eq!(delivery.phase, DeliveryPhase::Pending);
        assert!(delivery.message.as_deref().unwrap().contains("`partner`"));
        let history = round_history(&delivery);
        assert_eq!(history[1].outcome, AttemptOutcome::Suspended);
        assert!(!history[1].outcome.is_send());
    }

    #[test]
    fn a_new_hold_after_a_send_is_recorded_again() {
        let mut delivery = DeliveryStatus::default();
        let now = "2026-03-01T12:00:05Z".parse().unwrap();
        record_suspension(&mut delivery, "partner", now);
        let mut sent = started(2);
        sent.outcome = AttemptOutcome::Timeout;
        sent.duration_ms = Some(5000);
        record_attempt(&mut delivery, to_status_attempt(&sent, 1).unwrap());
        assert!(record_suspension(&mut delivery, "partner", now));
        let numbers: Vec<_> = delivery.attempts.iter().map(|a| a.number).collect();
        assert_eq!(numbers, [1, 2, 3]);
    }

    #[test]
    fn a_retry_is_scheduled_and_an_end_recorded_in_the_same_status() {
        let mut failed = started(1);
        failed.outcome = AttemptOutcome::HttpError;
        failed.http_status = Some(503);
        failed.duration_ms = Some(10);
        failed.error = Some("receiver answered HTTP 503".into());
        let mut delivery = DeliveryStatus::default();
        let at: jiff::Timestamp = "2026-03-01T12:00:31Z".parse().unwrap();
        settle(&mut delivery, NextStep::WaitUntil(at), &[failed.clone()]);
        assert_eq!(delivery.phase, DeliveryPhase::Pending);
        assert_eq!(delivery.next_attempt_at, Some(Time(at)));
        assert!(delivery.message.as_deref().unwrap().contains("HTTP 503"));
        let fraction: jiff::Timestamp = "2026-03-01T12:00:31.2Z".parse().unwrap();
        settle(
            &mut delivery,
            NextStep::WaitUntil(fraction),
            &[failed.clone()],
        );
        assert_eq!(
            delivery.next_attempt_at,
            Some(Time("2026-03-01T12:00:32Z".parse().unwrap())),
            "rounded up, never brought forward by the API's whole seconds"
        );

        settle(
            &mut delivery,
            NextStep::Finish(Outcome::Failed),
            &[failed.clone()],
        );
        assert_eq!(delivery.phase, DeliveryPhase::Failed);
        assert_eq!(delivery.next_attempt_at, None);
        assert_eq!(
            delivery.message.as_deref(),
            Some("receiver answered HTTP 503")
        );

        let mut ok = started(2);
        ok.outcome = AttemptOutcome::Succeeded;
        ok.duration_ms = Some(1000);
        settle(
            &mut delivery,
            NextStep::Finish(Outcome::Succeeded),
            &[failed, ok],
        );
        assert_eq!(delivery.phase, DeliveryPhase::Succeeded);
        assert_eq!(
            delivery.delivered_at,
            Some(Time("2026-03-01T12:00:01Z".parse().unwrap()))
        );
        assert_eq!(
            delivery.message.as_deref(),
            Some("delivered after 2 attempt(s)")
        );
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
