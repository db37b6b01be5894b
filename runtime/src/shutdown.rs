//! Waiting for the signal to stop: SIGTERM (Kubernetes) or SIGINT (Ctrl-C).

/// The signal that asked the process to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM, as sent by Kubernetes when it stops a pod.
    Terminate,
    /// SIGINT, as sent by Ctrl-C.
    Interrupt,
}

impl Signal {
    /// The signal's usual name, e.g. `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT",
        }
    }
}

/// Completes on the first SIGTERM or SIGINT and says which one came.
///
/// When a handler cannot be installed, that signal is logged as a warning and never completes the
/// future; the other one still does.
pub async fn signal() -> Signal {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGINT");
                std::future::pending().await
            }
        }
    };
    tokio::select! {
        signal = terminate() => signal,
        signal = interrupt => signal,
    }
}

#[cfg(unix)]
async fn terminate() -> Signal {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
            Signal::Terminate
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM");
            std::future::pending().await
        }
    }
}

#[cfg(not(unix))]
async fn terminate() -> Signal {
    std::future::pending().await
}
