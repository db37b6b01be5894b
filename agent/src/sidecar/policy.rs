//! The effective policy of a task's delivery, from the namespace's WebhookEndpoints and Secrets.

use crate::allowlist::AllowList;
use crate::policy::{Policy, SigningSecret};
use crate::transport::{TlsSettings, Transport, static_headers};
use crate::{Error, Result};
use guardrails_crds::WebhookEndpoint;
use guardrails_crds::endpoint::{CA_KEY, TLS_CERT_KEY, TLS_KEY_KEY};
use guardrails_crds::task::SecretKeyRef;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The policy of one delivery and the endpoint that governs it, if any.
#[derive(Debug)]
pub struct Resolved {
    /// The merged policy.
    pub policy: Policy,
    /// The WebhookEndpoint whose domains match the destination.
    pub endpoint: Option<Arc<WebhookEndpoint>>,
}

impl Resolved {
    /// Whether the governing endpoint holds deliveries.
    pub fn suspended(&self) -> bool {
        self.policy.suspend
    }
}

/// Merges the environment's `defaults` with the `endpoints` of the task's namespace.
///
/// The allowlist is the defaults' ∪ every usable endpoint's domains (an empty union allows all);
/// the endpoint whose most specific domain matches `url` supplies secrets, rate limit, timeout
/// and retries (on a tie, the first by name). An endpoint whose domains or retry schedule cannot
/// be used is left out (its `Ready` says why), so it never blocks the namespace's other
/// deliveries. `secret` looks a Secret up by name in the task's namespace.
pub fn resolve(
    defaults: &Policy,
    endpoints: &[Arc<WebhookEndpoint>],
    url: &Url,
    sign: bool,
    secret: impl Fn(&str) -> Option<Arc<Secret>>,
) -> Resolved {
    let mut policy = defaults.clone();
    policy.sign = sign;
    let mut usable: Vec<_> = endpoints
        .iter()
        .filter_map(|endpoint| Some((endpoint, usable_endpoint(endpoint).ok()?)))
        .collect();
    usable.sort_by_key(|(endpoint, _)| endpoint.name_any());
    let mut best: Option<(usize, &Arc<WebhookEndpoint>, &Vec<Duration>)> = None;
    for (endpoint, (domains, retry_schedule)) in &usable {
        policy.allowlist = policy.allowlist.union(domains);
        if let Some(specificity) = domains.specificity(url)
            && best.is_none_or(|(s, _, _)| specificity > s)
        {
            best = Some((specificity, endpoint, retry_schedule));
        }
    }
    let endpoint = best.map(|(_, endpoint, retry_schedule)| {
        apply_endpoint(&mut policy, endpoint, retry_schedule, &secret);
        endpoint.clone()
    });
    Resolved { policy, endpoint }
}

/// Overrides `policy` with what `endpoint` sets.
fn apply_endpoint(
    policy: &mut Policy,
    endpoint: &WebhookEndpoint,
    retry_schedule: &[Duration],
    secret: &impl Fn(&str) -> Option<Arc<Secret>>,
) {
    let spec = &endpoint.spec;
    if let Some(current) = &spec.signing_secret_ref {
        policy.secrets = std::iter::once(current)
            .chain(&spec.previous_signing_secret_refs)
            .filter_map(|r| secret_value(r, secret))
            .filter_map(|raw| SigningSecret::new(raw).ok())
            .collect();
    }
    policy.rate_limit_per_minute = spec.rate_limit_per_minute.max(0) as u32;
    policy.timeout = Duration::from_secs(spec.timeout_seconds.max(1) as u64);
    policy.max_attempts = spec.max_attempts.max(1) as u32;
    policy.retry_schedule = retry_schedule.to_vec();
    policy.suspend = spec.suspend;
    if spec.transport_secret_names().next().is_some() {
        policy.transport = endpoint_transport(endpoint, secret).map_err(|e| e.message);
    }
}

/// Why an endpoint's transport Secrets cannot be used: a `Ready` reason and a message naming
/// the Secret, never its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportProblem {
    /// `TransportSecretMissing` or `TransportSecretInvalid`.
    pub reason: &'static str,
    /// What to fix.
    pub message: String,
}

