//! `guardrails-agent`: the webhook delivery agent of Guardrails.

use clap::{Parser, Subcommand};
use guardrails_agent::send::{self, SendArgs};
use guardrails_agent::sidecar::{self, RunArgs};
use guardrails_runtime::logging::{self, LogFormat};
use std::process::ExitCode;

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

/// What the agent does.
#[derive(Subcommand, Debug)]
enum Command {
    /// Deliver one test event to a URL with the full policy and print every attempt.
    Send(SendArgs),
    /// Run the sidecar: deliver the webhooks of finished AnalysisTasks, recorded in their status.
    Run(RunArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Send(args) => {
            // NB: `send` prints each attempt on stdout, so its logs default to warnings only.
            logging::init(cli.log_format, "warn");
            send::run(args).await
        }
        Command::Run(args) => {
            logging::init(cli.log_format, "info");
            sidecar::run(args).await
        }
    }
}
