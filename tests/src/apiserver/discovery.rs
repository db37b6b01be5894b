//! Discovery documents: `/version`, `/api`, `/apis` and the resource lists of each group version.

use serde_json::{Value, json};

use super::registry::Registry;

/// `/version`.
pub fn version() -> Value {
    json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-guardrails-test", "platform": "linux/amd64"})
}

/// `/api`: the core group's versions.
pub fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
}

/// `/apis`: every non-core group.
pub fn groups(registry: &Registry) -> Value {
    let mut groups: Vec<Value> = Vec::new();
    for rt in registry.all().iter().filter(|t| !t.group.is_empty()) {
        if groups.iter().any(|g| g["name"] == rt.group.as_str()) {
            continue;
        }
        let versions: Vec<Value> = rt
            .versions
            .iter()
            .map(|v| json!({"groupVersion": rt.api_version(&v.name), "version": v.name}))
            .collect();
        groups
            .push(json!({"name": rt.group, "versions": versions, "preferredVersion": versions[0]}));
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/api/v1` or `/apis/<group>/<version>`: the resources of one group version.
pub fn resources(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let verbs = [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    let mut resources = Vec::new();
    for rt in registry.all().iter().filter(|t| t.group == group) {
        let Some(v) = rt.version(version) else {
            continue;
        };
        resources.push(json!({
            "name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
            "kind": rt.kind, "verbs": verbs, "shortNames": rt.short_names,
        }));
        if v.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", rt.plural), "singularName": "", "namespaced": rt.namespaced,
                "kind": rt.kind, "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}
