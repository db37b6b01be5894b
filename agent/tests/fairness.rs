//! Fairness benchmark (ignored): a destination that accepts connections and never answers must
//! not delay deliveries to a healthy one. Numbers and the command are in docs/performance.md:
//!
//! `cargo test -p guardrails-agent --test fairness -- --ignored --nocapture`

mod fixtures;

use fixtures::Receiver;
use guardrails_agent::{Deliverer, Delivery, Event, NetworkGuard, Outcome, Policy};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Deliveries to the stuck destination, all started at once.
const STUCK: usize = 100;
/// Deliveries to the healthy destination, paced.
const HEALTHY: usize = 100;
/// Pace of the healthy deliveries, per second.
const RATE: f64 = 20.0;

/// A receiver that accepts every connection and never answers; returns its hook URL.
async fn never_answering() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{addr}/hook")
}

fn delivery(url: &str) -> Delivery {
    let event = Event::completed("bench-task", json!({"status": "success"}));
    Delivery::new(event, url, Policy::default()).unwrap()
}

/// Paced deliveries to `url`; the time from each one's scheduled start to its end, sorted.
async fn paced(deliverer: &Arc<Deliverer>, url: &str) -> Vec<Duration> {
    let start = Instant::now();
    let mut runs = JoinSet::new();
    for i in 0..HEALTHY {
        let due = start + Duration::from_secs_f64(i as f64 / RATE);
        tokio::time::sleep_until(due.into()).await;
        let deliverer = deliverer.clone();
        let delivery = delivery(url);
        runs.spawn(async move {
            let report = deliverer.deliver(&delivery, Vec::new(), &()).await.unwrap();
            assert_eq!(report.outcome, Outcome::Succeeded);
            due.elapsed()
        });
    }
    let mut latencies = runs.join_all().await;
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1e3
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn a_stuck_destination_does_not_delay_a_healthy_one() {
    let guard = NetworkGuard {
        allow_private: true,
        ..NetworkGuard::default()
    };
    let deliverer = Arc::new(Deliverer::new(guard).unwrap().with_max_in_flight(64));
    let healthy = Receiver::start(Vec::new()).await;
    let stuck = never_answering().await;

    let alone = paced(&deliverer, &healthy.url()).await;

    let mut stuck_runs = JoinSet::new();
    for _ in 0..STUCK {
        let deliverer = deliverer.clone();
        let delivery = delivery(&stuck);
        stuck_runs.spawn(async move { deliverer.deliver(&delivery, Vec::new(), &()).await });
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let beside = paced(&deliverer, &healthy.url()).await;
    stuck_runs.abort_all();

    let (alone_p50, alone_p99) = (percentile(&alone, 0.5), percentile(&alone, 0.99));
    let (beside_p50, beside_p99) = (percentile(&beside, 0.5), percentile(&beside, 0.99));
    println!(
        "fairness: {HEALTHY} deliveries at {RATE}/s to a healthy receiver: alone p50 {alone_p50:.1} ms, \
         p99 {alone_p99:.1} ms; beside {STUCK} deliveries to a never-answering receiver (5 s \
         timeout, 3 attempts): p50 {beside_p50:.1} ms, p99 {beside_p99:.1} ms ({:.2}x the p99 alone)",
        beside_p99 / alone_p99
    );
}
