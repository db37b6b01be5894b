//! The verbs of the API (get, list, create, update, patch, apply, delete) on the store,
//! independent of HTTP.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::{
    api_error::{ApiError, Cause},
    cel, lifecycle,
    lifecycle::Propagation,
    managed_fields::{ManagedFields, Writer},
    patch::{self, PatchKind},
    registry::ResourceType,
    schema,
    selectors::{FieldSelector, LabelSelector},
    store::{Entry, EventType, ObjectKey, Store},
};

/// What a request addresses: type, version, namespace, name and subresource.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource type.
    pub rt: Arc<ResourceType>,
    /// The requested version.
    pub version: String,
    /// The namespace (empty when cluster-scoped or across namespaces).
    pub namespace: String,
    /// The object name, if the request names one.
    pub name: Option<String>,
    /// `status` for the status subresource.
    pub subresource: Option<String>,
}

/// Who writes and how.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Field manager (`fieldManager` or derived from the User-Agent).
    pub manager: String,
    /// `dryRun=All`: validate, do not store.
    pub dry_run: bool,
    /// `force=true` for server-side apply.
    pub force: bool,
}

/// The query of a list request.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 = all).
    pub limit: usize,
    /// `continue` token from the previous page.
    pub continue_token: Option<String>,
}

/// Preconditions and policy of a delete.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `propagationPolicy`.
    pub propagation: Propagation,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

/// Current time as the server stamps it.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl Target {
    fn key(&self, name: &str) -> ObjectKey {
        ObjectKey {
            group: self.rt.group.clone(),
            plural: self.rt.plural.clone(),
            namespace: if self.rt.namespaced {
                self.namespace.clone()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }

    fn name(&self) -> Result<&str, ApiError> {
        self.name.as_deref().ok_or_else(|| {
            ApiError::new(405, "MethodNotAllowed", "the request needs an object name")
        })
    }

    fn schema(&self) -> Option<&Value> {
        self.rt
            .version(&self.version)
            .and_then(|v| v.schema.as_ref())
    }

    fn status_split(&self) -> bool {
        self.rt
            .version(&self.version)
            .is_some_and(|v| v.status_subresource)
    }

    fn on_status(&self) -> bool {
        self.subresource.as_deref() == Some("status")
    }

    fn writer<'a>(
        &'a self,
        opts: &'a WriteOptions,
        api_version: &'a str,
        time: &'a str,
    ) -> Writer<'a> {
        Writer {
            manager: &opts.manager,
            subresource: if self.on_status() { "status" } else { "" },
            api_version,
            time,
        }
    }

    /// The object as served in the requested version.
    fn present(&self, mut object: Value) -> Value {
        object["apiVersion"] = json!(self.rt.api_version(&self.version));
        object["kind"] = json!(self.rt.kind);
        object
    }
}

/// The `PartialObjectMetadata` form of an object, for metadata-only clients.
pub fn metadata_only(object: Value) -> Value {
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// The `PartialObjectMetadataList` form of a list.
pub fn metadata_only_list(mut list: Value) -> Value {
    let items: Vec<Value> = list["items"]
        .as_array_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadataList",
        "metadata": list["metadata"].take(),
        "items": items.into_iter().map(metadata_only).collect::<Vec<_>>(),
    })
}

/// GET one object.
pub fn get(store: &Store, t: &Target) -> Result<Value, ApiError> {
    let name = t.name()?;
    let entry = store
        .get(&t.key(name))
        .ok_or_else(|| ApiError::not_found(&t.rt.qualified_plural(), name))?;
    Ok(t.present(entry.object.clone()))
}

