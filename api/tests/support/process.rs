//! The `guardrails-api` binary as a real process: started on a free loopback port, killed with
//! SIGKILL, started again on the same data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A running `guardrails-api --standalone --auth none`.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Starts the binary on the store in `data_dir` with `args` and `env`, its log in
    /// `log_dir`; waits until it answers.
    pub async fn start(
        data_dir: &str,
        args: &[&str],
        env: &[(&str, &str)],
        log_dir: &Path,
    ) -> Server {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let log = log_dir.join(format!("api-{}.log", addr.port()));
        let binary = std::env::var("GUARDRAILS_API_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_guardrails-api").to_owned());
        let child = Command::new(binary)
            .args([
                "--standalone",
                "--auth",
                "none",
                "--listen",
                &addr.to_string(),
                "--data-dir",
                data_dir,
            ])
            .args(args)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let server = Server { child, addr, log };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let answer = client.get(self.url("/healthz")).send().await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the api did not start:\n{}", self.logs());
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Kills the process with SIGKILL and waits for it to end.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// What the process logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
