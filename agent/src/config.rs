//! The agent's configuration from flags and the environment (docs/configuration.md).

use crate::allowlist::AllowList;
use crate::policy::{Policy, SigningSecret};
use crate::rate_limit::RateLimiter;
use crate::ssrf::NetworkGuard;
use crate::transport::{TlsSettings, Transport, static_headers};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

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

    /// PEM file of CA certificates trusted, besides the public roots, for deliveries no
    /// WebhookEndpoint sets a CA for.
    #[arg(long = "ca-file", env = "WEBHOOK_CA_FILE", value_name = "FILE")]
    pub webhook_ca_file: Option<PathBuf>,

    /// Trust only the CAs of --ca-file, not the public roots as well.
    #[arg(
        long = "ca-replaces-public-roots",
        env = "WEBHOOK_CA_REPLACES_PUBLIC_ROOTS"
    )]
    pub webhook_ca_replaces_public_roots: bool,

    /// PEM file of the client certificate chain presented for mutual TLS (with --client-key).
    #[arg(
        long = "client-cert",
        env = "WEBHOOK_CLIENT_CERT_FILE",
        value_name = "FILE"
    )]
    pub webhook_client_cert_file: Option<PathBuf>,

    /// PEM file of the private key of --client-cert.
    #[arg(
        long = "client-key",
        env = "WEBHOOK_CLIENT_KEY_FILE",
        value_name = "FILE"
    )]
    pub webhook_client_key_file: Option<PathBuf>,

    /// File of static request headers, one `Name: value` a line (`#` starts a comment).
    #[arg(
        long = "header-file",
        env = "WEBHOOK_HEADERS_FILE",
        value_name = "FILE"
    )]
    pub webhook_headers_file: Option<PathBuf>,
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
            .field("webhook_ca_file", &self.webhook_ca_file)
            .field("webhook_client_cert_file", &self.webhook_client_cert_file)
            .field("webhook_headers_file", &self.webhook_headers_file)
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
            transport: Ok(self.default_transport()?),
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

    /// The transport of deliveries no WebhookEndpoint sets one for, from the configured files.
    pub fn default_transport(&self) -> Result<Transport> {
        let mut tls = TlsSettings::default();
        if let Some(path) = &self.webhook_ca_file {
            tls = tls
                .with_ca(&read(path)?, self.webhook_ca_replaces_public_roots)
                .map_err(|e| file_error(path, e))?;
        }
        match (
            &self.webhook_client_cert_file,
            &self.webhook_client_key_file,
        ) {
            (Some(cert), Some(key)) => {
                tls = tls
                    .with_client_cert(&read(cert)?, &read(key)?)
                    .map_err(|e| file_error(cert, e))?;
            }
            (None, None) => {}
            _ => {
                return Err(Error::InvalidConfig(
                    "--client-cert and --client-key go together".into(),
                ));
            }
        }
        let headers = match &self.webhook_headers_file {
            Some(path) => parse_header_file(&read(path)?).map_err(|e| file_error(path, &e))?,
            None => Default::default(),
        };
        Ok(Transport {
            owner: "configuration".into(),
            tls,
            headers,
        })
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::InvalidConfig(format!("cannot read `{}`: {e}", path.display())))
}

fn file_error(path: &Path, problem: &str) -> Error {
    Error::InvalidConfig(format!("`{}` {problem}", path.display()))
}

/// Parses `Name: value` lines; blank lines and lines starting with `#` are skipped.
fn parse_header_file(text: &[u8]) -> std::result::Result<reqwest::header::HeaderMap, String> {
    let text = std::str::from_utf8(text).map_err(|_| "is not UTF-8 text".to_owned())?;
    let mut pairs = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("line {} is not `Name: value`", number + 1))?;
        pairs.push((name.trim(), value.as_bytes()));
    }
    static_headers(pairs).map_err(|e| format!("has an unusable header: {e}"))
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
    fn a_header_file_gives_static_headers_and_refuses_agent_headers_by_name_only() {
        let headers =
            parse_header_file(b"# partner auth\nAuthorization: Bearer t0k\n\nX-Tenant: a\n")
                .unwrap();
        assert_eq!(headers["authorization"], "Bearer t0k");
        assert_eq!(headers["x-tenant"], "a");
        let err = parse_header_file(b"webhook-signature: v1,forged\n").unwrap_err();
        assert!(err.contains("webhook-signature"), "{err}");
        assert!(!err.contains("forged"), "{err}");
        assert!(
            parse_header_file(b"no colon here\n")
                .unwrap_err()
                .contains("line 1")
        );
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let config = parse(&["--client-cert", "/nonexistent/tls.crt"]);
        let err = config.default_policy().unwrap_err().to_string();
        assert!(err.contains("--client-key"), "{err}");
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
