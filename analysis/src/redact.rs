//! Redaction: the text with every finding replaced.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::recognizers::Candidate;

/// How findings are replaced in the redacted text (deserialisable, never serialised: it may hold a key).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", tag = "strategy")]
pub enum Redaction {
    /// `<TYPE>`, e.g. `<US_SSN>` (the default).
    #[default]
    Replace,
    /// One `*` per character of the finding.
    Mask,
    /// `<TYPE:hex>` with the first 16 hex digits of HMAC-SHA256(key, value): equal values stay linkable.
    Hash {
        /// The HMAC key.
        key: String,
    },
}

impl std::fmt::Debug for Redaction {
    // NB: never print the hash key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Redaction::Replace => f.write_str("Replace"),
            Redaction::Mask => f.write_str("Mask"),
            Redaction::Hash { .. } => f.write_str("Hash { key: <redacted> }"),
        }
    }
}

/// `text` with each of `found` (sorted, non-overlapping byte ranges) replaced per `strategy`.
pub(crate) fn apply(text: &str, found: &[Candidate], strategy: &Redaction) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for c in found {
        out.push_str(&text[at..c.start]);
        let value = &text[c.start..c.end];
        match strategy {
            Redaction::Replace => {
                out.push('<');
                out.push_str(c.entity_type.as_str());
                out.push('>');
            }
            Redaction::Mask => {
                out.extend(value.chars().map(|ch| if ch == '\n' { '\n' } else { '*' }))
            }
            Redaction::Hash { key } => {
                let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
                    .expect("HMAC takes keys of any length");
                mac.update(value.as_bytes());
                let digest = hex::encode(mac.finalize().into_bytes());
                out.push('<');
                out.push_str(c.entity_type.as_str());
                out.push(':');
                out.push_str(&digest[..16]);
                out.push('>');
            }
        }
        at = c.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::EntityType;

    fn ssn() -> Vec<Candidate> {
        vec![Candidate::new(EntityType::UsSsn, 4, 15, 0.9)]
    }

    #[test]
    fn replace_puts_the_type_in_angle_brackets() {
        assert_eq!(
            apply("SSN 536-22-1234.", &ssn(), &Redaction::Replace),
            "SSN <US_SSN>."
        );
    }

    #[test]
    fn mask_keeps_the_length() {
        assert_eq!(
            apply("SSN 536-22-1234.", &ssn(), &Redaction::Mask),
            "SSN ***********."
        );
    }

    #[test]
    fn hash_is_keyed_and_stable() {
        let a = apply(
            "SSN 536-22-1234.",
            &ssn(),
            &Redaction::Hash { key: "k1".into() },
        );
        let b = apply(
            "SSN 536-22-1234.",
            &ssn(),
            &Redaction::Hash { key: "k1".into() },
        );
        let c = apply(
            "SSN 536-22-1234.",
            &ssn(),
            &Redaction::Hash { key: "k2".into() },
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("SSN <US_SSN:") && !a.contains("536"));
    }

    #[test]
    fn strategies_deserialise_from_json() {
        let hash: Redaction = serde_json::from_str(r#"{"strategy":"hash","key":"k"}"#).unwrap();
        assert_eq!(hash, Redaction::Hash { key: "k".into() });
        assert_eq!(
            serde_json::from_str::<Redaction>(r#"{"strategy":"mask"}"#).unwrap(),
            Redaction::Mask
        );
        assert!(serde_json::from_str::<Redaction>(r#"{"strategy":"shred"}"#).is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert!(
            !format!(
                "{:?}",
                Redaction::Hash {
                    key: "topsecret".into()
                }
            )
            .contains("topsecret")
        );
    }
}
