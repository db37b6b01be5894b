//! The Helm chart renders what it should, proven with the real `helm` (v4): it lints strictly,
//! every object parses as its Kubernetes type with no unknown field, it ships exactly the CRDs
//! `crdgen` generates, its schema and its checks refuse bad values with a clear message, and the
//! optional objects appear only when enabled.

#[allow(dead_code)]
mod chart_kit;

use std::collections::{BTreeMap, BTreeSet};

use chart_kit::*;
use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{ConfigMap, Secret, Service, ServiceAccount},
        networking::v1::NetworkPolicy,
        policy::v1::PodDisruptionBudget,
        rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding},
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Checks that `obj` parses as `T` and loses no field doing so (a typo'd field would be dropped).
fn parses_without_unknown_fields<T: DeserializeOwned + serde::Serialize>(obj: &Value) {
    let parsed: T = typed(obj);
    let back = serde_json::to_value(&parsed).unwrap();
    assert_eq!(
        &back,
        obj,
        "{} {} has fields its type does not know",
        kind(obj),
        name(obj)
    );
}

fn check_every_object_parses(objects: &[Value]) {
    assert!(!objects.is_empty());
    for obj in objects {
        match kind(obj) {
            "Deployment" => parses_without_unknown_fields::<Deployment>(obj),
            "Service" => parses_without_unknown_fields::<Service>(obj),
            "ServiceAccount" => parses_without_unknown_fields::<ServiceAccount>(obj),
            "Secret" => parses_without_unknown_fields::<Secret>(obj),
            "ConfigMap" => parses_without_unknown_fields::<ConfigMap>(obj),
            "ClusterRole" => parses_without_unknown_fields::<ClusterRole>(obj),
            "ClusterRoleBinding" => parses_without_unknown_fields::<ClusterRoleBinding>(obj),
            "Role" => parses_without_unknown_fields::<Role>(obj),
            "RoleBinding" => parses_without_unknown_fields::<RoleBinding>(obj),
            "PodDisruptionBudget" => parses_without_unknown_fields::<PodDisruptionBudget>(obj),
            "NetworkPolicy" => parses_without_unknown_fields::<NetworkPolicy>(obj),
            "ServiceMonitor" => {
                assert_eq!(obj["apiVersion"], "monitoring.coreos.com/v1");
                let endpoints = obj["spec"]["endpoints"].as_array().expect("endpoints");
                assert!(!endpoints.is_empty());
                for e in endpoints {
                    assert!(e["port"].is_string() && e["path"] == "/metrics", "{e}");
                }
                assert!(obj["spec"]["selector"]["matchLabels"].is_object());
            }
            other => panic!("unexpected kind {other} ({})", name(obj)),
        }
        let namespaced = !matches!(kind(obj), "ClusterRole" | "ClusterRoleBinding");
        assert_eq!(
            obj["metadata"]["namespace"].is_string(),
            namespaced,
            "{} {} namespace",
            kind(obj),
            name(obj)
        );
        assert_eq!(
            obj["metadata"]["labels"]["app.kubernetes.io/instance"],
            RELEASE
        );
    }
}

// ---------------------------------------------------------------- lint and parse

#[test]
fn helm_lint_strict_passes_with_the_default_and_the_production_values() {
    for extra in [&[][..], &["-f", PRODUCTION_VALUES][..]] {
        let mut args = vec!["lint", "--strict", "."];
        args.extend_from_slice(extra);
        let out = run_helm(&args);
        assert!(
            out.status.success(),
            "helm lint --strict {extra:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_object_rendered_with_the_default_values_parses_as_its_kubernetes_type() {
    let objects = render(&[]);
    check_every_object_parses(&objects);
    let kinds: BTreeSet<&str> = objects.iter().map(kind).collect();
    for expected in [
        "Deployment",
        "Service",
        "ServiceAccount",
        "ClusterRole",
        "Role",
    ] {
        assert!(kinds.contains(expected), "no {expected} among {kinds:?}");
    }
}

#[test]
fn every_object_rendered_with_the_production_values_parses_as_its_kubernetes_type() {
    let objects = production();
    check_every_object_parses(&objects);
    let kinds: BTreeSet<&str> = objects.iter().map(kind).collect();
    for expected in [
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ServiceMonitor",
        "ConfigMap",
    ] {
        assert!(kinds.contains(expected), "no {expected} among {kinds:?}");
    }
}

#[test]
fn the_chart_ships_exactly_the_crds_crdgen_generates() {
    let out = run_helm(&["show", "crds", "."]);
    assert!(out.status.success());
    let shipped = parse_documents(&String::from_utf8_lossy(&out.stdout));
    let generated: Vec<Value> = guardrails_crds::manifests::crds()
        .iter()
        .map(|crd| serde_json::to_value(crd).unwrap())
        .collect();
    let by_name = |crds: &[Value]| -> BTreeMap<String, Value> {
        crds.iter()
            .map(|c| (name(c).to_owned(), c.clone()))
            .collect()
    };
    assert_eq!(
        by_name(&shipped),
        by_name(&generated),
        "charts/guardrails/crds/ differs from crdgen; regenerate with \
         cargo run -p guardrails-crds --bin crdgen -- --out charts/guardrails/crds"
    );
    for crd in &shipped {
        let _: CustomResourceDefinition = typed(crd);
    }
    let with_crds = render(&["--include-crds"]);
    assert_eq!(
        of_kind(&with_crds, "CustomResourceDefinition").len(),
        generated.len(),
        "helm install applies every CRD"
    );
}

// ---------------------------------------------------------------- refusals

#[test]
fn the_schema_rejects_a_values_file_with_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("operatr:\n  replicas: 2\n", "operatr"),
        (
            "webhooks:\n  rateLimitPerMinute: -1\n",
            "/webhooks/rateLimitPerMinute",
        ),
        (
            "webhooks:\n  allowedDomains: \"a.example,b.example\"\n",
            "/webhooks/allowedDomains",
        ),
        (
            "webhooks:\n  allowedDomains: [\"https://a.example/x\"]\n",
            "/webhooks/allowedDomains/0",
        ),
        (
            "webhooks:\n  allowedCidrs: [\"10.0.0.0\"]\n",
            "/webhooks/allowedCidrs/0",
        ),
        ("operator:\n  logFormat: xml\n", "/operator/logFormat"),
        (
            "operator:\n  analysisTimeout: soon\n",
            "/operator/analysisTimeout",
        ),
        ("api:\n  service:\n    port: 70000\n", "/api/service/port"),
        ("redis:\n  url: http://redis:6379\n", "/redis/url"),
        ("watchNamespaces: [a, b]\n", "/watchNamespaces"),
    ];
    for (i, (values, path)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad-{i}.yaml"));
        std::fs::write(&file, values).unwrap();
        let error = render_error(&["-f", file.to_str().unwrap()]);
        assert!(
            error.contains("schema") && error.contains(path),
            "values {values:?} were refused without naming {path}:\n{error}"
        );
    }
}

#[test]
fn helm_lint_fails_on_a_bad_values_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "operator:\n  replicas: zero\n").unwrap();
    let out = run_helm(&["lint", "--strict", ".", "-f", file.to_str().unwrap()]);
    assert!(!out.status.success());
}

