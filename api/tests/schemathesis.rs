//! Schemathesis against the real `guardrails-api --standalone` binary: generated and mutated
//! requests from `/openapi.json` must never get a 5xx nor an answer the document does not allow.
//!
//! Needs the PyPI package `schemathesis` in the Python named by `GUARDRAILS_PYTHON` (else
//! `python3`); `scripts/test.sh` installs it. Without it the test fails and says so.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> String {
    std::env::var("GUARDRAILS_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Starts the standalone server on a free loopback port and returns it with its address.
fn start_server() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardrails-api"))
        .args([
            "--standalone",
            "--data-dir",
            ":memory:",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .env("API_KEYS", "schemathesis-key")
        // NB: only 127.0.0.1 is allowlisted and private addresses are refused, so every webhook
        // URL is rejected before creation and no test traffic leaves loopback.
        .env("ALLOWED_WEBHOOK_DOMAINS", "127.0.0.1")
        .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "false")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start guardrails-api");
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let Ok(log) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(address) = log.pointer("/fields/address").and_then(|a| a.as_str()) {
            let address = address.to_owned();
            // Keep draining the log so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (server, address);
        }
    }
    panic!("guardrails-api --standalone did not report its listening address");
}

#[test]
fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let python = python();
    let probe = Command::new(&python)
        .args(["-c", "import schemathesis"])
        .output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "schemathesis is not installed for `{python}`: install it with `{python} -m pip install \
         schemathesis` or point GUARDRAILS_PYTHON at a venv that has it (scripts/test.sh does both)"
    );
    let (_server, address) = start_server();
    // NB: schemathesis keeps a cache in its working directory; keep it out of the repository.
    let workdir = tempfile::tempdir().unwrap();
    let output = Command::new(&python)
        .current_dir(workdir.path())
        .args(["-m", "schemathesis.cli", "run"])
        .arg(format!("http://{address}/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance,negative_data_rejection,\
             missing_required_header,ignored_auth",
            "--header",
            "Authorization: Bearer schemathesis-key",
            "--max-examples",
            "40",
            "--max-time",
            "120",
            "--request-timeout",
            "10",
            "--workers",
            "2",
            "--seed",
            "1",
            "--no-color",
        ])
        .output()
        .expect("run schemathesis");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}"
    );
}
