//! The Guardrails operator: reconciles `AnalysisTask` resources into analysis results.
//!
//! A task is analysed exactly once: the operator marks it `Running`, resolves its text, runs the
//! analysis engine off the async runtime, stores the full result in a Secret owned by the task
//! (key [`result_secret::RESULT_KEY`]) and only then marks it `Succeeded` with a PII-free summary.
//!
//! - [`config`]: the flags and environment of the binary.
//! - [`decision`]: what to do next with a task, as a pure function of the task and the clock.
//! - [`failure`]: why a task failed, in words a user can act on.
//! - [`engine`]: running the analysis under a concurrency limit and a timeout; the summary.
//! - [`result_secret`]: the Secret holding the full result.
//! - [`status`]: the operator's status fields, written by server-side apply.
//! - [`controller`]: the kube-runtime `Controller`, its `Context` and `reconcile`.
//! - [`metrics`]: Prometheus metrics and the `/healthz`, `/readyz`, `/metrics` server.
//!
//! Leader election, the ops server, logging and the shutdown signal come from `guardrails-runtime`.

pub mod config;
pub mod controller;
pub mod decision;
pub mod engine;
pub mod failure;
pub mod metrics;
pub mod result_secret;
pub mod status;

#[cfg(test)]
mod fixtures;

/// Everything that can go wrong in the operator itself (task failures are [`failure::TaskFailure`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the Kubernetes API failed.
    #[error("Kubernetes API error: {0}")]
    KubeError(#[source] kube::Error),

    /// The Kubernetes client could not be configured (no kubeconfig, no in-cluster config).
    #[error("cannot configure the Kubernetes client: {0}")]
    KubeConfigError(String),

    /// JSON could not be written.
    #[error("cannot serialize: {0}")]
    SerializationError(#[source] serde_json::Error),

    /// An object from the API lacks a field every stored object has.
    #[error("object has no {0}")]
    MissingObjectKey(&'static str),

    /// The result Secret of a task exists but cannot be read back.
    #[error("result Secret `{name}` is unreadable: {reason}")]
    ResultSecretError {
        /// Name of the Secret.
        name: String,
        /// What is wrong with it (never its content).
        reason: String,
    },

    /// Leader election on the Lease failed.
    #[error("leader election failed: {0}")]
    LeaseError(#[source] kube_lease_manager::LeaseManagerError),

    /// Another replica took the Lease while this one was leading.
    #[error("leadership of the Lease was lost")]
    LeadershipLost,

    /// A flag or environment variable has a value the operator cannot use.
    #[error("invalid configuration: {0}")]
    ConfigError(String),

    /// The metrics server could not listen or serve.
    #[error("metrics server failed: {0}")]
    ServerError(#[source] std::io::Error),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A short label for the `reason` of the reconcile error metric.
    pub fn metric_label(&self) -> String {
        match self {
            Error::KubeError(kube::Error::Api(status)) => format!("api_{}", status.code),
            Error::KubeError(_) => "kube".into(),
            Error::KubeConfigError(_) => "kube_config".into(),
            Error::SerializationError(_) => "serialization".into(),
            Error::MissingObjectKey(_) => "missing_key".into(),
            Error::ResultSecretError { .. } => "result_secret".into(),
            Error::LeaseError(_) => "lease".into(),
            Error::LeadershipLost => "leadership_lost".into(),
            Error::ConfigError(_) => "config".into(),
            Error::ServerError(_) => "server".into(),
        }
    }

    /// The process exit code for this error: 2 for bad configuration, 1 for runtime failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::ConfigError(_) | Error::KubeConfigError(_) => 2,
            _ => 1,
        }
    }
}

impl From<guardrails_runtime::leader::Error> for Error {
    fn from(e: guardrails_runtime::leader::Error) -> Self {
        match e {
            guardrails_runtime::leader::Error::Lease(e) => Error::LeaseError(e),
            guardrails_runtime::leader::Error::Ended => Error::LeadershipLost,
        }
    }
}

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        Error::KubeError(e)
    }
}
