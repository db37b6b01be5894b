//! The analysis result: exactly the `result` object of the product contract (docs/webhooks.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::compliance::Compliance;
use crate::entity::{Entity, EntityType};
use crate::risk::Risk;

/// The outcome of an analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Always `success` for a finished analysis.
    pub status: Status,
    /// The detected PII.
    pub pii: PiiSummary,
    /// The compliance check against the requested frameworks.
    pub compliance: Compliance,
    /// The risk score and recommendations.
    pub risk: Risk,
    /// The text with every finding redacted, when redaction was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted_text: Option<String>,
}

impl Analysis {
    /// How many entities of each type were detected (no values: safe for status and metrics).
    pub fn counts_by_type(&self) -> BTreeMap<EntityType, usize> {
        let mut counts = BTreeMap::new();
        for e in &self.pii.entities {
            *counts.entry(e.entity_type).or_insert(0) += 1;
        }
        counts
    }
}

/// The status of an analysis result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The analysis ran to the end.
    Success,
}

/// The detected entities and their number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PiiSummary {
    /// How many entities were detected.
    pub detected: usize,
    /// The entities, in text order.
    pub entities: Vec<Entity>,
}

#[cfg(test)]
mod tests {
    use crate::{Analyzer, Framework, Options};

    #[test]
    fn the_result_serialises_to_the_contract_shape() {
        let options = Options {
            frameworks: vec![Framework::PciDss],
            include_redaction: true,
            ..Options::default()
        };
        let a = Analyzer::new()
            .analyze("Card 4111 1111 1111 1111 on file.", &options)
            .unwrap();
        let json = serde_json::to_value(&a).unwrap();
        let expected = serde_json::json!({
            "status": "success",
            "pii": {"detected": 1, "entities": [
                {"type": "CREDIT_CARD", "value": "4111 1111 1111 1111", "position": {"start": 5, "end": 24}, "confidence": 1.0}
            ]},
            "compliance": {"compliant": false, "violations": 1, "frameworks": ["PCI_DSS"], "details": [
                {"framework": "PCI_DSS", "rule": "PCI-DSS-3.4-PAN", "entity_type": "CREDIT_CARD", "count": 1, "severity": "critical"}
            ]},
            "risk": {"overall_score": 0.76, "overall_level": "critical", "recommendations": [
                "Redact PII before storage or sharing.",
                "Do not store card numbers; tokenize them (PCI DSS).",
                "Review this content before it leaves a trusted system."
            ]},
            "redacted_text": "Card <CREDIT_CARD> on file."
        });
        assert_eq!(json, expected);
        let back: crate::Analysis = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn counts_by_type_tally_the_entities() {
        let a = Analyzer::new()
            .analyze(
                "SSN 536-22-1234 and 078-05-1120 (a sample)? mail a@b.io",
                &Options::default(),
            )
            .unwrap();
        let counts = a.counts_by_type();
        assert_eq!(counts.get(&crate::EntityType::UsSsn), Some(&1));
        assert_eq!(counts.get(&crate::EntityType::EmailAddress), Some(&1));
        assert_eq!(counts.values().sum::<usize>(), a.pii.detected);
    }

    #[test]
    fn redacted_text_is_absent_unless_asked_for() {
        let a = Analyzer::new()
            .analyze("nothing here", &Options::default())
            .unwrap();
        let json = serde_json::to_value(&a).unwrap();
        assert!(json.get("redacted_text").is_none());
        assert_eq!(json["pii"]["detected"], 0);
    }
}
