//! `guardrails-api`: the REST API of Guardrails, or with `--standalone` the whole job in one process.

use std::process::ExitCode;

use clap::Parser;
use guardrails_api::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
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
    let config = Config::parse();
    init_logging(config.log_format);
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