/// LIST objects, filtered and paged.
pub fn list(store: &Store, t: &Target, q: &ListQuery) -> Result<Value, ApiError> {
    let ns = (t.rt.namespaced && !t.namespace.is_empty()).then_some(t.namespace.as_str());
    let after: Option<(String, String)> = match &q.continue_token {
        Some(token) => Some(decode_continue(token)?),
        None => None,
    };
    let matching: Vec<&Entry> = store
        .list(&t.rt.group, &t.rt.plural, ns)
        .into_iter()
        .filter(|(k, _)| {
            after
                .as_ref()
                .is_none_or(|(ans, aname)| (&k.namespace, &k.name) > (ans, aname))
        })
        .map(|(_, e)| e)
        .filter(|e| q.labels.matches(&e.object) && q.fields.matches(&e.object))
        .collect();
    let take = if q.limit == 0 {
        matching.len()
    } else {
        q.limit.min(matching.len())
    };
    let mut metadata = json!({"resourceVersion": store.current_rv().to_string()});
    if take < matching.len() {
        let last = &matching[take - 1].object["metadata"];
        let token = json!([
            last["namespace"].as_str().unwrap_or(""),
            last["name"].as_str().unwrap_or("")
        ]);
        metadata["continue"] =
            json!(base64::engine::general_purpose::STANDARD.encode(token.to_string()));
        metadata["remainingItemCount"] = json!(matching.len() - take);
    }
    let items: Vec<Value> = matching[..take]
        .iter()
        .map(|e| t.present(e.object.clone()))
        .collect();
    Ok(json!({
        "apiVersion": t.rt.api_version(&t.version),
        "kind": t.rt.list_kind,
        "metadata": metadata,
        "items": items,
    }))
}

fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| bad())?;
    let (ns, name): (String, String) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok((ns, name))
}

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..5]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn check_namespace(store: &Store, t: &Target) -> Result<(), ApiError> {
    if !t.rt.namespaced {
        return Ok(());
    }
    let key = ObjectKey {
        group: String::new(),
        plural: "namespaces".into(),
        namespace: String::new(),
        name: t.namespace.clone(),
    };
    match store.get(&key) {
        None => Err(ApiError::not_found("namespaces", &t.namespace)),
        Some(ns) if ns.object.pointer("/metadata/deletionTimestamp").is_some() => {
            Err(ApiError::new(
                403,
                "Forbidden",
                format!(
                    "unable to create new content in namespace {} because it is being terminated",
                    t.namespace
                ),
            ))
        }
        Some(_) => Ok(()),
    }
}

/// Kind-specific normalisation the real server does (Secret `stringData`, Namespace phase).
fn normalise_builtin(t: &Target, object: &mut Value) -> Result<(), ApiError> {
    match (t.rt.group.as_str(), t.rt.plural.as_str()) {
        ("", "secrets") => {
            if let Some(Value::Object(string_data)) =
                object.as_object_mut().and_then(|o| o.remove("stringData"))
            {
                let data = object["data"]
                    .as_object_mut()
                    .map(std::mem::take)
                    .unwrap_or_default();
                let mut data: Map<String, Value> = data;
                for (k, v) in string_data {
                    let text = v.as_str().unwrap_or_default();
                    data.insert(
                        k,
                        json!(base64::engine::general_purpose::STANDARD.encode(text)),
                    );
                }
                object["data"] = Value::Object(data);
            }
            if object.get("type").is_none() {
                object["type"] = json!("Opaque");
            }
        }
        ("", "namespaces") if object.pointer("/status/phase").is_none() => {
            object["status"] = json!({"phase": "Active"});
        }
        _ => {}
    }
    Ok(())
}

/// Prunes, defaults and validates a custom resource (schema, then CEL).
fn admit_custom(
    t: &Target,
    name: &str,
    object: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let Some(schema) = t.schema() else {
        return Ok(());
    };
    schema::prune(schema, object);
    *object = schema::apply_defaults(schema, object);
    let mut causes: Vec<Cause> = schema::validate(schema, object);
    if causes.is_empty() {
        causes = cel::check_rules(schema, object, old);
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&t.rt.qualified_kind(), name, causes))
    }
}

fn strip_server_fields(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in ["managedFields", "selfLink"] {
            meta.remove(f);
        }
    }
}

