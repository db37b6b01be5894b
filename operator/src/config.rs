//! The operator's configuration: every flag has an environment variable and a default here.

use std::{net::SocketAddr, time::Duration};

use clap::Parser;

use crate::{Error, Result};

/// Reconciles Guardrails AnalysisTasks: analyses their text for PII, stores the full result in a
/// Secret owned by the task and writes a PII-free summary to the task's status.
#[derive(Parser, Debug, Clone)]
#[command(name = "guardrails-operator", version, about, long_about = None)]
pub struct Config {
    /// Address of the /healthz, /readyz and /metrics server.
    #[arg(long, env = "GUARDRAILS_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Only reconcile tasks in this namespace (default: every namespace).
    #[arg(long, env = "GUARDRAILS_NAMESPACE")]
    pub namespace: Option<String>,

    /// Most tasks reconciled at the same time.
    #[arg(long, env = "GUARDRAILS_CONCURRENCY", default_value_t = 64)]
    pub concurrency: u16,

    /// Most analyses running at the same time, each on its own thread (0: one per CPU).
    #[arg(long, env = "GUARDRAILS_ANALYSIS_WORKERS", default_value_t = 0)]
    pub analysis_workers: usize,

    /// Longest one analysis may run before its task fails, e.g. 30s, 500ms, 2m.
    #[arg(long, env = "GUARDRAILS_ANALYSIS_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub analysis_timeout: Duration,

    /// Largest text, in bytes, the operator analyses; a larger one fails its task.
    #[arg(long, env = "GUARDRAILS_MAX_TEXT_BYTES", default_value_t = 1_048_576)]
    pub max_text_bytes: usize,

    /// How long a task waits for its textFrom Secret (or key) to appear before it fails.
    #[arg(long, env = "GUARDRAILS_TEXT_SECRET_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub text_secret_grace: Duration,

    /// How long an analysis runs before the task is marked Running; quicker ones go straight to
    /// their outcome (one status write instead of two).
    #[arg(long, env = "GUARDRAILS_RUNNING_STATUS_AFTER", default_value = "1s", value_parser = parse_duration)]
    pub running_status_after: Duration,

    /// Seconds after a task finished and its delivery ended before it is deleted, for tasks
    /// without spec.ttlSecondsAfterFinished (default: kept forever).
    #[arg(long, env = "GUARDRAILS_DEFAULT_TTL_SECONDS")]
    pub default_ttl_seconds: Option<u32>,

    /// Log format on stderr; the level comes from RUST_LOG (default info).
    #[arg(long, env = "GUARDRAILS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Elect a leader on a Lease, so only one of several replicas reconciles.
    #[arg(long, env = "GUARDRAILS_LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,

    /// Name of the Lease used for leader election.
    #[arg(
        long,
        env = "GUARDRAILS_LEASE_NAME",
        default_value = "guardrails-operator"
    )]
    pub lease_name: String,

    /// Namespace of the Lease (default: POD_NAMESPACE, else --namespace, else default).
    #[arg(long, env = "GUARDRAILS_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// Seconds a leader holds the Lease without renewing it before another replica may take it.
    #[arg(long, env = "GUARDRAILS_LEASE_DURATION_SECONDS", default_value_t = 15)]
    pub lease_duration_seconds: u64,

    /// This replica's identity in the Lease and in Events (default: POD_NAME, else a random id).
    #[arg(long, env = "GUARDRAILS_IDENTITY")]
    pub identity: Option<String>,
}

pub use guardrails_runtime::logging::LogFormat;

impl Config {
    /// Checks the values clap cannot check alone.
    pub fn validate(&self) -> Result<()> {
        if self.concurrency == 0 {
            return Err(Error::ConfigError(
                "--concurrency must be at least 1".into(),
            ));
        }
        if self.max_text_bytes == 0 {
            return Err(Error::ConfigError(
                "--max-text-bytes must be at least 1".into(),
            ));
        }
        if self.analysis_timeout.is_zero() {
            return Err(Error::ConfigError(
                "--analysis-timeout must be longer than 0s".into(),
            ));
        }
        if self.lease_duration_seconds < 2 {
            return Err(Error::ConfigError(
                "--lease-duration-seconds must be at least 2".into(),
            ));
        }
        Ok(())
    }

    /// Number of analyses allowed at once, resolving 0 to the number of CPUs.
    pub fn analysis_permits(&self) -> usize {
        match self.analysis_workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }

    /// This replica's identity: the flag, else POD_NAME, else a random id.
    pub fn identity(&self) -> String {
        self.identity
            .clone()
            .or_else(|| std::env::var("POD_NAME").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| format!("guardrails-operator-{}", uuid::Uuid::new_v4().simple()))
    }

    /// Namespace of the Lease: the flag, else POD_NAMESPACE, else --namespace, else `default`.
    pub fn lease_namespace(&self) -> String {
        self.lease_namespace
            .clone()
            .or_else(|| {
                std::env::var("POD_NAMESPACE")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .or_else(|| self.namespace.clone())
            .unwrap_or_else(|| "default".into())
    }
}

/// Parses a duration such as `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{value}` is not a duration such as 30s, 500ms or 2m"))?;
    let millis = match unit {
        "ms" => number,
        "" | "s" => number.saturating_mul(1_000),
        "m" => number.saturating_mul(60_000),
        "h" => number.saturating_mul(3_600_000),
        _ => return Err(format!("`{value}` has an unknown unit (use ms, s, m or h)")),
    };
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("guardrails-operator").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.max_text_bytes, 1_048_576);
        assert_eq!(config.analysis_timeout, Duration::from_secs(30));
        assert_eq!(config.namespace, None);
        assert_eq!(config.default_ttl_seconds, None);
        assert!(!config.leader_election);
        config.validate().unwrap();
    }

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn a_duration_with_an_unknown_unit_is_a_clear_error() {
        let err = parse_duration("3 days").unwrap_err();
        assert!(err.contains("unknown unit"), "{err}");
        assert!(parse(&["--analysis-timeout", "soon"]).is_err());
    }

    #[test]
    fn zero_concurrency_is_refused() {
        let config = parse(&["--concurrency", "0"]).unwrap();
        let err = config.validate().unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--concurrency"), "{err}");
    }

    #[test]
    fn an_unknown_log_format_is_a_usage_error() {
        let err = parse(&["--log-format", "xml"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
