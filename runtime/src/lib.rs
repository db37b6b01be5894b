//! What the Guardrails binaries (operator, agent sidecar, api) share at run time.
//!
//! - [`leader`]: leader election on a `Lease` through `kube-lease-manager`.
//! - [`ops_server`]: the `/healthz`, `/readyz` and `/metrics` server.
//! - [`logging`]: logging on stderr as text or JSON, the level from `RUST_LOG`.
//! - [`shutdown`]: waiting for SIGTERM or Ctrl-C.

pub mod leader;
pub mod logging;
pub mod ops_server;
pub mod shutdown;
