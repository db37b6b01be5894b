//! What to do next with a task: a pure function of the task, the operator's settings and the
//! clock, so every branch is tested without an API.

use std::time::Duration;

use guardrails_crds::{AnalysisTask, TaskPhase, conditions};
use jiff::Timestamp;
use kube::ResourceExt;

/// Condition type the operator sets when a finished task's spec changed after its analysis.
pub const SPEC_CHANGED: &str = "SpecChanged";

/// The next step for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A new task: mark it Running, then analyse it.
    Start,
    /// A task already Running (operator restarted, or a retry): finish it from its result Secret
    /// if that exists, else analyse it.
    Resume,
    /// A finished task whose spec changed after the analysis: say so in a condition.
    ReportSpecChange,
    /// A finished task whose time to live has passed and whose delivery has ended: delete it.
    Delete,
    /// Nothing to do until the task changes, or until `Some(after)` passed.
    Wait(Option<Duration>),
}

/// Decides the next step for `task` at `now`, with `default_ttl` for tasks without their own.
pub fn next_step(task: &AnalysisTask, default_ttl: Option<u32>, now: Timestamp) -> Next {
    match task.phase() {
        TaskPhase::Pending => Next::Start,
        TaskPhase::Running => Next::Resume,
        TaskPhase::Succeeded | TaskPhase::Failed => {
            if spec_changed_unreported(task) {
                return Next::ReportSpecChange;
            }
            match expiry(task, default_ttl) {
                Some(at) if at <= now => Next::Delete,
                Some(at) => Next::Wait(Some(until(now, at))),
                None => Next::Wait(None),
            }
        }
    }
}

/// Whether the spec's generation moved past the one analysed and no condition says so yet.
fn spec_changed_unreported(task: &AnalysisTask) -> bool {
    let observed = task.status.as_ref().and_then(|s| s.observed_generation);
    let (Some(generation), Some(observed)) = (task.metadata.generation, observed) else {
        return false;
    };
    let conds = task
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    generation > observed
        && conditions::find_condition(conds, SPEC_CHANGED)
            .is_none_or(|c| c.observed_generation != Some(generation))
}

/// Whether nothing more will be delivered for the task: the agent reports a terminal delivery,
/// or the task has no webhook and the agent has not written anything (e.g. no agent runs).
pub fn delivery_ended(task: &AnalysisTask) -> bool {
    match task.delivery_phase() {
        Some(phase) => phase.is_terminal(),
        None => task.spec.webhook.is_none(),
    }
}

/// When a finished task with ended delivery is due for deletion, if it has a time to live.
pub fn expiry(task: &AnalysisTask, default_ttl: Option<u32>) -> Option<Timestamp> {
    let ttl = task
        .spec
        .ttl_seconds_after_finished
        .and_then(|t| u32::try_from(t).ok())
        .or(default_ttl)?;
    if !task.phase().is_finished() || !delivery_ended(task) {
        return None;
    }
    let finished = finished_at(task)?;
    finished
        .checked_add(jiff::SignedDuration::from_secs(i64::from(ttl)))
        .ok()
}

/// The latest of the analysis' completion and the delivery's last recorded activity.
fn finished_at(task: &AnalysisTask) -> Option<Timestamp> {
    let status = task.status.as_ref()?;
    let completed = status.completed_at.as_ref().map(|t| t.0);
    let delivered = status.delivery.as_ref().and_then(|d| {
        let last_attempt = d.attempts.last().map(|a| {
            let ms = a.duration_ms.unwrap_or(0);
            a.started_at.0 + jiff::SignedDuration::from_millis(ms)
        });
        [d.delivered_at.as_ref().map(|t| t.0), last_attempt]
            .into_iter()
            .flatten()
            .max()
    });
    [completed, delivered]
        .into_iter()
        .flatten()
        .max()
        .or_else(|| {
            // NB: a finished task always has completedAt; fall back to its creation for safety.
            task.creation_timestamp().map(|t| t.0)
        })
}

