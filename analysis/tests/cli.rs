//! Runs the real `guardrails-analyze` binary.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

/// The binary started with `args`, its standard streams piped.
fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_guardrails-analyze"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// What the binary run with `args` prints for `stdin`, written while its output is read (so
/// input larger than a pipe holds cannot stall it).
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = spawn(args);
    let (mut pipe, input) = (child.stdin.take().unwrap(), stdin.to_string());
    // NB: a binary that exits on a usage error never reads stdin, so the write may fail.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Each line of `stdout` as JSON.
fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn stdin_text_becomes_the_result_json() {
    let out = run(
        &["--frameworks", "PCI_DSS,GDPR", "--include-redaction"],
        "Card 4111 1111 1111 1111, mail a@b.io",
    );
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["pii"]["detected"], 2);
    assert_eq!(
        v["compliance"]["frameworks"],
        serde_json::json!(["PCI_DSS", "GDPR"])
    );
    assert_eq!(
        v["redacted_text"],
        "Card <CREDIT_CARD>, mail <EMAIL_ADDRESS>"
    );
}

#[test]
fn jsonl_mode_answers_every_line_and_reports_bad_ones() {
    let input = "{\"id\": 1, \"text\": \"SSN 536-22-1234\"}\nnot json\n{\"id\": \"b\", \"text\": \"nothing\"}\n\
                 {\"id\": 3, \"text\": \"caf\\u00e9 SSN 536-22-1234\"}";
    let out = run(&["--jsonl"], input);
    assert!(out.status.success());
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        serde_json::json!({"id": 1, "spans": [{"type": "US_SSN", "start": 4, "end": 15, "score": 0.95}]})
    );
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid input line")
    );
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[2], serde_json::json!({"id": "b", "spans": []}));
    assert_eq!(
        lines[3],
        serde_json::json!({"id": 3, "spans": [{"type": "US_SSN", "start": 9, "end": 20, "score": 0.95}]})
    );
}

#[test]
fn jsonl_mode_answers_every_line_in_order_across_batches() {
    // NB: far more than a pipe holds and than one batch takes (1.5 MB), written while the
    // replies are read.
    let input: String = (0..20_000)
        .map(|id| {
            let text = format!("ticket {id}: SSN 536-22-1234, call (212) 555-0198");
            format!("{}\n", serde_json::json!({"id": id, "text": text}))
        })
        .collect();
    let out = run(&["--jsonl"], &input);
    assert!(out.status.success());
    let replies = json_lines(&out.stdout);
    assert_eq!(replies.len(), 20_000);
    for (id, reply) in replies.iter().enumerate() {
        assert_eq!(reply["id"], id);
        let types: Vec<&str> = reply["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["US_SSN", "PHONE_NUMBER"], "line {id}");
    }
}

#[test]
fn jsonl_mode_answers_each_line_before_the_next_arrives() {
    let mut child = spawn(&["--jsonl"]);
    let mut stdin = child.stdin.take().unwrap();
    let (replies, received) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let _ = replies.send(line.unwrap());
        }
    });
    // NB: a caller that waits for each reply, as a pipeline stage does, must get it while its
    // input stays open.
    for (id, text) in [(1, "SSN 536-22-1234"), (2, "mail jane.doe@example.com")] {
        writeln!(stdin, "{}", serde_json::json!({"id": id, "text": text})).unwrap();
        let reply = received
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a reply while the input stays open");
        let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(reply["id"], id);
        assert_eq!(reply["spans"].as_array().unwrap().len(), 1);
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn an_unknown_framework_is_a_usage_error() {
    let out = run(&["--frameworks", "SOX"], "x");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown compliance framework `SOX`"));
}

#[test]
fn hash_redaction_without_a_key_is_a_usage_error() {
    let out = run(&["--include-redaction", "--redaction", "hash"], "x");
    assert_eq!(out.status.code(), Some(2));
}