#[test]
fn values_that_cannot_work_together_are_refused_with_what_to_change() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--set", "webhooks.rateLimitPerMinute=10"],
            "webhooks.rateLimitPerMinute needs Redis",
        ),
        (
            &[
                "--set",
                "operator.replicas=3",
                "--set",
                "operator.leaderElection.enabled=false",
            ],
            "needs operator.leaderElection.enabled",
        ),
        (
            &[
                "--set",
                "redis.bundled.enabled=true",
                "--set",
                "redis.url=redis://elsewhere:6379",
            ],
            "choose one Redis",
        ),
    ];
    for (extra, message) in cases {
        let error = render_error(extra);
        assert!(error.contains(message), "{extra:?}:\n{error}");
    }
}

// ---------------------------------------------------------------- optional objects

#[test]
fn optional_objects_are_off_by_default_and_rendered_when_enabled() {
    let defaults = render(&[]);
    for absent in ["NetworkPolicy", "ServiceMonitor", "ConfigMap"] {
        assert!(of_kind(&defaults, absent).is_empty(), "{absent} by default");
    }
    assert!(!defaults.iter().any(|o| name(o).ends_with("-redis")));

    let objects = production();
    let dashboard = object(&objects, "ConfigMap", "guardrails-dashboard");
    assert_eq!(dashboard["metadata"]["namespace"], "monitoring");
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    let json_text = dashboard["data"]["guardrails.json"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(json_text).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| !p.is_empty()));

    let monitors: Vec<_> = of_kind(&objects, "ServiceMonitor")
        .into_iter()
        .map(|m| m["metadata"]["labels"]["release"].clone())
        .collect();
    assert_eq!(monitors, [json!("prometheus"), json!("prometheus")]);
}

#[test]
fn pod_disruption_budgets_cover_replicated_components_only() {
    let replicated = render(&[]);
    assert_eq!(of_kind(&replicated, "PodDisruptionBudget").len(), 2);
    let single = render(&["--set", "operator.replicas=1", "--set", "api.replicas=1"]);
    assert!(
        of_kind(&single, "PodDisruptionBudget").is_empty(),
        "a PDB on one pod blocks drains"
    );
}
