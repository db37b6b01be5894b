//! Field ownership per field manager (`metadata.managedFields`) and server-side apply merging.
//!
//! Fields are tracked as leaf paths. Lists are merged as the schema says: `x-kubernetes-list-type:
//! map` by their `x-kubernetes-list-map-keys`, `set` by value, anything else atomically.
//! `metadata.finalizers` is a set and `metadata.ownerReferences` a map keyed by `uid`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElem {
    /// A field of an object.
    Field(String),
    /// An item of a map-list, identified by its keys as canonical JSON.
    Key(String),
    /// An item of a set-list, identified by its value as JSON.
    Value(String),
}

/// A path from the object root to a field.
pub type FieldPath = Vec<PathElem>;

/// Whether a write replaced fields (`Update`) or declared them (`Apply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update or patch.
    Update,
}

/// The fields one manager owns through one operation on one subresource.
#[derive(Debug, Clone)]
pub struct ManagerEntry {
    /// The field manager name.
    pub manager: String,
    /// How the fields were written.
    pub operation: Operation,
    /// `""` for the main resource, `"status"` for the status subresource.
    pub subresource: String,
    /// The API version the manager wrote with.
    pub api_version: String,
    /// When the manager last wrote.
    pub time: String,
    /// The owned leaf paths.
    pub fields: BTreeSet<FieldPath>,
}

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// The field, in the `.spec.x` notation of the real server.
    pub field: String,
}

/// Who wrote what, and the context of the current write.
#[derive(Debug, Clone, Default)]
pub struct ManagedFields {
    entries: Vec<ManagerEntry>,
}

/// The identity and time of one write.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    /// Field manager name.
    pub manager: &'a str,
    /// `""` or `"status"`.
    pub subresource: &'a str,
    /// API version of the request.
    pub api_version: &'a str,
    /// RFC 3339 time of the write.
    pub time: &'a str,
}

enum ListKind {
    Map(Vec<String>),
    Set,
    Atomic,
}

fn child_schema<'a>(schema: Option<&'a Value>, field: &str) -> Option<&'a Value> {
    let s = schema?;
    s.get("properties")
        .and_then(|p| p.get(field))
        .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
}

fn list_kind(path: &[PathElem], schema: Option<&Value>) -> ListKind {
    let meta = |f: &str| {
        path == [
            PathElem::Field("metadata".into()),
            PathElem::Field(f.into()),
        ]
    };
    if meta("finalizers") {
        return ListKind::Set;
    }
    if meta("ownerReferences") {
        return ListKind::Map(vec!["uid".into()]);
    }
    match schema
        .and_then(|s| s.get("x-kubernetes-list-type"))
        .and_then(Value::as_str)
    {
        Some("map") => ListKind::Map(
            schema
                .and_then(|s| s.get("x-kubernetes-list-map-keys"))
                .and_then(Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Some("set") => ListKind::Set,
        _ => ListKind::Atomic,
    }
}

fn item_key(item: &Value, keys: &[String]) -> String {
    let map: Map<String, Value> = keys
        .iter()
        .map(|k| (k.clone(), item.get(k).cloned().unwrap_or(Value::Null)))
        .collect();
    Value::Object(map).to_string()
}

/// Every owned leaf path of an object (only labels, annotations, finalizers and ownerReferences
/// of its metadata).
pub fn leaves(object: &Value, schema: Option<&Value>) -> BTreeSet<FieldPath> {
    let mut out = BTreeSet::new();
    let Some(map) = object.as_object() else {
        return out;
    };
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                for f in ["labels", "annotations", "finalizers", "ownerReferences"] {
                    if let Some(sub) = v.get(f) {
                        let path = vec![
                            PathElem::Field("metadata".into()),
                            PathElem::Field(f.into()),
                        ];
                        collect(sub, None, path, &mut out);
                    }
                }
            }
            _ => collect(
                v,
                child_schema(schema, k),
                vec![PathElem::Field(k.clone())],
                &mut out,
            ),
        }
    }
    out
}

