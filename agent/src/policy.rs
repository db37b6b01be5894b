//! The effective policy of one delivery: allowlist, secrets, rate limit, timeouts and retries.

use crate::allowlist::AllowList;
use crate::transport::Transport;
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;
use std::time::Duration;

/// Prefix of Standard Webhooks secrets whose remainder is the base64 key.
const WHSEC_PREFIX: &str = "whsec_";

/// A webhook signing secret; its value never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret {
    raw: String,
    standard_key: Vec<u8>,
}

impl SigningSecret {
    /// Parses a secret; a `whsec_` prefix means the rest is the base64-encoded key.
    pub fn new(raw: impl Into<String>) -> Result<Self> {
        let raw = raw.into();
        if raw.is_empty() {
            return Err(Error::InvalidSecret("the secret is empty"));
        }
        let standard_key = match raw.strip_prefix(WHSEC_PREFIX) {
            Some(encoded) => STANDARD.decode(encoded).map_err(|_| {
                Error::InvalidSecret("a secret starting with `whsec_` must continue with base64")
            })?,
            None => raw.as_bytes().to_vec(),
        };
        if standard_key.is_empty() {
            return Err(Error::InvalidSecret("the secret's key is empty"));
        }
        Ok(Self { raw, standard_key })
    }

    /// The key of `X-Guardrails-Signature`: the secret string's UTF-8 bytes.
    pub fn guardrails_key(&self) -> &[u8] {
        self.raw.as_bytes()
    }

    /// The key of `webhook-signature`: the base64-decoded part after `whsec_`, else the UTF-8 bytes.
    pub fn standard_key(&self) -> &[u8] {
        &self.standard_key
    }

    /// The secret in the form a Standard Webhooks verifier takes: `whsec_<base64 key>`.
    pub fn to_whsec(&self) -> String {
        format!("{WHSEC_PREFIX}{}", STANDARD.encode(&self.standard_key))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// Everything that governs one delivery, merged from the WebhookEndpoint and the environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Hosts deliveries may go to; empty allows every host.
    pub allowlist: AllowList,
    /// Whether the task asked for a signed payload (`sign_payload`).
    pub sign: bool,
    /// Signing secrets, current first, then previous ones still accepted by receivers.
    pub secrets: Vec<SigningSecret>,
    /// Deliveries per minute to one destination host; 0 means no limit.
    pub rate_limit_per_minute: u32,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Attempts of the fast tier (backoff 1 s, 2 s, 4 s, …).
    pub max_attempts: u32,
    /// Delays of the optional long-term tier that follows the fast attempts.
    pub retry_schedule: Vec<Duration>,
    /// The longest wait a receiver's `Retry-After` can impose.
    pub retry_after_cap: Duration,
    /// How much longer than scheduled a retry may wait, as a fraction of its delay (0.2: up to
    /// 20 % longer), so deliveries that failed together do not retry together.
    pub retry_jitter: f64,
    /// Picks the jitter of each retry; the same seed and attempt always give the same delay.
    pub jitter_seed: u64,
    /// Trusted CAs, client certificate and static headers, or why the configured ones cannot be
    /// used (then every attempt fails with that reason and nothing is sent).
    pub transport: Result<Transport, String>,
    /// Whether deliveries are held: nothing is sent while set (a suspended WebhookEndpoint).
    pub suspend: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allowlist: AllowList::default(),
            sign: false,
            secrets: Vec::new(),
            rate_limit_per_minute: 0,
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            retry_schedule: Vec::new(),
            retry_after_cap: Duration::from_secs(60),
            retry_jitter: DEFAULT_RETRY_JITTER,
            jitter_seed: 0,
            transport: Ok(Transport::default()),
            suspend: false,
        }
    }
}

/// The default [`Policy::retry_jitter`]: retries wait up to 20 % longer than scheduled.
pub const DEFAULT_RETRY_JITTER: f64 = 0.2;

impl Policy {
    /// The wait after fast attempt `sends` (1-based): 1 s, 2 s, 4 s, …
    pub fn backoff(&self, sends: u32) -> Duration {
        Duration::from_secs(1u64 << sends.saturating_sub(1).min(20))
    }

