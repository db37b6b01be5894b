//! The real binaries (`guardrails-operator`, `guardrails-agent`, `guardrails-api`) as processes,
//! with their stdout and stderr captured for failure messages.

use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
};

use crate::Error;

/// How to start one binary: which, with which arguments and environment.
#[derive(Debug, Clone)]
pub struct BinarySpec {
    name: String,
    package: String,
    path: Option<PathBuf>,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl BinarySpec {
    /// The binary `name` of the workspace package `package` (e.g. `guardrails-agent`, `guardrails-agent`).
    pub fn new(name: &str, package: &str) -> Self {
        Self {
            name: name.into(),
            package: package.into(),
            path: None,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Any executable by path (for tools that are not workspace binaries).
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            name,
            package: String::new(),
            path: Some(path),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds several arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Points the binary at a cluster (`KUBECONFIG`).
    pub fn kubeconfig(self, path: &Path) -> Self {
        self.env("KUBECONFIG", path.display().to_string())
    }
}

/// A free address on 127.0.0.1 for a binary's `--listen` flag.
pub fn free_local_addr() -> std::io::Result<std::net::SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// The environment variable that overrides where `name` is found, e.g. `GUARDRAILS_E2E_BIN_GUARDRAILS_AGENT`.
pub fn override_variable(name: &str) -> String {
    format!(
        "GUARDRAILS_E2E_BIN_{}",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

/// The target profile directory of the running test (`target/<profile>`), from its executable.
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    Some(if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent()?.to_path_buf()
    } else {
        dir.to_path_buf()
    })
}

/// Finds a workspace binary: the override variable, else `target/<profile>/<name>` next to the
/// test executable, else builds it with `cargo build -p <package> --bin <name>`.
pub fn locate_binary(name: &str, package: &str) -> Result<PathBuf, Error> {
    let err = |message: String| Error::Binary {
        name: name.into(),
        message,
    };
    if let Ok(path) = std::env::var(override_variable(name)) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(err(format!("{} does not exist", path.display())))
        };
    }
    let profile = profile_dir().ok_or_else(|| err("cannot find the target directory".into()))?;
    let candidate = profile.join(name);
    if candidate.is_file() {
        return Ok(candidate);
    }
    let release = profile.file_name().is_some_and(|n| n == "release");
    let target_dir = profile
        .parent()
        .ok_or_else(|| err("cannot find the target directory".into()))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build
        .args(["build", "-p", package, "--bin", name])
        .env("CARGO_TARGET_DIR", target_dir);
    if release {
        build.arg("--release");
    }
    let out = build
        .output()
        .map_err(|e| err(format!("cannot run cargo build: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                !l.trim_start().starts_with("Compiling")
                    && !l.trim_start().starts_with("Downloaded")
            })
            .collect();
        return Err(err(format!("cargo build failed:\n{}", errors.join("\n"))));
    }
    if candidate.is_file() {
        Ok(candidate)
    } else {
        Err(err(format!(
            "built, but {} is missing",
            candidate.display()
        )))
    }
}

/// A started binary; killed on drop.
#[derive(Debug)]
pub struct RunningBinary {
    name: String,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningBinary {
    /// Starts the binary with piped stdout and stderr.
    pub async fn start(spec: BinarySpec) -> Result<Self, Error> {
        let path = match &spec.path {
            Some(p) => p.clone(),
            None => {
                let (name, package) = (spec.name.clone(), spec.package.clone());
                tokio::task::spawn_blocking(move || locate_binary(&name, &package))
                    .await
                    .map_err(|e| Error::Binary {
                        name: spec.name.clone(),
                        message: e.to_string(),
                    })??
            }
        };
        let mut cmd = Command::new(&path);
        cmd.args(&spec.args)
            .env("NO_PROXY", "127.0.0.1,localhost,::1")
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| Error::Binary {
            name: spec.name.clone(),
            message: format!("cannot start {}: {e}", path.display()),
        })?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(capture(out, "stdout", logs.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(capture(err, "stderr", logs.clone()));
        }
        Ok(Self {
            name: spec.name,
            child,
            logs,
            readers,
        })
    }

    /// The binary name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Everything it printed so far, one `[stream] line` per line.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("log lock").join("\n")
    }

