//! The Guardrails REST API: submits analyses as `AnalysisTask`s, serves their status, and a
//! standalone mode that runs the whole job (analysis and signed webhooks) in one process.
//!
//! Modules, from the wire inwards:
//! - [`config`]: flags and environment of the `guardrails-api` binary;
//! - [`server`]: the router, its middleware (request ids, body limit, tracing) and shutdown;
//! - [`connections`]: the HTTP/1.1 server under limits (connections, timeouts, head sizes);
//! - [`routes`]: the handlers of every endpoint;
//! - [`auth`]: API keys and the bearer-token check;
//! - [`problem`]: RFC 9457 problem+json errors with stable codes;
//! - [`json`]: the JSON body extractor that turns bad bodies into problems;
//! - [`model`]: request and response bodies, and the validation of a request;
//! - [`webhook_url`]: the allowlist and SSRF checks of a webhook URL before anything is created;
//! - [`workers`]: the analysis worker pool;
//! - [`budget`]: the memory budget of text being analysed or waiting for it;
//! - [`backend`]: where tasks live — [`standalone`] (this process) or [`kubernetes`] (AnalysisTasks);
//! - [`store`]: the embedded database of standalone mode (tasks, results, pending deliveries);
//! - [`task_cache`]: the watch-backed cache of AnalysisTasks indexed by task id;
//! - [`metrics`]: Prometheus metrics;
//! - [`openapi`]: the OpenAPI document served at `/openapi.json`;
//! - [`portal`]: the delivery portal, server-rendered pages under `/ui/`.

pub mod auth;
pub mod backend;
pub mod budget;
pub mod config;
pub mod connections;
pub mod json;
pub mod kubernetes;
pub mod metrics;
pub mod model;
pub mod openapi;
pub mod portal;
pub mod problem;
pub mod routes;
pub mod server;
pub mod standalone;
pub mod store;
pub mod task_cache;
pub mod webhook_url;
pub mod workers;

/// Every error of the api outside a request (start-up and configuration).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value that cannot be used.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The API keys file cannot be read.
    #[error("cannot read the API keys file `{path}`: {source}")]
    KeysFile {
        /// Path of the file.
        path: String,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// The webhook delivery engine refused its configuration.
    #[error("webhook delivery: {0}")]
    Delivery(#[from] guardrails_agent::Error),
    /// No Kubernetes connection could be configured.
    #[error("cannot configure the Kubernetes client: {0}")]
    Kubernetes(#[source] kube::Error),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The standalone store cannot be opened or read.
    #[error("{0}")]
    Store(#[from] store::StoreError),
    /// The server stopped with an I/O error.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

impl Error {
    /// Whether the error is the user's configuration (exit code 2) rather than a runtime failure.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Error::Config(_) | Error::KeysFile { .. } | Error::Delivery(_) | Error::Kubernetes(_)
        )
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
