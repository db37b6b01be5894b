//! `WebhookEndpoint` status: delivery counters (written at most every few seconds), the last
//! delivery and the `Ready` condition.

use super::policy::{endpoint_transport, secret_present, usable_endpoint};
use super::status::FIELD_MANAGER;
use crate::Result;
use crate::attempt::Outcome;
use guardrails_crds::conditions::{READY, find_condition, new_condition, set_condition};
use guardrails_crds::endpoint::LastDelivery;
use guardrails_crds::{WebhookEndpoint, WebhookEndpointStatus};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

/// What happened to a delivery governed by an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointEvent {
    /// A delivery ended with this outcome (`succeeded`, `failed` or `rejected`).
    Ended(Outcome),
    /// An attempt was deferred by the rate limit.
    RateLimited,
}

/// How often counted deliveries are written to the endpoints' status, at most.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// An endpoint's status as this agent keeps it, and whether it has news to write.
struct Entry {
    status: WebhookEndpointStatus,
    dirty: bool,
}

/// Keeps each endpoint's counters and writes them to its status, coalesced per flush.
pub struct EndpointStatusBook {
    client: Client,
    // NB: counters start from the status last seen, and every write sends the whole status the
    // book holds, so concurrent deliveries never lose an increment.
    known: std::sync::Mutex<HashMap<(String, String), Entry>>,
    // NB: one write at a time, so an older snapshot never lands after a newer one.
    writing: Mutex<()>,
}

impl EndpointStatusBook {
    /// A book writing through `client`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            known: Default::default(),
            writing: Mutex::default(),
        }
    }

    /// Counts `event` for task `task_id` on `endpoint`; the next [`flush`](Self::flush) writes it.
    pub fn record(
        &self,
        endpoint: &WebhookEndpoint,
        event: EndpointEvent,
        task_id: &str,
        http_status: Option<u16>,
    ) {
        let mut known = self.known.lock().expect("poisoned");
        let entry = entry(&mut known, endpoint);
        let status = &mut entry.status;
        match event {
            EndpointEvent::RateLimited => status.rate_limited += 1,
            EndpointEvent::Ended(outcome) => {
                match outcome {
                    Outcome::Succeeded => status.succeeded += 1,
                    Outcome::Failed => status.failed += 1,
                    Outcome::Rejected => status.rejected += 1,
                }
                status.last_delivery = Some(LastDelivery {
                    time: Time(jiff::Timestamp::now()),
                    task_id: task_id.to_owned(),
                    outcome: outcome.as_str().to_owned(),
                    http_status: http_status.map(i32::from),
                });
            }
        }
        entry.dirty = true;
    }

    /// Writes the status of every endpoint with counts not yet written; the number written.
    pub async fn flush(&self) -> usize {
        let _writing = self.writing.lock().await;
        let pending: Vec<_> = {
            let mut known = self.known.lock().expect("poisoned");
            known
                .iter_mut()
                .filter(|(_, entry)| entry.dirty)
                .map(|(key, entry)| {
                    entry.dirty = false;
                    (key.clone(), entry.status.clone())
                })
                .collect()
        };
        let mut written = 0;
        for ((namespace, name), status) in pending {
            match self.write(&namespace, &name, &status).await {
                Ok(()) => written += 1,
                Err(e) => {
                    tracing::warn!(endpoint = %name, %namespace, error = %e, "could not write the WebhookEndpoint counters; retrying at the next flush");
                    if let Some(entry) = self
                        .known
                        .lock()
                        .expect("poisoned")
                        .get_mut(&(namespace, name))
                    {
                        entry.dirty = true;
                    }
                }
            }
        }
        written
    }

    /// Brings the endpoint's `Ready` condition in line with its spec and Secrets as they are
    /// now; writes only when the condition or the observed generation changed. True if it wrote.
    pub async fn refresh_ready(
        &self,
        endpoint: &WebhookEndpoint,
        secret: impl Fn(&str) -> Option<Arc<Secret>>,
    ) -> Result<bool> {
        let _writing = self.writing.lock().await;
        let status = {
            let mut known = self.known.lock().expect("poisoned");
            let entry = entry(&mut known, endpoint);
            if !ready_outdated(&entry.status, endpoint, &secret) {
                return Ok(false);
            }
            set_ready(
                &mut entry.status,
                endpoint,
                &secret,
                Time(jiff::Timestamp::now()),
            );
            entry.dirty = false;
            entry.status.clone()
        };
        let namespace = endpoint.namespace().unwrap_or_default();
        self.write(&namespace, &endpoint.name_any(), &status)
            .await?;
        Ok(true)
    }

    async fn write(
        &self,
        namespace: &str,
        name: &str,
        status: &WebhookEndpointStatus,
    ) -> Result<()> {
        let patch = json!({
            "apiVersion": "guardrails.io/v1alpha1",
            "kind": "WebhookEndpoint",
            "status": status,
        });
        let api: Api<WebhookEndpoint> = Api::namespaced(self.client.clone(), namespace);
        api.patch_status(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
        Ok(())
    }
}

