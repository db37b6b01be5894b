//! Deletion: finalizers, `ownerReferences` garbage collection and namespace termination.

use serde_json::{Value, json};

use super::{
    api_error::ApiError,
    store::{Entry, EventType, ObjectKey, Store},
};

/// How dependents of a deleted object are treated (`propagationPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Dependents are deleted after the owner (the default for most kinds).
    #[default]
    Background,
    /// Dependents are deleted before the owner.
    Foreground,
    /// Dependents lose their reference to the owner and stay.
    Orphan,
}

impl Propagation {
    /// Parses the `propagationPolicy` of a DeleteOptions body or query.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "Background" => Ok(Self::Background),
            "Foreground" => Ok(Self::Foreground),
            "Orphan" => Ok(Self::Orphan),
            other => Err(ApiError::bad_request(format!(
                "unsupported propagationPolicy {other:?}"
            ))),
        }
    }
}

fn finalizers(object: &Value) -> usize {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

fn is_namespace(key: &ObjectKey) -> bool {
    key.group.is_empty() && key.plural == "namespaces"
}

/// Whether a write left a deleting object with no finalizers, so it must go now.
pub fn released(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
        && finalizers(object) == 0
}

/// Deletes an object: marks it when finalizers remain, else removes it and collects dependents.
pub fn delete(
    store: &mut Store,
    key: &ObjectKey,
    propagation: Propagation,
    now: &str,
) -> Option<Value> {
    let entry = store.get(key)?.clone();
    if is_namespace(key) {
        return Some(delete_namespace(store, key, entry, now));
    }
    match propagation {
        Propagation::Orphan => orphan_dependents(store, &entry.object),
        Propagation::Foreground => {
            if let Some(uid) = uid(&entry.object) {
                for dep in store.dependents_of(&uid) {
                    delete(store, &dep, Propagation::Foreground, now);
                }
            }
        }
        Propagation::Background => {}
    }
    if finalizers(&entry.object) > 0 {
        if entry
            .object
            .pointer("/metadata/deletionTimestamp")
            .is_some()
        {
            return Some(entry.object);
        }
        return Some(mark_deleting(store, key, entry, now));
    }
    remove(store, key)
}

fn uid(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn mark_deleting(store: &mut Store, key: &ObjectKey, mut entry: Entry, now: &str) -> Value {
    let meta = &mut entry.object["metadata"];
    meta["deletionTimestamp"] = json!(now);
    meta["deletionGracePeriodSeconds"] = json!(0);
    if let Some(generation) = meta.get("generation").and_then(Value::as_i64) {
        meta["generation"] = json!(generation + 1);
    }
    store.put(key.clone(), entry, EventType::Modified)
}

/// Removes an object now and garbage-collects what it owned or contained.
pub fn remove(store: &mut Store, key: &ObjectKey) -> Option<Value> {
    let object = store.remove(key)?;
    if key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions" {
        drop_custom_type(store, &object);
    }
    if let Some(uid) = uid(&object) {
        for dep in store.dependents_of(&uid) {
            let Some(mut entry) = store.get(&dep).cloned() else {
                continue;
            };
            let refs = entry.object["metadata"]["ownerReferences"]
                .as_array_mut()
                .expect("dependents have references");
            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
            if refs.is_empty() {
                let now = jiff::Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string();
                delete(store, &dep, Propagation::Background, &now);
            } else {
                store.put(dep, entry, EventType::Modified);
            }
        }
    }
    if !key.namespace.is_empty() {
        remove_namespace_if_done(store, &key.namespace);
    }
    Some(object)
}

fn orphan_dependents(store: &mut Store, owner: &Value) {
    let Some(uid) = uid(owner) else { return };
    for dep in store.dependents_of(&uid) {
        let Some(mut entry) = store.get(&dep).cloned() else {
            continue;
        };
        if let Some(refs) = entry.object["metadata"]["ownerReferences"].as_array_mut() {
            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
        }
        store.put(dep, entry, EventType::Modified);
    }
}

fn delete_namespace(store: &mut Store, key: &ObjectKey, mut entry: Entry, now: &str) -> Value {
    let object = if entry
        .object
        .pointer("/metadata/deletionTimestamp")
        .is_none()
    {
        entry.object["status"] = json!({"phase": "Terminating"});
        mark_deleting(store, key, entry, now)
    } else {
        entry.object
    };
    for dep in store.keys_in_namespace(&key.name) {
        delete(store, &dep, Propagation::Background, now);
    }
    remove_namespace_if_done(store, &key.name);
    object
}

fn remove_namespace_if_done(store: &mut Store, namespace: &str) {
    let key = ObjectKey {
        group: String::new(),
        plural: "namespaces".into(),
        namespace: String::new(),
        name: namespace.into(),
    };
    let terminating = store
        .get(&key)
        .is_some_and(|e| e.object.pointer("/metadata/deletionTimestamp").is_some());
    if terminating && store.keys_in_namespace(namespace).is_empty() {
        store.remove(&key);
    }
}

fn drop_custom_type(store: &mut Store, crd: &Value) {
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let plural = crd
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let keys: Vec<ObjectKey> = store
        .list(&group, &plural, None)
        .into_iter()
        .map(|(k, _)| k.clone())
        .collect();
    for key in keys {
        store.remove(&key);
    }
    store.registry.unregister(&group, &plural);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::{managed_fields::ManagedFields, registry::Registry};

    fn key(plural: &str, name: &str) -> ObjectKey {
        ObjectKey {
            group: "g".into(),
            plural: plural.into(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    fn put(store: &mut Store, k: &ObjectKey, object: Value) {
        store.put(
            k.clone(),
            Entry {
                object,
                managed: ManagedFields::default(),
            },
            EventType::Added,
        );
    }

    fn owned_by(uid: &str) -> Value {
        json!([{"apiVersion": "g/v1", "kind": "Task", "name": "t", "uid": uid}])
    }

    #[test]
    fn an_object_with_finalizers_is_only_marked() {
        let mut store = Store::new(Registry::with_builtins(), 100);
        let k = key("tasks", "t");
        put(
            &mut store,
            &k,
            json!({"metadata": {"name": "t", "uid": "u1", "generation": 1, "finalizers": ["f"]}}),
        );
        let marked = delete(
            &mut store,
            &k,
            Propagation::Background,
            "2026-01-01T00:00:00Z",
        )
        .unwrap();
        assert_eq!(
            marked["metadata"]["deletionTimestamp"],
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(marked["metadata"]["generation"], 2);
        assert!(store.get(&k).is_some());
        assert!(!released(&marked));
    }

    #[test]
    fn deleting_an_owner_removes_its_only_owned_dependents() {
        let mut store = Store::new(Registry::with_builtins(), 100);
        let owner = key("tasks", "t");
        put(
            &mut store,
            &owner,
            json!({"metadata": {"name": "t", "uid": "u1"}}),
        );
        let only = key("secrets", "s1");
        put(
            &mut store,
            &only,
            json!({"metadata": {"name": "s1", "uid": "u2", "ownerReferences": owned_by("u1")}}),
        );
        let shared = key("secrets", "s2");
        let refs = json!([owned_by("u1")[0], owned_by("u9")[0]]);
        put(
            &mut store,
            &shared,
            json!({"metadata": {"name": "s2", "uid": "u3", "ownerReferences": refs}}),
        );
        delete(&mut store, &owner, Propagation::Background, "t");
        assert!(store.get(&only).is_none());
        let kept = &store.get(&shared).unwrap().object;
        assert_eq!(
            kept["metadata"]["ownerReferences"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn orphaning_keeps_dependents_without_the_reference() {
        let mut store = Store::new(Registry::with_builtins(), 100);
        let owner = key("tasks", "t");
        put(
            &mut store,
            &owner,
            json!({"metadata": {"name": "t", "uid": "u1"}}),
        );
        let dep = key("secrets", "s1");
        put(
            &mut store,
            &dep,
            json!({"metadata": {"name": "s1", "uid": "u2", "ownerReferences": owned_by("u1")}}),
        );
        delete(&mut store, &owner, Propagation::Orphan, "t");
        assert_eq!(
            store.get(&dep).unwrap().object["metadata"]["ownerReferences"],
            json!([])
        );
    }

    #[test]
    fn a_namespace_goes_once_its_content_is_gone() {
        let mut store = Store::new(Registry::with_builtins(), 100);
        let ns = ObjectKey {
            group: String::new(),
            plural: "namespaces".into(),
            namespace: String::new(),
            name: "ns".into(),
        };
        put(
            &mut store,
            &ns,
            json!({"metadata": {"name": "ns", "uid": "n"}}),
        );
        let held = key("tasks", "held");
        put(
            &mut store,
            &held,
            json!({"metadata": {"name": "held", "uid": "h", "finalizers": ["f"]}}),
        );
        let marked = delete(&mut store, &ns, Propagation::Background, "t").unwrap();
        assert_eq!(marked["status"]["phase"], "Terminating");
        assert!(store.get(&ns).is_some());
        let mut entry = store.get(&held).unwrap().clone();
        entry.object["metadata"]["finalizers"] = json!([]);
        store.put(held.clone(), entry, EventType::Modified);
        remove(&mut store, &held);
        assert!(store.get(&ns).is_none());
    }
}
