//! Signed deliveries per second to a loopback receiver, 1 and 64 in flight, and engine overhead.
//! The receiver (axum, `204`) is this same binary started again with `BENCH_ROLE=receiver`.
//!
//! Run: `cargo bench -p guardrails-agent --bench delivery`. Engine overhead is the time a delivery
//! spends in the engine outside the HTTP exchange: building the event and its canonical body,
//! policy checks and signing before the sink's `started`, bookkeeping after its `finished`.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use guardrails_agent::deliverer::SinkError;
use guardrails_agent::{
    AttemptSink, Deliverer, Delivery, DeliveryAttempt, Event, NetworkGuard, Outcome, Policy,
    SigningSecret,
};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Times when the HTTP exchange of one delivery began and ended.
#[derive(Default)]
struct Stopwatch {
    started: Mutex<Option<Instant>>,
    finished: Mutex<Option<Instant>>,
}

impl AttemptSink for Stopwatch {
    async fn started(&self, _: &Delivery, _: &DeliveryAttempt) -> Result<(), SinkError> {
        *self.started.lock().unwrap() = Some(Instant::now());
        Ok(())
    }

    async fn finished(&self, _: &Delivery, _: &DeliveryAttempt) -> Result<(), SinkError> {
        *self.finished.lock().unwrap() = Some(Instant::now());
        Ok(())
    }
}

fn result() -> serde_json::Value {
    json!({"status": "success",
        "pii": {"detected": 2, "entities": [
            {"type": "EMAIL", "value": "jane.doe@example.com", "position": {"start": 10, "end": 30}, "confidence": 0.95},
            {"type": "PERSON", "value": "Zoë Ünal", "position": {"start": 40, "end": 48}, "confidence": 0.85}]},
        "compliance": {"compliant": false, "violations": 1, "frameworks": ["GDPR", "HIPAA"]},
        "risk": {"overall_score": 0.6123, "overall_level": "high", "recommendations": ["Redact personal data before sharing"]}})
}

/// One delivery: (end-to-end latency, engine overhead).
async fn one(deliverer: &Deliverer, url: &str, policy: &Policy, n: usize) -> (Duration, Duration) {
    let start = Instant::now();
    let delivery = Delivery::new(
        Event::completed(format!("task-{n}"), result()),
        url,
        policy.clone(),
    )
    .unwrap();
    let stopwatch = Stopwatch::default();
    let report = deliverer
        .deliver(&delivery, Vec::new(), &stopwatch)
        .await
        .unwrap();
    let total = start.elapsed();
    assert_eq!(report.outcome, Outcome::Succeeded);
    let exchange =
        stopwatch.finished.lock().unwrap().unwrap() - stopwatch.started.lock().unwrap().unwrap();
    (total, total.saturating_sub(exchange))
}

/// `count` deliveries by `in_flight` worker tasks (spread over the runtime's threads).
async fn run(
    deliverer: &Arc<Deliverer>,
    url: &str,
    policy: &Policy,
    in_flight: usize,
    count: usize,
) -> (f64, Vec<Duration>, Vec<Duration>) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (deliverer, url, policy, next) = (
                deliverer.clone(),
                url.to_owned(),
                policy.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut samples = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count {
                        return samples;
                    }
                    samples.push(one(&deliverer, &url, &policy, n).await);
                }
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(count);
    for worker in workers {
        samples.extend(worker.await.unwrap());
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    let (mut latency, mut overhead): (Vec<_>, Vec<_>) = samples.into_iter().unzip();
    latency.sort();
    overhead.sort();
    (rate, latency, overhead)
}

/// CPU time this process has used (user + system), from `/proc/self/stat`.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Baseline without the engine: `count` bare reqwest POSTs of a fixed body, `in_flight` at once.
async fn bare_reqwest(url: &str, in_flight: usize, count: usize) -> f64 {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = Event::completed("task-0", result()).body();
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (client, url, body, next) =
                (client.clone(), url.to_owned(), body.clone(), next.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    count as f64 / start.elapsed().as_secs_f64()
}

/// Serves the receiver: prints its port, answers `204` to every POST on `/hook`.
async fn serve_receiver() {
    let app = Router::new().route(
        "/hook",
        post(|_body: Bytes| async { StatusCode::NO_CONTENT }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    axum::serve(listener, app).await.unwrap();
}

/// Starts this binary again as the receiver, in its own process, and returns it with its URL.
fn start_receiver() -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("BENCH_ROLE", "receiver")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    (child, format!("http://127.0.0.1:{}/hook", port.trim()))
}

#[tokio::main]
async fn main() {
    if std::env::var("BENCH_ROLE").as_deref() == Ok("receiver") {
        return serve_receiver().await;
    }
    // NB: the receiver runs in another process, so the CPU column is the sender's alone.
    let (mut receiver, url) = start_receiver();
    let guard = NetworkGuard {
        allow_private: true,
        ..NetworkGuard::default()
    };
    let deliverer = Arc::new(Deliverer::new(guard).unwrap().with_max_in_flight(64));
    let policy = Policy {
        sign: true,
        secrets: vec![SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()],
        ..Policy::default()
    };
    let count: usize = std::env::var("BENCH_DELIVERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);

    run(&deliverer, &url, &policy, 64, 2_000).await; // warm-up: connections, allocator
    println!("signed deliveries to a loopback axum receiver in another process ({count} per run)");
    println!(
        "{:>9} {:>12} {:>9} {:>9} {:>13} {:>13} {:>20}",
        "in flight",
        "deliveries/s",
        "p50 ms",
        "p99 ms",
        "overhead p50",
        "overhead p99",
        "sender CPU µs/deliv."
    );
    for in_flight in [1, 64] {
        let cpu_before = cpu_time();
        let (rate, latency, overhead) = run(&deliverer, &url, &policy, in_flight, count).await;
        let cpu_per_delivery = (cpu_time() - cpu_before).as_secs_f64() * 1e6 / count as f64;
        println!(
            "{in_flight:>9} {rate:>12.0} {:>9.3} {:>9.3} {:>10.3} ms {:>10.3} ms {cpu_per_delivery:>20.0}",
            percentile(&latency, 0.5),
            percentile(&latency, 0.99),
            percentile(&overhead, 0.5),
            percentile(&overhead, 0.99)
        );
    }
    let cpu_before = cpu_time();
    let rate = bare_reqwest(&url, 64, count).await;
    let cpu_per_request = (cpu_time() - cpu_before).as_secs_f64() * 1e6 / count as f64;
    println!(
        "baseline: bare reqwest POSTs without the engine, 64 in flight: {rate:.0}/s, {cpu_per_request:.0} µs sender CPU each"
    );
    receiver.kill().unwrap();
    receiver.wait().unwrap();
}
