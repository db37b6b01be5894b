//! The chart's wiring: probes hit the port each binary listens on, every documented variable (docs/configuration.md)
//! reaches the container that reads it (and no other), secrets are referenced and never inlined,
//! every variable the chart sets is one its binary knows, and a real API server accepts the
//! rendered chart.

#[allow(dead_code)]
mod chart_kit;

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    process::Command,
    time::Duration,
};

use chart_kit::*;
use guardrails_e2e::{
    apiserver::faults::Fault,
    kit::{BinarySpec, Probe, RunningBinary, TestCluster, wait_for},
};
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Container, Secret, Service},
};
use kube::api::{DynamicObject, PostParams};
use serde_json::json;

// ---------------------------------------------------------------- probes and ports

#[test]
fn probes_hit_the_health_endpoints_on_the_port_each_binary_listens_on() {
    for (objects, prefix) in [(render(&[]), "gr-guardrails"), (production(), "guardrails")] {
        let cases = [
            ("operator", "operator", "GUARDRAILS_LISTEN", 8080),
            ("operator", "agent", "GUARDRAILS_AGENT_LISTEN", 8081),
            ("api", "api", "LISTEN", 8000),
        ];
        for (deployment, name_, listen_var, port) in cases {
            let c = container(&objects, &format!("{prefix}-{deployment}"), name_);
            assert_eq!(
                env(&c)[listen_var],
                format!("0.0.0.0:{port}"),
                "{name_} listens"
            );
            let ports: BTreeMap<String, i32> = c
                .ports
                .iter()
                .flatten()
                .map(|p| (p.name.clone().unwrap_or_default(), p.container_port))
                .collect();
            for (probe, path) in [
                (c.liveness_probe.clone(), "/healthz"),
                (c.readiness_probe.clone(), "/readyz"),
            ] {
                let http = probe
                    .and_then(|p| p.http_get)
                    .unwrap_or_else(|| panic!("{name_}: no {path} probe"));
                assert_eq!(http.path.as_deref(), Some(path), "{name_}");
                let probed = match &http.port {
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => *ports
                        .get(s)
                        .unwrap_or_else(|| panic!("{name_}: probe port {s} is not declared")),
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => *i,
                };
                assert_eq!(probed, port, "{name_}: {path} probes the listening port");
            }
        }
    }
}

#[test]
fn services_route_to_declared_container_ports() {
    let objects = production();
    let api_service: Service = typed(object(&objects, "Service", "guardrails-api"));
    let port = &api_service.spec.unwrap().ports.unwrap()[0];
    assert_eq!(port.port, 80);
    assert_eq!(
        port.target_port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("http".into()))
    );
    let metrics: Service = typed(object(&objects, "Service", "guardrails-operator-metrics"));
    let names: Vec<_> = metrics
        .spec
        .unwrap()
        .ports
        .unwrap()
        .into_iter()
        .map(|p| p.name.unwrap())
        .collect();
    assert_eq!(names, ["metrics", "agent-metrics"]);
}

// ---------------------------------------------------------------- environment (docs/configuration.md)

const CONTRACT_VARIABLES: [&str; 6] = [
    "WEBHOOK_SIGNING_SECRET",
    "ALLOWED_WEBHOOK_DOMAINS",
    "WEBHOOK_RATE_LIMIT_PER_MINUTE",
    "REDIS_URL",
    "WEBHOOK_ALLOW_PRIVATE_DESTINATIONS",
    "WEBHOOK_ALLOWED_CIDRS",
];

