//! Benchmark of the whole pipeline on a Kubernetes API: the release operator and agent as
//! processes, tasks created through the API with a short PII text and a webhook to a loopback
//! receiver answering `204`. Not a test: run it on purpose, against a real API server
//! (`E2E_KUBECONFIG`, see docs/testing.md) or the test server (without it):
//!
//! ```text
//! cargo build --release --workspace --bins
//! E2E_KUBECONFIG=$HOME/.realk8s/kubeconfig \
//!   cargo test --release -p guardrails-e2e --test pipeline_bench -- --ignored --nocapture --test-threads=1
//! ```
//!
//! Three modes, one test each:
//! - backlog: `BENCH_TASKS` (1,000) tasks created first, then the binaries start; tasks/s from
//!   their start to the last webhook;
//! - paced: `BENCH_RATE` (100) tasks/s for `BENCH_SECONDS` (10) while the binaries run;
//!   create (answered) → webhook received p50/p90/p99;
//! - chaos: the paced run (default 50/s for 30 s) while the operator or the agent (in turn) is
//!   killed with SIGKILL and restarted every `BENCH_KILL_EVERY` (4) seconds; counts the tasks
//!   never delivered and the webhooks delivered more than once.
//!
//! Each mode prints the API server's writes per task by verb and resource (from its `/metrics`,
//! or the test server's request log), the CPU time of kube-apiserver and etcd per task, and the
//! CPU time and peak memory of the operator and the agent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures::{StreamExt, stream};
use guardrails_crds::AnalysisTask;
use guardrails_e2e::kit::measure::{
    ApiRequests, cpu_time, cpu_time_of_named, load_average, memory_kib, ms, percentile,
};
use guardrails_e2e::kit::{
    BinarySpec, Probe, Reply, RunningBinary, TestCluster, WebhookReceiver, free_local_addr,
    wait_for,
};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

const TEXT: &str = "Hi, I am Jane Doe, my SSN is 536-22-1234, mail jane.doe@example.com";
const CREATORS_IN_FLIGHT: usize = 32;
const DRAIN_DEADLINE: Duration = Duration::from_secs(600);

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v| v > 0)
        .unwrap_or(default)
}

/// The operator and the agent of one namespace, restartable.
struct Pipeline {
    operator: RunningBinary,
    agent: RunningBinary,
    operator_spec: BinarySpec,
    agent_spec: BinarySpec,
    /// CPU time of processes that were killed, by binary name.
    cpu_of_killed: HashMap<String, Duration>,
}

impl Pipeline {
    async fn start(cluster: &TestCluster) -> Self {
        let listen = || free_local_addr().unwrap().to_string();
        let operator_spec = BinarySpec::new("guardrails-operator", "guardrails-operator").args([
            "--namespace",
            cluster.namespace(),
            "--listen",
            &listen(),
        ]);
        let agent_spec = BinarySpec::new("guardrails-agent", "guardrails-agent")
            .args([
                "run",
                "--namespace",
                cluster.namespace(),
                "--listen",
                &listen(),
            ])
            .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true")
            .env("WEBHOOK_SIGNING_SECRET", "bench-secret")
            .env("REDIS_URL", "redis://127.0.0.1:1/0");
        let [operator_spec, agent_spec] = [operator_spec, agent_spec].map(|spec| {
            spec.kubeconfig(cluster.kubeconfig_path())
                .env("RUST_LOG", "warn")
        });
        Self {
            operator: RunningBinary::start(operator_spec.clone()).await.unwrap(),
            agent: RunningBinary::start(agent_spec.clone()).await.unwrap(),
            operator_spec,
            agent_spec,
            cpu_of_killed: HashMap::new(),
        }
    }

    /// Kills one binary with SIGKILL and starts it again.
    async fn crash_and_restart(&mut self, operator: bool) {
        let (binary, spec) = if operator {
            (&mut self.operator, &self.operator_spec)
        } else {
            (&mut self.agent, &self.agent_spec)
        };
        let cpu = cpu_time(&binary.pid().unwrap().to_string());
        *self
            .cpu_of_killed
            .entry(binary.name().to_owned())
            .or_default() += cpu;
        binary.kill().await.unwrap();
        *binary = RunningBinary::start(spec.clone()).await.unwrap();
    }

    /// CPU time and peak resident memory of a binary (CPU includes its killed predecessors).
    fn usage(&self, binary: &RunningBinary) -> (Duration, u64) {
        let pid = binary.pid().unwrap();
        let before = self.cpu_of_killed.get(binary.name()).copied();
        (
            cpu_time(&pid.to_string()) + before.unwrap_or_default(),
            memory_kib(pid, "VmHWM:"),
        )
    }
}

