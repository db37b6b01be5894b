//! The committed `docs/openapi.json` is the document the server serves.
//! Regenerate it with `UPDATE_OPENAPI=1 cargo test -p guardrails-api --test openapi`.

use std::path::PathBuf;

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let generated = guardrails_api::openapi::document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date; run `UPDATE_OPENAPI=1 cargo test -p guardrails-api --test openapi` and commit it"
    );
}
