//! The `WebhookEndpoint` custom resource: delivery policy for webhooks sent from its namespace.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::task::SecretKeyRef;

/// Policy for webhooks sent to some domains from tasks in this namespace.
// NB: printer columns repeat `type_` by design; clippy reads them as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "guardrails.io",
    version = "v1alpha1",
    kind = "WebhookEndpoint",
    namespaced,
    status = "WebhookEndpointStatus",
    shortname = "whe",
    category = "guardrails",
    doc = "Delivery policy (allowlist, signing secret, rate limit, retries) for webhook destinations.",
    derive = "PartialEq",
    printcolumn(name = "Domains", type_ = "string", json_path = ".spec.domains"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(name = "Succeeded", type_ = "integer", json_path = ".status.succeeded"),
    printcolumn(name = "Failed", type_ = "integer", json_path = ".status.failed"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointSpec {
    /// Hosts this endpoint allows and governs: "partner.io" (that host and its subdomains on a
    /// dot boundary, never "evilpartner.io"), "*.partner.io" or ".partner.io" (the subdomains
    /// only), or an IPv4 address. No scheme, port or path. The most specific match governs.
    #[schemars(
        length(min = 1, max = 100),
        inner(
            length(min = 1, max = 253),
            regex(pattern = r"^(\*\.|\.)?[^\s/:@*.]+(\.[^\s/:@*.]+)*\.?$")
        )
    )]
    pub domains: Vec<String>,

    /// Secret key holding the HMAC signing secret for deliveries to these domains; unset uses the
    /// server-wide WEBHOOK_SIGNING_SECRET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret_ref: Option<SecretKeyRef>,

    /// Secrets still accepted by receivers during a rotation; each delivery carries one
    /// signature per secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub previous_signing_secret_refs: Vec<SecretKeyRef>,

    /// Most deliveries per minute to each destination host; 0 means no limit.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1_000_000))]
    pub rate_limit_per_minute: i32,

    /// Seconds to wait for the receiver's response.
    #[serde(default = "default_timeout_seconds")]
    #[schemars(range(min = 1, max = 60))]
    pub timeout_seconds: i32,

    /// Fast attempts (1 s, 2 s, 4 s… apart) before the delivery fails or moves to retrySchedule.
    #[serde(default = "default_max_attempts")]
    #[schemars(range(min = 1, max = 10))]
    pub max_attempts: i32,

    /// Optional long-term retries after the fast attempts, as delays such as ["5m", "30m", "2h"].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 10),
        inner(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))
    )]
    pub retry_schedule: Vec<String>,

    /// Holds deliveries to these domains (recorded as suspended) until set back to false.
    #[serde(default)]
    pub suspend: bool,

    /// Secret whose key `ca.crt` holds a PEM bundle of CA certificates trusted for these
    /// domains, in addition to the public roots unless replacePublicRoots is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret_ref: Option<CaSecretRef>,

    /// Secret of type kubernetes.io/tls (keys `tls.crt` and `tls.key`) presented as the client
    /// certificate when the receiver asks for one (mutual TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_secret_ref: Option<LocalSecretRef>,

    /// Secret whose keys are request header names and values header values, sent with every
    /// delivery (e.g. key `Authorization`, value `Bearer …`). Signature, `webhook-*`,
    /// `X-Guardrails-*`, `Host`, `Content-*` and `Transfer-Encoding` headers are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers_secret_ref: Option<LocalSecretRef>,
}

/// A Secret in the endpoint's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct LocalSecretRef {
    /// Name of the Secret.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: String,
}

/// A Secret in the endpoint's namespace holding trusted CA certificates under `ca.crt`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaSecretRef {
    /// Name of the Secret.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Trust only these CAs for these domains, not the public roots as well.
    #[serde(default)]
    pub replace_public_roots: bool,
}

/// Key of the CA bundle in the Secret named by `caSecretRef`.
pub const CA_KEY: &str = "ca.crt";
/// Key of the client certificate chain in a `kubernetes.io/tls` Secret.
pub const TLS_CERT_KEY: &str = "tls.crt";
/// Key of the client private key in a `kubernetes.io/tls` Secret.
pub const TLS_KEY_KEY: &str = "tls.key";

