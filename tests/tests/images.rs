//! The container images `scripts/build-images.sh` builds, run with podman as the chart runs
//! them: read-only root filesystem, the chart's non-root user, no capabilities. Each binary
//! answers `--version` and `--help`, the api answers `/healthz` through a loopback port mapping,
//! the agent delivers a signed webhook to a loopback receiver, and every image comes with its
//! archive and SBOM. The images are built once per test run; where podman cannot run, each test
//! says so on stderr and checks nothing.

#[allow(dead_code)]
mod chart_kit;

use std::{
    collections::BTreeSet,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
    time::Duration,
};

use guardrails_agent::{SigningSecret, Verifier};
use guardrails_e2e::kit::{
    BinarySpec, Probe, RunningBinary, WebhookReceiver, free_local_addr, wait_for,
};
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::Value;

const COMPONENTS: [&str; 3] = ["operator", "agent", "api"];
const VERSION: &str = env!("CARGO_PKG_VERSION");
const MAX_IMAGE_BYTES: u64 = 40 * 1000 * 1000;
const DEADLINE: Duration = Duration::from_secs(60);

/// The images of this test run.
struct Images {
    /// Image references in the order of [`COMPONENTS`], as the script printed them.
    refs: Vec<String>,
    /// Where the script put the archives and SBOMs.
    dir: PathBuf,
}

impl Images {
    /// The reference of one component's image.
    fn of(&self, component: &str) -> &str {
        let index = COMPONENTS
            .iter()
            .position(|c| *c == component)
            .expect("a component");
        &self.refs[index]
    }

    /// The file `<name>-<version>.<extension>` the script wrote next to the image of `component`.
    fn file(&self, component: &str, extension: &str) -> PathBuf {
        self.dir
            .join(format!("guardrails-{component}-{VERSION}.{extension}"))
    }
}

fn script() -> PathBuf {
    chart_kit::repo_root().join("scripts/build-images.sh")
}

/// `bash scripts/build-images.sh` as a user runs it: without the variables cargo sets for this
/// test, which `ring`'s build script watches (the release build would start over every run).
fn script_command() -> Command {
    const SET_FOR_CRATES: [&str; 5] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
    ];
    let mut command = Command::new("bash");
    command.arg(script());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || SET_FOR_CRATES.contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Runs the script with `args` to the end.
fn run_script(args: &[&str]) -> Output {
    script_command().args(args).output().expect("bash runs")
}

/// Why podman cannot run here, if it cannot.
fn podman_unavailable() -> Option<String> {
    if Command::new("podman").arg("--version").output().is_err() {
        return Some(
            "podman is not installed (bash scripts/test.sh installs it; or apt-get install podman runc)"
                .into(),
        );
    }
    let info = run_script(&["--podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"]);
    (!info.status.success()).then(|| {
        format!(
            "podman cannot run with the script's settings:\n{}",
            String::from_utf8_lossy(&info.stderr)
        )
    })
}

