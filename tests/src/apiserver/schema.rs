//! OpenAPI v3 structural schema handling of custom resources: pruning, defaulting and validation.

use serde_json::{Map, Value};

use super::api_error::Cause;

/// Drops fields the schema does not declare, as the real server prunes unknown fields.
pub fn prune(schema: &Value, value: &mut Value) {
    prune_at(schema, value, true);
}

fn prune_at(schema: &Value, value: &mut Value, root: bool) {
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    let embedded = schema
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true);
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            let keep_meta = root || embedded;
            map.retain(|k, _| {
                preserve
                    || additional.is_some()
                    || props.is_some_and(|p| p.contains_key(k))
                    || (keep_meta && matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
            });
            for (k, v) in map.iter_mut() {
                if let Some(sub) = props.and_then(|p| p.get(k)) {
                    prune_at(sub, v, false);
                } else if let Some(sub) = additional {
                    prune_at(sub, v, false);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                items.iter_mut().for_each(|item| prune_at(sub, item, false));
            }
        }
        _ => {}
    }
}

/// Fills in schema `default`s for missing fields.
pub fn apply_defaults(schema: &Value, value: &Value) -> Value {
    kube_cel::apply_defaults(schema, value)
}

/// Checks types, enums, required fields, bounds and patterns; returns every violation.
pub fn validate(schema: &Value, value: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let Some(map) = value.as_object() else {
        causes.push(Cause {
            field: "<root>".into(),
            message: "must be an object".into(),
        });
        return causes;
    };
    // NB: apiVersion, kind and metadata are checked by the server itself, not by the CRD schema.
    let mut body = map.clone();
    body.remove("metadata");
    body.remove("apiVersion");
    body.remove("kind");
    let mut root = schema.clone();
    if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut) {
        props.remove("metadata");
        props.remove("apiVersion");
        props.remove("kind");
    }
    check(&root, &Value::Object(body), "", &mut causes);
    causes
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(expected: &str, value: &Value) -> bool {
    match expected {
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => type_name(value) == other,
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn field_name(path: &str) -> String {
    if path.is_empty() {
        "<root>".into()
    } else {
        path.to_string()
    }
}

fn check(schema: &Value, value: &Value, path: &str, causes: &mut Vec<Cause>) {
    let mut push = |message: String| {
        causes.push(Cause {
            field: field_name(path),
            message,
        })
    };
    if value.is_null() {
        if schema.get("nullable").and_then(Value::as_bool) != Some(true)
            && schema.get("type").is_some()
        {
            let ty = schema["type"].as_str().unwrap_or("value");
            push(format!(
                "Invalid value: \"null\": {} in body must be of type {ty}: \"null\"",
                field_name(path)
            ));
        }
        return;
    }
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        let ok = has_type(ty, value) || (int_or_string && (value.is_string() || value.is_i64()));
        if !ok {
            push(format!(
                "Invalid value: \"{}\": {} in body must be of type {ty}: \"{}\"",
                type_name(value),
                field_name(path),
                type_name(value)
            ));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list = allowed
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        push(format!(
            "Unsupported value: {value}: supported values: {list}"
        ));
    }
    check_bounds(schema, value, path, causes);
    check_junctors(schema, value, path, causes);
    match value {
        Value::Object(map) => check_object(schema, map, path, causes),
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(sub, item, &format!("{path}[{i}]"), causes);
                }
            }
        }
        _ => {}
    }
}

fn check_object(schema: &Value, map: &Map<String, Value>, path: &str, causes: &mut Vec<Cause>) {
    for req in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(req) = req.as_str()
            && !map.contains_key(req)
        {
            causes.push(Cause {
                field: join(path, req),
                message: "Required value".into(),
            });
        }
    }
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (k, v) in map {
        if let Some(sub) = props.and_then(|p| p.get(k)).or(additional) {
            check(sub, v, &join(path, k), causes);
        }
    }
}

