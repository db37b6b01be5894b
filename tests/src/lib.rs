//! End-to-end test harness for Guardrails.
//!
//! - [`apiserver`]: a Kubernetes API test server the real binaries talk to through a kubeconfig.
//! - [`kit`]: the test kit: a cluster per test (test server, or a real cluster with
//!   `E2E_KUBECONFIG`), processes of the real binaries, webhook receivers, Redis, waiting helpers.
//! - [`manifests`]: CRD manifests loaded from `charts/guardrails/crds/`.
//! - [`error`]: the crate's error type.

pub mod apiserver;
pub mod error;
pub mod kit;
pub mod manifests;

pub use error::{Error, Result};
