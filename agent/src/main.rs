//! `guardrails-agent`: the webhook delivery agent of Guardrails.

use clap::{Parser, Subcommand, ValueEnum};
use guardrails_agent::send::{self, SendArgs};
use guardrails_agent::sidecar::{self, RunArgs};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Webhook delivery agent of Guardrails.
#[derive(Parser, Debug)]
#[command(name = "guardrails-agent", version, about)]
struct Cli {
    /// Log line format on stderr (level from RUST_LOG).
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// Format of log lines.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// What the agent does.
#[derive(Subcommand, Debug)]
enum Command {
    /// Deliver one test event to a URL with the full policy and print every attempt.
    Send(SendArgs),
    /// Run the sidecar: deliver the webhooks of finished AnalysisTasks, recorded in their status.
    Run(RunArgs),
}

fn init_logging(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Send(args) => {
            // NB: `send` prints each attempt on stdout, so its logs default to warnings only.
            init_logging(cli.log_format, "warn");
            send::run(args).await
        }
        Command::Run(args) => {
            init_logging(cli.log_format, "info");
            sidecar::run(args).await
        }
    }
}
