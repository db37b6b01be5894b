//! The resource types the test server serves: built-in kinds and CRDs read from manifests.

use std::sync::Arc;

use serde_json::Value;

use super::api_error::ApiError;

/// One served version of a resource type.
#[derive(Debug, Clone)]
pub struct ServedVersion {
    /// Version name, e.g. `v1alpha1`.
    pub name: String,
    /// The version's `openAPIV3Schema`, if it has one.
    pub schema: Option<Value>,
    /// Whether `/status` is a separate subresource in this version.
    pub status_subresource: bool,
}

/// A resource type: group, plural, kind, scope and versions.
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// API group, empty for the core group.
    pub group: String,
    /// Lower-case plural used in URLs, e.g. `analysistasks`.
    pub plural: String,
    /// Singular name, e.g. `analysistask`.
    pub singular: String,
    /// Kind, e.g. `AnalysisTask`.
    pub kind: String,
    /// Kind of the list, e.g. `AnalysisTaskList`.
    pub list_kind: String,
    /// Short names, e.g. `at`.
    pub short_names: Vec<String>,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Served versions; the first is the preferred one.
    pub versions: Vec<ServedVersion>,
    /// Whether the type comes from a CustomResourceDefinition (gets `generation`, schema, CEL).
    pub custom: bool,
}

impl ResourceType {
    /// `plural.group` (or just `plural` for the core group), as used in messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Kind.group` (or just `Kind`), as used in validation messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `group/version` (or just `version` for the core group).
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// The served version named `version`.
    pub fn version(&self, version: &str) -> Option<&ServedVersion> {
        self.versions.iter().find(|v| v.name == version)
    }

    /// Reads a type from a `CustomResourceDefinition` object (YAML or JSON decoded).
    pub fn from_crd(crd: &Value) -> Result<Self, ApiError> {
        let text = |ptr: &str| crd.pointer(ptr).and_then(Value::as_str).map(str::to_string);
        let missing =
            |what: &str| ApiError::bad_request(format!("CustomResourceDefinition has no {what}"));
        let group = text("/spec/group").ok_or_else(|| missing("spec.group"))?;
        let plural = text("/spec/names/plural").ok_or_else(|| missing("spec.names.plural"))?;
        let kind = text("/spec/names/kind").ok_or_else(|| missing("spec.names.kind"))?;
        let scope = text("/spec/scope").ok_or_else(|| missing("spec.scope"))?;
        let mut versions = Vec::new();
        for v in crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if v.get("served").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let name = v
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("spec.versions[].name"))?;
            let served = ServedVersion {
                name: name.to_string(),
                schema: v.pointer("/schema/openAPIV3Schema").cloned(),
                status_subresource: v.pointer("/subresources/status").is_some(),
            };
            // NB: the storage version goes first so that it is the preferred one in discovery.
            if v.get("storage").and_then(Value::as_bool) == Some(true) {
                versions.insert(0, served);
            } else {
                versions.push(served);
            }
        }
        if versions.is_empty() {
            return Err(missing("served version"));
        }
        Ok(Self {
            group,
            singular: text("/spec/names/singular").unwrap_or_else(|| kind.to_lowercase()),
            list_kind: text("/spec/names/listKind").unwrap_or_else(|| format!("{kind}List")),
            short_names: crd
                .pointer("/spec/names/shortNames")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            plural,
            kind,
            namespaced: scope == "Namespaced",
            versions,
            custom: true,
        })
    }

    fn builtin(
        group: &str,
        version: &str,
        plural: &str,
        kind: &str,
        namespaced: bool,
        status: bool,
    ) -> Self {
        Self {
            group: group.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            short_names: Vec::new(),
            namespaced,
            versions: vec![ServedVersion {
                name: version.into(),
                schema: None,
                status_subresource: status,
            }],
            custom: false,
        }
    }
}

/// All resource types the server knows, looked up by group, version and plural.
#[derive(Debug, Clone)]
pub struct Registry {
    types: Vec<Arc<ResourceType>>,
}

impl Registry {
    /// The built-in kinds the project uses: Namespaces, Secrets, ConfigMaps, core and
    /// `events.k8s.io` Events, Leases and CustomResourceDefinitions.
    pub fn with_builtins() -> Self {
        let types = vec![
            ResourceType::builtin("", "v1", "namespaces", "Namespace", false, true),
            ResourceType::builtin("", "v1", "secrets", "Secret", true, false),
            ResourceType::builtin("", "v1", "configmaps", "ConfigMap", true, false),
            ResourceType::builtin("", "v1", "events", "Event", true, false),
            ResourceType::builtin("events.k8s.io", "v1", "events", "Event", true, false),
            ResourceType::builtin("coordination.k8s.io", "v1", "leases", "Lease", true, false),
            ResourceType::builtin(
                "apiextensions.k8s.io",
                "v1",
                "customresourcedefinitions",
                "CustomResourceDefinition",
                false,
                true,
            ),
        ];
        Self {
            types: types.into_iter().map(Arc::new).collect(),
        }
    }

    /// Adds or replaces the type a CRD describes.
    pub fn register(&mut self, rt: ResourceType) -> Arc<ResourceType> {
        let rt = Arc::new(rt);
        self.types
            .retain(|t| !(t.group == rt.group && t.plural == rt.plural));
        self.types.push(rt.clone());
        rt
    }

    /// Removes the type with this group and plural (its CRD was deleted).
    pub fn unregister(&mut self, group: &str, plural: &str) {
        self.types
            .retain(|t| !(t.group == group && t.plural == plural && t.custom));
    }

    /// The type served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.plural == plural && t.version(version).is_some())
            .cloned()
    }

    /// Every type, for discovery.
    pub fn all(&self) -> &[Arc<ResourceType>] {
        &self.types
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.io"},
            "spec": {
                "group": "example.io",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "scope": "Namespaced",
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true,
                     "subresources": {"status": {}},
                     "schema": {"openAPIV3Schema": {"type": "object"}}},
                    {"name": "v0", "served": false, "storage": false}
                ]
            }
        })
    }

    #[test]
    fn a_crd_becomes_a_type_with_its_storage_version_first() {
        let rt = ResourceType::from_crd(&crd()).unwrap();
        assert_eq!(rt.kind, "Widget");
        assert_eq!(rt.list_kind, "WidgetList");
        assert!(rt.namespaced);
        assert_eq!(
            rt.versions
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>(),
            ["v1", "v1beta1"]
        );
        assert!(rt.versions[0].status_subresource);
        assert!(!rt.versions[1].status_subresource);
        assert_eq!(rt.short_names, ["wd"]);
    }

    #[test]
    fn a_crd_without_a_group_is_refused() {
        let mut bad = crd();
        bad["spec"].as_object_mut().unwrap().remove("group");
        assert!(
            ResourceType::from_crd(&bad)
                .unwrap_err()
                .message
                .contains("spec.group")
        );
    }

    #[test]
    fn registered_types_are_found_by_any_served_version() {
        let mut reg = Registry::with_builtins();
        reg.register(ResourceType::from_crd(&crd()).unwrap());
        assert!(reg.find("example.io", "v1beta1", "widgets").is_some());
        assert!(reg.find("example.io", "v0", "widgets").is_none());
        assert!(reg.find("coordination.k8s.io", "v1", "leases").is_some());
        reg.unregister("example.io", "widgets");
        assert!(reg.find("example.io", "v1", "widgets").is_none());
    }
}
