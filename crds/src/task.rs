//! The `AnalysisTask` custom resource: a text to analyse and, once done, its PII-free summary.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::delivery::{DeliveryPhase, DeliveryStatus};
use crate::summary::ResultSummary;

/// Largest inline text, in characters, that the API server accepts in `spec.text`.
pub const MAX_INLINE_TEXT_CHARS: u32 = 1_048_576;

/// Annotation whose change requests a new delivery round for a `Failed`/`Rejected` delivery.
pub const REDELIVER_ANNOTATION: &str = "guardrails.io/redeliver";

/// Desired analysis of a text; immutable once created.
// NB: printer columns repeat `type_` by design; clippy reads them as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "guardrails.io",
    version = "v1alpha1",
    kind = "AnalysisTask",
    namespaced,
    status = "AnalysisTaskStatus",
    shortname = "at",
    category = "guardrails",
    doc = "A text to analyse for PII, compliance and risk; its outcome is delivered by webhook.",
    derive = "PartialEq",
    derive = "Default",
    // NB: lets the agent watch finished tasks only (`--field-selector status.phase=Succeeded`).
    selectable = ".status.phase",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Risk",
        type_ = "string",
        json_path = ".status.result.risk.overallLevel"
    ),
    printcolumn(
        name = "PII",
        type_ = "integer",
        json_path = ".status.result.pii.detected"
    ),
    printcolumn(
        name = "Delivery",
        type_ = "string",
        json_path = ".status.delivery.phase"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(
    validation = Rule::new("has(self.text) != has(self.textFrom)")
        .message("exactly one of spec.text and spec.textFrom must be set"),
    validation = Rule::new("self == oldSelf")
        .message("spec is immutable: create a new AnalysisTask instead")
)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTaskSpec {
    /// Text to analyse, inline. Exactly one of text and textFrom must be set; prefer textFrom
    /// for sensitive text, so it lives in a Secret instead of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1_048_576))]
    pub text: Option<String>,

    /// Secret key holding the text to analyse, in the task's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_from: Option<TextSource>,

    /// Compliance frameworks to check the findings against: HIPAA, GDPR, PCI_DSS, CCPA.
    #[serde(default)]
    #[schemars(length(max = 4), extend("x-kubernetes-list-type" = "set"))]
    pub frameworks: Vec<Framework>,

    /// Whether the full result (in the result Secret and the webhook) includes the redacted text.
    #[serde(default)]
    pub include_redaction: bool,

    /// Where to deliver the outcome; no webhook is sent when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookTarget>,

    /// Seconds after the task finished and its delivery ended before the task is deleted;
    /// unset uses the operator's default (which may be never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 31_536_000))]
    pub ttl_seconds_after_finished: Option<i32>,
}

/// Where a task's text comes from when it is not inline.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TextSource {
    /// Key of a Secret in the task's namespace whose value is the UTF-8 text.
    pub secret_key_ref: SecretKeyRef,
}

/// A key of a Secret in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Key within the Secret's data.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

/// A compliance framework.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
pub enum Framework {
    /// US Health Insurance Portability and Accountability Act.
    #[serde(rename = "HIPAA")]
    Hipaa,
    /// EU General Data Protection Regulation.
    #[serde(rename = "GDPR")]
    Gdpr,
    /// Payment Card Industry Data Security Standard.
    #[serde(rename = "PCI_DSS")]
    PciDss,
    /// California Consumer Privacy Act.
    #[serde(rename = "CCPA")]
    Ccpa,
}

impl Framework {
    /// The framework's name as written in specs and payloads, e.g. `PCI_DSS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Hipaa => "HIPAA",
            Framework::Gdpr => "GDPR",
            Framework::PciDss => "PCI_DSS",
            Framework::Ccpa => "CCPA",
        }
    }
}

/// Webhook that receives the task's outcome.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTarget {
    /// http or https URL the outcome is POSTed to; it must pass the allowlist of the namespace's
    /// WebhookEndpoints and ALLOWED_WEBHOOK_DOMAINS.
    #[schemars(
        length(min = 8, max = 2048),
        regex(pattern = r"^[hH][tT][tT][pP][sS]?://[^\s/?#]+\S*$")
    )]
    pub url: String,

    /// Whether to sign the delivery (X-Guardrails-Signature and Standard Webhooks headers).
    #[serde(default)]
    pub sign_payload: bool,
}