fn check_bounds(schema: &Value, value: &Value, path: &str, causes: &mut Vec<Cause>) {
    let num = |key: &str| schema.get(key).and_then(Value::as_f64);
    let flag = |key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
    let name = field_name(path);
    let mut push = |message: String| {
        causes.push(Cause {
            field: name.clone(),
            message,
        })
    };
    match value {
        Value::String(s) => {
            let len = s.chars().count() as f64;
            if let Some(max) = num("maxLength").filter(|m| len > *m) {
                push(format!("Too long: may not be more than {max} bytes"));
            }
            if let Some(min) = num("minLength").filter(|m| len < *m) {
                push(format!(
                    "Invalid value: \"\": {name} in body should be at least {min} chars long"
                ));
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                match regex::Regex::new(pattern) {
                    Ok(re) if !re.is_match(s) => push(format!(
                        "Invalid value: \"{s}\": {name} in body should match '{pattern}'"
                    )),
                    Ok(_) => {}
                    Err(_) => push(format!("schema pattern '{pattern}' cannot be compiled")),
                }
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or_default();
            if let Some(min) = num("minimum") {
                let excl = flag("exclusiveMinimum");
                if x < min || (excl && x == min) {
                    let op = if excl {
                        "greater than"
                    } else {
                        "greater than or equal to"
                    };
                    push(format!(
                        "Invalid value: {n}: {name} in body should be {op} {min}"
                    ));
                }
            }
            if let Some(max) = num("maximum") {
                let excl = flag("exclusiveMaximum");
                if x > max || (excl && x == max) {
                    let op = if excl {
                        "less than"
                    } else {
                        "less than or equal to"
                    };
                    push(format!(
                        "Invalid value: {n}: {name} in body should be {op} {max}"
                    ));
                }
            }
        }
        Value::Array(items) => {
            let len = items.len() as f64;
            if let Some(max) = num("maxItems").filter(|m| len > *m) {
                push(format!("Too many: {len}: must have at most {max} items"));
            }
            if let Some(min) = num("minItems").filter(|m| len < *m) {
                push(format!(
                    "Invalid value: {len}: {name} in body should have at least {min} items"
                ));
            }
        }
        _ => {}
    }
}

fn check_junctors(schema: &Value, value: &Value, path: &str, causes: &mut Vec<Cause>) {
    let passes = |sub: &Value| {
        let mut inner = Vec::new();
        check(sub, value, path, &mut inner);
        inner.is_empty()
    };
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(sub, value, path, causes);
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(passes)
    {
        causes.push(Cause {
            field: field_name(path),
            message: "Invalid value: matches none of anyOf".into(),
        });
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array)
        && one.iter().filter(|s| passes(s)).count() != 1
    {
        causes.push(Cause {
            field: field_name(path),
            message: "Invalid value: must match exactly one of oneOf".into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["spec"],
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {
                        "size": {"type": "integer", "minimum": 1, "maximum": 10},
                        "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
                        "name": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
                        "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
                        "note": {"type": "string", "nullable": true},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                },
                "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
            }
        })
    }

    fn fields(causes: &[Cause]) -> Vec<&str> {
        causes.iter().map(|c| c.field.as_str()).collect()
    }

    #[test]
    fn unknown_fields_are_pruned_but_metadata_and_open_objects_are_kept() {
        let mut obj = json!({
            "apiVersion": "x/v1", "kind": "W", "metadata": {"name": "a"},
            "spec": {"size": 1, "bogus": true, "labels": {"a": "b"}, "free": {"any": {"thing": 1}}},
            "extra": 1
        });
        prune(&schema(), &mut obj);
        assert_eq!(
            obj,
            json!({
                "apiVersion": "x/v1", "kind": "W", "metadata": {"name": "a"},
                "spec": {"size": 1, "labels": {"a": "b"}, "free": {"any": {"thing": 1}}}
            })
        );
    }

    #[test]
    fn defaults_fill_missing_fields() {
        let obj = apply_defaults(&schema(), &json!({"spec": {"size": 2}}));
        assert_eq!(obj["spec"]["mode"], "fast");
    }

    #[test]
    fn a_valid_object_has_no_causes() {
        let obj = json!({"metadata": {"name": "a"}, "spec": {"size": 3, "mode": "slow", "name": "abc", "note": null}});
        assert!(validate(&schema(), &obj).is_empty());
    }

    #[test]
    fn every_kind_of_violation_is_reported_with_its_field() {
        let obj = json!({"spec": {"size": 11, "mode": "warp", "name": "TOOLONG", "tags": ["a", "b", "c"]}});
        let causes = validate(&schema(), &obj);
        assert_eq!(
            fields(&causes),
            [
                "spec.mode",
                "spec.name",
                "spec.name",
                "spec.size",
                "spec.tags"
            ]
        );
        assert!(causes[0].message.starts_with("Unsupported value: \"warp\""));
    }

    #[test]
    fn missing_required_fields_and_wrong_types_are_reported() {
        assert_eq!(fields(&validate(&schema(), &json!({}))), ["spec"]);
        let causes = validate(&schema(), &json!({"spec": {"size": "big"}}));
        assert_eq!(fields(&causes), ["spec.size"]);
        assert!(causes[0].message.contains("must be of type integer"));
    }

    #[test]
    fn null_is_refused_where_the_schema_is_not_nullable() {
        let causes = validate(&schema(), &json!({"spec": {"size": 1, "name": null}}));
        assert_eq!(fields(&causes), ["spec.name"]);
    }
}
