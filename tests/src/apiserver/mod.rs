//! A Kubernetes API test server: the real binaries and `kube::Client` talk to it unchanged
//! through a kubeconfig (HTTP on 127.0.0.1, bearer token).
//!
//! One file per concern: [`store`] (objects, resourceVersions, history), [`watch`],
//! [`verbs`] (get/list/create/update/patch/apply/delete), [`managed_fields`] (server-side apply),
//! [`schema`] and [`cel`] (admission of custom resources), [`lifecycle`] (finalizers, garbage
//! collection, namespaces), [`selectors`], [`faults`], [`registry`], [`discovery`], [`routes`].

pub mod api_error;
pub mod cel;
pub mod discovery;
pub mod faults;
pub mod kubeconfig;
pub mod lifecycle;
pub mod managed_fields;
pub mod patch;
pub mod registry;
pub mod routes;
pub mod schema;
pub mod selectors;
pub mod store;
pub mod verbs;
pub mod watch;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::{Error, manifests};
use faults::{Fault, Faults};
use registry::Registry;
use store::Store;
use verbs::{Target, WriteOptions};

/// One request the server received (for assertions on what a binary sent).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query string.
    pub path_and_query: String,
}

/// State shared by every request of one server.
#[derive(Debug)]
pub struct ServerState {
    store: Mutex<Store>,
    faults: Faults,
    token: String,
    bookmark_interval: Duration,
    close_watches: tokio::sync::watch::Sender<u64>,
    requests: Mutex<Vec<RecordedRequest>>,
}

const MAX_RECORDED_REQUESTS: usize = 10_000;

impl ServerState {
    fn record(&self, request: RecordedRequest) {
        let mut requests = self.requests.lock().expect("request log lock");
        if requests.len() < MAX_RECORDED_REQUESTS {
            requests.push(request);
        }
    }
}

/// Options of a [`TestServer`] before it starts.
#[derive(Debug, Clone)]
pub struct TestServerBuilder {
    crds: Vec<Value>,
    namespaces: Vec<String>,
    history_limit: usize,
    bookmark_interval: Duration,
}

impl Default for TestServerBuilder {
    fn default() -> Self {
        Self {
            crds: Vec::new(),
            namespaces: vec!["default".into(), "kube-system".into()],
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(1),
        }
    }
}

impl TestServerBuilder {
    /// Installs every CRD found in the YAML manifests of `dir`.
    pub fn crd_manifests(mut self, dir: impl AsRef<Path>) -> Result<Self, Error> {
        self.crds.extend(manifests::load_crds(dir.as_ref())?);
        Ok(self)
    }

    /// Installs one CRD object.
    pub fn crd(mut self, crd: Value) -> Self {
        self.crds.push(crd);
        self
    }

    /// Creates a namespace at start (`default` and `kube-system` always exist).
    pub fn namespace(mut self, name: &str) -> Self {
        self.namespaces.push(name.to_string());
        self
    }

    /// How many changes watches can replay before a resourceVersion is 410 Gone.
    pub fn history_limit(mut self, changes: usize) -> Self {
        self.history_limit = changes.max(1);
        self
    }

    /// How often a watch that allows bookmarks gets one.
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = interval;
        self
    }

    /// Starts the server on a free port of 127.0.0.1 and writes its kubeconfig.
    pub async fn start(self) -> Result<TestServer, Error> {
        let token = format!("test-{}", uuid::Uuid::new_v4().simple());
        let mut store = Store::new(Registry::with_builtins(), self.history_limit);
        let internal = WriteOptions {
            manager: "guardrails-test-server".into(),
            ..WriteOptions::default()
        };
        for ns in &self.namespaces {
            let target = builtin_target(&store, "", "namespaces");
            verbs::create(
                &mut store,
                &target,
                json!({"metadata": {"name": ns}}),
                &internal,
                None,
            )
            .map_err(|e| Error::TestServer(e.message))?;
        }
        for crd in self.crds {
            let target =
                builtin_target(&store, "apiextensions.k8s.io", "customresourcedefinitions");
            verbs::create(&mut store, &target, crd, &internal, None)
                .map_err(|e| Error::TestServer(e.message))?;
        }
        let (close_watches, _) = tokio::sync::watch::channel(0);
        let state = Arc::new(ServerState {
            store: Mutex::new(store),
            faults: Faults::default(),
            token: token.clone(),
            bookmark_interval: self.bookmark_interval,
            close_watches,
            requests: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // NB: as the real API server (Go sets TCP_NODELAY on every connection): with Nagle on,
        // a watch event written while the previous one is unacknowledged waits for the client's
        // delayed ACK (~40 ms).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = axum::Router::new()
            .fallback(routes::handle)
            .with_state(state.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "test server stopped");
            }
        });
        let dir = tempfile::tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        kubeconfig::write(&kubeconfig, &format!("http://{addr}"), &token, "default")?;
        Ok(TestServer {
            addr,
            state,
            kubeconfig,
            _dir: dir,
            shutdown: Some(shutdown),
        })
    }
}

fn builtin_target(store: &Store, group: &str, plural: &str) -> Target {
    Target {
        rt: store
            .registry
            .find(group, "v1", plural)
            .expect("built-in type"),
        version: "v1".into(),
        namespace: String::new(),
        name: None,
        subresource: None,
    }
}

/// A running test server; stops when dropped.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// A builder with default options.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// The server URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token clients must send.
    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The kubeconfig file to hand to processes (`KUBECONFIG`).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A `kube::Client` built from the kubeconfig, as a binary would build it.
    pub async fn client(&self) -> Result<kube::Client, Error> {
        client_from_kubeconfig(&self.kubeconfig).await
    }

    /// Adds a fault rule (error codes or latency for matching requests).
    pub fn inject(&self, fault: Fault) {
        self.state.faults.add(fault);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Ends every open watch stream now (clients must re-watch).
    pub fn close_watches(&self) {
        self.state.close_watches.send_modify(|n| *n += 1);
    }

    /// Forgets the change history: watches from any older resourceVersion get 410 Gone.
    pub fn compact(&self) {
        self.state.store.lock().expect("store lock").compact();
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.state.store.lock().expect("store lock").current_rv()
    }

    /// Every request received so far (at most the first 10 000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .expect("request log lock")
            .clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.close_watches();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Builds a `kube::Client` from a kubeconfig file, ignoring `KUBECONFIG` and in-cluster config.
pub async fn client_from_kubeconfig(path: &Path) -> Result<kube::Client, Error> {
    let kubeconfig =
        kube::config::Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig(e.to_string()))?;
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .map_err(|e| Error::Kubeconfig(e.to_string()))?;
    Ok(kube::Client::try_from(config)?)
}
