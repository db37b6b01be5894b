//! `guardrails-operator`: reconciles Guardrails AnalysisTasks (see `--help`).

use std::process::ExitCode;

use clap::Parser;
use guardrails_operator::{config::Config, controller};
use guardrails_runtime::logging;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    logging::init(config.log_format, "info");
    match controller::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "guardrails-operator failed");
            ExitCode::from(e.exit_code())
        }
    }
}