#[test]
fn production_values_reach_the_agent_as_the_design_variables() {
    let objects = production();
    let agent = env(&container(&objects, "guardrails-operator", "agent"));
    assert_eq!(
        agent["WEBHOOK_SIGNING_SECRET"],
        "secret:guardrails-webhook-signing/secret"
    );
    assert_eq!(
        agent["ALLOWED_WEBHOOK_DOMAINS"],
        "hooks.partner.example,notify.internal.example"
    );
    assert_eq!(agent["WEBHOOK_RATE_LIMIT_PER_MINUTE"], "120");
    assert_eq!(
        agent["REDIS_URL"],
        format!("redis://guardrails-redis.{NAMESPACE}.svc:6379/0")
    );
    assert_eq!(agent["WEBHOOK_ALLOW_PRIVATE_DESTINATIONS"], "false");
    assert_eq!(agent["WEBHOOK_ALLOWED_CIDRS"], "10.20.0.0/16");
    let redis: Service = typed(object(&objects, "Service", "guardrails-redis"));
    assert_eq!(redis.spec.unwrap().ports.unwrap()[0].port, 6379);
}

#[test]
fn the_api_gets_only_the_destination_checks_and_the_operator_none_of_the_delivery_settings() {
    let objects = production();
    let api = env(&container(&objects, "guardrails-api", "api"));
    assert_eq!(
        api["ALLOWED_WEBHOOK_DOMAINS"],
        "hooks.partner.example,notify.internal.example"
    );
    assert_eq!(api["WEBHOOK_ALLOW_PRIVATE_DESTINATIONS"], "false");
    assert_eq!(api["WEBHOOK_ALLOWED_CIDRS"], "10.20.0.0/16");
    for absent in [
        "WEBHOOK_SIGNING_SECRET",
        "REDIS_URL",
        "WEBHOOK_RATE_LIMIT_PER_MINUTE",
    ] {
        assert!(!api.contains_key(absent), "api gets {absent}");
    }
    let operator = env(&container(&objects, "guardrails-operator", "operator"));
    for absent in CONTRACT_VARIABLES {
        assert!(!operator.contains_key(absent), "operator gets {absent}");
    }
    assert_eq!(
        api["POD_NAMESPACE"], "field:metadata.namespace",
        "tasks go to the api's namespace"
    );
    assert_eq!(api["AUTH"], "api-key");
    assert_eq!(operator["GUARDRAILS_NAMESPACE"], "pii-workloads");
    assert_eq!(operator["GUARDRAILS_LEADER_ELECTION"], "true");
    assert_eq!(operator["GUARDRAILS_DEFAULT_TTL_SECONDS"], "604800");
    assert_eq!(operator["TZ"], "UTC", "extraEnv is appended");
}

#[test]
fn default_values_deliver_unsigned_unlimited_and_to_every_domain() {
    let objects = render(&[]);
    let agent = env(&container(&objects, "gr-guardrails-operator", "agent"));
    assert!(!agent.contains_key("WEBHOOK_SIGNING_SECRET"));
    assert!(!agent.contains_key("REDIS_URL"));
    assert_eq!(agent["ALLOWED_WEBHOOK_DOMAINS"], "");
    assert_eq!(agent["WEBHOOK_RATE_LIMIT_PER_MINUTE"], "0");
    assert_eq!(agent["WEBHOOK_ALLOW_PRIVATE_DESTINATIONS"], "false");
    assert!(
        !env(&container(&objects, "gr-guardrails-operator", "operator"))
            .contains_key("GUARDRAILS_NAMESPACE")
    );
}

#[test]
fn secrets_given_as_values_are_stored_in_secrets_and_referenced_never_inlined() {
    let signing = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let redis = "redis://:hunter2@redis.cache:6379/1";
    let objects = render(&[
        "--set",
        &format!("webhooks.signingSecret.value={signing}"),
        "--set",
        &format!("redis.url={redis}"),
        "--set",
        "webhooks.rateLimitPerMinute=30",
        "--set",
        "api.apiKeys.keys={key-one-0123456789abcdef,key-two-0123456789abcdef}",
    ]);
    let agent = env(&container(&objects, "gr-guardrails-operator", "agent"));
    assert_eq!(
        agent["WEBHOOK_SIGNING_SECRET"],
        "secret:gr-guardrails-webhook-signing/signing-secret"
    );
    assert_eq!(
        agent["REDIS_URL"],
        "secret:gr-guardrails-redis-url/redis-url"
    );
    let data = |secret: &str, key: &str| -> String {
        let s: Secret = typed(object(&objects, "Secret", secret));
        String::from_utf8(s.data.unwrap()[key].0.clone()).unwrap()
    };
    assert_eq!(
        data("gr-guardrails-webhook-signing", "signing-secret"),
        signing
    );
    assert_eq!(data("gr-guardrails-redis-url", "redis-url"), redis);
    assert_eq!(
        data("gr-guardrails-api-keys", "api-keys"),
        "key-one-0123456789abcdef\nkey-two-0123456789abcdef\n"
    );
    for obj in objects.iter().filter(|o| kind(o) != "Secret") {
        let text = obj.to_string();
        assert!(
            !text.contains(signing),
            "{} inlines the signing secret",
            name(obj)
        );
        assert!(
            !text.contains("hunter2"),
            "{} inlines the Redis password",
            name(obj)
        );
    }
}

