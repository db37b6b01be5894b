//! The committed CRD manifests are exactly what `crdgen` prints.

use std::path::PathBuf;

use guardrails_crds::manifests::{CHART_CRDS_DIR, manifests};

#[test]
fn committed_crd_manifests_match_the_rust_types() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(CHART_CRDS_DIR);
    for (file, expected) in manifests() {
        let path = dir.join(&file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "{} is out of date with the Rust types; regenerate it with\n  \
             cargo run -p guardrails-crds --bin crdgen -- --out {CHART_CRDS_DIR}",
            path.display()
        );
    }
    let mut committed_files: Vec<String> = std::fs::read_dir(&dir)
        .expect("the chart's crds directory exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    committed_files.sort();
    let mut expected_files: Vec<String> = manifests().into_iter().map(|(f, _)| f).collect();
    expected_files.sort();
    assert_eq!(
        committed_files, expected_files,
        "stale or missing files in {CHART_CRDS_DIR}"
    );
}
