//! The generated schemas are structural, documented, and their CEL rules behave as users expect.

use guardrails_crds::manifests::crds;
use serde_json::{Value, json};

/// Every CRD's openAPIV3Schema, with the CRD name.
fn schemas() -> Vec<(String, Value)> {
    crds()
        .into_iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap();
            let schema = crd.spec.versions[0]
                .schema
                .clone()
                .unwrap()
                .open_api_v3_schema
                .unwrap();
            (name, serde_json::to_value(schema).unwrap())
        })
        .collect()
}

fn task_schema() -> Value {
    schemas()
        .into_iter()
        .find(|(n, _)| n == "analysistasks.guardrails.io")
        .unwrap()
        .1
}

/// Walks every schema node with its JSON path.
fn walk<'a>(path: String, node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    out.push((path.clone(), node));
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (key, child) in props {
            walk(format!("{path}.{key}"), child, out);
        }
    }
    if let Some(items) = node.get("items") {
        walk(format!("{path}[]"), items, out);
    }
    if let Some(extra) = node.get("additionalProperties").filter(|v| v.is_object()) {
        walk(format!("{path}{{}}"), extra, out);
    }
}

fn nodes(schema: &Value) -> Vec<(String, &Value)> {
    let mut out = vec![];
    walk(String::new(), schema, &mut out);
    out
}

#[test]
fn every_schema_node_is_structural() {
    for (crd, schema) in schemas() {
        for (path, node) in nodes(&schema) {
            let at = format!("{crd} at `{path}`");
            assert!(
                node.get("type").and_then(Value::as_str).is_some(),
                "{at} has no type"
            );
            for keyword in [
                "anyOf",
                "oneOf",
                "allOf",
                "not",
                "$ref",
                "definitions",
                "$defs",
            ] {
                assert!(node.get(keyword).is_none(), "{at} uses `{keyword}`");
            }
            assert!(
                node.get("x-kubernetes-preserve-unknown-fields").is_none(),
                "{at} preserves unknown fields"
            );
        }
    }
}

#[test]
fn every_property_has_a_description_for_kubectl_explain() {
    for (crd, schema) in schemas() {
        for (path, node) in nodes(&schema) {
            let is_builtin = path.starts_with(".metadata")
                || path == ".apiVersion"
                || path == ".kind"
                || path.is_empty();
            if is_builtin || path.ends_with("[]") || path.ends_with("{}") {
                continue;
            }
            let description = node
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            assert!(
                !description.trim().is_empty(),
                "{crd} at `{path}` has no description"
            );
        }
    }
}

#[test]
fn map_lists_key_on_required_fields() {
    for (crd, schema) in schemas() {
        for (path, node) in nodes(&schema) {
            let Some(keys) = node
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
            else {
                continue;
            };
            let required = node["items"]["required"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for key in keys {
                assert!(
                    required.contains(key),
                    "{crd} at `{path}`: list map key {key} is not required"
                );
            }
        }
    }
}

#[test]
fn cel_rules_have_messages_and_fit_the_cost_budget() {
    for (crd, schema) in schemas() {
        let compiled = kube_cel::compile_schema(&schema);
        for (path, node) in nodes(&schema) {
            for rule in node
                .get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = rule["rule"].as_str().unwrap();
                assert!(
                    rule["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{crd} `{path}`: {text} has no message"
                );
                let warnings = kube_cel::estimate_rule_cost(text, &compiled);
                assert!(warnings.is_empty(), "{crd} `{path}`: {text}: {warnings:?}");
            }
        }
    }
}

fn task(spec: Value) -> Value {
    json!({"apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask", "metadata": {"name": "t"}, "spec": spec})
}

fn cel_errors(object: &Value, old: Option<&Value>) -> Vec<String> {
    match kube_cel::validate(&task_schema(), object, old) {
        Ok(()) => vec![],
        Err(errors) => errors.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn a_task_with_inline_text_passes_the_cel_rules() {
    assert_eq!(
        cel_errors(&task(json!({"text": "hello"})), None),
        Vec::<String>::new()
    );
}

#[test]
fn a_task_with_both_text_and_text_from_is_refused_with_a_clear_message() {
    let both = task(json!({"text": "x", "textFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}));
    let errors = cel_errors(&both, None);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("exactly one of spec.text and spec.textFrom must be set")),
        "{errors:?}"
    );
}

#[test]
fn a_task_with_neither_text_nor_text_from_is_refused() {
    let errors = cel_errors(&task(json!({"frameworks": ["GDPR"]})), None);
    assert!(
        errors.iter().any(|e| e.contains("exactly one of")),
        "{errors:?}"
    );
}

#[test]
fn changing_a_tasks_spec_after_creation_is_refused() {
    let old = task(json!({"text": "first"}));
    let new = task(json!({"text": "second"}));
    let errors = cel_errors(&new, Some(&old));
    assert!(
        errors.iter().any(|e| e.contains("spec is immutable")),
        "{errors:?}"
    );
    assert_eq!(cel_errors(&old, Some(&old)), Vec::<String>::new());
}

fn endpoint_crd()
-> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
    crds()
        .into_iter()
        .find(|c| c.metadata.name.as_deref() == Some("webhookendpoints.guardrails.io"))
        .unwrap()
}

#[test]
fn endpoint_domains_accept_hosts_wildcards_and_addresses_and_refuse_the_rest() {
    let schema = serde_json::to_value(&endpoint_crd().spec.versions[0].schema).unwrap();
    let pattern = schema["openAPIV3Schema"]["properties"]["spec"]["properties"]["domains"]["items"]
        ["pattern"]
        .as_str()
        .unwrap()
        .to_owned();
    let pattern = regex::Regex::new(&pattern).unwrap();
    for good in [
        "partner.io",
        "*.partner.io",
        ".partner.io",
        "partner.io.",
        "10.0.0.1",
        "bücher.de",
    ] {
        assert!(pattern.is_match(good), "{good} is refused");
    }
    for bad in [
        "partner.io:443",
        "partner.io/hook",
        "a*b.io",
        "*.*.io",
        "a..io",
        "*",
        "",
        " x.io",
    ] {
        assert!(!pattern.is_match(bad), "{bad:?} is accepted");
    }
}

#[test]
fn tasks_are_selectable_by_phase() {
    let crd = crds()
        .into_iter()
        .find(|c| c.metadata.name.as_deref() == Some("analysistasks.guardrails.io"))
        .unwrap();
    let fields: Vec<_> = crd.spec.versions[0]
        .selectable_fields
        .iter()
        .flatten()
        .map(|f| f.json_path.as_str())
        .collect();
    assert_eq!(fields, [".status.phase"]);
}
