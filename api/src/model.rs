//! Request and response bodies of the REST API (docs/api.md), and the validation of a request.

use guardrails_crds::Framework;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::problem::{ApiError, Code};

/// Message of every accepted async submission, as the original service sent it.
pub const SUBMITTED_MESSAGE: &str = "Analysis task submitted successfully";

/// Body of `POST /api/v1/analyze` and `POST /api/v1/analyze/async`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AnalyzeRequest {
    /// Text to analyse (UTF-8, not empty).
    #[schema(min_length = 1, pattern = r"\S")]
    pub text: String,
    /// Compliance frameworks to check the findings against.
    #[serde(default)]
    pub frameworks: Option<Vec<FrameworkName>>,
    /// Whether the result includes the text with the findings redacted.
    #[serde(default)]
    pub include_redaction: Option<bool>,
    /// http(s) URL the outcome is POSTed to (async endpoint only; ignored by the sync one).
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Whether the webhook is signed (`X-Guardrails-Signature` and Standard Webhooks headers).
    #[serde(default)]
    pub sign_payload: Option<bool>,
}

/// A compliance framework name.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
pub enum FrameworkName {
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

/// A request that passed validation (kept in the standalone store until it is analysed).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// The text to analyse.
    pub text: String,
    /// Frameworks to check, without duplicates, in request order.
    pub frameworks: Vec<Framework>,
    /// Whether to include the redacted text.
    pub include_redaction: bool,
    /// Where to deliver the outcome, if anywhere.
    pub webhook: Option<WebhookRequest>,
}

// NB: by hand, so that a logged submission never shows the text.
impl std::fmt::Debug for Submission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submission")
            .field("text_chars", &self.text.chars().count())
            .field("frameworks", &self.frameworks)
            .field("include_redaction", &self.include_redaction)
            .field("webhook", &self.webhook.is_some())
            .finish()
    }
}

/// The webhook part of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookRequest {
    /// The destination, as given.
    pub url: String,
    /// Whether to sign the delivery.
    pub sign_payload: bool,
}

impl Submission {
    /// Validates a JSON body; errors name the field and never echo its value.
    pub fn from_json(body: &Value, max_text_bytes: usize) -> Result<Self, ApiError> {
        let Value::Object(fields) = body else {
            return Err(invalid("the body must be a JSON object"));
        };
        let text = match fields.get("text") {
            Some(Value::String(text)) => text,
            None | Some(Value::Null) => return Err(invalid("`text` is required")),
            Some(_) => return Err(invalid("`text` must be a string")),
        };
        if text.trim().is_empty() {
            return Err(invalid("`text` must not be empty"));
        }
        if text.len() > max_text_bytes {
            return Err(ApiError::new(
                Code::TextTooLarge,
                format!(
                    "`text` is {} bytes long; the limit is {max_text_bytes} bytes",
                    text.len()
                ),
            ));
        }
        let webhook = optional_string(fields, "webhook_url")?.map(|url| WebhookRequest {
            url: url.to_owned(),
            sign_payload: false,
        });
        let sign_payload = optional_bool(fields, "sign_payload")?;
        Ok(Submission {
            text: text.clone(),
            frameworks: frameworks(fields)?,
            include_redaction: optional_bool(fields, "include_redaction")?,
            webhook: webhook.map(|w| WebhookRequest { sign_payload, ..w }),
        })
    }

    /// The analysis options of this submission.
    pub fn options(&self) -> guardrails_analysis::Options {
        guardrails_analysis::Options {
            frameworks: self.frameworks.iter().map(|f| to_analysis(*f)).collect(),
            include_redaction: self.include_redaction,
            ..Default::default()
        }
    }
}

/// The analysis crate's name for a framework.
pub fn to_analysis(framework: Framework) -> guardrails_analysis::Framework {
    match framework {
        Framework::Hipaa => guardrails_analysis::Framework::Hipaa,
        Framework::Gdpr => guardrails_analysis::Framework::Gdpr,
        Framework::PciDss => guardrails_analysis::Framework::PciDss,
        Framework::Ccpa => guardrails_analysis::Framework::Ccpa,
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(Code::InvalidField, detail)
}

fn optional_bool(fields: &Map<String, Value>, name: &str) -> Result<bool, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(invalid(format!("`{name}` must be true or false"))),
    }
}

fn optional_string<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(invalid(format!("`{name}` must be a string"))),
    }
}

