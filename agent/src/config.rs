//! The agent's configuration from flags and the environment (docs/configuration.md).

use crate::Result;
use crate::allowlist::AllowList;
use crate::policy::{Policy, SigningSecret};
use crate::rate_limit::RateLimiter;
use crate::ssrf::NetworkGuard;

/// Redis used by the rate limiter when neither `REDIS_URL` nor `CELERY_BROKER_URL` is set.
pub const DEFAULT_REDIS_URL: &str = "redis://localhost:6379/0";

/// Delivery settings shared by every mode of the agent.
#[derive(clap::Args, Clone, Default)]
pub struct Config {
    /// Server-wide HMAC secret for signed webhooks (prefer the environment variable).
    #[arg(long, env = "WEBHOOK_SIGNING_SECRET", hide_env_values = true)]
    pub webhook_signing_secret: Option<String>,

    /// Comma-separated hosts webhooks may go to (with their subdomains); empty allows all.
    #[arg(long, env = "ALLOWED_WEBHOOK_DOMAINS", default_value = "")]
    pub allowed_webhook_domains: String,

    /// Deliveries per minute to one destination host; 0 means no limit.
    #[arg(long, env = "WEBHOOK_RATE_LIMIT_PER_MINUTE", default_value_t = 0)]
    pub webhook_rate_limit_per_minute: u32,

    /// Redis for the rate limiter [default: CELERY_BROKER_URL, else redis://localhost:6379/0].
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Fallback Redis URL, as the original service read it.
    #[arg(long, env = "CELERY_BROKER_URL", hide = true, hide_env_values = true)]
    pub celery_broker_url: Option<String>,

    /// Let webhooks reach private, loopback and link-local addresses (dev and tests only).
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE_DESTINATIONS")]
    pub webhook_allow_private_destinations: bool,

    /// Comma-separated private CIDRs webhooks may reach even without the switch above.
    #[arg(long, env = "WEBHOOK_ALLOWED_CIDRS", default_value = "")]
    pub webhook_allowed_cidrs: String,
}

// NB: by hand, so that the secret and Redis credentials never reach a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field(
                "webhook_signing_secret",
                &self.webhook_signing_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("allowed_webhook_domains", &self.allowed_webhook_domains)
            .field(
                "webhook_rate_limit_per_minute",
                &self.webhook_rate_limit_per_minute,
            )
            .field(
                "webhook_allow_private_destinations",
                &self.webhook_allow_private_destinations,
            )
            .field("webhook_allowed_cidrs", &self.webhook_allowed_cidrs)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The Redis URL: `REDIS_URL`, else `CELERY_BROKER_URL`, else the local default.
    pub fn redis_url(&self) -> &str {
        fn set(value: &Option<String>) -> Option<&str> {
            value.as_deref().filter(|s| !s.trim().is_empty())
        }
        set(&self.redis_url)
            .or(set(&self.celery_broker_url))
            .unwrap_or(DEFAULT_REDIS_URL)
    }

    /// The SSRF guard of this configuration.
    pub fn network_guard(&self) -> Result<NetworkGuard> {
        Ok(NetworkGuard {
            allow_private: self.webhook_allow_private_destinations,
            allowed_cidrs: NetworkGuard::parse_cidrs(&self.webhook_allowed_cidrs)?,
        })
    }

    /// The policy of deliveries no WebhookEndpoint governs (the environment's defaults).
    pub fn default_policy(&self) -> Result<Policy> {
        let secrets = match self
            .webhook_signing_secret
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            Some(secret) => vec![SigningSecret::new(secret)?],
            None => Vec::new(),
        };
        Ok(Policy {
            allowlist: AllowList::from_comma_separated(&self.allowed_webhook_domains)?,
            secrets,
            rate_limit_per_minute: self.webhook_rate_limit_per_minute,
            ..Policy::default()
        })
    }

    /// A rate limiter on the configured Redis, when a limit is set.
    pub fn rate_limiter(&self) -> Result<Option<RateLimiter>> {
        if self.webhook_rate_limit_per_minute == 0 {
            return Ok(None);
        }
        RateLimiter::new(self.redis_url()).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    fn parse(args: &[&str]) -> Config {
        Cli::try_parse_from(std::iter::once("agent").chain(args.iter().copied()))
            .unwrap()
            .config
    }

    #[test]
    fn redis_url_falls_back_to_the_celery_broker_then_localhost() {
        let mut config = Config::default();
        assert_eq!(config.redis_url(), DEFAULT_REDIS_URL);
        config.celery_broker_url = Some("redis://broker:6379/1".into());
        assert_eq!(config.redis_url(), "redis://broker:6379/1");
        config.redis_url = Some("redis://cache:6379/2".into());
        assert_eq!(config.redis_url(), "redis://cache:6379/2");
    }

    #[test]
    fn flags_build_the_policy_and_the_guard() {
        let config = parse(&[
            "--allowed-webhook-domains",
            "partner.io",
            "--webhook-allowed-cidrs",
            "10.1.0.0/16",
            "--webhook-rate-limit-per-minute",
            "2",
        ]);
        let policy = config.default_policy().unwrap();
        assert!(!policy.allowlist.allows_all());
        assert_eq!(policy.rate_limit_per_minute, 2);
        assert_eq!(config.network_guard().unwrap().allowed_cidrs.len(), 1);
    }

    #[test]
    fn debug_output_hides_the_signing_secret() {
        let config = Config {
            webhook_signing_secret: Some("s3cret".into()),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
