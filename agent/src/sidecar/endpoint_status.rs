//! `WebhookEndpoint` status: delivery counters, the last delivery and the `Ready` condition.

use super::policy::secret_present;
use super::status::FIELD_MANAGER;
use crate::Result;
use guardrails_crds::conditions::{READY, new_condition, set_condition};
use guardrails_crds::endpoint::LastDelivery;
use guardrails_crds::{WebhookEndpoint, WebhookEndpointStatus};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// What happened to a delivery governed by an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointEvent {
    /// A delivery ended with this outcome (`succeeded`, `failed` or `rejected`).
    Ended(crate::attempt::Outcome),
    /// An attempt was deferred by the rate limit.
    RateLimited,
}

/// Keeps each endpoint's counters and writes them to its status.
pub struct EndpointStatusBook {
    client: Client,
    // NB: counters start from the status last seen and are serialised per book, so concurrent
    // deliveries never lose an increment.
    known: Mutex<HashMap<(String, String), WebhookEndpointStatus>>,
}

impl EndpointStatusBook {
    /// A book writing through `client`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            known: Mutex::default(),
        }
    }

    /// Counts `event` for task `task_id` on `endpoint` and applies the endpoint's status.
    pub async fn record(
        &self,
        endpoint: &WebhookEndpoint,
        event: EndpointEvent,
        task_id: &str,
        http_status: Option<u16>,
        secret: impl Fn(&str) -> Option<Arc<Secret>>,
    ) -> Result<()> {
        let namespace = endpoint.namespace().unwrap_or_default();
        let name = endpoint.name_any();
        let mut known = self.known.lock().await;
        let status = known
            .entry((namespace.clone(), name.clone()))
            .or_insert_with(|| endpoint.status.clone().unwrap_or_default());
        let now = Time(jiff::Timestamp::now());
        match event {
            EndpointEvent::RateLimited => status.rate_limited += 1,
            EndpointEvent::Ended(outcome) => {
                match outcome {
                    crate::attempt::Outcome::Succeeded => status.succeeded += 1,
                    crate::attempt::Outcome::Failed => status.failed += 1,
                    crate::attempt::Outcome::Rejected => status.rejected += 1,
                }
                status.last_delivery = Some(LastDelivery {
                    time: now.clone(),
                    task_id: task_id.to_owned(),
                    outcome: outcome.as_str().to_owned(),
                    http_status: http_status.map(i32::from),
                });
            }
        }
        let (ready, reason, message) = readiness(endpoint, &secret);
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
        let patch = json!({
            "apiVersion": "guardrails.io/v1alpha1",
            "kind": "WebhookEndpoint",
            "status": status,
        });
        let api: Api<WebhookEndpoint> = Api::namespaced(self.client.clone(), &namespace);
        api.patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
        Ok(())
    }
}

/// Whether the endpoint's signing secrets exist and hold their keys, with a reason and message.
pub fn readiness(
    endpoint: &WebhookEndpoint,
    secret: &impl Fn(&str) -> Option<Arc<Secret>>,
) -> (bool, &'static str, String) {
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
