//! The Redis fixed-window rate limiter with a real Redis and real loopback receivers.

mod fixtures;

use fixtures::{FastClock, Receiver, RecordingSink, Redis};
use guardrails_agent::rate_limit::{RateDecision, window_key};
use guardrails_agent::{
    AttemptOutcome, Deliverer, Delivery, Event, NetworkGuard, NextStep, Outcome, Policy,
    RateLimiter, next_step,
};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashSet;

fn deliverer(redis_url: &str, clock: std::sync::Arc<FastClock>) -> Deliverer {
    let guard = NetworkGuard {
        allow_private: true,
        ..NetworkGuard::default()
    };
    Deliverer::new(guard)
        .unwrap()
        .with_rate_limiter(RateLimiter::new(redis_url).unwrap())
        .with_clock(clock)
}

/// A random minute in the 2030s, 10 s after its start, so runs sharing a Redis never share a window.
fn random_minute() -> Timestamp {
    let minute = (uuid::Uuid::new_v4().as_u128() % 5_000_000) as i64;
    let base: Timestamp = "2031-01-01T00:00:10Z".parse().unwrap();
    base + SignedDuration::from_mins(minute)
}

#[tokio::test]
async fn a_limit_of_two_per_minute_sends_two_of_five_now_and_defers_three_without_dropping_any() {
    let redis = Redis::for_test();
    let receiver = Receiver::start(vec![]).await;
    let start = random_minute();
    let deliverer = deliverer(&redis.url, FastClock::starting_at(start));
    let policy = Policy {
        rate_limit_per_minute: 2,
        ..Policy::default()
    };
    let sink = RecordingSink::default();
    let deliveries: Vec<Delivery> = (0..5)
        .map(|i| {
            Delivery::new(
                Event::failed(format!("task-{i}"), "boom"),
                &receiver.url(),
                policy.clone(),
            )
            .unwrap()
        })
        .collect();

    let mut first = Vec::new();
    for delivery in &deliveries {
        first.push(deliverer.attempt(delivery, 1, &sink).await.unwrap());
    }
    let outcomes: Vec<_> = first.iter().map(|a| a.outcome).collect();
    use AttemptOutcome::{RateLimited, Succeeded};
    assert_eq!(
        outcomes,
        [Succeeded, Succeeded, RateLimited, RateLimited, RateLimited]
    );
    assert_eq!(receiver.received().len(), 2);
    let next_minute = Timestamp::from_second(start.as_second() - 10 + 60).unwrap();
    for deferred in &first[2..] {
        assert_eq!(
            next_step(&policy, std::slice::from_ref(deferred), start),
            NextStep::WaitUntil(next_minute)
        );
    }

    // The window's counter is the documented key (docs/operations.md), counted once per check.
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let key = window_key("127.0.0.1", start);
    assert!(key.starts_with("webhook_rate:127.0.0.1:20"), "{key}");
    let count: u64 = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(count, 5);
    assert!((1..=60).contains(&ttl), "ttl {ttl}");

    // The deferred three go out in later windows: none is dropped.
    for (delivery, attempt) in deliveries.iter().zip(first).skip(2) {
        let report = deliverer
            .deliver(delivery, vec![attempt], &sink)
            .await
            .unwrap();
        assert_eq!(report.outcome, Outcome::Succeeded);
        assert!(report.attempts.last().unwrap().started_at >= next_minute);
    }
    let ids: HashSet<_> = receiver
        .received()
        .iter()
        .map(|r| r.headers["x-guardrails-delivery"].clone())
        .collect();
    assert_eq!(ids.len(), 5);
}

#[tokio::test]
async fn a_stopped_redis_fails_open_and_is_counted() {
    let mut redis = Redis::own();
    let receiver = Receiver::start(vec![]).await;
    let deliverer = deliverer(&redis.url, FastClock::starting_at(random_minute()));
    let policy = Policy {
        rate_limit_per_minute: 1,
        ..Policy::default()
    };
    let limiter = deliverer.rate_limiter().unwrap();
    assert_eq!(
        limiter.check("warm.up", 1, Timestamp::now()).await,
        RateDecision::Allowed
    );

    redis.stop();
    let sink = RecordingSink::default();
    for i in 0..3 {
        let delivery = Delivery::new(
            Event::failed(format!("task-{i}"), "boom"),
            &receiver.url(),
            policy.clone(),
        )
        .unwrap();
        let report = deliverer
            .deliver(&delivery, Vec::new(), &sink)
            .await
            .unwrap();
        assert_eq!(
            report.outcome,
            Outcome::Succeeded,
            "sent although the limit is 1/min: Redis is down"
        );
    }
    assert_eq!(receiver.received().len(), 3);
    assert_eq!(limiter.fail_open_total(), 3);
    assert_eq!(deliverer.metrics().rate_limiter_fail_open.get(), 3);
}

#[tokio::test]
async fn without_a_limit_redis_is_never_asked() {
    let unreachable = format!("redis://127.0.0.1:{}/0", fixtures::free_port());
    let limiter = RateLimiter::new(&unreachable).unwrap();
    assert_eq!(
        limiter.check("partner.io", 0, Timestamp::now()).await,
        RateDecision::Allowed
    );
    assert_eq!(limiter.fail_open_total(), 0);
}
