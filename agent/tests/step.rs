//! One step of the delivery engine (`Deliverer::step`), the driver of the sidecar, `--standalone`
//! and `send`, against real receivers on loopback (and a real Redis for the rate limit).

mod fixtures;

use fixtures::{FastClock, Receiver, RecordingSink, Redis, Reply, Report};
use guardrails_agent::deliverer::{SinkError, Step};
use guardrails_agent::{
    AllowList, AttemptOutcome, AttemptSink, Deliverer, Delivery, DeliveryAttempt, Event,
    NetworkGuard, NextStep, Outcome, Policy, RateLimiter,
};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;

fn deliverer() -> Deliverer {
    let guard = NetworkGuard {
        allow_private: true,
        ..NetworkGuard::default()
    };
    Deliverer::new(guard).unwrap().with_clock(FastClock::new())
}

fn delivery(url: &str, policy: Policy) -> Delivery {
    Delivery::new(Event::failed("task-uid-1", "boom"), url, policy).unwrap()
}

fn sent(step: Step) -> (DeliveryAttempt, NextStep) {
    match step {
        Step::Sent { attempt, next } => (attempt, next),
        other => panic!("expected an attempt, got {other:?}"),
    }
}

#[tokio::test]
async fn a_2xx_is_one_recorded_attempt_and_the_end() {
    let receiver = Receiver::start(vec![]).await;
    let sink = RecordingSink::default();
    let target = delivery(&receiver.url(), Policy::default());

    let step = deliverer().step(&target, &[], None, &sink).await.unwrap();

    let (attempt, next) = sent(step);
    assert_eq!(
        (attempt.number, attempt.outcome),
        (1, AttemptOutcome::Succeeded)
    );
    assert_eq!(next, NextStep::Finish(Outcome::Succeeded));
    assert_eq!(receiver.received().len(), 1);
    assert!(
        matches!(&sink.reports()[..], [Report::Started(_), Report::Finished(f)] if *f == attempt)
    );
    let after = deliverer()
        .step(&target, &[attempt], None, &sink)
        .await
        .unwrap();
    assert_eq!(
        after,
        Step::Over(Outcome::Succeeded),
        "nothing is sent twice"
    );
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_503_schedules_the_next_attempt_a_second_or_a_little_more_later_and_sends_nothing_before()
{
    let receiver = Receiver::start(vec![Reply::Status(503)]).await;
    let sink = RecordingSink::default();
    let target = delivery(&receiver.url(), Policy::default());
    let deliverer = deliverer();

    let (attempt, next) = sent(deliverer.step(&target, &[], None, &sink).await.unwrap());

    assert_eq!(
        (attempt.outcome, attempt.http_status),
        (AttemptOutcome::HttpError, Some(503))
    );
    let NextStep::WaitUntil(due) = next else {
        panic!("a 503 is retried: {next:?}");
    };
    let ended = attempt.ended_at().unwrap();
    let backoff = due.duration_since(ended);
    assert!(
        backoff >= SignedDuration::from_secs(1) && backoff <= SignedDuration::from_millis(1200),
        "1 s plus at most 20 % jitter: {backoff}"
    );
    let history = [attempt];
    assert_eq!(
        deliverer
            .step(&target, &history, None, &sink)
            .await
            .unwrap(),
        Step::Due(due)
    );
    let recorded = due + SignedDuration::from_secs(30);
    assert_eq!(
        deliverer
            .step(&target, &history, Some(recorded), &sink)
            .await
            .unwrap(),
        Step::Due(recorded),
        "a recorded schedule is never brought forward"
    );
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_suspended_policy_holds_the_delivery_and_sends_nothing() {
    let receiver = Receiver::start(vec![]).await;
    let sink = RecordingSink::default();
    let policy = Policy {
        suspend: true,
        ..Policy::default()
    };
    let target = delivery(&receiver.url(), policy);

    let step = deliverer().step(&target, &[], None, &sink).await.unwrap();

    let Step::Held(record) = step else {
        panic!("held: {step:?}");
    };
    assert_eq!(
        (record.number, record.outcome),
        (1, AttemptOutcome::Suspended)
    );
    assert_eq!(sink.reports(), [Report::Held(record)]);
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_host_outside_the_allowlist_is_rejected_without_a_request() {
    let receiver = Receiver::start(vec![]).await;
    let sink = RecordingSink::default();
    let policy = Policy {
        allowlist: AllowList::from_comma_separated("partner.io").unwrap(),
        ..Policy::default()
    };
    let target = delivery(&receiver.url(), policy);

    let (attempt, next) = sent(deliverer().step(&target, &[], None, &sink).await.unwrap());

    assert_eq!(attempt.outcome, AttemptOutcome::Rejected);
    assert!(
        attempt.error.as_deref().unwrap().contains("allowlist"),
        "{attempt:?}"
    );
    assert_eq!(next, NextStep::Finish(Outcome::Rejected));
    assert!(
        matches!(&sink.reports()[..], [Report::Finished(_)]),
        "never started"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_rate_limited_attempt_is_deferred_to_the_next_minute_without_a_request() {
    let redis = Redis::for_test();
    let receiver = Receiver::start(vec![]).await;
    let minute = (uuid::Uuid::new_v4().as_u128() % 5_000_000) as i64;
    let start: Timestamp = "2031-01-01T00:00:10Z".parse().unwrap();
    let start = start + SignedDuration::from_mins(minute);
    let deliverer = deliverer()
        .with_rate_limiter(RateLimiter::new(&redis.url).unwrap())
        .with_clock(FastClock::starting_at(start));
    let policy = Policy {
        rate_limit_per_minute: 1,
        ..Policy::default()
    };
    let sink = RecordingSink::default();
    let first = delivery(&receiver.url(), policy.clone());
    let second =
        Delivery::new(Event::failed("task-uid-2", "boom"), &receiver.url(), policy).unwrap();

    let (sent_first, _) = sent(deliverer.step(&first, &[], None, &sink).await.unwrap());
    let (deferred, next) = sent(deliverer.step(&second, &[], None, &sink).await.unwrap());

    assert_eq!(sent_first.outcome, AttemptOutcome::Succeeded);
    assert_eq!(deferred.outcome, AttemptOutcome::RateLimited);
    let next_minute = Timestamp::from_second(start.as_second() - 10 + 60).unwrap();
    assert_eq!(next, NextStep::WaitUntil(next_minute));
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_destination_without_a_free_share_is_busy_and_another_is_not() {
    let stuck = Receiver::start(vec![Reply::Hang(Duration::from_secs(2))]).await;
    let healthy = Receiver::start(vec![]).await;
    let deliverer = Arc::new(deliverer().with_max_in_flight(1));
    let in_flight = tokio::spawn({
        let deliverer = deliverer.clone();
        let target = delivery(&stuck.url(), Policy::default());
        async move { deliverer.step(&target, &[], None, &()).await }
    });
    while stuck.received().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let busy = deliverer
        .step(&delivery(&stuck.url(), Policy::default()), &[], None, &())
        .await
        .unwrap();
    let other = deliverer
        .step(&delivery(&healthy.url(), Policy::default()), &[], None, &())
        .await
        .unwrap();

    assert_eq!(busy, Step::Busy);
    assert_eq!(sent(other).0.outcome, AttemptOutcome::Succeeded);
    assert_eq!(stuck.received().len(), 1, "the busy step sent nothing");
    assert_eq!(
        sent(in_flight.await.unwrap().unwrap()).0.outcome,
        AttemptOutcome::Succeeded
    );
}

/// A sink that cuts every attempt as soon as it is sent.
struct CuttingSink(RecordingSink);

impl AttemptSink for CuttingSink {
    async fn started(&self, d: &Delivery, a: &DeliveryAttempt) -> Result<(), SinkError> {
        self.0.started(d, a).await
    }
    async fn finished(&self, d: &Delivery, a: &DeliveryAttempt) -> Result<(), SinkError> {
        self.0.finished(d, a).await
    }
    async fn cut(&self) {
        while self.0.reports().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[tokio::test]
async fn an_attempt_the_sink_cuts_is_left_unrecorded() {
    let receiver = Receiver::start(vec![Reply::Hang(Duration::from_secs(2))]).await;
    let sink = CuttingSink(RecordingSink::default());
    let target = delivery(&receiver.url(), Policy::default());

    let step = deliverer().step(&target, &[], None, &sink).await.unwrap();

    assert_eq!(step, Step::Cut);
    assert!(
        matches!(&sink.0.reports()[..], [Report::Started(_)]),
        "no end recorded"
    );
}