/// CREATE an object (POST), or the create half of an apply.
pub fn create(
    store: &mut Store,
    t: &Target,
    body: Value,
    opts: &WriteOptions,
    managed: Option<ManagedFields>,
) -> Result<Value, ApiError> {
    let mut object = body;
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request is not an object",
        ));
    }
    if let Some(kind) = object.get("kind").and_then(Value::as_str)
        && kind != t.rt.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind {kind:?} of the object does not match the resource {}",
            t.rt.qualified_plural()
        )));
    }
    object = t.present(object);
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    strip_server_fields(&mut object);
    let meta = &mut object["metadata"];
    if meta
        .get("resourceVersion")
        .is_some_and(|rv| !rv.is_null() && rv != "")
    {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    if t.rt.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns != t.namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => meta["namespace"] = json!(t.namespace),
        }
    } else if let Some(m) = meta.as_object_mut() {
        m.remove("namespace");
    }
    let name = match (
        meta.get("name").and_then(Value::as_str),
        meta.get("generateName").and_then(Value::as_str),
    ) {
        (Some(n), _) if !n.is_empty() => n.to_string(),
        (_, Some(prefix)) if !prefix.is_empty() => format!("{prefix}{}", random_suffix()),
        _ => {
            return Err(ApiError::invalid(
                &t.rt.qualified_kind(),
                "",
                vec![Cause {
                    field: "metadata.name".into(),
                    message: "Required value: name or generateName is required".into(),
                }],
            ));
        }
    };
    if !is_dns_subdomain(&name) {
        return Err(ApiError::invalid(
            &t.rt.qualified_kind(),
            &name,
            vec![Cause {
                field: "metadata.name".into(),
                message: format!(
                    "Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"
                ),
            }],
        ));
    }
    if let Some(path_name) = &t.name
        && *path_name != name
    {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    check_namespace(store, t)?;
    let key = t.key(&name);
    if store.get(&key).is_some() {
        return Err(ApiError::already_exists(&t.rt.qualified_plural(), &name));
    }
    let time = now();
    meta["name"] = json!(name);
    meta["uid"] = json!(uuid::Uuid::new_v4().to_string());
    meta["creationTimestamp"] = json!(time);
    for f in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        if let Some(m) = meta.as_object_mut() {
            m.remove(f);
        }
    }
    if t.rt.custom {
        meta["generation"] = json!(1);
    }
    if t.status_split()
        && let Some(o) = object.as_object_mut()
    {
        o.remove("status");
    }
    normalise_builtin(t, &mut object)?;
    if t.rt.custom {
        admit_custom(t, &name, &mut object, None)?;
    }
    if t.rt.group == "apiextensions.k8s.io" {
        admit_crd(store, &mut object)?;
    }
    let managed = match managed {
        Some(m) => m,
        None => {
            let mut m = ManagedFields::default();
            let av = t.rt.api_version(&t.version);
            m.record_update(
                &Value::Null,
                &object,
                t.schema(),
                &t.writer(opts, &av, &time),
            );
            m
        }
    };
    if opts.dry_run {
        return Ok(object);
    }
    Ok(store.put(key, Entry { object, managed }, EventType::Added))
}

/// Registers the type a CRD describes and marks the CRD established.
fn admit_crd(store: &mut Store, crd: &mut Value) -> Result<(), ApiError> {
    let rt = ResourceType::from_crd(crd)?;
    crd["status"] = json!({
        "acceptedNames": {"kind": rt.kind, "plural": rt.plural, "listKind": rt.list_kind, "singular": rt.singular, "shortNames": rt.short_names},
        "storedVersions": [rt.versions[0].name],
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now()},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now()}
        ]
    });
    store.registry.register(rt);
    Ok(())
}

/// Everything but metadata and status: what bumps `generation` when it changes.
fn spec_part(object: &Value) -> Value {
    let mut o = object.as_object().cloned().unwrap_or_default();
    for f in ["metadata", "status", "apiVersion", "kind"] {
        o.remove(f);
    }
    Value::Object(o)
}

fn comparable(object: &Value) -> Value {
    let mut o = object.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    o
}

