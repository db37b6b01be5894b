//! The PII-free result summary kept in `AnalysisTask` status.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::task::Framework;

/// Most entities listed in status; the full list is always in the result Secret.
pub const MAX_STATUS_ENTITIES: usize = 100;

/// What the analysis found, without any raw PII: no values, no redacted text.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResultSummary {
    /// Personal data found in the text.
    pub pii: PiiSummary,
    /// Outcome of the compliance checks.
    pub compliance: ComplianceSummary,
    /// Risk score of the text.
    pub risk: RiskSummary,
}

/// Counts and locations of the entities found.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PiiSummary {
    /// Number of entities found.
    #[schemars(range(min = 0))]
    pub detected: i64,
    /// Number of entities found per entity type, e.g. {"EMAIL_ADDRESS": 2}.
    #[serde(default)]
    pub by_type: BTreeMap<String, i64>,
    /// Type, position and confidence of each entity (at most 100; see entitiesTruncated).
    #[serde(default)]
    #[schemars(length(max = 100))]
    pub entities: Vec<EntitySummary>,
    /// True when more entities were found than are listed here.
    #[serde(default)]
    pub entities_truncated: bool,
}

/// One entity found, without its value.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct EntitySummary {
    /// Entity type, e.g. EMAIL_ADDRESS or US_SSN.
    #[serde(rename = "type")]
    pub entity_type: String,
    /// Start offset in Unicode code points.
    #[schemars(range(min = 0))]
    pub start: i64,
    /// End offset in Unicode code points, exclusive.
    #[schemars(range(min = 0))]
    pub end: i64,
    /// Confidence between 0 and 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub confidence: f64,
}

/// Outcome of the compliance checks.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceSummary {
    /// True when no framework rule was violated.
    pub compliant: bool,
    /// Number of rule violations across all frameworks.
    #[schemars(range(min = 0))]
    pub violations: i64,
    /// Frameworks that were checked.
    #[serde(default)]
    pub frameworks: Vec<Framework>,
}

/// Risk score of the text.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskSummary {
    /// Score between 0 (no risk) and 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub overall_score: f64,
    /// low, medium, high or critical.
    pub overall_level: RiskLevel,
    /// What to do about the findings, e.g. "Redact PII before storage".
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub recommendations: Vec<String>,
}

/// Coarse risk level derived from the score.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Little or no personal data.
    #[default]
    Low,
    /// Some personal data.
    Medium,
    /// Sensitive personal data.
    High,
    /// Highly sensitive data such as credentials or payment cards.
    Critical,
}

impl PiiSummary {
    /// Builds the summary from every entity found, keeping at most `MAX_STATUS_ENTITIES` listed.
    pub fn from_entities(entities: impl IntoIterator<Item = EntitySummary>) -> Self {
        let mut summary = PiiSummary::default();
        for entity in entities {
            summary.detected += 1;
            *summary
                .by_type
                .entry(entity.entity_type.clone())
                .or_default() += 1;
            if summary.entities.len() < MAX_STATUS_ENTITIES {
                summary.entities.push(entity);
            } else {
                summary.entities_truncated = true;
            }
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(kind: &str, start: i64) -> EntitySummary {
        EntitySummary {
            entity_type: kind.into(),
            start,
            end: start + 5,
            confidence: 0.9,
        }
    }

    #[test]
    fn counts_entities_by_type() {
        let summary = PiiSummary::from_entities([
            entity("EMAIL_ADDRESS", 0),
            entity("US_SSN", 10),
            entity("EMAIL_ADDRESS", 20),
        ]);
        assert_eq!(summary.detected, 3);
        assert_eq!(summary.by_type["EMAIL_ADDRESS"], 2);
        assert_eq!(summary.by_type["US_SSN"], 1);
        assert!(!summary.entities_truncated);
    }

    #[test]
    fn lists_at_most_the_status_limit_but_counts_all() {
        let summary = PiiSummary::from_entities((0..250).map(|i| entity("PERSON", i * 10)));
        assert_eq!(summary.detected, 250);
        assert_eq!(summary.entities.len(), MAX_STATUS_ENTITIES);
        assert!(summary.entities_truncated);
    }

    #[test]
    fn serializes_with_camel_case_and_lowercase_levels() {
        let risk = RiskSummary {
            overall_score: 0.5,
            overall_level: RiskLevel::Critical,
            recommendations: vec![],
        };
        assert_eq!(
            serde_json::to_value(risk).unwrap(),
            serde_json::json!({"overallScore": 0.5, "overallLevel": "critical", "recommendations": []})
        );
    }
}