/// The images, built on first use; `None` (after saying why, once) when podman cannot run.
fn images() -> Option<&'static Images> {
    static IMAGES: OnceLock<Result<Option<Images>, String>> = OnceLock::new();
    let built = IMAGES.get_or_init(|| {
        if let Some(reason) = podman_unavailable() {
            // NB: straight to stderr, past the test harness's capture, so a skip is seen.
            let _ = writeln!(std::io::stderr(), "SKIPPED: image tests: {reason}");
            return Ok(None);
        }
        let out = run_script(&[]);
        if !out.status.success() {
            return Err(format!(
                "scripts/build-images.sh failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let refs = stdout(&out).lines().map(str::to_owned).collect();
        Ok(Some(Images {
            refs,
            dir: target_dir().join("images"),
        }))
    });
    match built {
        Ok(images) => images.as_ref(),
        Err(message) => panic!("{message}"),
    }
}

/// The target directory this test runs from (`target/<profile>/deps/<test>` → `target`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    exe.ancestors()
        .nth(3)
        .expect("target/<profile>/deps")
        .to_path_buf()
}

/// `podman run` options giving a container what the chart's securityContext gives a pod.
fn restricted() -> &'static [String] {
    static OPTIONS: OnceLock<Vec<String>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let objects = chart_kit::render(&[]);
        let deployment: Deployment = chart_kit::typed(chart_kit::object(
            &objects,
            "Deployment",
            "gr-guardrails-operator",
        ));
        let pod = deployment
            .spec
            .and_then(|s| s.template.spec)
            .expect("a pod spec");
        let pod_context = pod.security_context.expect("a pod securityContext");
        let container = pod.containers[0]
            .security_context
            .clone()
            .expect("a container securityContext");
        assert_eq!(container.read_only_root_filesystem, Some(true));
        assert_eq!(container.allow_privilege_escalation, Some(false));
        let dropped = container
            .capabilities
            .and_then(|c| c.drop)
            .unwrap_or_default();
        assert_eq!(dropped, ["ALL"]);
        let user = format!(
            "{}:{}",
            pod_context.run_as_user.expect("runAsUser"),
            pod_context.run_as_group.expect("runAsGroup")
        );
        // NB: no tmpfs on /tmp and /run either, as in a pod with readOnlyRootFilesystem.
        [
            "--read-only",
            "--read-only-tmpfs=false",
            "--cap-drop",
            "ALL",
        ]
        .into_iter()
        .chain(["--security-opt", "no-new-privileges", "--user", &user])
        .map(str::to_owned)
        .collect()
    })
}

/// The user the chart runs every pod as, `uid:gid`.
fn chart_user() -> &'static str {
    restricted().last().expect("--user comes last")
}

/// Runs `args` (an image reference and its arguments) to the end, restricted as in the chart.
fn run_restricted(extra: &[&str], args: &[&str]) -> Output {
    let mut all: Vec<String> = vec!["--run".into()];
    all.extend_from_slice(restricted());
    all.extend(extra.iter().map(|s| s.to_string()));
    all.extend(args.iter().map(|s| s.to_string()));
    run_script(&all.iter().map(String::as_str).collect::<Vec<_>>())
}