/// Turns a candidate object into the stored next version of `old`, enforcing the status split,
/// immutable metadata, admission and ownership; stores it unless nothing changed.
fn commit_update(
    store: &mut Store,
    t: &Target,
    old: &Entry,
    candidate: Value,
    managed: Option<ManagedFields>,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let name = t.name()?.to_string();
    let mut next = if t.status_split() && t.on_status() {
        let mut n = old.object.clone();
        match candidate.get("status") {
            Some(s) => n["status"] = s.clone(),
            None => {
                n.as_object_mut()
                    .expect("objects are maps")
                    .remove("status");
            }
        }
        n
    } else {
        let mut n = t.present(candidate);
        if t.status_split() {
            match old.object.get("status") {
                Some(s) => n["status"] = s.clone(),
                None => {
                    n.as_object_mut()
                        .expect("objects are maps")
                        .remove("status");
                }
            }
        }
        n
    };
    strip_server_fields(&mut next);
    if !next.get("metadata").is_some_and(Value::is_object) {
        next["metadata"] = json!({});
    }
    for f in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old.object["metadata"].get(f) {
            Some(v) => next["metadata"][f] = v.clone(),
            None => {
                next["metadata"]
                    .as_object_mut()
                    .expect("metadata is a map")
                    .remove(f);
            }
        }
    }
    if old.object.pointer("/metadata/deletionTimestamp").is_some() {
        let before: Vec<&Value> = old
            .object
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let added = next
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|f| !before.contains(&f)));
        if added {
            return Err(ApiError::new(
                422,
                "Invalid",
                format!(
                    "{} \"{name}\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted",
                    t.rt.qualified_kind()
                ),
            ));
        }
    }
    normalise_builtin(t, &mut next)?;
    if t.rt.custom {
        admit_custom(t, &name, &mut next, Some(&old.object))?;
        if spec_part(&next) != spec_part(&old.object) {
            let generation = old
                .object
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            next["metadata"]["generation"] = json!(generation + 1);
        }
    }
    if t.rt.group == "apiextensions.k8s.io" {
        admit_crd(store, &mut next)?;
    }
    let time = now();
    let av = t.rt.api_version(&t.version);
    let managed = match managed {
        Some(m) => m,
        None => {
            let mut m = old.managed.clone();
            m.record_update(&old.object, &next, t.schema(), &t.writer(opts, &av, &time));
            m
        }
    };
    if comparable(&next) == comparable(&old.object) {
        return Ok(t.present(old.object.clone()));
    }
    if opts.dry_run {
        return Ok(t.present(next));
    }
    let key = t.key(&name);
    let stored = store.put(
        key.clone(),
        Entry {
            object: next,
            managed,
        },
        EventType::Modified,
    );
    if lifecycle::released(&stored) {
        lifecycle::remove(store, &key);
    }
    Ok(t.present(stored))
}

fn existing(store: &Store, t: &Target) -> Result<Entry, ApiError> {
    let name = t.name()?;
    store
        .get(&t.key(name))
        .cloned()
        .ok_or_else(|| ApiError::not_found(&t.rt.qualified_plural(), name))
}

fn check_resource_version(t: &Target, old: &Entry, sent: Option<&Value>) -> Result<(), ApiError> {
    match sent.and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(rv)
            if Some(rv)
                != old
                    .object
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str) =>
        {
            Err(ApiError::stale(
                &t.rt.qualified_plural(),
                t.name.as_deref().unwrap_or_default(),
            ))
        }
        _ => Ok(()),
    }
}

/// UPDATE (PUT) an object or its status, with optimistic concurrency.
pub fn update(
    store: &mut Store,
    t: &Target,
    body: Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let old = existing(store, t)?;
    let sent_rv = body.pointer("/metadata/resourceVersion");
    if t.rt.custom && sent_rv.and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            &t.rt.qualified_kind(),
            t.name()?,
            vec![Cause {
                field: "metadata.resourceVersion".into(),
                message: "Invalid value: 0x0: must be specified for an update".into(),
            }],
        ));
    }
    check_resource_version(t, &old, sent_rv)?;
    if body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| Some(n) != t.name.as_deref())
    {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    commit_update(store, t, &old, body, None, opts)
}

/// PATCH an object or its status (merge, JSON, strategic or apply).
pub fn patch(
    store: &mut Store,
    t: &Target,
    kind: PatchKind,
    body: &[u8],
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    if kind == PatchKind::Apply {
        return apply(store, t, patch::decode_apply(body)?, opts);
    }
    if kind == PatchKind::Strategic && t.rt.custom {
        return Err(ApiError::unsupported_media_type(
            "application/strategic-merge-patch+json",
        ));
    }
    let old = existing(store, t)?;
    let mut doc = t.present(old.object.clone());
    strip_server_fields(&mut doc);
    patch::apply_patch(kind, &mut doc, body)?;
    check_resource_version(t, &old, doc.pointer("/metadata/resourceVersion"))?;
    commit_update(store, t, &old, doc, None, opts)
}

