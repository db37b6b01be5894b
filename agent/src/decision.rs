//! The pure decision of a delivery: given its policy and attempts so far, what happens next.

use crate::attempt::{AttemptOutcome, DeliveryAttempt, Outcome};
use crate::policy::Policy;
use crate::rate_limit::next_window;
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

/// What a delivery does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Make an attempt now.
    SendNow,
    /// Make the next attempt at this time.
    WaitUntil(Timestamp),
    /// The delivery is over.
    Finish(Outcome),
}

/// Decides the next step from the effective `policy`, the `attempts` so far (oldest first) and `now`.
///
/// A `suspended` record only marks that the endpoint held the delivery: once the hold is lifted
/// the schedule of the attempts before it applies (usually: send at once).
pub fn next_step(policy: &Policy, attempts: &[DeliveryAttempt], now: Timestamp) -> NextStep {
    let Some(last) = attempts
        .iter()
        .rev()
        .find(|a| a.outcome != AttemptOutcome::Suspended)
    else {
        return NextStep::SendNow;
    };
    let due = match last.outcome {
        // NB: never the case (skipped above); a lifted hold is due at once.
        AttemptOutcome::Suspended => now,
        AttemptOutcome::Succeeded => return NextStep::Finish(Outcome::Succeeded),
        AttemptOutcome::Rejected => return NextStep::Finish(Outcome::Rejected),
        AttemptOutcome::RateLimited => next_window(last.started_at),
        AttemptOutcome::HttpError if !last.http_status.is_some_and(is_retryable_status) => {
            return NextStep::Finish(Outcome::Failed);
        }
        AttemptOutcome::HttpError
        | AttemptOutcome::Timeout
        | AttemptOutcome::ConnectionError
        | AttemptOutcome::InProgress
        | AttemptOutcome::Interrupted => {
            let sends = attempts.iter().filter(|a| a.outcome.is_send()).count() as u32;
            let Some(delay) = retry_delay(policy, sends, last) else {
                return NextStep::Finish(Outcome::Failed);
            };
            // An attempt that never recorded its end (the agent stopped) ended at its timeout at the latest.
            let ended = last
                .ended_at()
                .unwrap_or_else(|| add(last.started_at, policy.timeout));
            add(ended, delay)
        }
    };
    if due > now {
        NextStep::WaitUntil(due)
    } else {
        NextStep::SendNow
    }
}

/// `step` with a recorded schedule as its floor: an attempt is never made before `earliest` (the
/// `nextAttemptAt` in status, which may hold a receiver's `Retry-After` the history lacks).
pub fn not_before(step: NextStep, earliest: Option<Timestamp>, now: Timestamp) -> NextStep {
    match (step, earliest) {
        (NextStep::SendNow, Some(at)) if at > now => NextStep::WaitUntil(at),
        (NextStep::WaitUntil(due), Some(at)) => NextStep::WaitUntil(due.max(at)),
        (step, _) => step,
    }
}

/// Whether an HTTP status is worth another attempt: 5xx, 408 and 429.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 500..=599 | 408 | 429)
}

/// The wait after `sends` attempts, or `None` when the fast tier and the schedule are used up.
fn retry_delay(policy: &Policy, sends: u32, last: &DeliveryAttempt) -> Option<Duration> {
    let max_attempts = policy.max_attempts.max(1);
    let delay = if sends < max_attempts {
        policy.backoff(sends)
    } else {
        *policy.retry_schedule.get((sends - max_attempts) as usize)?
    };
    let delay = policy.jittered(delay, sends);
    let retry_after = last
        .retry_after_seconds
        .map(|s| Duration::from_secs(s).min(policy.retry_after_cap));
    Some(delay.max(retry_after.unwrap_or_default()))
}