#[test]
fn the_api_reads_its_keys_from_the_mounted_secret_file() {
    let objects = production();
    let d: Deployment = typed(object(&objects, "Deployment", "guardrails-api"));
    let pod = d.spec.unwrap().template.spec.unwrap();
    let volume = pod
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "api-keys")
        .unwrap();
    assert_eq!(
        volume.secret.unwrap().secret_name.as_deref(),
        Some("guardrails-api-keys")
    );
    let api = &pod.containers[0];
    let mount = api
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == "api-keys")
        .unwrap();
    assert_eq!(mount.read_only, Some(true));
    assert!(
        mount.sub_path.is_none(),
        "a subPath mount would not see key rotations"
    );
    assert_eq!(
        env(api)["API_KEYS_FILE"],
        format!("{}/keys", mount.mount_path)
    );
    assert!(
        !objects
            .iter()
            .any(|o| kind(o) == "Secret" && name(o) == "guardrails-api-keys"),
        "an existing Secret is used, not created"
    );
}

#[test]
fn without_keys_the_chart_generates_one_api_key() {
    let objects = render(&[]);
    let secret: Secret = typed(object(&objects, "Secret", "gr-guardrails-api-keys"));
    let keys = String::from_utf8(secret.data.unwrap()["api-keys"].0.clone()).unwrap();
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].len(), 40);
}

// ---------------------------------------------------------------- the chart and the binaries agree

/// Variables the chart sets that are read outside clap (or by the platform), per container.
const READ_WITHOUT_A_FLAG: [&str; 3] = ["RUST_LOG", "POD_NAME", "POD_NAMESPACE"];

