//! Secrets that LLM guardrails must catch: AWS keys, private keys, JWTs and API tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use regex::Regex;

use super::Candidate;
use crate::context::standalone;
use crate::entity::EntityType;
use crate::validate;

/// Finds AWS_ACCESS_KEY, PRIVATE_KEY, JWT and API_KEY.
pub(crate) struct Credentials {
    aws: Regex,
    pem: Regex,
    jwt: Regex,
    known_token: Regex,
    assigned_secret: Regex,
}

impl Credentials {
    /// Compiles the patterns.
    pub(crate) fn new() -> Self {
        let known = [
            r"gh[pousr]_[A-Za-z0-9]{36,255}",
            r"github_pat_[A-Za-z0-9_]{40,255}",
            r"xox[baprs]-[A-Za-z0-9\-]{10,200}",
            r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}",
            r"AIza[0-9A-Za-z_\-]{35}",
            r"sk-(?:proj-)?[A-Za-z0-9_\-]{32,200}",
            r"glpat-[A-Za-z0-9_\-]{20}",
        ]
        .join("|");
        Credentials {
            aws: Regex::new(r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}").expect("aws pattern"),
            pem: Regex::new(
                r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----",
            )
            .expect("pem pattern"),
            jwt: Regex::new(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}").expect("jwt pattern"),
            known_token: Regex::new(&known).expect("token pattern"),
            assigned_secret: Regex::new(
                r#"(?i-u:api[_\-]?key|apikey|access[_\-]?token|auth[_\-]?token|secret|token|password|passwd|bearer)["']?[ \t]*[:=]?[ \t]*["']?([A-Za-z0-9_\-+/=.~]{16,256})"#,
            )
            .expect("secret pattern"),
        }
    }

    /// Appends candidates found in `text`.
    pub(crate) fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        let first = out.len();
        for m in self.aws.find_iter(text) {
            if standalone(text, m.start(), m.end()) {
                out.push(Candidate::new(
                    EntityType::AwsAccessKey,
                    m.start(),
                    m.end(),
                    0.95,
                ));
            }
        }
        // NB: every block starts with `-----BEGIN `, so each search starts at one: the regex
        // then finds the block's start scanning back only over the block, not over all the text
        // since the previous match.
        let mut at = 0;
        while let Some(p) = text[at..].find("-----BEGIN ") {
            let Some(m) = self.pem.find_at(text, at + p) else {
                break;
            };
            out.push(Candidate::new(
                EntityType::PrivateKey,
                m.start(),
                m.end(),
                1.0,
            ));
            at = m.end();
        }
        for m in self.jwt.find_iter(text) {
            let header = m.as_str().split('.').next().unwrap_or_default();
            let decoded = URL_SAFE_NO_PAD
                .decode(header.trim_end_matches('='))
                .unwrap_or_default();
            let is_jwt = decoded.starts_with(b"{")
                && (contains(&decoded, b"\"alg\"") || contains(&decoded, b"\"typ\""));
            if is_jwt && standalone(text, m.start(), m.end()) {
                out.push(Candidate::new(EntityType::Jwt, m.start(), m.end(), 0.95));
            }
        }
        for m in self.known_token.find_iter(text) {
            if standalone(text, m.start(), m.end()) {
                out.push(Candidate::new(EntityType::ApiKey, m.start(), m.end(), 0.9));
            }
        }
        // Values already recognised by their format are not reported twice.
        let known: std::collections::HashSet<usize> =
            out[first..].iter().map(|c| c.start).collect();
        for caps in self.assigned_secret.captures_iter(text) {
            let (Some(key), Some(value)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            let v = value.as_str();
            let classes = [
                v.bytes().any(|b| b.is_ascii_uppercase()),
                v.bytes().any(|b| b.is_ascii_lowercase()),
                v.bytes().any(|b| b.is_ascii_digit()),
            ];
            let mixed = classes.iter().filter(|&&x| x).count() >= 2 && classes[2];
            let keyword_alone = !text[..key.start()]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
            if !known.contains(&value.start())
                && mixed
                && keyword_alone
                && validate::entropy(v) >= 3.0
                && standalone(text, value.start(), value.end())
            {
                out.push(Candidate::new(
                    EntityType::ApiKey,
                    value.start(),
                    value.end(),
                    0.8,
                ));
            }
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        Credentials::new().find(text, &mut out);
        out.iter()
            .map(|c| (c.entity_type, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn aws_access_keys_are_found() {
        assert_eq!(
            found("key AKIAIOSFODNN7EXAMPLE ok"),
            vec![(EntityType::AwsAccessKey, "AKIAIOSFODNN7EXAMPLE")]
        );
    }

    #[test]
    fn pem_private_key_blocks_are_found_whole() {
        let text =
            "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\ny";
        assert_eq!(
            found(text),
            vec![(EntityType::PrivateKey, &text[2..text.len() - 2])]
        );
        assert!(found("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----").is_empty());
    }

    #[test]
    fn jwts_need_a_json_header() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(
            found(&format!("Bearer {jwt}")),
            vec![(EntityType::Jwt, jwt)]
        );
        assert!(found("eyJzzzzzzzzzzz.eyJzzzzzzzzzzzz.abcdefghijklmnopqrstu").is_empty());
    }

    #[test]
    fn well_known_tokens_are_found() {
        let gh = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
        assert_eq!(
            found(&format!("token {gh}")),
            vec![(EntityType::ApiKey, gh)]
        );
        assert_eq!(found("sk_live_4eC39HqLyjWDarjtT1zdp7dc").len(), 1);
        assert_eq!(found("xoxb-123456789012-abcdefABCDEF").len(), 1);
    }

    #[test]
    fn high_entropy_values_next_to_secret_words_are_api_keys() {
        assert_eq!(
            found("api_key=\"q8Fz2LmX9pRt4Vw7Ks1N\""),
            vec![(EntityType::ApiKey, "q8Fz2LmX9pRt4Vw7Ks1N")]
        );
        assert!(found("token: aaaaaaaaaaaaaaaaaaaa").is_empty());
        assert!(
            found("sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .is_empty()
        );
    }
}