fn collect(value: &Value, schema: Option<&Value>, path: FieldPath, out: &mut BTreeSet<FieldPath>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let mut p = path.clone();
                p.push(PathElem::Field(k.clone()));
                collect(v, child_schema(schema, k), p, out);
            }
        }
        Value::Array(items) => match list_kind(&path, schema) {
            ListKind::Map(keys) => {
                let item_schema = schema.and_then(|s| s.get("items"));
                for item in items {
                    let mut p = path.clone();
                    p.push(PathElem::Key(item_key(item, &keys)));
                    out.insert(p.clone());
                    if let Some(fields) = item.as_object() {
                        for (k, v) in fields {
                            let mut q = p.clone();
                            q.push(PathElem::Field(k.clone()));
                            collect(v, child_schema(item_schema, k), q, out);
                        }
                    }
                }
            }
            ListKind::Set => {
                for item in items {
                    let mut p = path.clone();
                    p.push(PathElem::Value(item.to_string()));
                    out.insert(p);
                }
            }
            ListKind::Atomic => {
                out.insert(path);
            }
        },
        _ => {
            out.insert(path);
        }
    }
}

fn find_item(items: &[Value], elem: &PathElem) -> Option<usize> {
    items.iter().position(|item| match elem {
        PathElem::Key(key) => {
            let wanted: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
            wanted
                .iter()
                .all(|(k, v)| item.get(k).unwrap_or(&Value::Null) == v)
        }
        PathElem::Value(v) => serde_json::from_str::<Value>(v).is_ok_and(|x| x == *item),
        PathElem::Field(_) => false,
    })
}

/// The value at a path, if present.
pub fn value_at<'a>(object: &'a Value, path: &[PathElem]) -> Option<&'a Value> {
    let mut cur = object;
    for elem in path {
        cur = match (elem, cur) {
            (PathElem::Field(f), Value::Object(m)) => m.get(f)?,
            (_, Value::Array(items)) => &items[find_item(items, elem)?],
            _ => return None,
        };
    }
    Some(cur)
}