fn add(at: Timestamp, delay: Duration) -> Timestamp {
    let delay = SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX);
    at.saturating_add(delay).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default policy without jitter, so schedules are exact.
    fn policy() -> Policy {
        Policy {
            retry_jitter: 0.0,
            ..Policy::default()
        }
    }

    fn t0() -> Timestamp {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    fn secs(s: i64) -> Timestamp {
        t0() + SignedDuration::from_secs(s)
    }

    fn attempt(
        number: u32,
        start: i64,
        outcome: AttemptOutcome,
        status: Option<u16>,
    ) -> DeliveryAttempt {
        let mut attempt = DeliveryAttempt::new(number, secs(start));
        attempt.duration_ms = Some(0);
        attempt.outcome = outcome;
        attempt.http_status = status;
        attempt
    }

    fn server_error(number: u32, start: i64) -> DeliveryAttempt {
        attempt(number, start, AttemptOutcome::HttpError, Some(500))
    }

    #[test]
    fn a_new_delivery_sends_now() {
        assert_eq!(next_step(&policy(), &[], t0()), NextStep::SendNow);
    }

    #[test]
    fn a_2xx_finishes_the_delivery() {
        let attempts = [attempt(1, 0, AttemptOutcome::Succeeded, Some(200))];
        assert_eq!(
            next_step(&policy(), &attempts, t0()),
            NextStep::Finish(Outcome::Succeeded)
        );
    }

    #[test]
    fn server_errors_back_off_one_then_two_seconds() {
        let policy = policy();
        assert_eq!(
            next_step(&policy, &[server_error(1, 0)], secs(0)),
            NextStep::WaitUntil(secs(1))
        );
        assert_eq!(
            next_step(&policy, &[server_error(1, 0)], secs(1)),
            NextStep::SendNow
        );
        let two = [server_error(1, 0), server_error(2, 1)];
        assert_eq!(
            next_step(&policy, &two, secs(1)),
            NextStep::WaitUntil(secs(3))
        );
    }

    #[test]
    fn the_third_failure_ends_the_default_policy() {
        let three = [server_error(1, 0), server_error(2, 1), server_error(3, 3)];
        assert_eq!(
            next_step(&policy(), &three, secs(10)),
            NextStep::Finish(Outcome::Failed)
        );
    }

    #[test]
    fn other_4xx_and_3xx_fail_at_once() {
        for status in [400, 401, 404, 302] {
            let attempts = [attempt(1, 0, AttemptOutcome::HttpError, Some(status))];
            assert_eq!(
                next_step(&policy(), &attempts, t0()),
                NextStep::Finish(Outcome::Failed),
                "{status}"
            );
        }
    }

    #[test]
    fn timeouts_408_and_connection_errors_are_retried() {
        for last in [
            attempt(1, 0, AttemptOutcome::Timeout, None),
            attempt(1, 0, AttemptOutcome::ConnectionError, None),
            attempt(1, 0, AttemptOutcome::HttpError, Some(408)),
        ] {
            assert_eq!(
                next_step(&policy(), &[last], t0()),
                NextStep::WaitUntil(secs(1))
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let mut limited = attempt(1, 0, AttemptOutcome::HttpError, Some(429));
        limited.retry_after_seconds = Some(7);
        assert_eq!(
            next_step(&policy(), &[limited.clone()], t0()),
            NextStep::WaitUntil(secs(7))
        );
        limited.retry_after_seconds = Some(86_400);
        assert_eq!(
            next_step(&policy(), &[limited], t0()),
            NextStep::WaitUntil(secs(60))
        );
    }

    #[test]
    fn the_long_term_schedule_follows_the_fast_attempts() {
        let policy = Policy {
            retry_schedule: vec![Duration::from_secs(300), Duration::from_secs(1800)],
            ..policy()
        };
        let mut attempts = vec![server_error(1, 0), server_error(2, 1), server_error(3, 3)];
        assert_eq!(
            next_step(&policy, &attempts, secs(3)),
            NextStep::WaitUntil(secs(303))
        );
        attempts.push(server_error(4, 303));
        assert_eq!(
            next_step(&policy, &attempts, secs(303)),
            NextStep::WaitUntil(secs(2103))
        );
        attempts.push(server_error(5, 2103));
        assert_eq!(
            next_step(&policy, &attempts, secs(2103)),
            NextStep::Finish(Outcome::Failed)
        );
    }

    #[test]
    fn rate_limited_attempts_wait_for_the_next_minute_and_do_not_count() {
        let policy = Policy {
            max_attempts: 1,
            ..policy()
        };
        let deferred = [attempt(1, 42, AttemptOutcome::RateLimited, None)];
        assert_eq!(
            next_step(&policy, &deferred, secs(42)),
            NextStep::WaitUntil(secs(60))
        );
        assert_eq!(next_step(&policy, &deferred, secs(60)), NextStep::SendNow);
    }

    #[test]
    fn an_attempt_cut_short_by_a_restart_is_retried_after_its_timeout() {
        let mut interrupted = DeliveryAttempt::new(1, t0());
        interrupted.outcome = AttemptOutcome::Interrupted;
        assert_eq!(
            next_step(&policy(), &[interrupted], t0()),
            NextStep::WaitUntil(secs(6))
        );
    }

    #[test]
    fn a_lifted_suspension_sends_at_once() {
        let mut held = DeliveryAttempt::new(1, t0());
        held.outcome = AttemptOutcome::Suspended;
        held.duration_ms = Some(0);
        assert_eq!(next_step(&policy(), &[held], secs(30)), NextStep::SendNow);
    }

    #[test]
    fn a_suspension_keeps_the_retry_schedule_of_the_attempts_before_it() {
        let mut held = DeliveryAttempt::new(2, secs(0));
        held.outcome = AttemptOutcome::Suspended;
        held.duration_ms = Some(0);
        let attempts = [server_error(1, 0), held];
        assert_eq!(
            next_step(&policy(), &attempts, secs(0)),
            NextStep::WaitUntil(secs(1))
        );
        let three = [
            server_error(1, 0),
            server_error(2, 1),
            server_error(3, 3),
            attempts[1].clone(),
        ];
        assert_eq!(
            next_step(&policy(), &three, secs(10)),
            NextStep::Finish(Outcome::Failed),
            "a hold never grants an extra attempt"
        );
    }

    #[test]
    fn a_recorded_schedule_is_never_brought_forward() {
        let later = Some(secs(30));
        assert_eq!(
            not_before(NextStep::SendNow, later, secs(5)),
            NextStep::WaitUntil(secs(30))
        );
        assert_eq!(
            not_before(NextStep::WaitUntil(secs(1)), later, secs(0)),
            NextStep::WaitUntil(secs(30)),
            "a restart without the Retry-After in memory keeps the recorded time"
        );
        assert_eq!(
            not_before(NextStep::WaitUntil(secs(60)), later, secs(0)),
            NextStep::WaitUntil(secs(60))
        );
        assert_eq!(
            not_before(NextStep::SendNow, later, secs(31)),
            NextStep::SendNow
        );
        assert_eq!(
            not_before(NextStep::Finish(Outcome::Failed), later, secs(0)),
            NextStep::Finish(Outcome::Failed)
        );
    }

    #[test]
    fn retries_wait_up_to_a_fifth_longer_the_same_each_time() {
        let jittered = Policy::default().with_jitter_key("event-1");
        let attempts = [server_error(1, 0)];
        let NextStep::WaitUntil(due) = next_step(&jittered, &attempts, t0()) else {
            panic!("a retry is scheduled");
        };
        assert!(
            due >= secs(1) && due <= t0() + SignedDuration::from_millis(1200),
            "{due}"
        );
        assert_eq!(
            next_step(&jittered, &attempts, secs(0)),
            NextStep::WaitUntil(due)
        );
    }

    #[test]
    fn rejection_is_final() {
        let attempts = [attempt(1, 0, AttemptOutcome::Rejected, None)];
        assert_eq!(
            next_step(&policy(), &attempts, t0()),
            NextStep::Finish(Outcome::Rejected)
        );
    }
}
