//! Risk: a deterministic score over the findings, its level and what to do about it.
//!
//! For each entity type `t` found `n_t` times with highest confidence `c_t` and sensitivity
//! weight `w_t`: `r_t = w_t · c_t · (1 − 0.2^n_t)`. The overall score is
//! `1 − Π_t (1 − r_t)`, rounded to 4 decimals. Levels: `< 0.25` low, `< 0.5` medium,
//! `< 0.75` high, otherwise critical.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::entity::{Entity, EntityType};

/// How risky the analysed text is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    /// The score in [0, 1], 4 decimals.
    pub overall_score: f64,
    /// The score's band.
    pub overall_level: RiskLevel,
    /// What to do, following from the findings.
    pub recommendations: Vec<String>,
}

/// The band a risk score falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Score below 0.25.
    Low,
    /// Score from 0.25 to below 0.5.
    Medium,
    /// Score from 0.5 to below 0.75.
    High,
    /// Score of 0.75 or more.
    Critical,
}

impl RiskLevel {
    /// The band of `score`.
    pub fn of(score: f64) -> Self {
        match score {
            s if s < 0.25 => RiskLevel::Low,
            s if s < 0.5 => RiskLevel::Medium,
            s if s < 0.75 => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }
}

/// How sensitive one finding of a type is, in [0, 1].
pub fn weight(t: EntityType) -> f64 {
    use EntityType::*;
    match t {
        PrivateKey => 1.0,
        AwsAccessKey | UsSsn | CreditCard => 0.95,
        ApiKey | UsItin => 0.9,
        Jwt | UsPassport => 0.85,
        IbanCode | UsBankNumber | UkNhs => 0.8,
        UsDriverLicense => 0.75,
        MedicalLicense => 0.7,
        Crypto => 0.6,
        PhoneNumber | EmailAddress => 0.4,
        Person | IpAddress => 0.3,
        Location => 0.2,
        DateTime => 0.15,
        Url => 0.1,
    }
}

/// Scores `entities` and derives recommendations.
pub fn assess(entities: &[Entity]) -> Risk {
    let mut by_type = BTreeMap::<EntityType, (usize, f64)>::new();
    for e in entities {
        let slot = by_type.entry(e.entity_type).or_insert((0, 0.0));
        slot.0 += 1;
        slot.1 = slot.1.max(e.confidence);
    }
    let keep = by_type
        .iter()
        .map(|(&t, &(n, c))| 1.0 - weight(t) * c * (1.0 - 0.2f64.powi(n.min(64) as i32)))
        .product::<f64>();
    let overall_score = ((1.0 - keep).clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0;
    let overall_level = RiskLevel::of(overall_score);
    Risk {
        overall_score,
        overall_level,
        recommendations: recommendations(&by_type, overall_level),
    }
}

fn recommendations(found: &BTreeMap<EntityType, (usize, f64)>, level: RiskLevel) -> Vec<String> {
    use EntityType::*;
    let any = |types: &[EntityType]| types.iter().any(|t| found.contains_key(t));
    let mut out = Vec::new();
    if found.is_empty() {
        out.push("No PII detected; no action required.");
    } else {
        out.push("Redact PII before storage or sharing.");
    }
    if any(&[AwsAccessKey, PrivateKey, Jwt, ApiKey]) {
        out.push("Rotate the exposed credentials and remove them from the text.");
    }
    if any(&[CreditCard]) {
        out.push("Do not store card numbers; tokenize them (PCI DSS).");
    }
    if any(&[
        UsSsn,
        UsItin,
        UsPassport,
        UsDriverLicense,
        UkNhs,
        MedicalLicense,
    ]) {
        out.push("Encrypt government and health identifiers at rest and restrict access to them.");
    }
    if any(&[IbanCode, UsBankNumber, Crypto]) {
        out.push("Mask financial account numbers, keeping at most the last four characters.");
    }
    if any(&[Person, EmailAddress, PhoneNumber, Location]) {
        out.push("Minimise contact details and names to what the purpose requires.");
    }
    if level >= RiskLevel::High {
        out.push("Review this content before it leaves a trusted system.");
    }
    out.into_iter().map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::Position;

    fn entity(t: EntityType, confidence: f64) -> Entity {
        Entity {
            entity_type: t,
            value: "x".into(),
            position: Position { start: 0, end: 1 },
            confidence,
        }
    }

    #[test]
    fn no_findings_is_zero_risk() {
        let r = assess(&[]);
        assert_eq!(r.overall_score, 0.0);
        assert_eq!(r.overall_level, RiskLevel::Low);
        assert_eq!(
            r.recommendations,
            vec!["No PII detected; no action required."]
        );
    }

    #[test]
    fn one_private_key_is_critical_and_asks_for_rotation() {
        let r = assess(&[entity(EntityType::PrivateKey, 1.0)]);
        assert_eq!(r.overall_score, 0.8);
        assert_eq!(r.overall_level, RiskLevel::Critical);
        assert!(r.recommendations.iter().any(|s| s.starts_with("Rotate")));
    }

    #[test]
    fn more_findings_never_lower_the_score() {
        let one = assess(&[entity(EntityType::Person, 0.85)]).overall_score;
        let two = assess(&[
            entity(EntityType::Person, 0.85),
            entity(EntityType::Person, 0.85),
        ])
        .overall_score;
        let more = assess(&[
            entity(EntityType::Person, 0.85),
            entity(EntityType::UsSsn, 0.95),
        ])
        .overall_score;
        assert!(one < two && two < more);
        assert_eq!(RiskLevel::of(one), RiskLevel::Low);
    }
}
