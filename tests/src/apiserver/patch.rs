//! Patch kinds: JSON merge patch, JSON patch, strategic merge (approximated) and apply.

use serde_json::Value;

use super::api_error::ApiError;

/// The kind of a PATCH request, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/strategic-merge-patch+json`: built-in kinds only.
    Strategic,
    /// `application/apply-patch+yaml`: server-side apply.
    Apply,
}

impl PatchKind {
    /// Reads the patch kind from a `Content-Type` header.
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        match mime {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/json-patch+json" => Ok(Self::Json),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(Self::Apply),
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }
}

/// Applies a merge, JSON or strategic patch body to `doc`.
///
/// Strategic merge patches are applied as merge patches: list merge keys of built-in kinds are
/// not known to the test server.
pub fn apply_patch(kind: PatchKind, doc: &mut Value, body: &[u8]) -> Result<(), ApiError> {
    match kind {
        PatchKind::Merge | PatchKind::Strategic => {
            let patch: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            json_patch::merge(doc, &patch);
            Ok(())
        }
        PatchKind::Json => {
            let patch: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            json_patch::patch(doc, &patch).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })
        }
        PatchKind::Apply => Err(ApiError::bad_request("apply is not a plain patch")),
    }
}

/// Decodes the body of an apply request (YAML or JSON).
pub fn decode_apply(body: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_yaml::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "apply configuration must be an object",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_types_select_the_patch_kind() {
        assert_eq!(
            PatchKind::from_content_type("application/merge-patch+json").unwrap(),
            PatchKind::Merge
        );
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml; charset=utf-8").unwrap(),
            PatchKind::Apply
        );
        assert_eq!(
            PatchKind::from_content_type("text/plain").unwrap_err().code,
            415
        );
    }

    #[test]
    fn a_merge_patch_sets_and_removes_fields() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}});
        apply_patch(PatchKind::Merge, &mut doc, br#"{"a": null, "b": {"c": 5}}"#).unwrap();
        assert_eq!(doc, json!({"b": {"c": 5, "d": 3}}));
    }

    #[test]
    fn a_failed_json_patch_test_is_refused() {
        let mut doc = json!({"metadata": {"finalizers": ["a"]}});
        let body = br#"[{"op": "test", "path": "/metadata/finalizers", "value": ["b"]}, {"op": "remove", "path": "/metadata/finalizers"}]"#;
        assert_eq!(
            apply_patch(PatchKind::Json, &mut doc, body)
                .unwrap_err()
                .code,
            422
        );
        assert_eq!(doc, json!({"metadata": {"finalizers": ["a"]}}));
    }
}