/// Server-side APPLY: creates or merges, keeping each manager's fields.
pub fn apply(
    store: &mut Store,
    t: &Target,
    mut config: Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let name = t.name()?.to_string();
    if opts.manager.is_empty() {
        return Err(ApiError::bad_request("PATCH apply requires a fieldManager"));
    }
    if !config.get("metadata").is_some_and(Value::is_object) {
        config["metadata"] = json!({});
    }
    // NB: the real server takes the name from the URL when the configuration has none.
    match config.pointer("/metadata/name").and_then(Value::as_str) {
        None | Some("") => config["metadata"]["name"] = json!(name),
        Some(n) if n == name => {}
        Some(_) => {
            return Err(ApiError::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
    }
    let mut meta = Map::new();
    for f in [
        "name",
        "namespace",
        "labels",
        "annotations",
        "finalizers",
        "ownerReferences",
    ] {
        if let Some(v) = config["metadata"].get(f) {
            meta.insert(f.into(), v.clone());
        }
    }
    config["metadata"] = Value::Object(meta);
    if t.status_split() {
        let o = config
            .as_object_mut()
            .expect("apply configurations are objects");
        if t.on_status() {
            o.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status"));
            o.insert("metadata".into(), json!({"name": name}));
        } else {
            o.remove("status");
        }
    }
    let time = now();
    let av = t.rt.api_version(&t.version);
    let writer = t.writer(opts, &av, &time);
    let conflict = |conflicts: Vec<super::managed_fields::Conflict>| {
        let list = conflicts
            .iter()
            .map(|c| format!("conflict with \"{}\": {}", c.manager, c.field))
            .collect::<Vec<_>>();
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Apply failed with {} conflict{}: {}",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                list.join(", ")
            ),
        )
    };
    match store.get(&t.key(&name)).cloned() {
        Some(old) => {
            let mut managed = old.managed.clone();
            let mut live = old.object.clone();
            strip_server_fields(&mut live);
            let merged = managed
                .apply(&live, &config, t.schema(), &writer, opts.force)
                .map_err(conflict)?;
            commit_update(store, t, &old, merged, Some(managed), opts)
        }
        None if t.on_status() => Err(ApiError::not_found(&t.rt.qualified_plural(), &name)),
        None => {
            let mut managed = ManagedFields::default();
            let merged = managed
                .apply(&Value::Null, &config, t.schema(), &writer, opts.force)
                .map_err(conflict)?;
            create(store, t, merged, opts, Some(managed))
        }
    }
}

/// DELETE an object, honouring preconditions, finalizers and propagation.
pub fn delete(store: &mut Store, t: &Target, opts: &DeleteOptions) -> Result<Value, ApiError> {
    let old = existing(store, t)?;
    let meta = &old.object["metadata"];
    if let Some(uid) = &opts.uid
        && meta["uid"].as_str() != Some(uid.as_str())
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta["uid"].as_str().unwrap_or_default()
            ),
        ));
    }
    if let Some(rv) = &opts.resource_version
        && meta["resourceVersion"].as_str() != Some(rv.as_str())
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                meta["resourceVersion"].as_str().unwrap_or_default()
            ),
        ));
    }
    if opts.dry_run {
        return Ok(t.present(old.object));
    }
    let key = t.key(t.name()?);
    let result = lifecycle::delete(store, &key, opts.propagation, &now()).unwrap_or(old.object);
    Ok(t.present(result))
}