/// Lifecycle of the analysis, written by the operator.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum TaskPhase {
    /// Accepted, not started yet.
    #[default]
    Pending,
    /// The analysis is running.
    Running,
    /// The analysis finished; the result is in status and the result Secret.
    Succeeded,
    /// The analysis could not be done; see status.error.
    Failed,
}

impl TaskPhase {
    /// Whether the analysis has ended (it is never run again).
    pub fn is_finished(self) -> bool {
        matches!(self, TaskPhase::Succeeded | TaskPhase::Failed)
    }
}

/// Observed state of an AnalysisTask; the operator and the agent each write their own fields.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTaskStatus {
    /// Pending, Running, Succeeded or Failed (written by the operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<TaskPhase>,

    /// Generation of the spec the operator last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// When the analysis started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,

    /// When the analysis finished, successfully or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Time>,

    /// Why the analysis failed, in words a user can act on (never contains the text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub error: Option<String>,

    /// Analyzed (operator) and Delivered (agent) conditions; each writer owns its own entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// Summary of the findings without any raw PII: counts, types, positions and scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultSummary>,

    /// Secret (owned by the task) holding the full result with values and redacted text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_secret_ref: Option<LocalSecretRef>,

    /// Webhook delivery progress (written by the agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryStatus>,
}

/// A Secret in the same namespace, by name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct LocalSecretRef {
    /// Name of the Secret.
    pub name: String,
}

impl AnalysisTask {
    /// The task id used everywhere (REST, webhook payload, logs): `metadata.uid`.
    pub fn task_id(&self) -> Option<&str> {
        self.meta().uid.as_deref()
    }

    /// The operator's phase; a task without status is Pending.
    pub fn phase(&self) -> TaskPhase {
        self.status
            .as_ref()
            .and_then(|s| s.phase)
            .unwrap_or_default()
    }

    /// The agent's delivery phase, if the agent has looked at the task yet.
    pub fn delivery_phase(&self) -> Option<DeliveryPhase> {
        self.status.as_ref()?.delivery.as_ref().map(|d| d.phase)
    }

    /// The value of the redeliver annotation, if set.
    pub fn redeliver_request(&self) -> Option<&str> {
        self.annotations()
            .get(REDELIVER_ANNOTATION)
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(spec: serde_json::Value) -> AnalysisTask {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "guardrails.io/v1alpha1",
            "kind": "AnalysisTask",
            "metadata": {"name": "t", "namespace": "ns", "uid": "2f1c6a0e-1d4b-4c57-9a57-0b1f3c0f4a11"},
            "spec": spec,
        }))
        .expect("valid task")
    }

    #[test]
    fn omitted_defaults_deserialize_to_no_frameworks_and_no_redaction() {
        let t = task(serde_json::json!({"text": "hi"}));
        assert!(t.spec.frameworks.is_empty());
        assert!(!t.spec.include_redaction);
        assert_eq!(t.task_id(), Some("2f1c6a0e-1d4b-4c57-9a57-0b1f3c0f4a11"));
    }

    #[test]
    fn frameworks_use_their_published_names() {
        let t = task(serde_json::json!({"text": "hi", "frameworks": ["PCI_DSS", "HIPAA"]}));
        assert_eq!(t.spec.frameworks, vec![Framework::PciDss, Framework::Hipaa]);
        assert_eq!(Framework::PciDss.as_str(), "PCI_DSS");
        assert_eq!(serde_json::to_value(Framework::Ccpa).unwrap(), "CCPA");
    }

    #[test]
    fn a_task_without_status_is_pending_and_has_no_delivery() {
        let t = task(serde_json::json!({"text": "hi"}));
        assert_eq!(t.phase(), TaskPhase::Pending);
        assert!(!t.phase().is_finished());
        assert_eq!(t.delivery_phase(), None);
    }

    #[test]
    fn an_operator_status_serializes_without_the_agents_fields() {
        let status = AnalysisTaskStatus {
            phase: Some(TaskPhase::Running),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            serde_json::json!({"phase": "Running"})
        );
    }
}
