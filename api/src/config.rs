//! Flags and environment of the `guardrails-api` binary (docs/configuration.md).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::connections::HttpLimits;

/// Default port of the REST API.
pub const DEFAULT_PORT: u16 = 8000;

/// REST API of Guardrails: submit texts for PII analysis as AnalysisTasks, read their outcome;
/// with --standalone, the whole job in one process without Kubernetes.
#[derive(Parser, Clone)]
#[command(name = "guardrails-api", version, about)]
#[group(id = "api")]
pub struct Config {
    /// Run without Kubernetes: tasks in an embedded store, analysis and webhooks in this process.
    #[arg(long, env = "GUARDRAILS_STANDALONE")]
    pub standalone: bool,

    /// Standalone: directory of the task store, or `:memory:` to keep nothing on disk (tests)
    /// [default: $XDG_DATA_HOME/guardrails, else ~/.local/share/guardrails].
    #[arg(long, env = "GUARDRAILS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address to listen on [default: 0.0.0.0:8000; 127.0.0.1:8000 with --standalone].
    #[arg(long, env = "LISTEN")]
    pub listen: Option<SocketAddr>,

    /// How clients authenticate: `api-key` (Authorization: Bearer) or `none` (local use only).
    #[arg(long, env = "AUTH", value_enum, default_value = "api-key")]
    pub auth: AuthMode,

    /// File with the valid API keys, one per line (a mounted Secret); re-read when it changes.
    #[arg(long, env = "API_KEYS_FILE")]
    pub api_keys_file: Option<PathBuf>,

    /// Comma-separated valid API keys (prefer --api-keys-file).
    #[arg(long, env = "API_KEYS", value_delimiter = ',', hide_env_values = true)]
    pub api_keys: Vec<String>,

    /// Largest request body, in bytes (larger bodies get 413).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    /// Longest text, in UTF-8 bytes (longer texts get 413).
    #[arg(long, env = "MAX_TEXT_BYTES", default_value_t = 1_000_000)]
    pub max_text_bytes: usize,

    /// Namespace the AnalysisTasks are created in and read from (Kubernetes mode).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub namespace: String,

    /// Kubernetes mode: other namespaces whose tasks and WebhookEndpoints the portal shows
    /// (comma-separated; `*` for all), read-only except for redelivery and suspend / resume.
    #[arg(long, env = "PORTAL_NAMESPACES", value_delimiter = ',')]
    pub portal_namespaces: Vec<String>,

    /// ttlSecondsAfterFinished of the tasks created [default: the operator's]; standalone: how
    /// long a finished task and its result are kept [default: 86400].
    #[arg(long, env = "TASK_TTL_SECONDS")]
    pub task_ttl_seconds: Option<i32>,

    /// Analyses run at once [default: the number of CPUs].
    #[arg(long, env = "ANALYSIS_WORKERS")]
    pub analysis_workers: Option<usize>,

    /// Standalone: submissions waiting for an analysis worker before the async endpoint answers 503.
    #[arg(long, env = "MAX_QUEUED_TASKS", default_value_t = 10_000)]
    pub max_queued_tasks: usize,

    /// Bytes of submitted text held in memory at once, waiting for a worker or being analysed
    /// (sync and standalone async); more gets 503 with Retry-After.
    #[arg(long, env = "MEMORY_BUDGET_BYTES", default_value_t = 128 * 1024 * 1024)]
    pub memory_budget_bytes: usize,

    /// Standalone: task statuses cached in memory; older ones are read from the store.
    #[arg(long, env = "MAX_STORED_TASKS", default_value_t = 100_000)]
    pub max_stored_tasks: usize,

    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection stays open.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..), help_heading = "HTTP server")]
    pub header_read_timeout_seconds: u64,

    /// Seconds a client has to send a whole request body (slower bodies get 408).
    #[arg(long, env = "BODY_READ_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..), help_heading = "HTTP server")]
    pub body_read_timeout_seconds: u64,

    /// Client connections open at once; further clients wait in the listen backlog.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..), help_heading = "HTTP server")]
    pub max_connections: u64,

    /// Seconds to finish in-flight requests after SIGTERM or Ctrl-C.
    #[arg(long, env = "SHUTDOWN_GRACE_SECONDS", default_value_t = 10)]
    pub shutdown_grace_seconds: u64,

    /// Log line format on stderr (level from RUST_LOG).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Webhook delivery settings (standalone delivers; both modes check webhook URLs with them).
    #[command(flatten, next_help_heading = "Webhook delivery")]
    pub delivery: guardrails_agent::Config,
}