/// How long from `now` until `at`, at least one second so requeues never spin.
fn until(now: Timestamp, at: Timestamp) -> Duration {
    let secs = (at - now).total(jiff::Unit::Millisecond).unwrap_or(0.0) / 1000.0;
    Duration::from_secs_f64(secs.max(1.0))
}

/// What is left of the grace period for a missing text Secret that began at `started`, if any.
pub fn grace_left(started: Timestamp, grace: Duration, now: Timestamp) -> Option<Duration> {
    let elapsed = (now - started)
        .total(jiff::Unit::Millisecond)
        .unwrap_or(0.0)
        .max(0.0);
    let left = grace.as_millis() as f64 - elapsed;
    (left > 0.0).then(|| Duration::from_millis(left as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::TaskBuilder;
    use guardrails_crds::DeliveryPhase;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn a_new_task_is_started() {
        assert_eq!(
            next_step(&TaskBuilder::new("t").build(), None, at(100)),
            Next::Start
        );
    }

    #[test]
    fn a_running_task_is_resumed() {
        let task = TaskBuilder::new("t").running(at(10)).build();
        assert_eq!(next_step(&task, Some(0), at(100)), Next::Resume);
    }

    #[test]
    fn a_finished_task_without_ttl_waits_for_changes() {
        let task = TaskBuilder::new("t").succeeded(at(10)).build();
        assert_eq!(next_step(&task, None, at(100)), Next::Wait(None));
    }

    #[test]
    fn a_finished_task_is_deleted_once_its_ttl_passed() {
        let task = TaskBuilder::new("t").ttl(30).succeeded(at(10)).build();
        assert_eq!(next_step(&task, None, at(41)), Next::Delete);
    }

    #[test]
    fn a_finished_task_is_requeued_for_the_rest_of_its_ttl() {
        let task = TaskBuilder::new("t").succeeded(at(10)).build();
        assert_eq!(
            next_step(&task, Some(60), at(40)),
            Next::Wait(Some(Duration::from_secs(30)))
        );
    }

    #[test]
    fn a_pending_delivery_keeps_the_task_past_its_ttl() {
        let task = TaskBuilder::new("t")
            .ttl(1)
            .webhook()
            .succeeded(at(10))
            .delivery(DeliveryPhase::Pending)
            .build();
        assert_eq!(next_step(&task, None, at(1000)), Next::Wait(None));
    }

    #[test]
    fn a_webhook_task_the_agent_has_not_seen_is_kept() {
        let task = TaskBuilder::new("t")
            .ttl(1)
            .webhook()
            .failed(at(10))
            .build();
        assert_eq!(next_step(&task, None, at(1000)), Next::Wait(None));
    }

    #[test]
    fn a_terminal_delivery_lets_the_ttl_run() {
        let task = TaskBuilder::new("t")
            .ttl(5)
            .webhook()
            .succeeded(at(10))
            .delivery(DeliveryPhase::Rejected)
            .build();
        assert_eq!(next_step(&task, None, at(16)), Next::Delete);
    }

    #[test]
    fn the_spec_ttl_wins_over_the_default() {
        let task = TaskBuilder::new("t").ttl(100).succeeded(at(10)).build();
        assert_eq!(
            next_step(&task, Some(1), at(20)),
            Next::Wait(Some(Duration::from_secs(90)))
        );
    }

    #[test]
    fn a_spec_change_after_the_analysis_is_reported_once() {
        let changed = TaskBuilder::new("t")
            .succeeded(at(10))
            .generation(2)
            .build();
        assert_eq!(next_step(&changed, None, at(20)), Next::ReportSpecChange);
        let reported = TaskBuilder::new("t")
            .succeeded(at(10))
            .generation(2)
            .spec_change_reported(2)
            .build();
        assert_eq!(next_step(&reported, None, at(20)), Next::Wait(None));
    }

    #[test]
    fn the_grace_period_counts_from_the_start() {
        let grace = Duration::from_secs(30);
        assert_eq!(
            grace_left(at(100), grace, at(110)),
            Some(Duration::from_secs(20))
        );
        assert_eq!(grace_left(at(100), grace, at(130)), None);
    }
}