/// The `[env: NAME=…]` variables and the subcommands a binary's `--help` lists.
fn help_text(binary: &str, args: &[&str]) -> String {
    let path = guardrails_e2e::kit::process::locate_binary(binary, binary)
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(&path)
        .args(args)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    assert!(
        out.status.success(),
        "{binary} {args:?} --help failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn help_variables(help: &str) -> BTreeSet<String> {
    let pattern = regex::Regex::new(r"\[env: ([A-Z0-9_]+)[=\]]").unwrap();
    pattern
        .captures_iter(help)
        .map(|c| c[1].to_owned())
        .collect()
}

/// Checks that every variable the chart sets on `container_name` (with the default and the
/// production values) is listed by `help` of its binary.
fn check_variables_are_known(deployment: &str, container_name: &str, help: &str) {
    let known = help_variables(help);
    // NB: TZ is the production file's own extraEnv, not a setting of the chart.
    for (objects, prefix, own) in [
        (render(&[]), "gr-guardrails", None),
        (production(), "guardrails", Some("TZ")),
    ] {
        let c = container(&objects, &format!("{prefix}-{deployment}"), container_name);
        for variable in env(&c).keys() {
            if READ_WITHOUT_A_FLAG.contains(&variable.as_str()) || own == Some(variable.as_str()) {
                continue;
            }
            assert!(
                known.contains(variable),
                "the chart sets {variable} on the {container_name} container, but its binary's \
                 --help does not list it; known: {known:?}"
            );
        }
    }
}

#[test]
fn every_variable_the_chart_sets_on_the_operator_is_a_flag_of_guardrails_operator() {
    check_variables_are_known(
        "operator",
        "operator",
        &help_text("guardrails-operator", &[]),
    );
}

#[test]
fn every_variable_the_chart_sets_on_the_api_is_a_flag_of_guardrails_api() {
    check_variables_are_known("api", "api", &help_text("guardrails-api", &[]));
}

#[test]
fn the_agent_sidecar_runs_a_subcommand_of_guardrails_agent_with_known_variables() {
    let args = container(&render(&[]), "gr-guardrails-operator", "agent")
        .args
        .unwrap_or_default();
    let subcommand = args.first().expect("the agent runs a subcommand");
    let top = help_text("guardrails-agent", &[]);
    assert!(
        top.lines()
            .any(|l| l.trim_start().starts_with(&format!("{subcommand} "))),
        "guardrails-agent has no `{subcommand}` subcommand:\n{top}"
    );
    check_variables_are_known(
        "operator",
        "agent",
        &help_text("guardrails-agent", &[subcommand.as_str()]),
    );
}

// ---------------------------------------------------------------- the binaries run as configured

/// The chart's literal environment of `c`, with the downward-API fields filled in for a test pod
/// and `overrides` (listen addresses, namespaces, file paths) replacing the chart's values.
fn chart_env(
    c: &Container,
    namespace: &str,
    overrides: &[(&str, String)],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (variable, value) in env(c) {
        if let Some((_, v)) = overrides.iter().find(|(k, _)| *k == variable) {
            out.push((variable, v.clone()));
            continue;
        }
        let value = match value.as_str() {
            "field:metadata.name" => format!("{}-0", c.name),
            "field:metadata.namespace" => namespace.to_owned(),
            v if v.starts_with("secret:") => panic!("{variable} needs a Secret; override it"),
            v => v.to_owned(),
        };
        out.push((variable, value));
    }
    out
}

fn free_local_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
}

fn probe_paths(c: &Container) -> Vec<String> {
    [&c.liveness_probe, &c.readiness_probe]
        .into_iter()
        .map(|p| {
            p.as_ref()
                .and_then(|p| p.http_get.as_ref())
                .and_then(|h| h.path.clone())
                .expect("an HTTP probe with a path")
        })
        .collect()
}

/// Starts `binary` with `env` and waits until each of `paths` answers 200 on `addr`.
async fn start_until_probes_pass(
    binary: &str,
    env: Vec<(String, String)>,
    cluster: &TestCluster,
    addr: SocketAddr,
    paths: &[String],
) -> RunningBinary {
    let mut spec = BinarySpec::new(binary, binary).kubeconfig(cluster.kubeconfig_path());
    for (k, v) in &env {
        spec = spec.env(k, v.clone());
    }
    let process = RunningBinary::start(spec).await.unwrap();
    let client = reqwest::Client::new();
    for path in paths {
        let url = format!("http://{addr}{path}");
        wait_for(
            &format!("{binary} to answer 200 on {path}"),
            Duration::from_secs(120),
            &[&process],
            || async {
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 200 => Probe::Ready(()),
                    Ok(r) => Probe::Pending(format!("status {}", r.status())),
                    Err(e) => Probe::Pending(e.to_string()),
                }
            },
        )
        .await
        .unwrap();
    }
    process
}

/// The metric families the dashboard queries whose names start with `prefix`, as their
/// `# TYPE` names (without `_total`, `_bucket`, `_sum`, `_count`).
fn dashboard_metrics(prefix: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(chart_dir().join("dashboards/guardrails.json")).unwrap();
    let pattern = regex::Regex::new(r"guardrails_[a-z_]+").unwrap();
    pattern
        .find_iter(&text)
        .map(|m| m.as_str())
        .filter(|n| n.starts_with(prefix))
        .map(|n| {
            ["_total", "_bucket", "_sum", "_count"]
                .iter()
                .fold(n, |n, suffix| n.strip_suffix(suffix).unwrap_or(n))
                .to_owned()
        })
        .collect()
}