fn frameworks(fields: &Map<String, Value>) -> Result<Vec<Framework>, ApiError> {
    let items = match fields.get("frameworks") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("`frameworks` must be an array of framework names")),
    };
    let mut frameworks = Vec::new();
    for item in items {
        let Value::String(name) = item else {
            return Err(invalid("`frameworks` must hold framework names (strings)"));
        };
        let framework = parse_framework(name)?;
        if !frameworks.contains(&framework) {
            frameworks.push(framework);
        }
    }
    Ok(frameworks)
}

/// Parses a framework name, as published: `HIPAA`, `GDPR`, `PCI_DSS` or `CCPA`.
pub fn parse_framework(name: &str) -> Result<Framework, ApiError> {
    let framework = match name {
        "HIPAA" => Framework::Hipaa,
        "GDPR" => Framework::Gdpr,
        "PCI_DSS" => Framework::PciDss,
        "CCPA" => Framework::Ccpa,
        _ => {
            // NB: the name is shown only when it is short and plain, so no text leaks through it.
            let shown = if name.len() <= 32 && name.chars().all(|c| c.is_ascii_graphic()) {
                format!("`{name}`")
            } else {
                "the given name".to_owned()
            };
            return Err(ApiError::new(
                Code::UnknownFramework,
                format!("{shown} is not a framework; expected HIPAA, GDPR, PCI_DSS or CCPA"),
            ));
        }
    };
    Ok(framework)
}

/// Body of the `202` answer of `POST /api/v1/analyze/async`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubmittedTask {
    /// Id of the task (the AnalysisTask's `metadata.uid`); the webhook's `task.id`.
    pub task_id: String,
    /// Always `PENDING`.
    pub status: TaskState,
    /// When the task was accepted (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// "Analysis task submitted successfully".
    pub message: String,
}

/// Where a task stands, in the original service's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskState {
    /// Accepted, not started.
    Pending,
    /// The analysis is running.
    Started,
    /// The analysis finished; `result` holds it.
    Success,
    /// The analysis failed; `error` says why.
    Failure,
}

impl TaskState {
    /// Every state, in the order a task goes through them.
    pub const ALL: [TaskState; 4] = [
        TaskState::Pending,
        TaskState::Started,
        TaskState::Success,
        TaskState::Failure,
    ];

    /// The state as sent: `PENDING`, `STARTED`, `SUCCESS` or `FAILURE`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "PENDING",
            TaskState::Started => "STARTED",
            TaskState::Success => "SUCCESS",
            TaskState::Failure => "FAILURE",
        }
    }
}

impl From<guardrails_crds::TaskPhase> for TaskState {
    fn from(phase: guardrails_crds::TaskPhase) -> Self {
        use guardrails_crds::TaskPhase;
        match phase {
            TaskPhase::Pending => TaskState::Pending,
            TaskPhase::Running => TaskState::Started,
            TaskPhase::Succeeded => TaskState::Success,
            TaskPhase::Failed => TaskState::Failure,
        }
    }
}

/// Body of `GET /api/v1/tasks/{task_id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    /// Id of the task.
    pub task_id: String,
    /// PENDING, STARTED, SUCCESS or FAILURE.
    pub status: TaskState,
    /// When the task was accepted (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// When the analysis started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    /// When the analysis ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    /// The analysis result, once the status is SUCCESS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::openapi::AnalysisResult>)]
    pub result: Option<Value>,
    /// Why the analysis failed, once the status is FAILURE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Webhook delivery, when the task has a webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookView>,
}

/// Delivery of a task's webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    /// Pending, Succeeded, Failed, Rejected or NotRequested (as in `status.delivery.phase`).
    pub status: String,
    /// The attempts so far, oldest first (at most the last 20).
    pub attempts: Vec<AttemptView>,
    /// Why the delivery is waiting, failed or was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The delivery round: 1, then + 1 per redelivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    /// When the next attempt is due, while the delivery waits (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
}

/// One delivery attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttemptView {
    /// Attempt number within its round, starting at 1.
    pub number: u32,
    /// The delivery round it belongs to (1, then + 1 per redelivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    /// When it started (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub started_at: String,
    /// How long it took, in milliseconds; absent while in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// in_progress, succeeded, http_error, timeout, connection_error, rate_limited, rejected,
    /// suspended or interrupted.
    pub outcome: String,
    /// HTTP status of the receiver's answer, if one arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Something to know, e.g. that it was sent unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl From<&guardrails_agent::DeliveryAttempt> for AttemptView {
    fn from(a: &guardrails_agent::DeliveryAttempt) -> Self {
        AttemptView {
            number: a.number,
            round: None,
            started_at: rfc3339(a.started_at),
            duration_ms: a.duration_ms,
            outcome: a.outcome.as_str().to_owned(),
            http_status: a.http_status,
            error: a.error.clone(),
            warning: a.warning.clone(),
        }
    }
}

