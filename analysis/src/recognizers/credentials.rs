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
    /// `-----BEGIN `, searched with a vectorised substring search.
    pem_begin: Regex,
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
            pem_begin: Regex::new("-----BEGIN ").expect("pem start pattern"),
            jwt: Regex::new(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}").expect("jwt pattern"),
            known_token: Regex::new(&known).expect("token pattern"),
            assigned_secret: Regex::new(
                r#"(?-u:api[_\-]?key|apikey|access[_\-]?token|auth[_\-]?token|secret|token|password|passwd|bearer)["']?[ \t]*[:=]?[ \t]*["']?([A-Za-z0-9_\-+/=.~]{16,256})"#,
            )
            .expect("secret pattern"),
        }
    }

    /// Appends candidates found in `text`.
    /// `lower` is `text` with ASCII letters lower-cased (the secret words are searched there).
    pub(crate) fn find(&self, text: &str, lower: &str, out: &mut Vec<Candidate>) {
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
        while let Some(begin) = self.pem_begin.find_at(text, at) {
            let Some(m) = self.pem.find_at(text, begin.start()) else {
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
        // Values already recognised by their format are not reported twice (a text has few).
        let recognised = out.len();
        for key in self.assigned_secret.find_iter(lower) {
            // NB: the value is found by hand when the greedy reading of the separators gives
            // the regex's match; only otherwise is the (slower) capture engine asked.
            let value = match value_start(text.as_bytes(), key.start(), key.end()) {
                Some(start) => start..key.end(),
                None => {
                    let Some(value) = self
                        .assigned_secret
                        .captures_at(lower, key.start())
                        .and_then(|caps| caps.get(1))
                    else {
                        continue;
                    };
                    value.range()
                }
            };
            let v = &text[value.clone()];
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
            if !out[first..recognised]
                .iter()
                .any(|c| c.start == value.start)
                && mixed
                && keyword_alone
                && validate::entropy(v) >= 3.0
                && standalone(text, value.start, value.end)
            {
                out.push(Candidate::new(
                    EntityType::ApiKey,
                    value.start,
                    value.end,
                    0.8,
                ));
            }
        }
    }
}

/// The secret words of the `assigned_secret` pattern, in its order: a prefix, whether a `_`
/// or `-` may follow it, and the rest.
const SECRET_WORDS: &[(&[u8], bool, &[u8])] = &[
    (b"api", true, b"key"),
    (b"apikey", false, b""),
    (b"access", true, b"token"),
    (b"auth", true, b"token"),
    (b"secret", false, b""),
    (b"token", false, b""),
    (b"password", false, b""),
    (b"passwd", false, b""),
    (b"bearer", false, b""),
];

/// Where the value starts in a match `start..end` of the `assigned_secret` pattern, if the
/// pattern's preferred reading — the secret word, every optional separator taken, then 16 to 256
/// value characters — ends exactly at `end`. None when the regex had to read it otherwise.
fn value_start(text: &[u8], start: usize, end: usize) -> Option<usize> {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let starts_with = |i: usize, word: &[u8]| {
        text.get(i..i + word.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(word))
    };
    // NB: at one position at most one secret word (length) can match.
    let mut i = SECRET_WORDS.iter().find_map(|&(prefix, joiner, rest)| {
        if !starts_with(start, prefix) {
            return None;
        }
        let mut i = start + prefix.len();
        if joiner && matches!(at(i), b'_' | b'-') && starts_with(i + 1, rest) {
            i += 1;
        }
        starts_with(i, rest).then_some(i + rest.len())
    })?;
    if matches!(at(i), b'"' | b'\'') {
        i += 1;
    }
    while matches!(at(i), b' ' | b'\t') {
        i += 1;
    }
    if matches!(at(i), b':' | b'=') {
        i += 1;
    }
    while matches!(at(i), b' ' | b'\t') {
        i += 1;
    }
    if matches!(at(i), b'"' | b'\'') {
        i += 1;
    }
    let value = text[i.min(text.len())..]
        .iter()
        .take(256)
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"_-+/=.~".contains(&b))
        .count();
    (value >= 16 && i + value == end).then_some(i)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        Credentials::new().find(text, &text.to_ascii_lowercase(), &mut out);
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
    fn the_value_is_found_by_hand_as_the_pattern_finds_it() {
        let re = Credentials::new().assigned_secret;
        for text in [
            "api_key=\"q8Fz2LmX9pRt4Vw7Ks1N\"",
            "ApiKey: q8Fz2LmX9pRt4Vw7Ks1N",
            "access-token \t= 'q8Fz2LmX9pRt4Vw7Ks1N' x",
            "token==q8Fz2LmX9pRt4Vw7Ks1N",
            "token=q8Fz2LmX9pRt4Vw7Ks1",
            "PASSWORD q8Fz2LmX9pRt4Vw7Ks1Nq8Fz2LmX9pRt4Vw7Ks1N",
            "bearer:secretq8Fz2LmX9pRt4Vw7",
            "passwd\"\"q8Fz2LmX9pRt4Vw7Ks1N",
        ] {
            let lower = text.to_ascii_lowercase();
            let caps = re.captures(&lower).expect(text);
            let (m, value) = (caps.get(0).unwrap(), caps.get(1).unwrap());
            let by_hand = value_start(text.as_bytes(), m.start(), m.end());
            assert_eq!(by_hand, Some(value.start()), "{text}");
        }
        let long = format!("token={}", "a1".repeat(200));
        let m = re.find(&long).unwrap();
        assert_eq!(value_start(long.as_bytes(), m.start(), m.end()), Some(6));
        assert_eq!(m.end(), 6 + 256);
        // The greedy reading leaves 15 value characters: the regex reads `=` as part of the value.
        let short = "token=q8Fz2LmX9pRt4Vw";
        let caps = re.captures(short).unwrap();
        assert_eq!(caps.get(1).unwrap().as_str(), "=q8Fz2LmX9pRt4Vw");
        let m = caps.get(0).unwrap();
        assert_eq!(value_start(short.as_bytes(), m.start(), m.end()), None);
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