/// The book's entry of `endpoint`, started from the status last seen.
fn entry<'a>(
    known: &'a mut HashMap<(String, String), Entry>,
    endpoint: &WebhookEndpoint,
) -> &'a mut Entry {
    let key = (
        endpoint.namespace().unwrap_or_default(),
        endpoint.name_any(),
    );
    known.entry(key).or_insert_with(|| Entry {
        status: endpoint.status.clone().unwrap_or_default(),
        dirty: false,
    })
}

/// Sets `Ready` and the observed generation of `status` from the endpoint's Secrets.
fn set_ready(
    status: &mut WebhookEndpointStatus,
    endpoint: &WebhookEndpoint,
    secret: &impl Fn(&str) -> Option<Arc<Secret>>,
    now: Time,
) {
    let (ready, reason, message) = readiness(endpoint, secret);
    set_condition(
        &mut status.conditions,
        new_condition(
            READY,
            ready,
            reason,
            message,
            endpoint.metadata.generation,
            now,
        ),
    );
    status.observed_generation = endpoint.metadata.generation;
}

/// Whether `status` misses the `Ready` the endpoint's Secrets call for, or is of an older spec.
pub fn ready_outdated(
    status: &WebhookEndpointStatus,
    endpoint: &WebhookEndpoint,
    secret: &impl Fn(&str) -> Option<Arc<Secret>>,
) -> bool {
    let (ready, reason, message) = readiness(endpoint, secret);
    let current = find_condition(&status.conditions, READY);
    status.observed_generation != endpoint.metadata.generation
        || current.is_none_or(|c| {
            (c.status == "True") != ready || c.reason != reason || c.message != message
        })
}

/// Namespaces whose WebhookEndpoints may need their `Ready` refreshed, and a wake-up for the
/// task that refreshes them.
#[derive(Default)]
pub struct ReadyRefresh {
    dirty: std::sync::Mutex<HashSet<String>>,
    wake: Notify,
}

impl ReadyRefresh {
    /// Marks the endpoints of `namespace` for a refresh.
    pub fn mark(&self, namespace: &str) {
        self.dirty
            .lock()
            .expect("poisoned")
            .insert(namespace.to_owned());
        self.wake.notify_one();
    }

    /// Waits for marked namespaces and takes them.
    pub async fn next(&self) -> HashSet<String> {
        loop {
            let taken = std::mem::take(&mut *self.dirty.lock().expect("poisoned"));
            if !taken.is_empty() {
                return taken;
            }
            self.wake.notified().await;
        }
    }
}

/// Whether `endpoint` signs with the Secret `name` (current or previous) or reads its CA,
/// client certificate or headers from it.
pub fn references_secret(endpoint: &WebhookEndpoint, name: &str) -> bool {
    let spec = &endpoint.spec;
    spec.signing_secret_ref
        .iter()
        .chain(&spec.previous_signing_secret_refs)
        .any(|r| r.name == name)
        || spec.transport_secret_names().any(|n| n == name)
}