/// The `--data-dir` value that keeps the store in memory.
pub const IN_MEMORY: &str = ":memory:";

/// How long standalone mode keeps a finished task unless `--task-ttl-seconds` says otherwise.
pub const DEFAULT_STANDALONE_TTL_SECONDS: u64 = 86_400;

/// Where standalone mode keeps its tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataDir {
    /// In memory: nothing survives the process.
    Memory,
    /// In a store file under this directory.
    Path(PathBuf),
}

/// `$XDG_DATA_HOME/guardrails`, else `~/.local/share/guardrails`, else `./guardrails-data`.
fn default_data_dir() -> PathBuf {
    let non_empty = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        data.join("guardrails")
    } else if let Some(home) = non_empty("HOME") {
        home.join(".local/share/guardrails")
    } else {
        PathBuf::from("guardrails-data")
    }
}

/// How clients authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// A valid API key in `Authorization: Bearer <key>`.
    ApiKey,
    /// No authentication: for local use only.
    None,
}

pub use guardrails_runtime::logging::LogFormat;

impl Config {
    /// The address to listen on, with the mode's default.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| {
            let ip = if self.standalone {
                Ipv4Addr::LOCALHOST
            } else {
                Ipv4Addr::UNSPECIFIED
            };
            SocketAddr::from((ip, DEFAULT_PORT))
        })
    }

    /// The limits of the HTTP server.
    pub fn http_limits(&self) -> HttpLimits {
        HttpLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_seconds),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_seconds),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }

    /// Where standalone mode keeps its tasks.
    pub fn data_dir(&self) -> DataDir {
        match &self.data_dir {
            Some(dir) if dir.as_os_str() == IN_MEMORY => DataDir::Memory,
            Some(dir) => DataDir::Path(dir.clone()),
            None => DataDir::Path(default_data_dir()),
        }
    }

    /// How long standalone mode keeps a finished task.
    pub fn standalone_ttl(&self) -> Duration {
        let seconds = self
            .task_ttl_seconds
            .map_or(DEFAULT_STANDALONE_TTL_SECONDS, |s| {
                u64::try_from(s).unwrap_or(0)
            });
        Duration::from_secs(seconds)
    }

    /// Analyses run at once.
    pub fn workers(&self) -> usize {
        self.analysis_workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("guardrails-api").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn standalone_listens_on_loopback_by_default() {
        assert_eq!(
            parse(&["--standalone"]).listen_addr(),
            "127.0.0.1:8000".parse().unwrap()
        );
        assert_eq!(parse(&[]).listen_addr(), "0.0.0.0:8000".parse().unwrap());
        assert_eq!(
            parse(&["--standalone", "--listen", "0.0.0.0:9"]).listen_addr(),
            "0.0.0.0:9".parse().unwrap()
        );
    }

    #[test]
    fn the_data_dir_is_a_path_or_memory() {
        assert_eq!(
            parse(&["--data-dir", ":memory:"]).data_dir(),
            DataDir::Memory
        );
        assert_eq!(
            parse(&["--data-dir", "/var/lib/guardrails"]).data_dir(),
            DataDir::Path("/var/lib/guardrails".into())
        );
        assert!(matches!(parse(&[]).data_dir(), DataDir::Path(_)));
        assert_eq!(parse(&[]).standalone_ttl(), Duration::from_secs(86_400));
    }

    #[test]
    fn api_keys_split_on_commas_and_auth_defaults_to_keys() {
        let config = parse(&["--api-keys", "a,b"]);
        assert_eq!(config.api_keys, ["a", "b"]);
        assert_eq!(config.auth, AuthMode::ApiKey);
        assert_eq!(parse(&["--auth", "none"]).auth, AuthMode::None);
    }
}
