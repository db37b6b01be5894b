//! The Secret holding a task's full result (entity values, redacted text), owned by the task so
//! it is garbage-collected with it.

use std::collections::BTreeMap;

use guardrails_analysis::Analysis;
use guardrails_crds::AnalysisTask;
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kube::{Resource, ResourceExt, api::ObjectMeta};

use crate::{Error, Result};

pub use guardrails_crds::result_secret::RESULT_KEY;
/// Label on every result Secret naming its task.
pub const TASK_LABEL: &str = "guardrails.io/task";
/// Label on every result Secret saying what it is.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Value of [`COMPONENT_LABEL`] on result Secrets.
pub const COMPONENT: &str = "analysis-result";
/// Label saying which program manages the Secret.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = "guardrails-operator";

/// Name of the result Secret of a task: `<task>-result`.
pub fn name(task: &AnalysisTask) -> String {
    guardrails_crds::result_secret::result_secret_name(&task.name_any())
}

/// The result Secret of `task` holding `analysis`, owned by the task (controller, blocking
/// its deletion until it is collected).
pub fn build(task: &AnalysisTask, analysis: &Analysis) -> Result<Secret> {
    let mut owner = task
        .controller_owner_ref(&())
        .ok_or(Error::MissingObjectKey(".metadata.uid"))?;
    owner.block_owner_deletion = Some(true);
    let body = serde_json::to_vec(analysis).map_err(Error::SerializationError)?;
    Ok(Secret {
        metadata: ObjectMeta {
            name: Some(name(task)),
            namespace: task.namespace(),
            labels: Some(BTreeMap::from([
                (TASK_LABEL.to_owned(), task.name_any()),
                (COMPONENT_LABEL.to_owned(), COMPONENT.to_owned()),
                (MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned()),
            ])),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(BTreeMap::from([(RESULT_KEY.to_owned(), ByteString(body))])),
        ..Secret::default()
    })
}

/// Whether `secret` is controlled by `task` (same uid), so it may be used as its result.
pub fn is_owned_by(secret: &Secret, task: &AnalysisTask) -> bool {
    let Some(uid) = task.uid() else { return false };
    secret
        .owner_references()
        .iter()
        .any(|o| o.uid == uid && o.controller == Some(true))
}

/// The analysis stored in a result Secret.
pub fn read(secret: &Secret) -> Result<Analysis> {
    let name = secret.name_any();
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(RESULT_KEY))
        .ok_or_else(|| Error::ResultSecretError {
            name: name.clone(),
            reason: format!("no key `{RESULT_KEY}`"),
        })?;
    serde_json::from_slice(&bytes.0).map_err(|e| Error::ResultSecretError {
        name,
        reason: format!("`{RESULT_KEY}` is not a result: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{TaskBuilder, sample_analysis};

    #[test]
    fn the_secret_is_owned_by_its_task_and_labelled() {
        let task = TaskBuilder::new("scan").build();
        let secret = build(&task, &sample_analysis()).unwrap();
        assert_eq!(secret.metadata.name.as_deref(), Some("scan-result"));
        let owner = &secret.owner_references()[0];
        assert_eq!(owner.kind, "AnalysisTask");
        assert_eq!(owner.controller, Some(true));
        assert_eq!(owner.block_owner_deletion, Some(true));
        assert_eq!(secret.labels()[TASK_LABEL], "scan");
        assert!(is_owned_by(&secret, &task));
    }

    #[test]
    fn the_stored_result_reads_back_as_the_contract_json() {
        let task = TaskBuilder::new("scan").build();
        let analysis = sample_analysis();
        let secret = build(&task, &analysis).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&secret.data.as_ref().unwrap()[RESULT_KEY].0).unwrap();
        assert_eq!(json["status"], "success");
        assert!(json["pii"]["entities"][0]["value"].is_string());
        assert_eq!(read(&secret).unwrap(), analysis);
    }

    #[test]
    fn a_secret_of_another_task_is_not_ours() {
        let secret = build(
            &TaskBuilder::new("scan").uid("other-uid").build(),
            &sample_analysis(),
        )
        .unwrap();
        assert!(!is_owned_by(&secret, &TaskBuilder::new("scan").build()));
    }

    #[test]
    fn a_secret_without_the_key_is_unreadable() {
        let mut secret = build(&TaskBuilder::new("scan").build(), &sample_analysis()).unwrap();
        secret.data = None;
        let err = read(&secret).unwrap_err();
        assert!(err.to_string().contains("no key `result.json`"), "{err}");
    }
}
