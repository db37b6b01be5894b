//! The CRD manifests as YAML, one file per CRD, exactly as committed in the Helm chart.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray,
};
use kube::CustomResourceExt;

use crate::{AnalysisTask, WebhookEndpoint};

/// Where the manifests live, relative to the repository root.
pub const CHART_CRDS_DIR: &str = "charts/guardrails/crds";

/// Every CRD of Guardrails.
pub fn crds() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![AnalysisTask::crd(), WebhookEndpoint::crd()];
    for version in crds.iter_mut().flat_map(|crd| crd.spec.versions.iter_mut()) {
        let root = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut());
        if let Some(spec) = root
            .and_then(|r| r.properties.as_mut())
            .and_then(|p| p.get_mut("spec"))
        {
            // NB: a `null` kept by `nullable` would make `has()` true in the spec's CEL rules;
            // without it the API server prunes nulls, so an unset field is simply absent.
            drop_nullable(spec);
        }
    }
    crds
}

/// Each CRD's file name (`<plural>.<group>.yaml`) and YAML text.
pub fn manifests() -> Vec<(String, String)> {
    crds()
        .into_iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let yaml = serde_yaml::to_string(&crd).expect("a CRD always serializes to YAML");
            (format!("{name}.yaml"), yaml)
        })
        .collect()
}

fn drop_nullable(schema: &mut JSONSchemaProps) {
    schema.nullable = None;
    for child in schema.properties.iter_mut().flat_map(|p| p.values_mut()) {
        drop_nullable(child);
    }
    match schema.items.as_mut() {
        Some(JSONSchemaPropsOrArray::Schema(item)) => drop_nullable(item),
        Some(JSONSchemaPropsOrArray::Schemas(items)) => items.iter_mut().for_each(drop_nullable),
        None => {}
    }
}
