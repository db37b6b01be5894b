//! End-to-end test harness for Guardrails: a Kubernetes API test server, a real-cluster mode,
//! and a kit that runs the real binaries as processes.
//!
//! Not yet implemented: this crate will hold the test server and the test kit.
