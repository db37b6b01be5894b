//! Custom resources of Guardrails (group `guardrails.io`, version `v1alpha1`) and their CRDs.
//!
//! - [`task`]: `AnalysisTask`, a text to analyse and the outcome the operator writes.
//! - [`summary`]: the PII-free result summary kept in a task's status.
//! - [`delivery`]: the webhook delivery state the agent writes in a task's status, and the
//!   attempt outcomes and delivery phases every reader shares.
//! - [`result_secret`]: the layout of a task's result Secret (`result.json`).
//! - [`endpoint`]: `WebhookEndpoint`, the delivery policy for destinations of a namespace.
//! - [`conditions`]: `metav1.Condition` helpers shared by the writers of status.
//! - [`manifests`]: the CRD manifests, as printed by `crdgen` and shipped in the Helm chart.

pub mod conditions;
pub mod delivery;
pub mod endpoint;
pub mod manifests;
pub mod result_secret;
pub mod summary;
pub mod task;

pub use delivery::{AttemptOutcome, DeliveryAttempt, DeliveryPhase, DeliveryStatus, Outcome};
pub use endpoint::{WebhookEndpoint, WebhookEndpointSpec, WebhookEndpointStatus};
pub use summary::{ResultSummary, RiskLevel};
pub use task::{AnalysisTask, AnalysisTaskSpec, AnalysisTaskStatus, Framework, TaskPhase};