/// Waits until the binary serving `/metrics` on `addr` exports every family in `wanted`.
async fn wait_for_metrics(addr: SocketAddr, wanted: BTreeSet<String>, process: &RunningBinary) {
    assert!(
        !wanted.is_empty(),
        "the dashboard queries none of these metrics"
    );
    let url = format!("http://{addr}/metrics");
    wait_for(
        "every metric family the dashboard queries on /metrics",
        Duration::from_secs(90),
        &[process],
        || async {
            let Ok(response) = reqwest::get(&url).await.and_then(|r| r.error_for_status()) else {
                return Probe::Pending("no answer".into());
            };
            let text = response.text().await.unwrap_or_default();
            let exported: BTreeSet<String> = text
                .lines()
                .filter_map(|l| l.strip_prefix("# TYPE "))
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_owned)
                .collect();
            let missing: Vec<_> = wanted.difference(&exported).collect();
            if missing.is_empty() {
                Probe::Ready(())
            } else {
                Probe::Pending(format!("missing {missing:?}; exported {exported:?}"))
            }
        },
    )
    .await
    .unwrap();
}

fn task(name: &str, spec: serde_json::Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1",
        "kind": "AnalysisTask",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

/// The operator's environment from the production values, in the test namespace.
fn operator_env(
    ns: &str,
    addr: SocketAddr,
    more: &[(&str, String)],
) -> (Container, Vec<(String, String)>) {
    let c = container(&production(), "guardrails-operator", "operator");
    let mut overrides = vec![
        ("GUARDRAILS_LISTEN", addr.to_string()),
        ("GUARDRAILS_NAMESPACE", ns.to_owned()),
        ("GUARDRAILS_LEASE_NAMESPACE", ns.to_owned()),
    ];
    overrides.extend(more.iter().cloned());
    let env = chart_env(&c, ns, &overrides);
    (c, env)
}

#[tokio::test]
async fn the_operator_configured_as_the_production_values_say_passes_its_probes() {
    let cluster = TestCluster::start().await.unwrap();
    let ns = cluster.namespace().to_owned();
    let addr = free_local_addr();
    let (c, env) = operator_env(&ns, addr, &[]);
    assert_eq!(
        env.iter()
            .find(|(k, _)| k == "GUARDRAILS_LEADER_ELECTION")
            .map(|(_, v)| v.as_str()),
        Some("true")
    );
    let mut operator =
        start_until_probes_pass("guardrails-operator", env, &cluster, addr, &probe_paths(&c)).await;
    operator.stop(Duration::from_secs(10)).await.unwrap();
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_operator_exports_every_metric_the_dashboard_queries() {
    let cluster = TestCluster::start().await.unwrap();
    let ns = cluster.namespace().to_owned();
    let addr = free_local_addr();
    // NB: leader election off: the test server refuses kube-lease-manager's apply patches that
    // carry no metadata.name ("the name of the object does not match the name on the URL"),
    // so with it on the operator would stand by forever here and never reconcile.
    let (c, env) = operator_env(
        &ns,
        addr,
        &[
            ("GUARDRAILS_TEXT_SECRET_GRACE", "1s".into()),
            ("GUARDRAILS_LEADER_ELECTION", "false".into()),
        ],
    );
    let mut operator =
        start_until_probes_pass("guardrails-operator", env, &cluster, addr, &probe_paths(&c)).await;

    // One task succeeds, one fails (its Secret never appears), one status write fails once:
    // every labelled family the dashboard queries then has a sample.
    let mut wanted = dashboard_metrics("guardrails_operator_");
    match cluster.test_server() {
        Some(server) => server.inject(
            Fault::respond(500)
                .on_method("PATCH")
                .on_path_containing("/status")
                .times(1),
        ),
        // NB: only the test server can make a reconcile fail on purpose.
        None => {
            wanted.remove("guardrails_operator_reconcile_errors");
        }
    }
    let tasks = cluster
        .api_for("guardrails.io", "v1alpha1", "AnalysisTask")
        .await
        .unwrap();
    let secret_ref = json!({"secretKeyRef": {"name": "never-created", "key": "text"}});
    for (name, spec) in [
        ("succeeds", json!({"text": "Call Jane Doe at 555-0100"})),
        ("fails", json!({"textFrom": secret_ref})),
    ] {
        tasks
            .create(&PostParams::default(), &task(name, spec))
            .await
            .unwrap();
    }
    wait_for_metrics(addr, wanted, &operator).await;
    operator.stop(Duration::from_secs(10)).await.unwrap();
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_api_configured_as_the_production_values_say_passes_its_probes_and_takes_a_key() {
    let cluster = TestCluster::start().await.unwrap();
    let ns = cluster.namespace().to_owned();
    let c = container(&production(), "guardrails-api", "api");
    let keys = tempfile::tempdir().unwrap();
    let keys_file = keys.path().join("keys");
    std::fs::write(&keys_file, "chart-test-key-0123456789\n").unwrap();
    let addr = free_local_addr();
    let env = chart_env(
        &c,
        &ns,
        &[
            ("LISTEN", addr.to_string()),
            ("API_KEYS_FILE", keys_file.display().to_string()),
        ],
    );
    let mut api =
        start_until_probes_pass("guardrails-api", env, &cluster, addr, &probe_paths(&c)).await;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/tasks/00000000-0000-0000-0000-000000000000");
    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "{}", api.logs());
    let with_key = client
        .get(&url)
        .bearer_auth("chart-test-key-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_key.status(),
        404,
        "the key from the mounted file is accepted"
    );
    wait_for_metrics(addr, dashboard_metrics("guardrails_api_"), &api).await;
    api.stop(Duration::from_secs(10)).await.unwrap();
    cluster.cleanup().await.unwrap();
}

// ---------------------------------------------------------------- a real API server accepts it

/// Applies the rendered chart with `--dry-run=server` to the cluster of `E2E_KUBECONFIG`.
#[tokio::test]
#[ignore = "needs a real cluster: E2E_KUBECONFIG=<kubeconfig> cargo test -p guardrails-e2e --test chart_wiring -- --include-ignored"]
async fn a_real_api_server_accepts_the_rendered_chart_in_a_server_side_dry_run() {
    assert!(
        std::env::var_os(guardrails_e2e::kit::cluster::REAL_CLUSTER_VARIABLE)
            .is_some_and(|v| !v.is_empty()),
        "set E2E_KUBECONFIG to a real cluster's kubeconfig to run this test"
    );
    let cluster = guardrails_e2e::kit::TestCluster::start().await.unwrap();
    let namespace = cluster.namespace().to_owned();
    let mut args = vec!["template", RELEASE, ".", "--namespace", namespace.as_str()];
    args.extend([
        "--set",
        "redis.bundled.enabled=true",
        "--set",
        "webhooks.rateLimitPerMinute=60",
        "--set",
        "networkPolicy.enabled=true",
        "--set",
        "dashboard.enabled=true",
        "--set",
        "webhooks.signingSecret.value=dry-run-secret",
    ]);
    let rendered = run_helm(&args);
    assert!(rendered.status.success());
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("chart.yaml");
    std::fs::write(&manifest, &rendered.stdout).unwrap();

    let kubectl = Command::new("bash")
        .arg(repo_root().join("scripts/install-helm.sh"))
        .arg("--kubectl")
        .output()
        .unwrap();
    assert!(kubectl.status.success(), "kubectl could not be installed");
    let kubectl = String::from_utf8_lossy(&kubectl.stdout).trim().to_owned();
    let out = Command::new(kubectl)
        .args(["apply", "--dry-run=server", "-n", &namespace, "-f"])
        .arg(&manifest)
        .env("KUBECONFIG", cluster.kubeconfig_path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl apply --dry-run=server refused the chart:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied = String::from_utf8_lossy(&out.stdout);
    assert!(
        applied.contains("deployment.apps/gr-guardrails-operator"),
        "{applied}"
    );
    cluster.cleanup().await.unwrap();
}
