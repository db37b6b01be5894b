//! The namespaces the portal shows besides the api's own (`--portal-namespaces`): their
//! AnalysisTasks and WebhookEndpoints, kept by read-only reflectors.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt;
use guardrails_crds::{AnalysisTask, WebhookEndpoint};
use kube::runtime::reflector::{self, Store, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

/// Every namespace, as written in `--portal-namespaces`.
pub const ALL: &str = "*";

/// Reflectors of the tasks and endpoints of the portal's extra namespaces.
#[derive(Clone, Default)]
pub struct PortalNamespaces {
    tasks: Vec<Store<AnalysisTask>>,
    endpoints: Vec<Store<WebhookEndpoint>>,
}

impl PortalNamespaces {
    /// Starts watching `namespaces` (`*`: all of them) except `own`, which the api already
    /// watches.
    pub fn watch(client: &Client, namespaces: &[String], own: &str) -> Self {
        let mut scope = Self::default();
        let all = namespaces.iter().any(|n| n == ALL);
        let wanted: Vec<Option<&str>> = if all {
            vec![None]
        } else {
            let mut seen = HashSet::new();
            namespaces
                .iter()
                .map(|n| n.trim())
                .filter(|n| !n.is_empty() && *n != own && seen.insert(*n))
                .map(Some)
                .collect()
        };
        for namespace in wanted {
            scope.tasks.push(reflect(api(client, namespace)));
            scope.endpoints.push(reflect(api(client, namespace)));
        }
        scope
    }

    /// The tasks of the extra namespaces.
    pub fn tasks(&self) -> Vec<Arc<AnalysisTask>> {
        self.tasks.iter().flat_map(Store::state).collect()
    }

    /// The endpoints of the extra namespaces.
    pub fn endpoints(&self) -> Vec<Arc<WebhookEndpoint>> {
        self.endpoints.iter().flat_map(Store::state).collect()
    }

    /// The task with this uid in the extra namespaces.
    pub fn task(&self, uid: &str) -> Option<Arc<AnalysisTask>> {
        self.tasks()
            .into_iter()
            .find(|t| t.metadata.uid.as_deref() == Some(uid))
    }
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

/// A store kept current by a watch of `api` (retried with backoff) until the process ends.
fn reflect<K>(api: Api<K>) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (store, writer) = reflector::store();
    tokio::spawn(async move {
        let stream = reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
        stream.for_each(|_| std::future::ready(())).await;
    });
    store
}