fn task(name: &str, url: &str) -> AnalysisTask {
    serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask",
        "metadata": {"name": name},
        "spec": {"text": TEXT, "frameworks": ["HIPAA"], "webhook": {"url": url, "signPayload": true}},
    }))
    .unwrap()
}

/// Creates `count` tasks named `<prefix>-<i>`, `CREATORS_IN_FLIGHT` at a time; returns their uids.
async fn create_backlog(tasks: &Api<AnalysisTask>, prefix: &str, count: u64, url: &str) {
    stream::iter(0..count)
        .for_each_concurrent(CREATORS_IN_FLIGHT, |i| {
            let tasks = tasks.clone();
            async move {
                tasks
                    .create(&PostParams::default(), &task(&format!("{prefix}-{i}"), url))
                    .await
                    .unwrap();
            }
        })
        .await;
}

/// Creates `rate` tasks a second for `seconds`, each on its own schedule so a slow answer never
/// lowers the offered rate; returns when each create was answered, by task uid.
async fn create_paced(
    tasks: &Api<AnalysisTask>,
    rate: u64,
    seconds: u64,
    url: &str,
) -> Arc<Mutex<HashMap<String, SystemTime>>> {
    let created = Arc::new(Mutex::new(HashMap::new()));
    let pace = Duration::from_micros(1_000_000 / rate);
    let start = Instant::now();
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..rate * seconds {
        let (tasks, created, url) = (tasks.clone(), created.clone(), url.to_owned());
        creates.spawn(async move {
            tokio::time::sleep_until((start + pace * i as u32).into()).await;
            let made = tasks
                .create(&PostParams::default(), &task(&format!("paced-{i}"), &url))
                .await
                .unwrap();
            let answered = SystemTime::now();
            created
                .lock()
                .unwrap()
                .insert(made.metadata.uid.unwrap(), answered);
        });
    }
    while let Some(done) = creates.join_next().await {
        done.unwrap();
    }
    created
}

/// Waits until the receiver holds a webhook for each of `count` distinct tasks.
async fn wait_delivered(receiver: &WebhookReceiver, count: u64, pipeline: &Pipeline) {
    wait_for(
        "every webhook",
        DRAIN_DEADLINE,
        &[&pipeline.operator, &pipeline.agent],
        || {
            let n = by_task(receiver).len() as u64;
            async move {
                if n >= count {
                    Probe::Ready(())
                } else {
                    Probe::Pending(format!("{n} of {count} tasks delivered"))
                }
            }
        },
    )
    .await
    .unwrap();
}

