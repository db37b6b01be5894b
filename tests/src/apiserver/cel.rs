//! The CRDs' CEL rules (`x-kubernetes-validations`), evaluated with `kube-cel`.
//!
//! Rules the interpreter cannot evaluate (macros or functions `kube-cel` lacks) fail closed: the
//! write is refused with a message naming the rule, so a gap is never a silent pass.

use serde_json::Value;

use super::api_error::Cause;

/// Evaluates every CEL rule of `schema` on `object` (and on `old` for transition rules).
pub fn check_rules(schema: &Value, object: &Value, old: Option<&Value>) -> Vec<Cause> {
    match kube_cel::validate(schema, object, old) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_vec()
            .into_iter()
            .map(|e| {
                let field = e.field_path.trim_start_matches('.').to_string();
                let ty = value_type(object, &field);
                let detail = match e.kind {
                    kube_cel::ErrorKind::ValidationFailure => e.message,
                    _ => format!(
                        "{} (the test server cannot evaluate rule {:?})",
                        e.message, e.rule
                    ),
                };
                Cause {
                    field: if field.is_empty() {
                        "<root>".into()
                    } else {
                        field
                    },
                    message: format!("Invalid value: \"{ty}\": {detail}"),
                }
            })
            .collect(),
    }
}

fn value_type(object: &Value, dotted: &str) -> &'static str {
    let pointer = if dotted.is_empty() {
        String::new()
    } else {
        format!("/{}", dotted.replace('.', "/"))
    };
    match object.pointer(&pointer) {
        Some(Value::Object(_)) | None => "object",
        Some(Value::Array(_)) => "array",
        Some(Value::String(_)) => "string",
        Some(Value::Number(_)) => "number",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Null) => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "x-kubernetes-validations": [
                        {"rule": "has(self.text) != has(self.textFrom)", "message": "exactly one of text or textFrom must be set"},
                        {"rule": "self == oldSelf", "message": "spec is immutable"}
                    ],
                    "properties": {
                        "text": {"type": "string"},
                        "textFrom": {"type": "object", "properties": {"name": {"type": "string"}}}
                    }
                }
            }
        })
    }

    #[test]
    fn a_spec_with_exactly_one_source_passes() {
        assert!(check_rules(&schema(), &json!({"spec": {"text": "hello"}}), None).is_empty());
    }

    #[test]
    fn a_spec_with_both_sources_is_refused_with_the_rule_message() {
        let causes = check_rules(
            &schema(),
            &json!({"spec": {"text": "a", "textFrom": {"name": "s"}}}),
            None,
        );
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec");
        assert_eq!(
            causes[0].message,
            "Invalid value: \"object\": exactly one of text or textFrom must be set"
        );
    }

    #[test]
    fn transition_rules_compare_with_the_old_object() {
        let old = json!({"spec": {"text": "a"}});
        assert!(check_rules(&schema(), &json!({"spec": {"text": "a"}}), Some(&old)).is_empty());
        let causes = check_rules(&schema(), &json!({"spec": {"text": "b"}}), Some(&old));
        assert_eq!(
            causes[0].message,
            "Invalid value: \"object\": spec is immutable"
        );
    }
}
