//! Canonical JSON is a fixed point of the receivers' re-serialisations: Python's
//! `json.dumps(json.loads(body), sort_keys=True, separators=(',', ':'))` and, for the values a
//! payload holds with ASCII strings, JavaScript's `JSON.stringify(JSON.parse(body))`.

mod fixtures;

use guardrails_agent::canonical::to_canonical_json;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// Python reading one JSON document per line and writing its canonical dump per line.
const PYTHON_DUMPER: &str = "import json, sys\n\
for line in sys.stdin:\n    \
    print(json.dumps(json.loads(line), sort_keys=True, separators=(',', ':')), flush=True)\n";

/// Node reading one JSON document per line and writing `JSON.stringify(JSON.parse(line))`.
const NODE_DUMPER: &str = "require('readline').createInterface({input: process.stdin})\
.on('line', (line) => console.log(JSON.stringify(JSON.parse(line))));";

/// A re-serialising process: one JSON document in per line, one out.
struct Dumper {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Dumper {
    fn python() -> Dumper {
        let python = fixtures::python();
        let mut command = Command::new(&python);
        command
            .args(["-c", PYTHON_DUMPER])
            .env("PYTHONIOENCODING", "utf-8");
        Dumper::start(command, &format!("`{python}` (set GUARDRAILS_PYTHON)"))
    }

    fn node() -> Dumper {
        let mut command = Command::new("node");
        command.args(["-e", NODE_DUMPER]);
        Dumper::start(command, "`node`")
    }

    fn start(mut command: Command, what: &str) -> Dumper {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Dumper {
            child,
            stdin,
            stdout,
        }
    }

    /// The re-serialisation of the document `line`.
    fn dumps(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").unwrap();
        let mut out = String::new();
        self.stdout.read_line(&mut out).unwrap();
        out.trim_end_matches('\n').to_owned()
    }
}

impl Drop for Dumper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()),
        (-1_000_000i64..1_000_000).prop_map(|n| n as f64),
        (-1_000_000i64..1_000_000, 0u32..8).prop_map(|(n, d)| n as f64 / 10f64.powi(d as i32)),
        (1u32..10, -30i32..30).prop_map(|(m, e)| f64::from(m) * 10f64.powi(e)),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,12}",
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\n'),
                Just('\u{7f}'),
                Just('\u{1}'),
                Just('é'),
                Just('😀'),
                Just('\u{2028}'),
                Just('\u{ffff}')
            ],
            0..8
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((text(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Values as payloads hold them: ASCII keys that are not array indices, ASCII strings, integers
/// JavaScript represents exactly, and numbers with at most 4 decimals.
fn payload_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
        (-1_000_000i64..1_000_000, 0u32..5)
            .prop_map(|(n, d)| Value::from(n as f64 / 10f64.powi(d as i32))),
        "[ -~]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z_]{1,8}", inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn cases() -> u32 {
    // PROPTEST_CASES raises the count for a longer sweep.
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000)
}

#[test]
fn python_reserialises_canonical_json_to_the_same_bytes() {
    let python = RefCell::new(Dumper::python());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    runner
        .run(&json_value(), |value| {
            let canonical = to_canonical_json(&value);
            prop_assert_eq!(python.borrow_mut().dumps(&canonical), canonical);
            Ok(())
        })
        .unwrap();
}

#[test]
fn javascript_reserialises_canonical_payloads_to_the_same_bytes() {
    let node = RefCell::new(Dumper::node());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    runner
        .run(&payload_value(), |value| {
            let canonical = to_canonical_json(&value);
            prop_assert_eq!(node.borrow_mut().dumps(&canonical), canonical);
            Ok(())
        })
        .unwrap();
}

#[test]
fn python_reserialises_known_hard_cases_to_the_same_bytes() {
    let mut python = Dumper::python();
    let cases = [
        r#"{"z":1,"a":{"y":[1.0,0.1,1e-05,1e+16,1e16,123456789012345680000.0,-0.0,5e-324,1.7976931348623157e308]}}"#,
        r#"["\u0000\u001f\u007f\u0080\u00ff\u2028\ud83d\ude00\"\\\/\b\f\n\r\t"]"#,
        r#"{"é":1,"e":2,"E":3,"😀":4,"\uffff":5,"":6}"#,
        r#"[18446744073709551615,-9223372036854775808,0,-0,1e2,100.0,0.0001,0.00001]"#,
        r#"[-710885818870564.2,0.30000000000000004,2.5e-324,9007199254740993.0]"#,
    ];
    for case in cases {
        let canonical = to_canonical_json(&serde_json::from_str(case).unwrap());
        assert_eq!(python.dumps(&canonical), canonical, "{case}");
    }
}