/// DELETE a collection: every object matching the selectors.
pub fn delete_collection(
    store: &mut Store,
    t: &Target,
    q: &ListQuery,
    opts: &DeleteOptions,
) -> Result<Value, ApiError> {
    let listed = list(
        store,
        t,
        &ListQuery {
            limit: 0,
            continue_token: None,
            ..q.clone()
        },
    )?;
    let mut deleted = Vec::new();
    for item in listed["items"].as_array().into_iter().flatten() {
        let name = item["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut one = t.clone();
        one.name = Some(name);
        one.namespace = item["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        deleted.push(delete(store, &one, opts)?);
    }
    Ok(
        json!({"apiVersion": t.rt.api_version(&t.version), "kind": t.rt.list_kind, "metadata": {}, "items": deleted}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::registry::Registry;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "things.example.io"},
            "spec": {"group": "example.io", "scope": "Namespaced",
                "names": {"plural": "things", "kind": "Thing"},
                "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                        "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
                    }}}}]}
        })
    }

    fn setup() -> (Store, Target) {
        let mut store = Store::new(Registry::with_builtins(), 100);
        let opts = WriteOptions {
            manager: "test".into(),
            ..WriteOptions::default()
        };
        let ns_target = |store: &Store, plural: &str, group: &str| Target {
            rt: store.registry.find(group, "v1", plural).unwrap(),
            version: "v1".into(),
            namespace: String::new(),
            name: None,
            subresource: None,
        };
        let t = ns_target(&store, "namespaces", "");
        create(
            &mut store,
            &t,
            json!({"metadata": {"name": "ns"}}),
            &opts,
            None,
        )
        .unwrap();
        let t = ns_target(&store, "customresourcedefinitions", "apiextensions.k8s.io");
        create(&mut store, &t, crd(), &opts, None).unwrap();
        let things = Target {
            rt: store.registry.find("example.io", "v1", "things").unwrap(),
            version: "v1".into(),
            namespace: "ns".into(),
            name: None,
            subresource: None,
        };
        (store, things)
    }

    fn opts() -> WriteOptions {
        WriteOptions {
            manager: "test".into(),
            ..WriteOptions::default()
        }
    }

    fn named(t: &Target, name: &str, sub: Option<&str>) -> Target {
        Target {
            name: Some(name.into()),
            subresource: sub.map(str::to_string),
            ..t.clone()
        }
    }

    #[test]
    fn creation_stamps_metadata_and_drops_status() {
        let (mut store, t) = setup();
        let obj = create(
            &mut store,
            &t,
            json!({"metadata": {"name": "a"}, "spec": {"size": 1}, "status": {"phase": "X"}}),
            &opts(),
            None,
        )
        .unwrap();
        assert_eq!(obj["metadata"]["generation"], 1);
        assert_eq!(obj["metadata"]["namespace"], "ns");
        assert!(obj["metadata"]["uid"].is_string());
        assert!(obj.get("status").is_none());
    }

    #[test]
    fn creating_in_a_missing_namespace_is_not_found() {
        let (mut store, mut t) = setup();
        t.namespace = "nowhere".into();
        let err = create(
            &mut store,
            &t,
            json!({"metadata": {"name": "a"}}),
            &opts(),
            None,
        )
        .unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (404, "namespaces \"nowhere\" not found")
        );
    }

    #[test]
    fn a_status_patch_keeps_the_spec_and_the_generation() {
        let (mut store, t) = setup();
        create(
            &mut store,
            &t,
            json!({"metadata": {"name": "a"}, "spec": {"size": 1}}),
            &opts(),
            None,
        )
        .unwrap();
        let body = br#"{"spec": {"size": 7}, "status": {"phase": "Running"}}"#;
        let obj = patch(
            &mut store,
            &named(&t, "a", Some("status")),
            PatchKind::Merge,
            body,
            &opts(),
        )
        .unwrap();
        assert_eq!(
            (obj["spec"]["size"].clone(), obj["status"]["phase"].clone()),
            (json!(1), json!("Running"))
        );
        assert_eq!(obj["metadata"]["generation"], 1);
    }

    #[test]
    fn an_update_without_a_resource_version_is_invalid_for_custom_resources() {
        let (mut store, t) = setup();
        create(
            &mut store,
            &t,
            json!({"metadata": {"name": "a"}}),
            &opts(),
            None,
        )
        .unwrap();
        let err = update(
            &mut store,
            &named(&t, "a", None),
            json!({"metadata": {"name": "a"}, "spec": {"size": 2}}),
            &opts(),
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
    }

    #[test]
    fn a_dry_run_create_stores_nothing() {
        let (mut store, t) = setup();
        let dry = WriteOptions {
            dry_run: true,
            ..opts()
        };
        create(
            &mut store,
            &t,
            json!({"metadata": {"name": "a"}}),
            &dry,
            None,
        )
        .unwrap();
        assert_eq!(get(&store, &named(&t, "a", None)).unwrap_err().code, 404);
    }

    #[test]
    fn a_continue_token_that_is_not_ours_is_a_bad_request() {
        let (store, t) = setup();
        let q = ListQuery {
            continue_token: Some("not-base64!".into()),
            ..ListQuery::default()
        };
        assert_eq!(list(&store, &t, &q).unwrap_err().code, 400);
    }

    #[test]
    fn an_apply_without_a_name_takes_the_name_from_the_url() {
        let (mut store, t) = setup();
        let config = br#"{"apiVersion": "example.io/v1", "kind": "Thing", "spec": {"size": 2}}"#;
        let applied = patch(
            &mut store,
            &named(&t, "a", None),
            PatchKind::Apply,
            config,
            &opts(),
        )
        .unwrap();
        assert_eq!(applied["metadata"]["name"], "a");
        let other =
            br#"{"apiVersion": "example.io/v1", "kind": "Thing", "metadata": {"name": "b"}}"#;
        let err = patch(
            &mut store,
            &named(&t, "a", None),
            PatchKind::Apply,
            other,
            &opts(),
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
    }
}