/// The transport `endpoint` declares, read from its CA, client certificate and header Secrets.
pub fn endpoint_transport(
    endpoint: &WebhookEndpoint,
    secret: &impl Fn(&str) -> Option<Arc<Secret>>,
) -> std::result::Result<Transport, TransportProblem> {
    let spec = &endpoint.spec;
    let mut tls = TlsSettings::default();
    if let Some(ca) = &spec.ca_secret_ref {
        let bundle = secret_key(secret, &ca.name, CA_KEY)?;
        tls = tls
            .with_ca(&bundle, ca.replace_public_roots)
            .map_err(|e| invalid(&ca.name, CA_KEY, e))?;
    }
    if let Some(cert) = &spec.client_cert_secret_ref {
        let chain = secret_key(secret, &cert.name, TLS_CERT_KEY)?;
        let key = secret_key(secret, &cert.name, TLS_KEY_KEY)?;
        tls = tls
            .with_client_cert(&chain, &key)
            .map_err(|e| invalid(&cert.name, "tls.crt/tls.key", e))?;
    }
    let mut headers = Default::default();
    if let Some(header_ref) = &spec.headers_secret_ref {
        let found = secret(&header_ref.name).ok_or_else(|| missing(&header_ref.name))?;
        let data = found.data.clone().unwrap_or_default();
        headers = static_headers(data.iter().map(|(k, v)| (k.as_str(), v.0.as_slice()))).map_err(
            |e| TransportProblem {
                reason: "TransportSecretInvalid",
                message: format!("Secret `{}`: {e}", header_ref.name),
            },
        )?;
    }
    Ok(Transport {
        owner: format!(
            "{}/{}",
            endpoint.namespace().unwrap_or_default(),
            endpoint.name_any()
        ),
        tls,
        headers,
    })
}

/// The bytes of `key` in the Secret `name`.
fn secret_key(
    secret: &impl Fn(&str) -> Option<Arc<Secret>>,
    name: &str,
    key: &str,
) -> std::result::Result<Vec<u8>, TransportProblem> {
    let found = secret(name).ok_or_else(|| missing(name))?;
    found
        .data
        .as_ref()
        .and_then(|data| data.get(key))
        .map(|bytes| bytes.0.clone())
        .ok_or_else(|| TransportProblem {
            reason: "TransportSecretMissing",
            message: format!("Secret `{name}` has no key `{key}`"),
        })
}

fn missing(name: &str) -> TransportProblem {
    TransportProblem {
        reason: "TransportSecretMissing",
        message: format!("Secret `{name}` not found"),
    }
}

fn invalid(name: &str, key: &str, problem: &str) -> TransportProblem {
    TransportProblem {
        reason: "TransportSecretInvalid",
        message: format!("Secret `{name}` key `{key}` {problem}"),
    }
}

/// The endpoint's allowlist and retry schedule, or why the endpoint cannot be used.
pub fn usable_endpoint(endpoint: &WebhookEndpoint) -> Result<(AllowList, Vec<Duration>)> {
    let domains = AllowList::new(&endpoint.spec.domains)?;
    let retry_schedule = endpoint.spec.retry_delays().map_err(Error::InvalidConfig)?;
    Ok((domains, retry_schedule))
}

/// Whether the Secret named by `key_ref` exists and holds the key.
pub fn secret_present(
    key_ref: &SecretKeyRef,
    secret: impl Fn(&str) -> Option<Arc<Secret>>,
) -> bool {
    secret_value(key_ref, &secret).is_some()
}

