//! `guardrails-api`: the REST API of Guardrails, or with `--standalone` the whole job in one process.

use std::process::ExitCode;

use clap::Parser;
use guardrails_api::config::Config;
use guardrails_runtime::logging;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    logging::init(config.log_format, "info");
    match guardrails_api::server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("error: {err}");
            if err.is_configuration() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
