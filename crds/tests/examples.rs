//! The shipped examples parse into the Rust types, so they stay in step with the CRDs.

use std::path::PathBuf;

use guardrails_crds::{AnalysisTask, WebhookEndpoint};
use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;

fn documents(file: &str) -> Vec<serde_yaml::Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde_yaml::Value::deserialize(doc).unwrap())
        .collect()
}

fn parse<T: serde::de::DeserializeOwned>(doc: serde_yaml::Value) -> T {
    serde_yaml::from_value(doc).unwrap()
}

#[test]
fn inline_example_is_a_valid_analysis_task() {
    let docs = documents("analysistask.yaml");
    assert_eq!(docs.len(), 1);
    let task: AnalysisTask = parse(docs[0].clone());
    assert!(task.spec.text.is_some() && task.spec.text_from.is_none());
    assert!(task.spec.webhook.is_some_and(|w| w.sign_payload));
}

#[test]
fn secret_example_is_a_secret_and_a_task_reading_it() {
    let docs = documents("analysistask-secret.yaml");
    assert_eq!(docs.len(), 2);
    let secret: Secret = parse(docs[0].clone());
    let task: AnalysisTask = parse(docs[1].clone());
    let source = task.spec.text_from.expect("textFrom is set").secret_key_ref;
    assert_eq!(Some(source.name), secret.metadata.name);
    assert!(
        secret
            .string_data
            .unwrap_or_default()
            .contains_key(&source.key)
    );
    assert!(task.spec.text.is_none());
}

#[test]
fn endpoint_example_is_a_valid_webhook_endpoint() {
    let docs = documents("webhookendpoint.yaml");
    let endpoint: WebhookEndpoint = parse(docs[0].clone());
    assert_eq!(endpoint.spec.domains, vec!["partner.example"]);
    assert_eq!(endpoint.spec.retry_delays().unwrap().len(), 5);
}
