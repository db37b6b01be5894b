//! CRD manifests read from YAML files (`charts/guardrails/crds/`), whatever CRDs they hold.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::Error;

/// The chart's CRD directory in this repository.
pub fn chart_crd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/guardrails/crds")
}

/// Every `CustomResourceDefinition` document in the `*.yaml`/`*.yml` files of `dir`, by file name.
pub fn load_crds(dir: &Path) -> Result<Vec<Value>, Error> {
    let manifest_error = |message: String| Error::Manifest {
        path: dir.display().to_string(),
        message,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| manifest_error(e.to_string()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let mut crds = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| Error::Manifest {
            path: file.display().to_string(),
            message: e.to_string(),
        })?;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc).map_err(|e| Error::Manifest {
                path: file.display().to_string(),
                message: e.to_string(),
            })?;
            if value.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
                crds.push(value);
            }
        }
    }
    if crds.is_empty() {
        return Err(manifest_error("no CustomResourceDefinition found".into()));
    }
    Ok(crds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crd_document_of_every_file_is_loaded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.yaml"),
            "kind: CustomResourceDefinition\nmetadata: {name: a}\n---\nkind: ConfigMap\n---\nkind: CustomResourceDefinition\nmetadata: {name: b}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("notes.txt"),
            "kind: CustomResourceDefinition",
        )
        .unwrap();
        let names: Vec<_> = load_crds(dir.path())
            .unwrap()
            .iter()
            .map(|c| c["metadata"]["name"].clone())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_directory_without_crds_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            load_crds(dir.path())
                .unwrap_err()
                .to_string()
                .contains("no CustomResourceDefinition")
        );
    }
}