fn remove_at(object: &mut Value, path: &[PathElem]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut cur = object;
    for elem in parent_path {
        cur = match (elem, cur) {
            (PathElem::Field(f), Value::Object(m)) => match m.get_mut(f) {
                Some(v) => v,
                None => return,
            },
            (_, Value::Array(items)) => match find_item(items, elem) {
                Some(i) => &mut items[i],
                None => return,
            },
            _ => return,
        };
    }
    match (last, cur) {
        (PathElem::Field(f), Value::Object(m)) => {
            m.remove(f);
        }
        (elem, Value::Array(items)) => {
            if let Some(i) = find_item(items, elem) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

fn merge(live: &mut Value, config: &Value, schema: Option<&Value>, path: FieldPath) {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) => {
            for (k, v) in c {
                let mut p = path.clone();
                p.push(PathElem::Field(k.clone()));
                match l.get_mut(k) {
                    Some(existing) => merge(existing, v, child_schema(schema, k), p),
                    None => {
                        l.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(l), Value::Array(c)) => match list_kind(&path, schema) {
            ListKind::Map(keys) => {
                let item_schema = schema.and_then(|s| s.get("items"));
                for item in c {
                    let elem = PathElem::Key(item_key(item, &keys));
                    match find_item(l, &elem) {
                        Some(i) => merge(&mut l[i], item, item_schema, path.clone()),
                        None => l.push(item.clone()),
                    }
                }
            }
            ListKind::Set => {
                for item in c {
                    if !l.contains(item) {
                        l.push(item.clone());
                    }
                }
            }
            ListKind::Atomic => *l = c.clone(),
        },
        (live, config) => *live = config.clone(),
    }
}

fn dotted(path: &[PathElem]) -> String {
    path.iter()
        .map(|e| match e {
            PathElem::Field(f) => format!(".{f}"),
            PathElem::Key(k) => format!("[{k}]"),
            PathElem::Value(v) => format!("[={v}]"),
        })
        .collect()
}

impl ManagedFields {
    /// Applies `config` for `writer` onto `live` (Null when the object is new), returning the
    /// merged object, or the conflicts when `force` is false and another manager owns a field
    /// with a different value.
    pub fn apply(
        &mut self,
        live: &Value,
        config: &Value,
        schema: Option<&Value>,
        writer: &Writer<'_>,
        force: bool,
    ) -> Result<Value, Vec<Conflict>> {
        let wanted = leaves(config, schema);
        let mut conflicts = Vec::new();
        for entry in self.entries.iter().filter(|e| e.manager != writer.manager) {
            for p in wanted.intersection(&entry.fields) {
                let marker = matches!(p.last(), Some(PathElem::Key(_) | PathElem::Value(_)));
                if !marker && value_at(live, p) != value_at(config, p) {
                    conflicts.push(Conflict {
                        manager: entry.manager.clone(),
                        field: dotted(p),
                    });
                }
            }
        }
        if !conflicts.is_empty() && !force {
            return Err(conflicts);
        }
        if force {
            for entry in self
                .entries
                .iter_mut()
                .filter(|e| e.manager != writer.manager)
            {
                entry.fields.retain(|p| !wanted.contains(p));
            }
        }
        let mine = self.position(writer, Operation::Apply);
        let previous = mine
            .map(|i| self.entries[i].fields.clone())
            .unwrap_or_default();
        let mut merged = if live.is_null() {
            json!({})
        } else {
            live.clone()
        };
        let mut dropped: Vec<&FieldPath> = previous.difference(&wanted).collect();
        dropped.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in dropped {
            let owned_elsewhere = self.entries.iter().enumerate().any(|(i, e)| {
                Some(i) != mine
                    && e.fields
                        .iter()
                        .any(|q| q.starts_with(p) || p.starts_with(q))
            });
            if !owned_elsewhere {
                remove_at(&mut merged, p);
            }
        }
        merge(&mut merged, config, schema, Vec::new());
        self.set_entry(writer, Operation::Apply, wanted);
        self.retain_present(&merged, schema);
        Ok(merged)
    }

    /// Records an update (create, replace or patch) from `old` to `new`: the manager takes over
    /// every field it changed.
    pub fn record_update(
        &mut self,
        old: &Value,
        new: &Value,
        schema: Option<&Value>,
        writer: &Writer<'_>,
    ) {
        let changed: BTreeSet<FieldPath> = leaves(new, schema)
            .into_iter()
            .filter(|p| value_at(old, p) != value_at(new, p))
            .collect();
        if !changed.is_empty() {
            for entry in &mut self.entries {
                entry.fields.retain(|p| !changed.contains(p));
            }
            let mut fields = self
                .position(writer, Operation::Update)
                .map(|i| self.entries[i].fields.clone())
                .unwrap_or_default();
            fields.extend(changed);
            self.set_entry(writer, Operation::Update, fields);
        }
        self.retain_present(new, schema);
    }

    fn position(&self, writer: &Writer<'_>, op: Operation) -> Option<usize> {
        self.entries.iter().position(|e| {
            e.manager == writer.manager && e.operation == op && e.subresource == writer.subresource
        })
    }

    fn set_entry(&mut self, writer: &Writer<'_>, op: Operation, fields: BTreeSet<FieldPath>) {
        let entry = ManagerEntry {
            manager: writer.manager.to_string(),
            operation: op,
            subresource: writer.subresource.to_string(),
            api_version: writer.api_version.to_string(),
            time: writer.time.to_string(),
            fields,
        };
        match self.position(writer, op) {
            Some(i) => self.entries[i] = entry,
            None => self.entries.push(entry),
        }
    }

    fn retain_present(&mut self, object: &Value, schema: Option<&Value>) {
        let present = leaves(object, schema);
        for entry in &mut self.entries {
            entry.fields.retain(|p| present.contains(p));
        }
        self.entries.retain(|e| !e.fields.is_empty());
    }

    /// The entries, for tests and diagnostics.
    pub fn entries(&self) -> &[ManagerEntry] {
        &self.entries
    }

    /// `metadata.managedFields` as the real server renders it (`FieldsV1`).
    pub fn render(&self) -> Value {
        Value::Array(
            self.entries
                .iter()
                .map(|e| {
                    let mut tree = json!({});
                    for path in &e.fields {
                        insert_path(&mut tree, path);
                    }
                    let mut out = json!({
                        "manager": e.manager,
                        "operation": match e.operation { Operation::Apply => "Apply", Operation::Update => "Update" },
                        "apiVersion": e.api_version,
                        "time": e.time,
                        "fieldsType": "FieldsV1",
                        "fieldsV1": tree,
                    });
                    if !e.subresource.is_empty() {
                        out["subresource"] = json!(e.subresource);
                    }
                    out
                })
                .collect(),
        )
    }
}

fn insert_path(tree: &mut Value, path: &[PathElem]) {
    let mut cur = tree;
    for elem in path {
        let key = match elem {
            PathElem::Field(f) => format!("f:{f}"),
            PathElem::Key(k) => format!("k:{k}"),
            PathElem::Value(v) => format!("v:{v}"),
        };
        let is_item = matches!(elem, PathElem::Key(_));
        let map = cur.as_object_mut().expect("field trees are objects");
        let next = map.entry(key).or_insert_with(|| json!({}));
        if is_item {
            next.as_object_mut()
                .expect("field trees are objects")
                .insert(".".into(), json!({}));
        }
        cur = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            subresource: "status",
            api_version: "x/v1",
            time: "2026-01-01T00:00:00Z",
        }
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {"status": {"type": "object", "properties": {
            "conditions": {"type": "array", "x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["type"], "items": {"type": "object"}}
        }}}})
    }

    #[test]
    fn two_managers_keep_their_own_subtrees_and_conditions() {
        let mut mf = ManagedFields::default();
        let live = json!({"spec": {"a": 1}});
        let live = mf
            .apply(&live, &json!({"status": {"result": {"n": 1}, "conditions": [{"type": "Analyzed", "status": "True"}]}}), Some(&schema()), &writer("operator"), false)
            .unwrap();
        let live = mf
            .apply(&live, &json!({"status": {"delivery": {"phase": "Pending"}, "conditions": [{"type": "Delivered", "status": "False"}]}}), Some(&schema()), &writer("agent"), false)
            .unwrap();
        assert_eq!(live["status"]["result"]["n"], 1);
        assert_eq!(live["status"]["delivery"]["phase"], "Pending");
        assert_eq!(live["status"]["conditions"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_field_dropped_from_a_managers_config_is_removed() {
        let mut mf = ManagedFields::default();
        let live = mf
            .apply(
                &Value::Null,
                &json!({"status": {"a": 1, "b": 2}}),
                None,
                &writer("m"),
                false,
            )
            .unwrap();
        let live = mf
            .apply(
                &live,
                &json!({"status": {"a": 1}}),
                None,
                &writer("m"),
                false,
            )
            .unwrap();
        assert_eq!(live, json!({"status": {"a": 1}}));
    }

    #[test]
    fn a_different_value_for_another_managers_field_conflicts_unless_forced() {
        let mut mf = ManagedFields::default();
        let live = mf
            .apply(
                &Value::Null,
                &json!({"status": {"phase": "Running"}}),
                None,
                &writer("operator"),
                false,
            )
            .unwrap();
        let conflicts = mf
            .apply(
                &live,
                &json!({"status": {"phase": "Failed"}}),
                None,
                &writer("agent"),
                false,
            )
            .unwrap_err();
        assert_eq!(
            conflicts,
            [Conflict {
                manager: "operator".into(),
                field: ".status.phase".into()
            }]
        );
        let live = mf
            .apply(
                &live,
                &json!({"status": {"phase": "Failed"}}),
                None,
                &writer("agent"),
                true,
            )
            .unwrap();
        assert_eq!(live["status"]["phase"], "Failed");
        assert_eq!(mf.entries().len(), 1);
        assert_eq!(mf.entries()[0].manager, "agent");
    }

    #[test]
    fn an_update_takes_over_the_fields_it_changes() {
        let mut mf = ManagedFields::default();
        let live = mf
            .apply(
                &Value::Null,
                &json!({"status": {"phase": "Running", "x": 1}}),
                None,
                &writer("operator"),
                false,
            )
            .unwrap();
        let mut new = live.clone();
        new["status"]["phase"] = json!("Failed");
        mf.record_update(&live, &new, None, &writer("kubectl"));
        let owners: Vec<_> = mf
            .entries()
            .iter()
            .map(|e| (e.manager.as_str(), e.fields.len()))
            .collect();
        assert_eq!(owners, [("operator", 1), ("kubectl", 1)]);
    }

    #[test]
    fn rendering_uses_the_fields_v1_notation() {
        let mut mf = ManagedFields::default();
        mf.apply(
            &Value::Null,
            &json!({"status": {"conditions": [{"type": "Ready"}]}}),
            Some(&schema()),
            &writer("m"),
            false,
        )
        .unwrap();
        let rendered = mf.render();
        assert_eq!(rendered[0]["subresource"], "status");
        assert_eq!(
            rendered[0]["fieldsV1"],
            json!({"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:type": {}}}}})
        );
    }
}