/// The arrival times of the webhooks received, by task uid.
fn by_task(receiver: &WebhookReceiver) -> HashMap<String, Vec<SystemTime>> {
    let mut seen: HashMap<String, Vec<SystemTime>> = HashMap::new();
    for request in receiver.requests() {
        let id = request.json().unwrap()["task"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        seen.entry(id).or_default().push(request.received_at);
    }
    seen
}

/// What the API server and etcd spent, and what was written, since a mark.
struct ApiMark {
    requests: ApiRequests,
    apiserver_cpu: Duration,
    etcd_cpu: Duration,
    load: String,
}

impl ApiMark {
    async fn take(cluster: &TestCluster) -> Self {
        Self {
            requests: ApiRequests::read(&cluster.client(), cluster.test_server())
                .await
                .unwrap(),
            apiserver_cpu: match cluster.test_server() {
                Some(_) => cpu_time("self"),
                None => cpu_time_of_named("kube-apiserver"),
            },
            etcd_cpu: cpu_time_of_named("etcd"),
            load: load_average(),
        }
    }

    /// Prints the writes per task by verb and resource, and the server's CPU per task.
    async fn report(&self, cluster: &TestCluster, tasks: u64) {
        // NB: the agent's last write lands just after the receiver answered.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = Self::take(cluster).await;
        let writes = now.requests.writes_since(&self.requests);
        let per_task = writes.total_for(&["analysistasks", "secrets", "events"]) / tasks as f64;
        println!(
            "  API writes per task: {per_task:.2} (analysistasks, secrets, events) — {}",
            writes.per(tasks as usize)
        );
        let (server, etcd) = if cluster.is_real() {
            (
                "kube-apiserver",
                ms(now.etcd_cpu - self.etcd_cpu) / tasks as f64,
            )
        } else {
            ("test process (test server, receiver, client)", 0.0)
        };
        println!(
            "  CPU per task: {server} {:.2} ms, etcd {etcd:.2} ms; load average {} → {}",
            ms(now.apiserver_cpu - self.apiserver_cpu) / tasks as f64,
            self.load,
            now.load,
        );
    }
}

fn report_binaries(pipeline: &Pipeline, tasks: u64) {
    for binary in [&pipeline.operator, &pipeline.agent] {
        let (cpu, peak) = pipeline.usage(binary);
        println!(
            "  {}: CPU {:.2} ms/task ({:.2} s), peak RSS {} MiB",
            binary.name(),
            ms(cpu) / tasks as f64,
            cpu.as_secs_f64(),
            peak / 1024,
        );
    }
}

fn report_latency(created: &HashMap<String, SystemTime>, receiver: &WebhookReceiver) {
    let delivered = by_task(receiver);
    let mut latencies: Vec<Duration> = created
        .iter()
        .filter_map(|(uid, at)| {
            let first = delivered.get(uid)?.iter().min()?;
            Some(first.duration_since(*at).unwrap_or_default())
        })
        .collect();
    latencies.sort();
    println!(
        "  create answered → webhook received: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0)),
    );
}

async fn receiver() -> WebhookReceiver {
    WebhookReceiver::start_with_default([], Reply::Status(204))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on purpose with --ignored --nocapture"]
async fn backlog_of_tasks_then_the_binaries_start() {
    let count = setting("BENCH_TASKS", 1_000);
    let cluster = TestCluster::start().await.unwrap();
    let receiver = receiver().await;
    let tasks: Api<AnalysisTask> = Api::namespaced(cluster.client(), cluster.namespace());
    let mark = ApiMark::take(&cluster).await;
    let created = Instant::now();
    create_backlog(&tasks, "backlog", count, &receiver.url()).await;
    println!(
        "pipeline bench, backlog: {count} tasks created in {:.2} s",
        created.elapsed().as_secs_f64()
    );
    let start = SystemTime::now();
    let pipeline = Pipeline::start(&cluster).await;
    wait_delivered(&receiver, count, &pipeline).await;
    let last = by_task(&receiver)
        .values()
        .filter_map(|times| times.iter().min().copied())
        .max()
        .unwrap();
    let took = last.duration_since(start).unwrap();
    println!(
        "  every webhook received {:.2} s after the binaries started: {:.0} tasks/s",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );
    mark.report(&cluster, count).await;
    report_binaries(&pipeline, count);
    cluster.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on purpose with --ignored --nocapture"]
async fn paced_tasks_while_the_binaries_run() {
    let (rate, seconds) = (setting("BENCH_RATE", 100), setting("BENCH_SECONDS", 10));
    let cluster = TestCluster::start().await.unwrap();
    let receiver = receiver().await;
    let tasks: Api<AnalysisTask> = Api::namespaced(cluster.client(), cluster.namespace());
    let pipeline = Pipeline::start(&cluster).await;
    // NB: let both binaries list and watch before the clock starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mark = ApiMark::take(&cluster).await;
    let created = create_paced(&tasks, rate, seconds, &receiver.url()).await;
    let count = rate * seconds;
    wait_delivered(&receiver, count, &pipeline).await;
    println!("pipeline bench, paced: {count} tasks offered at {rate}/s");
    report_latency(&created.lock().unwrap(), &receiver);
    mark.report(&cluster, count).await;
    report_binaries(&pipeline, count);
    cluster.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on purpose with --ignored --nocapture"]
async fn paced_tasks_while_the_binaries_are_killed() {
    let (rate, seconds) = (setting("BENCH_RATE", 50), setting("BENCH_SECONDS", 30));
    let every = Duration::from_secs(setting("BENCH_KILL_EVERY", 4));
    let cluster = TestCluster::start().await.unwrap();
    let receiver = receiver().await;
    let tasks: Api<AnalysisTask> = Api::namespaced(cluster.client(), cluster.namespace());
    let mut pipeline = Pipeline::start(&cluster).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mark = ApiMark::take(&cluster).await;
    let url = receiver.url();
    let creating = create_paced(&tasks, rate, seconds, &url);
    tokio::pin!(creating);
    let mut kills = 0;
    let created = loop {
        tokio::select! {
            created = &mut creating => break created,
            () = tokio::time::sleep(every) => {
                pipeline.crash_and_restart(kills % 2 == 0).await;
                kills += 1;
            }
        }
    };
    let count = rate * seconds;
    wait_delivered(&receiver, count, &pipeline).await;
    // NB: a repeat of an interrupted attempt may come after the first copy; give it time.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let delivered = by_task(&receiver);
    let created = created.lock().unwrap().clone();
    let lost = created
        .keys()
        .filter(|uid| !delivered.contains_key(*uid))
        .count();
    let duplicates: usize = delivered.values().map(|times| times.len() - 1).sum();
    println!(
        "pipeline bench, chaos: {count} tasks at {rate}/s, {kills} kills (operator and agent in \
         turn, every {} s): {lost} lost, {duplicates} duplicate webhooks",
        every.as_secs()
    );
    report_latency(&created, &receiver);
    mark.report(&cluster, count).await;
    report_binaries(&pipeline, count);
    cluster.cleanup().await.unwrap();
}