impl From<&guardrails_crds::DeliveryAttempt> for AttemptView {
    fn from(a: &guardrails_crds::DeliveryAttempt) -> Self {
        let outcome = a.outcome.as_str().to_owned();
        AttemptView {
            number: u32::try_from(a.number).unwrap_or_default(),
            round: a.round.and_then(|r| u32::try_from(r).ok()),
            started_at: rfc3339(a.started_at.0),
            duration_ms: a.duration_ms.and_then(|ms| u64::try_from(ms).ok()),
            outcome,
            http_status: a.http_status.and_then(|s| u16::try_from(s).ok()),
            error: a.error.clone(),
            warning: a.warning.clone(),
        }
    }
}

/// A timestamp as RFC 3339 UTC with microseconds, as the webhook payload writes it.
pub fn rfc3339(at: jiff::Timestamp) -> String {
    format!("{at:.6}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_task_state_is_sent_as_its_name() {
        for state in TaskState::ALL {
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
    }

    fn parse(body: Value) -> Result<Submission, ApiError> {
        Submission::from_json(&body, 1000)
    }

    #[test]
    fn a_full_request_is_accepted_with_its_options() {
        let s = parse(json!({"text": "hi", "frameworks": ["GDPR", "HIPAA", "GDPR"],
            "include_redaction": true, "webhook_url": "https://partner.io/h", "sign_payload": true}))
        .unwrap();
        assert_eq!(s.frameworks, vec![Framework::Gdpr, Framework::Hipaa]);
        assert!(s.include_redaction);
        assert_eq!(
            s.webhook,
            Some(WebhookRequest {
                url: "https://partner.io/h".into(),
                sign_payload: true
            })
        );
    }

    #[test]
    fn nulls_mean_the_defaults() {
        let s = parse(
            json!({"text": "hi", "frameworks": null, "include_redaction": null,
            "webhook_url": null, "sign_payload": null}),
        )
        .unwrap();
        assert!(s.frameworks.is_empty() && !s.include_redaction && s.webhook.is_none());
    }

    #[test]
    fn wrong_types_name_the_field_without_echoing_the_value() {
        let err =
            parse(json!({"text": "secret-ssn-536-22-1234", "include_redaction": "yes-536-22"}))
                .unwrap_err();
        assert_eq!(err.code, Code::InvalidField);
        assert!(err.detail.contains("include_redaction"));
        assert!(!err.detail.contains("536"));
        assert_eq!(
            parse(json!({"text": 5})).unwrap_err().code,
            Code::InvalidField
        );
        assert_eq!(parse(json!(["text"])).unwrap_err().code, Code::InvalidField);
        assert_eq!(
            parse(json!({"text": "a", "frameworks": "GDPR"}))
                .unwrap_err()
                .code,
            Code::InvalidField
        );
    }

    #[test]
    fn empty_and_missing_text_are_invalid() {
        for body in [
            json!({}),
            json!({"text": ""}),
            json!({"text": "  \n"}),
            json!({"text": null}),
        ] {
            assert_eq!(parse(body).unwrap_err().code, Code::InvalidField);
        }
    }

    #[test]
    fn text_over_the_limit_is_too_large() {
        let err = parse(json!({"text": "x".repeat(1001)})).unwrap_err();
        assert_eq!(err.code, Code::TextTooLarge);
    }

    #[test]
    fn unknown_frameworks_are_named_only_when_short() {
        let err = parse(json!({"text": "a", "frameworks": ["SOX"]})).unwrap_err();
        assert_eq!(err.code, Code::UnknownFramework);
        assert!(err.detail.contains("`SOX`"));
        let err = parse(json!({"text": "a", "frameworks": ["hipaa"]})).unwrap_err();
        assert_eq!(
            err.code,
            Code::UnknownFramework,
            "names are case-sensitive, as published"
        );
        let long = "my ssn is 536-22-1234 and more words";
        let err = parse(json!({"text": "a", "frameworks": [long]})).unwrap_err();
        assert!(!err.detail.contains("536"));
    }

    #[test]
    fn the_debug_output_hides_the_text() {
        let s = parse(json!({"text": "jane@example.com"})).unwrap();
        assert!(!format!("{s:?}").contains("jane"));
    }
}
