//! Compliance frameworks as data: rules compiled in from `rules/compliance.yaml`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::entity::{Entity, EntityType};

const RULES: &str = include_str!("../rules/compliance.yaml");

/// A compliance framework the findings can be checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// Every framework, in a fixed order.
    pub const ALL: [Framework; 4] = [
        Framework::Hipaa,
        Framework::Gdpr,
        Framework::PciDss,
        Framework::Ccpa,
    ];

    /// The serialised name, e.g. `PCI_DSS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Hipaa => "HIPAA",
            Framework::Gdpr => "GDPR",
            Framework::PciDss => "PCI_DSS",
            Framework::Ccpa => "CCPA",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Framework {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Framework::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| Error::UnknownFramework(s.to_string()))
    }
}

/// How serious a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth noting.
    Low,
    /// Should be fixed.
    Medium,
    /// Must be fixed.
    High,
    /// Must be fixed before the data goes anywhere.
    Critical,
}

/// One rule broken by one entity type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The framework the rule belongs to.
    pub framework: Framework,
    /// The rule's identifier, e.g. `PCI-DSS-3.4-PAN`.
    pub rule: String,
    /// The entity type that breaks it.
    pub entity_type: EntityType,
    /// How many findings of that type there are.
    pub count: usize,
    /// How serious the rule is.
    pub severity: Severity,
}

/// The outcome of checking findings against the requested frameworks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compliance {
    /// Whether no rule of any requested framework is broken.
    pub compliant: bool,
    /// The number of violations (entries in `details`).
    pub violations: usize,
    /// The frameworks that were checked.
    pub frameworks: Vec<Framework>,
    /// Every broken rule, per entity type.
    pub details: Vec<Violation>,
}

/// One rule as written in the rules file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The rule's identifier.
    pub rule: String,
    /// How serious breaking it is.
    pub severity: Severity,
    /// Why it exists, in one line.
    pub reason: String,
    /// The entity types it covers.
    pub entities: Vec<EntityType>,
}

/// The rules of every framework.
#[derive(Debug, Clone)]
pub struct Rules(BTreeMap<Framework, Vec<Rule>>);

impl Rules {
    /// Parses the compiled-in rules file.
    pub fn load() -> Self {
        Rules(
            serde_yaml::from_str(RULES)
                .expect("rules/compliance.yaml is valid (checked by a unit test)"),
        )
    }

    /// The rules of one framework.
    pub fn of(&self, framework: Framework) -> &[Rule] {
        self.0.get(&framework).map_or(&[], Vec::as_slice)
    }

    /// Checks `entities` against `frameworks` (duplicates ignored, order kept).
    pub fn check(&self, frameworks: &[Framework], entities: &[Entity]) -> Compliance {
        let mut counts = BTreeMap::<EntityType, usize>::new();
        for e in entities {
            *counts.entry(e.entity_type).or_default() += 1;
        }
        let mut checked: Vec<Framework> = Vec::new();
        for f in frameworks {
            if !checked.contains(f) {
                checked.push(*f);
            }
        }
        let details: Vec<Violation> = checked
            .iter()
            .flat_map(|&framework| {
                let counts = &counts;
                self.of(framework).iter().flat_map(move |rule| {
                    rule.entities.iter().filter_map(move |t| {
                        counts.get(t).map(|&count| Violation {
                            framework,
                            rule: rule.rule.clone(),
                            entity_type: *t,
                            count,
                            severity: rule.severity,
                        })
                    })
                })
            })
            .collect();
        Compliance {
            compliant: details.is_empty(),
            violations: details.len(),
            frameworks: checked,
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::Position;

    fn entity(t: EntityType) -> Entity {
        Entity {
            entity_type: t,
            value: "x".into(),
            position: Position { start: 0, end: 1 },
            confidence: 0.9,
        }
    }

    #[test]
    fn the_rules_file_parses_and_covers_every_framework() {
        let rules = Rules::load();
        for f in Framework::ALL {
            assert!(!rules.of(f).is_empty(), "{f} has no rules");
        }
    }

    #[test]
    fn framework_names_parse_and_unknown_ones_are_errors() {
        assert_eq!("PCI_DSS".parse::<Framework>().unwrap(), Framework::PciDss);
        assert_eq!(
            serde_json::to_string(&Framework::PciDss).unwrap(),
            "\"PCI_DSS\""
        );
        let err = "SOX".parse::<Framework>().unwrap_err();
        assert!(matches!(err, Error::UnknownFramework(ref s) if s == "SOX"));
    }

    #[test]
    fn a_card_number_breaks_pci_dss_with_its_count() {
        let c = Rules::load().check(
            &[Framework::PciDss],
            &[
                entity(EntityType::CreditCard),
                entity(EntityType::CreditCard),
            ],
        );
        assert!(!c.compliant);
        assert_eq!(c.violations, 1);
        assert_eq!(c.details[0].rule, "PCI-DSS-3.4-PAN");
        assert_eq!(c.details[0].count, 2);
        assert_eq!(c.details[0].severity, Severity::Critical);
    }

    #[test]
    fn no_frameworks_or_no_findings_is_compliant() {
        let rules = Rules::load();
        assert!(rules.check(&[], &[entity(EntityType::UsSsn)]).compliant);
        let c = rules.check(&[Framework::Hipaa, Framework::Hipaa], &[]);
        assert!(c.compliant);
        assert_eq!(c.frameworks, vec![Framework::Hipaa]);
    }
}
