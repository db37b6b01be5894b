//! A Kubernetes API for one test: the test server, or a real cluster when `E2E_KUBECONFIG` is
//! set. Either way the CRDs are installed from their manifests and the test gets a fresh
//! namespace, deleted at the end.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use k8s_openapi::{
    api::core::v1::Namespace,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client,
    api::{DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams},
    discovery::Scope,
};
use serde_json::{Value, json};

use crate::{
    Error,
    apiserver::{TestServer, client_from_kubeconfig},
    kit::{BinarySpec, wait::wait_for_object},
    manifests,
};

/// The variable that switches the suite to a real cluster.
pub const REAL_CLUSTER_VARIABLE: &str = "E2E_KUBECONFIG";

/// Label put on every namespace the suite creates.
pub const NAMESPACE_LABEL: &str = "guardrails.io/e2e";

const FIELD_MANAGER: &str = "guardrails-e2e";

/// The API of one test, with CRDs installed and a fresh namespace.
pub struct TestCluster {
    server: Option<TestServer>,
    client: Client,
    kubeconfig: PathBuf,
    namespace: String,
    cleaned: bool,
}

impl TestCluster {
    /// A cluster with the chart's CRDs (`charts/guardrails/crds/`).
    pub async fn start() -> Result<Self, Error> {
        Self::with_crds(&manifests::chart_crd_dir()).await
    }

    /// A cluster with the CRDs of the manifests in `dir`.
    pub async fn with_crds(dir: &Path) -> Result<Self, Error> {
        let crds = manifests::load_crds(dir)?;
        let (server, kubeconfig) = match std::env::var(REAL_CLUSTER_VARIABLE) {
            Ok(path) if !path.is_empty() => (None, PathBuf::from(path)),
            _ => {
                let server = TestServer::builder().start().await?;
                let path = server.kubeconfig_path().to_path_buf();
                (Some(server), path)
            }
        };
        let client = client_from_kubeconfig(&kubeconfig).await?;
        install_crds(&client, &crds).await?;
        let namespace = format!("e2e-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let ns: Namespace = serde_json::from_value(json!({
            "metadata": {"name": namespace, "labels": {NAMESPACE_LABEL: "true"}}
        }))
        .map_err(|e| Error::Kubeconfig(e.to_string()))?;
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await?;
        Ok(Self {
            server,
            client,
            kubeconfig,
            namespace,
            cleaned: false,
        })
    }

    /// A client for the cluster.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The test's own namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The kubeconfig to give the binaries.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A spec for a workspace binary already pointed at this cluster (`KUBECONFIG`).
    pub fn binary(&self, name: &str, package: &str) -> BinarySpec {
        BinarySpec::new(name, package).kubeconfig(&self.kubeconfig)
    }

    /// The test server, when not running against a real cluster (for faults and compaction).
    pub fn test_server(&self) -> Option<&TestServer> {
        self.server.as_ref()
    }

    /// The test server, or `None` after saying on stderr that the test ends early on a real
    /// cluster because it needs the test server for `why` (fault injection, compaction, …).
    pub fn needs_test_server(&self, why: &str) -> Option<&TestServer> {
        if self.server.is_none() {
            eprintln!("skipped on a real cluster: needs the test server to {why}");
        }
        self.server.as_ref()
    }

    /// Whether this runs against a real cluster.
    pub fn is_real(&self) -> bool {
        self.server.is_none()
    }

    /// A dynamic API for `kind` of `group/version` in the test namespace, found by discovery.
    pub async fn api_for(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Result<Api<DynamicObject>, Error> {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk).await?;
        Ok(if caps.scope == Scope::Namespaced {
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
        } else {
            Api::all_with(self.client.clone(), &resource)
        })
    }

    /// Deletes the test namespace (and with it everything the test created).
    pub async fn cleanup(mut self) -> Result<(), Error> {
        self.cleaned = true;
        delete_namespace(&self.client, &self.namespace).await
    }
}

async fn delete_namespace(client: &Client, namespace: &str) -> Result<(), Error> {
    match Api::<Namespace>::all(client.clone())
        .delete(namespace, &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

impl std::fmt::Debug for TestCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCluster")
            .field("real", &self.is_real())
            .field("kubeconfig", &self.kubeconfig)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if self.cleaned || self.server.is_some() {
            return;
        }
        // NB: a real cluster outlives the test; a panicking test still removes its namespace,
        // from a fresh runtime because the test's runtime may be shutting down.
        let (kubeconfig, namespace) = (self.kubeconfig.clone(), self.namespace.clone());
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let client = client_from_kubeconfig(&kubeconfig).await?;
                delete_namespace(&client, &namespace).await
            })
        });
        if let Ok(Err(e)) = cleanup.join() {
            eprintln!("could not delete test namespace {}: {e}", self.namespace);
        }
    }
}

/// Installs (server-side applies) every CRD and waits until each is Established.
pub async fn install_crds(client: &Client, crds: &[Value]) -> Result<(), Error> {
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for crd in crds {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Manifest {
                path: "CRD manifest".into(),
                message: "a CustomResourceDefinition has no metadata.name".into(),
            })?;
        api.patch(name, &params, &Patch::Apply(crd)).await?;
        wait_for_object(
            &api,
            name,
            "the CRD to be Established",
            Duration::from_secs(60),
            &[],
            |crd| {
                crd.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|conds| {
                        conds
                            .iter()
                            .any(|c| c.type_ == "Established" && c.status == "True")
                    })
            },
        )
        .await?;
    }
    Ok(())
}

/// Field manager of the operator's status applies (as `guardrails-operator` writes them).
pub const OPERATOR_FIELD_MANAGER: &str = "guardrails-operator";

/// Applies `status` to the AnalysisTask `name` under the operator's field manager, as the
/// operator finishes a task (tests that hold the operator still play its part with this).
pub async fn apply_status_as_operator<K>(api: &Api<K>, name: &str, status: Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let patch = json!({"apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask",
        "status": status});
    api.patch_status(
        name,
        &kube::api::PatchParams::apply(OPERATOR_FIELD_MANAGER),
        &kube::api::Patch::Apply(&patch),
    )
    .await
    .unwrap_or_else(|e| panic!("cannot apply the status of {name}: {e}"))
}
