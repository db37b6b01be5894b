//! The test kit: what an end-to-end test needs around the binaries.
//!
//! - [`browser`]: a headless Chromium for the web portal's tests, with an accessibility check.
//! - [`cluster`]: a Kubernetes API per test (the test server, or a real cluster when
//!   `E2E_KUBECONFIG` is set) with the CRDs installed and a fresh namespace.
//! - [`process`]: the real binaries as processes, with captured logs.
//! - [`receiver`]: loopback webhook receivers that record requests and answer from a script.
//! - [`redis`]: a Redis per test run.
//! - [`measure`]: CPU, memory, percentiles and API request counts for the benchmarks.
//! - [`wait`]: waiting for a condition with a deadline and a failure message worth reading.

pub mod browser;
pub mod cluster;
pub mod measure;
pub mod process;
pub mod receiver;
pub mod redis;
pub mod wait;

pub use browser::{Browser, BrowserCookie};
pub use cluster::{TestCluster, apply_status_as_operator};
pub use process::{BinarySpec, RunningBinary, free_local_addr};
pub use receiver::{ReceivedRequest, Reply, WebhookReceiver};
pub use redis::RedisServer;
pub use wait::{Probe, wait_for, wait_for_deletion, wait_for_object};
