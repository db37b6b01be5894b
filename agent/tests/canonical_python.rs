//! Canonical JSON is byte-identical to Python's `json.dumps(sort_keys=True, separators=(',', ':'))`.

mod fixtures;

use guardrails_agent::canonical::to_canonical_json;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// Python reading one JSON document per line and writing its canonical dump per line.
const DUMPER: &str = "import json, sys\n\
for line in sys.stdin:\n    \
    print(json.dumps(json.loads(line), sort_keys=True, separators=(',', ':')), flush=True)\n";

struct Python {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Python {
    fn start() -> Python {
        let python = fixtures::python();
        let mut child = Command::new(&python)
            .args(["-c", DUMPER])
            .env("PYTHONIOENCODING", "utf-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{python}` (set GUARDRAILS_PYTHON): {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Python {
            child,
            stdin,
            stdout,
        }
    }

    /// Python's canonical dump of `value`, handed over in serde_json's (non-canonical) form.
    fn dumps(&mut self, value: &Value) -> String {
        writeln!(self.stdin, "{}", serde_json::to_string(value).unwrap()).unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim_end_matches('\n').to_owned()
    }
}

impl Drop for Python {
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

#[test]
fn canonical_json_matches_python_on_generated_values() {
    let python = RefCell::new(Python::start());
    // PROPTEST_CASES raises the count for a longer sweep.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    runner
        .run(&json_value(), |value| {
            let expected = python.borrow_mut().dumps(&value);
            prop_assert_eq!(to_canonical_json(&value), expected);
            Ok(())
        })
        .unwrap();
}

#[test]
fn canonical_json_matches_python_on_known_hard_cases() {
    let mut python = Python::start();
    let cases = [
        r#"{"z":1,"a":{"y":[1.0,0.1,1e-05,1e+16,1e16,123456789012345680000.0,-0.0,5e-324,1.7976931348623157e308]}}"#,
        r#"["\u0000\u001f\u007f\u0080\u00ff\u2028\ud83d\ude00\"\\\/\b\f\n\r\t"]"#,
        r#"{"é":1,"e":2,"E":3,"😀":4,"\uffff":5,"":6}"#,
        r#"[18446744073709551615,-9223372036854775808,0,-0,1e2,100.0,0.0001,0.00001]"#,
        r#"[-710885818870564.2,0.30000000000000004,2.5e-324,9007199254740993.0]"#,
    ];
    for case in cases {
        let value: Value = serde_json::from_str(case).unwrap();
        assert_eq!(to_canonical_json(&value), python.dumps(&value), "{case}");
    }
}
