//! The kubeconfig file that points clients and the real binaries at the test server.

use std::path::Path;

use serde_json::json;

/// Writes a kubeconfig for `server` (e.g. `http://127.0.0.1:1234`) with a bearer `token`.
pub fn write(path: &Path, server: &str, token: &str, namespace: &str) -> std::io::Result<()> {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "guardrails-test", "cluster": {"server": server}}],
        "users": [{"name": "guardrails-test", "user": {"token": token}}],
        "contexts": [{"name": "guardrails-test", "context": {
            "cluster": "guardrails-test", "user": "guardrails-test", "namespace": namespace
        }}],
        "current-context": "guardrails-test",
    });
    let text = serde_yaml::to_string(&config).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_file_is_a_kubeconfig_kube_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        write(&path, "http://127.0.0.1:9", "secret-token", "default").unwrap();
        let parsed = kube::config::Kubeconfig::read_from(&path).unwrap();
        assert_eq!(parsed.current_context.as_deref(), Some("guardrails-test"));
        let cluster = parsed.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("http://127.0.0.1:9"));
    }
}
