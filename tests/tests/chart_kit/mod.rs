//! Shared by the chart tests (`chart_*.rs`): find helm, render the chart, look up objects.
//!
//! helm comes from `GUARDRAILS_HELM` (set by `scripts/test.sh`), else from
//! `scripts/install-helm.sh`; without either the tests fail and say how to get it.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

use k8s_openapi::api::{apps::v1::Deployment, core::v1::Container};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

/// Release name of every rendering.
pub const RELEASE: &str = "gr";
/// Namespace of every rendering.
pub const NAMESPACE: &str = "guardrails-system";
/// The production-like values file, relative to the chart.
pub const PRODUCTION_VALUES: &str = "ci/production-values.yaml";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The chart directory.
pub fn chart_dir() -> PathBuf {
    repo_root().join("charts/guardrails")
}

/// The helm binary: `GUARDRAILS_HELM`, else the one `scripts/install-helm.sh` installs.
pub fn helm() -> &'static Path {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        if let Some(path) = std::env::var_os("GUARDRAILS_HELM").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "GUARDRAILS_HELM points at {}, which does not exist",
                path.display()
            );
            return path;
        }
        let script = repo_root().join("scripts/install-helm.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "helm is needed for the chart tests and {} failed to install it \
             (set GUARDRAILS_HELM to a helm v3/v4 binary instead):\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// Runs helm on the chart with its state directories in a throwaway place.
pub fn run_helm(args: &[&str]) -> Output {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    let home = HOME.get_or_init(|| tempfile::tempdir().expect("a temporary directory"));
    Command::new(helm())
        .args(args)
        .current_dir(chart_dir())
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .expect("helm runs")
}

/// Arguments of `helm template` for the chart with extra values.
pub fn template_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["template", RELEASE, ".", "--namespace", NAMESPACE];
    args.extend_from_slice(extra);
    args
}

/// Every object `helm template` renders with `extra` arguments; panics with helm's message on failure.
pub fn render(extra: &[&str]) -> Vec<Value> {
    let out = run_helm(&template_args(extra));
    assert!(
        out.status.success(),
        "helm template {extra:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_documents(&String::from_utf8_lossy(&out.stdout))
}

/// The error helm prints when rendering with `extra` fails; panics if it succeeds.
pub fn render_error(extra: &[&str]) -> String {
    let out = run_helm(&template_args(extra));
    assert!(
        !out.status.success(),
        "helm template {extra:?} succeeded, but it should have been refused"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every non-empty YAML document of `yaml`.
pub fn parse_documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).expect("helm renders valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// The objects rendered with the production-like values.
pub fn production() -> Vec<Value> {
    render(&["-f", PRODUCTION_VALUES])
}

/// An object's kind.
pub fn kind(obj: &Value) -> &str {
    obj["kind"].as_str().unwrap_or_default()
}

/// An object's name.
pub fn name(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

/// The rendered object of `kind_` named `name_`.
pub fn object<'a>(objects: &'a [Value], kind_: &str, name_: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| kind(o) == kind_ && name(o) == name_)
        .unwrap_or_else(|| panic!("no {kind_} {name_} rendered"))
}

/// Every rendered object of `kind_`.
pub fn of_kind<'a>(objects: &'a [Value], kind_: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| kind(o) == kind_).collect()
}

/// `obj` as its Kubernetes type.
pub fn typed<T: DeserializeOwned>(obj: &Value) -> T {
    serde_json::from_value(obj.clone())
        .unwrap_or_else(|e| panic!("{} {} does not parse: {e}", kind(obj), name(obj)))
}

/// One container of a rendered Deployment.
pub fn container(objects: &[Value], deployment: &str, container: &str) -> Container {
    let parsed: Deployment = typed(object(objects, "Deployment", deployment));
    parsed
        .spec
        .and_then(|s| s.template.spec)
        .into_iter()
        .flat_map(|p| p.containers)
        .find(|c| c.name == container)
        .unwrap_or_else(|| panic!("no container {container} in Deployment {deployment}"))
}

/// A container's environment as name → (literal value, or `secret:<name>/<key>`, or `field:<path>`).
pub fn env(container: &Container) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(v), _) => v.clone(),
            (None, Some(from)) => match (&from.secret_key_ref, &from.field_ref) {
                (Some(s), _) => format!("secret:{}/{}", s.name, s.key),
                (_, Some(f)) => format!("field:{}", f.field_path),
                _ => panic!("unexpected valueFrom of {}", var.name),
            },
            (None, None) => String::new(),
        };
        assert!(
            env.insert(var.name.clone(), value).is_none(),
            "{} is set twice in container {}",
            var.name,
            container.name
        );
    }
    env
}
