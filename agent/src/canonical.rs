//! Canonical JSON: keys sorted, no whitespace, non-ASCII escaped, integral numbers as integers.
//!
//! The bytes are a fixed point of the two re-serialisations receivers of the original service
//! verify with: Python's `json.dumps(json.loads(body), sort_keys=True, separators=(',', ':'))` and
//! JavaScript's `JSON.stringify(JSON.parse(body))` (the latter for ASCII strings: JavaScript does
//! not escape other characters). Floats are written as Python's `repr` writes them, except that
//! an integral float below 10^21 is written as an integer (`0.0` → `0`), as JavaScript does and as
//! Python does once the integer is parsed back.

use serde_json::{Number, Value};
use std::fmt::Write;

/// Serialises `value` as canonical JSON (see the module documentation).
pub fn to_canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // NB: sorted here, not by relying on the map type: `preserve_order` may be enabled
            // by another crate in the build. Byte order of UTF-8 equals Python's code-point order.
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                // Python's ensure_ascii: everything else as \uXXXX, astral planes as surrogate pairs.
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
        write_float(out, f);
    } else {
        let _ = write!(out, "{n}");
    }
}

/// Writes `f` as Python's `repr(float)` (shortest round-trip digits, exponent outside
/// [1e-4, 1e16)), but an integral `f` below 1e21 as an integer, as JavaScript writes it.
fn write_float(out: &mut String, f: f64) {
    let Some(number) = Number::from_f64(f) else {
        out.push_str(if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
        return;
    };
    // NB: serde_json's float output (ryu) breaks ties between equally short, equally close digit
    // strings as Python does; Rust's `{:e}` can pick the other one (property test finding).
    let text = number.to_string();
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (mantissa, exponent) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
    let exponent: i32 = exponent.parse().expect("ryu writes integer exponents");
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // Python's form: value = 0.DIGITS × 10^decpt, DIGITS without leading or trailing zeros.
    let all_digits = format!("{int_part}{frac_part}");
    let leading_zeros = all_digits.len() - all_digits.trim_start_matches('0').len();
    let digits = all_digits.trim_matches('0');
    let (digits, decpt) = if digits.is_empty() {
        ("0", 1)
    } else {
        (
            digits,
            int_part.len() as i32 + exponent - leading_zeros as i32,
        )
    };
    let integral = decpt >= digits.len() as i32 && decpt <= 21;
    if integral {
        // NB: `-0.0` is `0` for JavaScript and, parsed as the integer `-0`, for Python.
        if digits != "0" {
            out.push_str(sign);
        }
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', decpt as usize - digits.len()));
        return;
    }
    out.push_str(sign);
    if !(-4 < decpt && decpt <= 16) {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let shown = decpt - 1;
        let _ = write!(
            out,
            "e{}{:02}",
            if shown < 0 { '-' } else { '+' },
            shown.abs()
        );
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
        out.push_str(digits);
    } else {
        let decpt = decpt as usize;
        out.push_str(&digits[..decpt]);
        out.push('.');
        out.push_str(&digits[decpt..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn float(f: f64) -> String {
        to_canonical_json(&json!(f))
    }

    #[test]
    fn keys_are_sorted_and_separators_have_no_spaces() {
        let value = json!({"b": 1, "a": [true, null, "x"], "B": {"z": 0, "y": -2}});
        assert_eq!(
            to_canonical_json(&value),
            r#"{"B":{"y":-2,"z":0},"a":[true,null,"x"],"b":1}"#
        );
    }

    #[test]
    fn non_ascii_is_escaped_with_lowercase_hex_and_surrogate_pairs() {
        let value = json!("é€😀\u{7f}\u{1}\"\\\n\r\t\u{8}\u{c}/");
        assert_eq!(
            to_canonical_json(&value),
            r#""\u00e9\u20ac\ud83d\ude00\u007f\u0001\"\\\n\r\t\b\f/""#
        );
    }

    #[test]
    fn fractional_floats_follow_python_repr() {
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(1e-5), "1e-05");
        assert_eq!(float(1e-4), "0.0001");
        assert_eq!(float(1.5e300), "1.5e+300");
        assert_eq!(float(123.456), "123.456");
        assert_eq!(float(0.8734), "0.8734");
        assert_eq!(float(-2.5e-7), "-2.5e-07");
        // A tie between two shortest forms: Python picks the even digit.
        assert_eq!(float(-710885818870564.2), "-710885818870564.2");
    }

    #[test]
    fn integral_floats_are_written_as_javascript_writes_them() {
        assert_eq!(float(0.0), "0");
        assert_eq!(float(-0.0), "0");
        assert_eq!(float(1.0), "1");
        assert_eq!(float(100.0), "100");
        assert_eq!(float(-3.0), "-3");
        assert_eq!(float(1e15), "1000000000000000");
        assert_eq!(float(1e16), "10000000000000000");
        assert_eq!(float(1.2345678901234568e20), "123456789012345680000");
        // From 1e21 on, JavaScript and Python's repr both use an exponent.
        assert_eq!(float(1e21), "1e+21");
        assert_eq!(float(1.5e300), "1.5e+300");
    }

    #[test]
    fn integers_stay_integers() {
        assert_eq!(
            to_canonical_json(&json!([0, -1, u64::MAX, i64::MIN])),
            "[0,-1,18446744073709551615,-9223372036854775808]"
        );
    }
}
