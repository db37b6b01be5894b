//! Objects, the resourceVersion counter and the history of changes that watches replay.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use serde_json::Value;
use tokio::sync::broadcast;

use super::{managed_fields::ManagedFields, registry::Registry};

/// Where an object lives: type (group and plural), namespace (empty if cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// API group.
    pub group: String,
    /// Resource plural.
    pub plural: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

/// A stored object with its field ownership.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The object as served (managedFields rendered in).
    pub object: Value,
    /// Who owns which field.
    pub managed: ManagedFields,
}

/// The kind of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The object was created.
    Added,
    /// The object changed.
    Modified,
    /// The object is gone.
    Deleted,
}

impl EventType {
    /// The wire name (`ADDED`, `MODIFIED`, `DELETED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Debug, Clone)]
pub struct Change {
    /// resourceVersion the change produced.
    pub rv: u64,
    /// What happened.
    pub event: EventType,
    /// Where it happened.
    pub key: ObjectKey,
    /// The object after the change (before it, for deletions, with the new resourceVersion).
    pub object: Value,
    /// The object before a modification, so selector watches can tell entering from leaving.
    pub previous: Option<Value>,
}

/// Every object, the global resourceVersion and the recent history of changes.
#[derive(Debug)]
pub struct Store {
    /// The served resource types.
    pub registry: Registry,
    rv: u64,
    objects: BTreeMap<ObjectKey, Entry>,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    compacted_rv: u64,
    changes: broadcast::Sender<Arc<Change>>,
}

impl Store {
    /// An empty store keeping at most `history_limit` changes for watches.
    pub fn new(registry: Registry, history_limit: usize) -> Self {
        let (changes, _) = broadcast::channel(4096);
        Self {
            registry,
            rv: 1,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit,
            compacted_rv: 1,
            changes,
        }
    }

    /// The latest resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    /// The oldest resourceVersion a watch may still start from.
    pub fn compacted_rv(&self) -> u64 {
        self.compacted_rv
    }

    /// Subscribes to every future change.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.changes.subscribe()
    }

    /// The stored object at `key`.
    pub fn get(&self, key: &ObjectKey) -> Option<&Entry> {
        self.objects.get(key)
    }

    /// Objects of one type, in one namespace or all, ordered by namespace and name.
    pub fn list(
        &self,
        group: &str,
        plural: &str,
        namespace: Option<&str>,
    ) -> Vec<(&ObjectKey, &Entry)> {
        self.objects
            .iter()
            .filter(|(k, _)| {
                k.group == group
                    && k.plural == plural
                    && namespace.is_none_or(|ns| k.namespace == ns)
            })
            .collect()
    }

    /// Keys of every object whose `metadata.ownerReferences` name `uid`.
    pub fn dependents_of(&self, uid: &str) -> Vec<ObjectKey> {
        self.objects
            .iter()
            .filter(|(_, e)| {
                e.object
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                    })
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Keys of every object in a namespace.
    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<ObjectKey> {
        self.objects
            .keys()
            .filter(|k| k.namespace == namespace)
            .cloned()
            .collect()
    }

    /// Stores an object under a new resourceVersion and tells the watches.
    pub fn put(&mut self, key: ObjectKey, mut entry: Entry, event: EventType) -> Value {
        self.rv += 1;
        let meta = &mut entry.object["metadata"];
        meta["resourceVersion"] = Value::String(self.rv.to_string());
        let managed = entry.managed.render();
        match meta.as_object_mut() {
            Some(m) if managed.as_array().is_some_and(|a| a.is_empty()) => {
                m.remove("managedFields");
            }
            Some(m) => {
                m.insert("managedFields".into(), managed);
            }
            None => {}
        }
        let object = entry.object.clone();
        let previous = self.objects.insert(key.clone(), entry).map(|e| e.object);
        self.record(Change {
            rv: self.rv,
            event,
            key,
            object: object.clone(),
            previous,
        });
        object
    }

    /// Removes an object and tells the watches.
    pub fn remove(&mut self, key: &ObjectKey) -> Option<Value> {
        let mut entry = self.objects.remove(key)?;
        self.rv += 1;
        entry.object["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        self.record(Change {
            rv: self.rv,
            event: EventType::Deleted,
            key: key.clone(),
            object: entry.object.clone(),
            previous: None,
        });
        Some(entry.object)
    }

    fn record(&mut self, change: Change) {
        let change = Arc::new(change);
        self.history.push_back(change.clone());
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
        // NB: no receiver is not an error: nobody is watching yet.
        let _ = self.changes.send(change);
    }

    /// Changes after `rv`, or `None` when `rv` is older than the kept history (410 Gone).
    pub fn changes_since(&self, rv: u64) -> Option<Vec<Arc<Change>>> {
        if rv < self.compacted_rv {
            return None;
        }
        Some(self.history.iter().filter(|c| c.rv > rv).cloned().collect())
    }

    /// Forgets the whole history, as an etcd compaction does: older versions become 410 Gone.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_rv = self.rv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> ObjectKey {
        ObjectKey {
            group: "g".into(),
            plural: "things".into(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    fn entry() -> Entry {
        Entry {
            object: json!({"metadata": {"name": "a"}}),
            managed: ManagedFields::default(),
        }
    }

    #[test]
    fn every_write_gets_a_higher_resource_version() {
        let mut store = Store::new(Registry::with_builtins(), 100);
        let a = store.put(key("a"), entry(), EventType::Added);
        let b = store.put(key("b"), entry(), EventType::Added);
        let rv = |v: &Value| {
            v["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        assert!(rv(&b) > rv(&a));
        let deleted = store.remove(&key("a")).unwrap();
        assert!(rv(&deleted) > rv(&b));
        assert_eq!(store.list("g", "things", Some("ns")).len(), 1);
    }

    #[test]
    fn history_older_than_the_limit_is_gone() {
        let mut store = Store::new(Registry::with_builtins(), 2);
        let start = store.current_rv();
        for name in ["a", "b", "c"] {
            store.put(key(name), entry(), EventType::Added);
        }
        assert!(store.changes_since(start).is_none());
        assert_eq!(
            store.changes_since(store.current_rv() - 1).unwrap().len(),
            1
        );
        store.compact();
        assert!(store.changes_since(store.current_rv() - 1).is_none());
        assert_eq!(store.changes_since(store.current_rv()).unwrap().len(), 0);
    }
}