    /// Logs with a header naming the binary, for failure messages.
    pub fn logs_section(&self) -> String {
        format!("--- logs of {} ---\n{}", self.name, self.logs())
    }

    /// The exit status if it has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits for the process to exit by itself.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, Error> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => {
                self.drain_logs().await;
                Ok(status?)
            }
            Err(_) => Err(Error::Timeout {
                what: format!("{} to exit", self.name),
                waited_ms: timeout.as_millis(),
                last_seen: "still running".into(),
                logs: self.logs_section(),
            }),
        }
    }

    /// Kills the process at once (SIGKILL, as a crashed node would) and waits for it to end.
    pub async fn kill(&mut self) -> Result<ExitStatus, Error> {
        self.child.kill().await?;
        let status = self.child.wait().await?;
        self.drain_logs().await;
        Ok(status)
    }

    /// Sends SIGTERM, waits up to `grace`, then kills; returns how it ended.
    pub async fn stop(&mut self, grace: Duration) -> Result<ExitStatus, Error> {
        if let Some(pid) = self.child.id() {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
        let status = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                self.child.kill().await?;
                self.child.wait().await?
            }
        };
        self.drain_logs().await;
        Ok(status)
    }

    /// Waits for the output of an exited process to be read to its end, so `logs()` is complete.
    async fn drain_logs(&mut self) {
        for reader in self.readers.drain(..) {
            // NB: bounded, since a child the process left behind may still hold the pipe open.
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
        }
    }

    /// Waits until a log line contains `needle`.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> Result<(), Error> {
        let logs = self.logs.clone();
        crate::kit::wait::wait_for(
            &format!("{} to log {needle:?}", self.name),
            timeout,
            &[self],
            || {
                let found = logs
                    .lock()
                    .expect("log lock")
                    .iter()
                    .any(|l| l.contains(needle));
                async move {
                    if found {
                        crate::kit::Probe::Ready(())
                    } else {
                        crate::kit::Probe::Pending("not logged yet".into())
                    }
                }
            },
        )
        .await
    }
}

fn capture<R: AsyncRead + Unpin + Send + 'static>(
    stream: R,
    label: &'static str,
    logs: Arc<Mutex<Vec<String>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            logs.lock()
                .expect("log lock")
                .push(format!("[{label}] {line}"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_logs_are_captured_and_sigterm_stops_it() {
        let spec = BinarySpec::from_path("/bin/sh").args([
            "-c",
            "trap 'echo got term; exit 0' TERM; echo hello; echo oops >&2; while true; do sleep 0.05; done",
        ]);
        let mut proc = RunningBinary::start(spec).await.unwrap();
        proc.wait_for_log("oops", Duration::from_secs(10))
            .await
            .unwrap();
        assert!(proc.logs().contains("[stdout] hello"));
        assert!(proc.logs().contains("[stderr] oops"));
        let status = proc.stop(Duration::from_secs(10)).await.unwrap();
        assert!(status.success(), "{status:?}");
        proc.wait_for_log("got term", Duration::from_secs(5))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_process_that_ignores_sigterm_is_killed() {
        let spec = BinarySpec::from_path("/bin/sh").args([
            "-c",
            "trap '' TERM; echo ready; while true; do sleep 0.05; done",
        ]);
        let mut proc = RunningBinary::start(spec).await.unwrap();
        proc.wait_for_log("ready", Duration::from_secs(10))
            .await
            .unwrap();
        let status = proc.stop(Duration::from_millis(200)).await.unwrap();
        assert!(!status.success());
    }

    #[test]
    fn an_override_that_points_nowhere_is_a_clear_error() {
        let var = override_variable("guardrails-nonexistent");
        assert_eq!(var, "GUARDRAILS_E2E_BIN_GUARDRAILS_NONEXISTENT");
        // SAFETY: no other test reads or writes this variable.
        unsafe { std::env::set_var(&var, "/nonexistent/binary") };
        let err = locate_binary("guardrails-nonexistent", "nothing").unwrap_err();
        assert!(
            err.to_string()
                .contains("/nonexistent/binary does not exist"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_binary_of_a_missing_package_fails_the_build_with_its_output() {
        let err =
            locate_binary("guardrails-no-such-binary", "guardrails-no-such-package").unwrap_err();
        assert!(err.to_string().contains("cargo build failed"), "{err}");
    }
}