    /// `delay` lengthened by this policy's jitter for retry number `retry`: between `delay` and
    /// `delay × (1 + retry_jitter)`, the same every time for the same seed and retry.
    pub fn jittered(&self, delay: Duration, retry: u32) -> Duration {
        let fraction = unit_interval(self.jitter_seed ^ u64::from(retry));
        delay.mul_f64(1.0 + self.retry_jitter.clamp(0.0, 1.0) * fraction)
    }

    /// The same policy with its jitter picked by `key` (e.g. the event id).
    pub fn with_jitter_key(mut self, key: &str) -> Self {
        // NB: FNV-1a, a fixed function, so a restarted process picks the same delays.
        self.jitter_seed = key.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        self
    }
}

/// A number in [0, 1) mixed from `seed` (SplitMix64's finaliser).
fn unit_interval(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Parses a retry schedule such as `5m,30m,2h,5h,10h` (units `s`, `m`, `h`).
pub fn parse_retry_schedule(text: &str) -> Result<Vec<Duration>> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let invalid = || {
                Error::InvalidConfig(format!(
                    "retry schedule entry `{part}` is not like `30s`, `5m` or `2h`"
                ))
            };
            let (number, unit) = part.split_at(part.len() - 1);
            let number: u64 = number.parse().map_err(|_| invalid())?;
            let seconds = match unit {
                "s" => number,
                "m" => number * 60,
                "h" => number * 3600,
                _ => return Err(invalid()),
            };
            Ok(Duration::from_secs(seconds))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whsec_secrets_sign_standard_webhooks_with_the_decoded_key() {
        let secret = SigningSecret::new("whsec_aGVsbG8=").unwrap();
        assert_eq!(secret.standard_key(), b"hello");
        assert_eq!(secret.guardrails_key(), b"whsec_aGVsbG8=");
    }

    #[test]
    fn plain_secrets_use_their_bytes_for_both_schemes() {
        let secret = SigningSecret::new("s3cret").unwrap();
        assert_eq!(secret.standard_key(), b"s3cret");
        assert_eq!(secret.to_whsec(), "whsec_czNjcmV0");
    }

    #[test]
    fn a_broken_whsec_secret_is_refused_without_showing_it() {
        let err = SigningSecret::new("whsec_not base64!")
            .unwrap_err()
            .to_string();
        assert!(err.contains("base64"));
        assert!(!err.contains("not base64!"));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert!(!format!("{:?}", SigningSecret::new("s3cret").unwrap()).contains("s3cret"));
    }

    #[test]
    fn backoff_doubles_from_one_second() {
        let policy = Policy::default();
        let waits: Vec<_> = (1..=4).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8]);
    }

    #[test]
    fn jitter_lengthens_a_delay_by_at_most_its_fraction_and_always_alike() {
        let policy = Policy::default().with_jitter_key("event-1");
        let delay = Duration::from_secs(10);
        let waits: Vec<_> = (1..=50)
            .map(|retry| policy.jittered(delay, retry))
            .collect();
        assert!(
            waits
                .iter()
                .all(|w| *w >= delay && *w <= delay.mul_f64(1.2)),
            "{waits:?}"
        );
        assert!(
            waits.iter().any(|w| *w != waits[0]),
            "the jitter varies: {waits:?}"
        );
        let again = Policy::default().with_jitter_key("event-1");
        assert_eq!(again.jittered(delay, 7), waits[6]);
        let other = Policy::default().with_jitter_key("event-2");
        assert_ne!(other.jittered(delay, 7), waits[6]);
    }

    #[test]
    fn no_jitter_keeps_the_schedule() {
        let policy = Policy {
            retry_jitter: 0.0,
            ..Policy::default()
        };
        assert_eq!(
            policy.jittered(Duration::from_secs(3), 1),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn retry_schedules_parse_with_units() {
        let schedule = parse_retry_schedule("5m, 30m,2h,90s").unwrap();
        assert_eq!(schedule, [300, 1800, 7200, 90].map(Duration::from_secs));
        assert!(parse_retry_schedule("5 minutes").is_err());
    }
}