fn secret_value(
    key_ref: &SecretKeyRef,
    secret: &impl Fn(&str) -> Option<Arc<Secret>>,
) -> Option<String> {
    let secret = secret(&key_ref.name)?;
    let bytes = secret.data.as_ref()?.get(&key_ref.key)?;
    String::from_utf8(bytes.0.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    fn endpoint(name: &str, spec: serde_json::Value) -> Arc<WebhookEndpoint> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "apiVersion": "guardrails.io/v1alpha1", "kind": "WebhookEndpoint",
                "metadata": {"name": name, "namespace": "ns"}, "spec": spec,
            }))
            .unwrap(),
        )
    }

    fn secret(name: &str, key: &str, value: &str) -> Arc<Secret> {
        let mut s = Secret::default();
        s.metadata.name = Some(name.into());
        s.data = Some(BTreeMap::from([(key.into(), ByteString(value.into()))]));
        Arc::new(s)
    }

    fn url(text: &str) -> Url {
        text.parse().unwrap()
    }

    #[test]
    fn the_most_specific_endpoint_governs_and_every_domain_is_allowed() {
        let endpoints = [
            endpoint(
                "wide",
                serde_json::json!({"domains": ["partner.io"], "maxAttempts": 2}),
            ),
            endpoint(
                "narrow",
                serde_json::json!({"domains": ["api.partner.io"], "maxAttempts": 7, "timeoutSeconds": 9}),
            ),
            endpoint("other", serde_json::json!({"domains": ["other.io"]})),
        ];
        let resolved = resolve(
            &Policy::default(),
            &endpoints,
            &url("https://api.partner.io/x"),
            true,
            |_| None,
        );
        assert_eq!(resolved.endpoint.unwrap().name_any(), "narrow");
        assert_eq!(resolved.policy.max_attempts, 7);
        assert_eq!(resolved.policy.timeout, Duration::from_secs(9));
        assert!(resolved.policy.allowlist.allows(&url("https://other.io/")));
        assert!(!resolved.policy.allowlist.allows(&url("https://evil.io/")));
    }

    #[test]
    fn a_wildcard_endpoint_governs_its_subdomains() {
        let endpoints = [
            endpoint(
                "wild",
                serde_json::json!({"domains": ["*.partner.io"], "suspend": true, "timeoutSeconds": 9}),
            ),
            endpoint("dot", serde_json::json!({"domains": [".other.io"]})),
        ];
        let resolve_for =
            |u: &str| resolve(&Policy::default(), &endpoints, &url(u), true, |_| None);
        let resolved = resolve_for("http://hook.partner.io:8080/x");
        assert_eq!(resolved.endpoint.as_ref().unwrap().name_any(), "wild");
        assert!(resolved.suspended());
        assert_eq!(resolved.policy.timeout, Duration::from_secs(9));
        assert_eq!(
            resolve_for("https://a.other.io/")
                .endpoint
                .unwrap()
                .name_any(),
            "dot"
        );
        assert!(resolve_for("https://partner.io/").endpoint.is_none());
    }

    #[test]
    fn an_unusable_endpoint_is_left_out_and_blocks_nothing() {
        let endpoints = [
            endpoint("broken", serde_json::json!({"domains": ["a*b.io"]})),
            endpoint(
                "late",
                serde_json::json!({"domains": ["late.io"], "retrySchedule": ["soon"]}),
            ),
            endpoint(
                "good",
                serde_json::json!({"domains": ["p.io"], "maxAttempts": 5}),
            ),
        ];
        let resolved = resolve(
            &Policy::default(),
            &endpoints,
            &url("https://p.io/"),
            true,
            |_| None,
        );
        assert_eq!(resolved.endpoint.unwrap().name_any(), "good");
        assert_eq!(resolved.policy.max_attempts, 5);
        assert!(!resolved.policy.allowlist.allows(&url("https://late.io/")));
    }

    #[test]
    fn on_a_tie_the_first_endpoint_by_name_governs() {
        let endpoints = [
            endpoint(
                "b",
                serde_json::json!({"domains": ["p.io"], "maxAttempts": 2}),
            ),
            endpoint(
                "a",
                serde_json::json!({"domains": ["*.p.io"], "maxAttempts": 4}),
            ),
        ];
        let resolved = resolve(
            &Policy::default(),
            &endpoints,
            &url("https://x.p.io/"),
            true,
            |_| None,
        );
        assert_eq!(resolved.endpoint.unwrap().name_any(), "a");
    }

    #[test]
    fn endpoint_secrets_come_current_first_then_previous() {
        let endpoints = [endpoint(
            "e",
            serde_json::json!({"domains": ["p.io"],
            "signingSecretRef": {"name": "new", "key": "k"},
            "previousSigningSecretRefs": [{"name": "old", "key": "k"}]}),
        )];
        let secrets = [secret("new", "k", "s-new"), secret("old", "k", "s-old")];
        let lookup = |name: &str| {
            secrets
                .iter()
                .find(|s| s.metadata.name.as_deref() == Some(name))
                .cloned()
        };
        let resolved = resolve(
            &Policy::default(),
            &endpoints,
            &url("https://p.io/"),
            true,
            lookup,
        );
        let keys: Vec<_> = resolved
            .policy
            .secrets
            .iter()
            .map(|s| s.guardrails_key().to_vec())
            .collect();
        assert_eq!(keys, [b"s-new".to_vec(), b"s-old".to_vec()]);
        assert!(resolved.policy.sign);
    }

    #[test]
    fn without_a_matching_endpoint_the_defaults_apply() {
        let defaults = Policy {
            secrets: vec![SigningSecret::new("server").unwrap()],
            ..Policy::default()
        };
        let endpoints = [endpoint(
            "e",
            serde_json::json!({"domains": ["p.io"], "suspend": true}),
        )];
        let resolved = resolve(
            &defaults,
            &endpoints,
            &url("https://elsewhere.io/"),
            false,
            |_| None,
        );
        assert!(resolved.endpoint.is_none());
        assert!(!resolved.suspended());
        assert_eq!(resolved.policy.secrets.len(), 1);
        assert!(
            !resolved
                .policy
                .allowlist
                .allows(&url("https://elsewhere.io/"))
        );
    }

    #[test]
    fn a_missing_secret_key_is_reported_absent() {
        let key_ref = SecretKeyRef {
            name: "s".into(),
            key: "other".into(),
        };
        assert!(!secret_present(&key_ref, |_| Some(secret("s", "k", "v"))));
        assert!(secret_present(
            &SecretKeyRef {
                name: "s".into(),
                key: "k".into()
            },
            |_| Some(secret("s", "k", "v"))
        ));
    }
}