/// One field of `podman image inspect` of `reference`, by Go template.
fn inspect(reference: &str, format: &str) -> String {
    let out = run_script(&[
        "--podman", "image", "inspect", "--format", format, reference,
    ]);
    assert!(out.status.success(), "{out:?}");
    stdout(&out).trim().to_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A container started in the background, removed when dropped (even after a failed test).
struct Container {
    name: String,
    process: RunningBinary,
}

impl Container {
    async fn start(name: &str, podman_run: Vec<String>) -> Self {
        let spec = BinarySpec::from_path("bash")
            .arg(script().display().to_string())
            .args(["--run".to_string(), "--name".into(), name.into()])
            .args(podman_run);
        Self {
            name: name.into(),
            process: RunningBinary::start(spec).await.expect("podman run starts"),
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = run_script(&["--podman", "rm", "--force", "--time", "0", &self.name]);
    }
}

/// Every file path inside the image `reference`, without a leading `/`.
fn files_in(reference: &str) -> BTreeSet<String> {
    let created = run_script(&["--podman", "create", reference]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let id = stdout(&created).trim().to_owned();
    let export = Command::new("bash")
        .arg("-c")
        .arg(r#"set -o pipefail; bash "$0" --podman export "$1" | tar -t"#)
        .args([script().display().to_string(), id.clone()])
        .output()
        .expect("bash runs");
    run_script(&["--podman", "rm", &id]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    stdout(&export)
        .lines()
        .map(|l| l.trim_start_matches("./").trim_end_matches('/').to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_script_prints_the_charts_default_image_references() {
    let Some(images) = images() else { return };
    let objects = chart_kit::render(&[]);
    let chart_refs: Vec<String> = [
        ("gr-guardrails-operator", "operator"),
        ("gr-guardrails-operator", "agent"),
        ("gr-guardrails-api", "api"),
    ]
    .iter()
    .map(|(deployment, container)| {
        chart_kit::container(&objects, deployment, container)
            .image
            .expect("an image")
    })
    .collect();
    assert_eq!(images.refs, chart_refs);
    for (component, reference) in COMPONENTS.iter().zip(&images.refs) {
        assert!(
            reference.ends_with(&format!("/guardrails-{component}:{VERSION}")),
            "{reference}"
        );
    }
}

#[test]
fn every_image_prints_its_version_and_help_under_the_charts_security_context() {
    let Some(images) = images() else { return };
    for component in COMPONENTS {
        let reference = images.of(component);
        let version = run_restricted(&["--network", "none"], &[reference, "--version"]);
        assert!(
            version.status.success(),
            "{reference} --version: {version:?}"
        );
        assert_eq!(
            stdout(&version).trim(),
            format!("guardrails-{component} {VERSION}")
        );
        let help = run_restricted(&["--network", "none"], &[reference, "--help"]);
        assert!(help.status.success(), "{reference} --help: {help:?}");
        assert!(
            stdout(&help).contains("Usage: guardrails-"),
            "{}",
            stdout(&help)
        );
    }
}

#[test]
fn every_image_defaults_to_the_charts_non_root_user() {
    let Some(images) = images() else { return };
    for reference in &images.refs {
        assert_eq!(
            inspect(reference, "{{.Config.User}}"),
            chart_user(),
            "{reference}"
        );
    }
}

#[test]
fn every_image_holds_its_binary_libraries_and_ca_bundle_but_no_shell_or_passwd() {
    let Some(images) = images() else { return };
    for component in COMPONENTS {
        let files = files_in(images.of(component));
        let binaries: Vec<&String> = files
            .iter()
            .filter(|f| f.starts_with("usr/local/bin/"))
            .collect();
        assert_eq!(binaries, [&format!("usr/local/bin/guardrails-{component}")]);
        for expected in [
            "etc/ssl/certs/ca-certificates.crt",
            "usr/share/doc/libc6/copyright",
        ] {
            assert!(
                files.contains(expected),
                "{component} lacks {expected}: {files:?}"
            );
        }
        assert!(
            files.iter().any(|f| f.contains("libc.so")),
            "{component}: {files:?}"
        );
        for absent in ["bin/sh", "usr/bin/sh", "etc/passwd", "etc/group"] {
            assert!(!files.contains(absent), "{component} has {absent}");
        }
    }
}

#[test]
fn every_image_is_at_most_40_mb() {
    let Some(images) = images() else { return };
    for reference in &images.refs {
        let size: u64 = inspect(reference, "{{.Size}}")
            .parse()
            .expect("a size in bytes");
        assert!(size <= MAX_IMAGE_BYTES, "{reference} is {size} bytes");
    }
}

#[test]
fn every_image_has_an_archive_and_an_sbom_of_its_crates_and_licences() {
    let Some(images) = images() else { return };
    for component in COMPONENTS {
        let archive = images.file(component, "tar");
        let manifest = Command::new("tar")
            .arg("-xOf")
            .arg(&archive)
            .arg("manifest.json")
            .output()
            .expect("tar runs");
        let manifest: Value = serde_json::from_slice(&manifest.stdout)
            .unwrap_or_else(|e| panic!("{} has no manifest.json: {e}", archive.display()));
        assert_eq!(manifest[0]["RepoTags"][0], images.of(component));

        let sbom = sbom(&images.file(component, "cdx.json"));
        assert_eq!(sbom["bomFormat"], "CycloneDX");
        let components = sbom["components"].as_array().expect("components");
        let crate_licence = |name: &str| {
            components
                .iter()
                .find(|c| {
                    c["name"] == name && c["purl"].as_str().unwrap_or("").starts_with("pkg:cargo/")
                })
                .map(|c| {
                    c["licenses"][0]["expression"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                })
        };
        assert_eq!(
            crate_licence(&format!("guardrails-{component}")).as_deref(),
            Some("Apache-2.0")
        );
        assert!(crate_licence("tokio").is_some_and(|l| l.contains("MIT")));
        for c in components {
            let purl = c["purl"].as_str().expect("a purl");
            if purl.starts_with("pkg:cargo/") {
                assert!(
                    c["licenses"][0]["expression"]
                        .as_str()
                        .is_some_and(|l| !l.is_empty()),
                    "{c}"
                );
            }
        }
        assert!(
            components.iter().any(|c| c["name"] == "libc6"),
            "{component}: no libc6"
        );
        // The agent and the standalone api send webhooks; the operator has no HTTP client crate.
        assert_eq!(
            crate_licence("reqwest").is_some(),
            component != "operator",
            "{component}"
        );
    }
}

fn sbom(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[tokio::test]
async fn the_api_image_answers_healthz_through_a_loopback_port_mapping() {
    let Some(images) = images() else { return };
    let port = free_local_addr().unwrap().port();
    let mut run = restricted().to_vec();
    run.extend([
        "--publish".into(),
        format!("127.0.0.1:{port}:8000"),
        "--env".into(),
        "API_KEYS=images-test-key".into(),
        // NB: the root filesystem is read-only; the standalone store needs a writable volume.
        "--tmpfs".into(),
        "/data:rw,mode=1777,size=64m".into(),
        images.of("api").into(),
        "--standalone".into(),
        "--data-dir".into(),
        "/data".into(),
        "--listen".into(),
        "0.0.0.0:8000".into(),
    ]);
    let mut container = Container::start(&format!("guardrails-images-api-{port}"), run).await;
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let body = wait_for(
        "the api image to answer /healthz",
        DEADLINE,
        &[&container.process],
        || async {
            match http.get(&url).send().await {
                Ok(response) if response.status() == 200 => {
                    Probe::Ready(response.text().await.unwrap_or_default())
                }
                Ok(response) => Probe::Pending(format!("status {}", response.status())),
                Err(e) => Probe::Pending(e.to_string()),
            }
        },
    )
    .await
    .unwrap();
    let health: Value = serde_json::from_str(&body).expect("/healthz answers JSON");
    assert_eq!(health["status"], "ok");
    let status = container
        .process
        .stop(Duration::from_secs(20))
        .await
        .unwrap();
    assert!(
        status.success(),
        "the api stops cleanly on SIGTERM: {status:?}\n{}",
        container.process.logs()
    );
}

#[tokio::test]
async fn the_agent_image_delivers_a_signed_webhook_to_a_loopback_receiver() {
    let Some(images) = images() else { return };
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let secret = "images-test-signing-secret";
    let mut run: Vec<String> = vec!["--run".into()];
    run.extend_from_slice(restricted());
    run.extend([
        "--network".into(),
        "host".into(),
        "--env".into(),
        format!("WEBHOOK_SIGNING_SECRET={secret}"),
        "--env".into(),
        "WEBHOOK_ALLOW_PRIVATE_DESTINATIONS=true".into(),
        images.of("agent").into(),
        "send".into(),
        "--url".into(),
        receiver.url(),
    ]);
    let send = tokio::process::Command::from(script_command())
        .args(&run)
        .output();
    let out = tokio::time::timeout(DEADLINE, send)
        .await
        .expect("send ends")
        .unwrap();
    assert!(
        out.status.success(),
        "guardrails-agent send in the image: {}\n{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let received = receiver.wait_for_requests(1, DEADLINE).await.unwrap();
    assert_eq!(received.len(), 1);
    let webhook = &received[0];
    assert_eq!(webhook.json().unwrap()["event_type"], "task.completed");
    Verifier::new(vec![SigningSecret::new(secret).unwrap()])
        .verify(&webhook.header_map(), &webhook.body, jiff::Timestamp::now())
        .expect("the webhook's signature verifies with the secret given to the container");
}