fn default_timeout_seconds() -> i32 {
    5
}

fn default_max_attempts() -> i32 {
    3
}

/// Observed state of a WebhookEndpoint, written by the agent.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointStatus {
    /// Ready: the signing secrets exist and hold the named keys, and the CA, client certificate
    /// and header Secrets the spec references exist and can be used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// Generation of the spec the agent last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Deliveries acknowledged with a 2xx.
    #[serde(default)]
    pub succeeded: i64,

    /// Deliveries that failed after their last attempt.
    #[serde(default)]
    pub failed: i64,

    /// Deliveries refused by policy.
    #[serde(default)]
    pub rejected: i64,

    /// Attempts deferred by the rate limit.
    #[serde(default)]
    pub rate_limited: i64,

    /// The most recent delivery to these domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery: Option<LastDelivery>,
}

/// Summary of the most recent delivery governed by an endpoint.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastDelivery {
    /// When it ended.
    pub time: Time,
    /// Task id (metadata.uid of the AnalysisTask).
    pub task_id: String,
    /// succeeded, failed or rejected.
    pub outcome: String,
    /// HTTP status of the last response, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<i32>,
}

impl WebhookEndpointSpec {
    /// Names of the Secrets this endpoint's transport (CA, client certificate, headers) reads.
    pub fn transport_secret_names(&self) -> impl Iterator<Item = &str> {
        let ca = self.ca_secret_ref.as_ref().map(|r| r.name.as_str());
        let cert = self
            .client_cert_secret_ref
            .as_ref()
            .map(|r| r.name.as_str());
        let headers = self.headers_secret_ref.as_ref().map(|r| r.name.as_str());
        ca.into_iter().chain(cert).chain(headers)
    }

    /// The long-term retry delays; an entry the schema would refuse is reported by its index.
    pub fn retry_delays(&self) -> Result<Vec<Duration>, String> {
        self.retry_schedule
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parse::<kube::core::Duration>()
                    .map(Duration::from)
                    .map_err(|e| format!("retrySchedule[{i}] {s:?} is not a duration: {e}"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_fields_take_the_original_services_defaults() {
        let spec: WebhookEndpointSpec =
            serde_json::from_value(serde_json::json!({"domains": ["partner.io"]})).unwrap();
        assert_eq!(spec.timeout_seconds, 5);
        assert_eq!(spec.max_attempts, 3);
        assert_eq!(spec.rate_limit_per_minute, 0);
        assert!(!spec.suspend);
        assert!(spec.retry_schedule.is_empty());
        assert_eq!(spec.transport_secret_names().count(), 0);
    }

    #[test]
    fn transport_secrets_are_named_by_their_refs() {
        let spec: WebhookEndpointSpec = serde_json::from_value(serde_json::json!({
            "domains": ["p.io"],
            "caSecretRef": {"name": "partner-ca", "replacePublicRoots": true},
            "clientCertSecretRef": {"name": "partner-mtls"},
            "headersSecretRef": {"name": "partner-auth"},
        }))
        .unwrap();
        assert!(spec.ca_secret_ref.as_ref().unwrap().replace_public_roots);
        let names: Vec<_> = spec.transport_secret_names().collect();
        assert_eq!(names, ["partner-ca", "partner-mtls", "partner-auth"]);
    }

    #[test]
    fn retry_schedule_parses_go_style_durations() {
        let spec: WebhookEndpointSpec = serde_json::from_value(
            serde_json::json!({"domains": ["p.io"], "retrySchedule": ["5m", "2h", "1h30m"]}),
        )
        .unwrap();
        assert_eq!(
            spec.retry_delays().unwrap(),
            vec![
                Duration::from_secs(300),
                Duration::from_secs(7200),
                Duration::from_secs(5400)
            ]
        );
    }

    #[test]
    fn a_bad_retry_delay_is_named_by_index() {
        let spec: WebhookEndpointSpec = serde_json::from_value(
            serde_json::json!({"domains": ["p.io"], "retrySchedule": ["5m", "soon"]}),
        )
        .unwrap();
        let err = spec.retry_delays().unwrap_err();
        assert!(err.contains("retrySchedule[1]"), "{err}");
    }
}
