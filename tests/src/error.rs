//! The one error type of the harness.

/// Everything that can go wrong while setting up or running an end-to-end test.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("Kubernetes API error: {0}")]
    KubeError(#[from] kube::Error),
    /// A file or process operation failed.
    #[error("I/O error: {0}")]
    IoError(#[from] std::io::Error),
    /// A kubeconfig could not be read or used.
    #[error("kubeconfig error: {0}")]
    Kubeconfig(String),
    /// A manifest file could not be read.
    #[error("manifest {path}: {message}")]
    Manifest {
        /// The file or directory.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The test server could not start.
    #[error("test server: {0}")]
    TestServer(String),
    /// A binary could not be found, built or started.
    #[error("binary {name}: {message}")]
    Binary {
        /// The binary name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// Redis could not be started or reached.
    #[error("redis: {0}")]
    Redis(String),
    /// A condition was not met before its deadline.
    #[error(
        "timed out after {waited_ms} ms waiting for {what}\n--- last seen ---\n{last_seen}\n{logs}"
    )]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long it was awaited.
        waited_ms: u128,
        /// The last observed state.
        last_seen: String,
        /// Logs of the processes involved.
        logs: String,
    },
}

/// Result with the harness error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
