//! The OpenAPI document, generated from the handlers and their types; a copy is committed as
//! `docs/openapi.json` and a test fails when the two drift apart.

use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::model::FrameworkName;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Guardrails API",
        description = "Analyse text for personal data, check it against compliance frameworks, \
            score its risk, and receive the outcome by signed webhook.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        crate::routes::analyze,
        crate::routes::analyze_async,
        crate::routes::get_task,
        crate::routes::healthz,
        crate::routes::readyz,
        crate::routes::metrics,
        crate::routes::openapi,
    ),
    components(schemas(crate::problem::Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "analysis", description = "Analyses, synchronous and as tasks"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key of the server (--api-keys-file or API_KEYS)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of this API.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc
}

/// The document as the committed `docs/openapi.json` holds it: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("the document serialises");
    text.push('\n');
    text
}

/// The `result` object of an analysis (docs/webhooks.md), as the sync endpoint, `GET` and the webhook
/// carry it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AnalysisResult {
    /// Always `success`.
    pub status: ResultStatus,
    /// The personal data found.
    pub pii: PiiResult,
    /// The compliance check.
    pub compliance: ComplianceResult,
    /// The risk score.
    pub risk: RiskResult,
    /// The text with every finding redacted, when `include_redaction` was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted_text: Option<String>,
}

/// Status of a result.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    /// The analysis ran to the end.
    Success,
}

/// The personal data found.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PiiResult {
    /// Number of entities found.
    #[schema(minimum = 0)]
    pub detected: u64,
    /// The entities, in text order.
    pub entities: Vec<EntityResult>,
}

/// One entity found.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct EntityResult {
    /// Entity type, e.g. `EMAIL_ADDRESS` or `US_SSN`.
    #[serde(rename = "type")]
    pub entity_type: String,
    /// The text found.
    pub value: String,
    /// Where it is, in Unicode code points.
    pub position: PositionResult,
    /// Confidence between 0 and 1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: f64,
}

/// A span of the text in Unicode code points (Python `str` indices), end exclusive.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PositionResult {
    /// First code point.
    #[schema(minimum = 0)]
    pub start: u64,
    /// One past the last code point.
    #[schema(minimum = 0)]
    pub end: u64,
}

/// The compliance check.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComplianceResult {
    /// Whether no rule of the requested frameworks is broken.
    pub compliant: bool,
    /// Number of violations.
    #[schema(minimum = 0)]
    pub violations: u64,
    /// Frameworks checked.
    pub frameworks: Vec<FrameworkName>,
    /// Every broken rule.
    #[serde(default)]
    pub details: Vec<ViolationResult>,
}

/// One broken rule.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ViolationResult {
    /// Framework of the rule.
    pub framework: FrameworkName,
    /// Rule id, e.g. `PCI-DSS-3.4-PAN`.
    pub rule: String,
    /// Entity type breaking it.
    pub entity_type: String,
    /// How many findings of that type.
    #[schema(minimum = 0)]
    pub count: u64,
    /// low, medium, high or critical.
    pub severity: Level,
}

/// The risk score.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RiskResult {
    /// Score between 0 and 1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub overall_score: f64,
    /// low, medium, high or critical.
    pub overall_level: Level,
    /// What to do about the findings.
    pub recommendations: Vec<String>,
}

/// A level of risk or severity.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_analysis_deserialises_as_the_documented_result() {
        let analysis = guardrails_analysis::Analyzer::new()
            .analyze(
                "Mail jane@example.com, card 4111 1111 1111 1111",
                &guardrails_analysis::Options {
                    frameworks: vec![guardrails_analysis::Framework::PciDss],
                    include_redaction: true,
                    ..Default::default()
                },
            )
            .unwrap();
        let json = serde_json::to_value(&analysis).unwrap();
        let documented: AnalysisResult = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(documented).unwrap(), json);
    }

    #[test]
    fn every_api_path_is_documented() {
        let doc = document();
        for path in [
            "/api/v1/analyze",
            "/api/v1/analyze/async",
            "/api/v1/tasks/{task_id}",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path}");
        }
    }
}