/// Whether the endpoint can be used (its domains and retry schedule parse), its transport
/// Secrets can be used and its signing secrets exist and hold their keys, with a reason and
/// message.
pub fn readiness(
    endpoint: &WebhookEndpoint,
    secret: &impl Fn(&str) -> Option<Arc<Secret>>,
) -> (bool, &'static str, String) {
    if let Err(e) = usable_endpoint(endpoint) {
        let reason = match e {
            crate::Error::InvalidDomain(_) => "InvalidDomain",
            _ => "InvalidRetrySchedule",
        };
        return (false, reason, format!("{e}; this endpoint is ignored"));
    }
    if let Err(problem) = endpoint_transport(endpoint, secret) {
        let message = format!("{}; deliveries fail until it is fixed", problem.message);
        return (false, problem.reason, message);
    }
    let spec = &endpoint.spec;
    let Some(current) = &spec.signing_secret_ref else {
        return (
            true,
            "ServerWideSecret",
            "signs with the server-wide WEBHOOK_SIGNING_SECRET".into(),
        );
    };
    let missing: Vec<String> = std::iter::once(current)
        .chain(&spec.previous_signing_secret_refs)
        .filter(|r| !secret_present(r, secret))
        .map(|r| format!("{}/{}", r.name, r.key))
        .collect();
    if missing.is_empty() {
        (
            true,
            "SecretsFound",
            "every signing secret exists and holds its key".into(),
        )
    } else {
        (
            false,
            "SecretMissing",
            format!("missing Secret key(s): {}", missing.join(", ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    fn endpoint(spec: serde_json::Value) -> WebhookEndpoint {
        serde_json::from_value(json!({
            "apiVersion": "guardrails.io/v1alpha1", "kind": "WebhookEndpoint",
            "metadata": {"name": "partner", "namespace": "ns", "generation": 2}, "spec": spec,
        }))
        .unwrap()
    }

    fn hmac_secret() -> Arc<Secret> {
        let mut s = Secret::default();
        s.metadata.name = Some("hmac".into());
        s.data = Some(BTreeMap::from([("key".into(), ByteString(b"v".to_vec()))]));
        Arc::new(s)
    }

    #[test]
    fn ready_follows_the_secret_and_is_written_only_on_a_change() {
        let endpoint = endpoint(
            json!({"domains": ["p.io"], "signingSecretRef": {"name": "hmac", "key": "key"}}),
        );
        let missing = |_: &str| None;
        let present = |_: &str| Some(hmac_secret());
        let mut status = WebhookEndpointStatus::default();
        assert!(ready_outdated(&status, &endpoint, &missing));
        set_ready(
            &mut status,
            &endpoint,
            &missing,
            Time(jiff::Timestamp::now()),
        );
        let ready = find_condition(&status.conditions, READY).unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "SecretMissing")
        );
        assert!(ready.message.contains("hmac/key"));
        assert!(!ready_outdated(&status, &endpoint, &missing));
        assert!(ready_outdated(&status, &endpoint, &present));
        set_ready(
            &mut status,
            &endpoint,
            &present,
            Time(jiff::Timestamp::now()),
        );
        assert_eq!(
            find_condition(&status.conditions, READY).unwrap().status,
            "True"
        );
        assert_eq!(status.observed_generation, Some(2));
        assert!(!ready_outdated(&status, &endpoint, &present));
    }

    #[test]
    fn an_unusable_domain_makes_the_endpoint_not_ready_with_the_domain_named() {
        let endpoint = endpoint(json!({"domains": ["p.io", "a*b.io"]}));
        let (ready, reason, message) = readiness(&endpoint, &|_: &str| None);
        assert!(!ready);
        assert_eq!(reason, "InvalidDomain");
        assert!(message.contains("a*b.io"), "{message}");
    }

    #[test]
    fn current_and_previous_secrets_are_referenced() {
        let endpoint = endpoint(json!({"domains": ["p.io"],
            "signingSecretRef": {"name": "new", "key": "k"},
            "previousSigningSecretRefs": [{"name": "old", "key": "k"}]}));
        assert!(references_secret(&endpoint, "new"));
        assert!(references_secret(&endpoint, "old"));
        assert!(!references_secret(&endpoint, "bench-1-result"));
    }
}
