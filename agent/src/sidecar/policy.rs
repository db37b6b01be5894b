//! The effective policy of a task's delivery, from the namespace's WebhookEndpoints and Secrets.

use crate::allowlist::AllowList;
use crate::policy::{Policy, SigningSecret};
use crate::{Error, Result};
use guardrails_crds::WebhookEndpoint;
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
        self.endpoint.as_ref().is_some_and(|e| e.spec.suspend)
    }
}

/// Merges the environment's `defaults` with the `endpoints` of the task's namespace.
///
/// The allowlist is the defaults' ∪ every endpoint's domains (an empty union allows all); the
/// endpoint whose most specific domain matches `url` supplies secrets, rate limit, timeout and
/// retries. `secret` looks a Secret up by name in the task's namespace.
pub fn resolve(
    defaults: &Policy,
    endpoints: &[Arc<WebhookEndpoint>],
    url: &Url,
    sign: bool,
    secret: impl Fn(&str) -> Option<Arc<Secret>>,
) -> Result<Resolved> {
    let mut policy = defaults.clone();
    policy.sign = sign;
    let mut best: Option<(usize, &Arc<WebhookEndpoint>)> = None;
    for endpoint in endpoints {
        let domains = AllowList::new(&endpoint.spec.domains)?;
        policy.allowlist = policy.allowlist.union(&domains);
        if let Some(len) = matching_domain_len(&endpoint.spec.domains, url)
            && best.is_none_or(|(l, _)| len > l)
        {
            best = Some((len, endpoint));
        }
    }
    let endpoint = best.map(|(_, e)| e.clone());
    if let Some(endpoint) = &endpoint {
        let spec = &endpoint.spec;
        if let Some(current) = &spec.signing_secret_ref {
            policy.secrets = std::iter::once(current)
                .chain(&spec.previous_signing_secret_refs)
                .filter_map(|r| secret_value(r, &secret))
                .filter_map(|raw| SigningSecret::new(raw).ok())
                .collect();
        }
        policy.rate_limit_per_minute = spec.rate_limit_per_minute.max(0) as u32;
        policy.timeout = Duration::from_secs(spec.timeout_seconds.max(1) as u64);
        policy.max_attempts = spec.max_attempts.max(1) as u32;
        policy.retry_schedule = spec.retry_delays().map_err(|e| {
            Error::InvalidConfig(format!("WebhookEndpoint `{}`: {e}", endpoint.name_any()))
        })?;
    }
    Ok(Resolved { policy, endpoint })
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

/// The length of the longest of `domains` that covers `url`'s host (itself or a parent domain).
fn matching_domain_len(domains: &[String], url: &Url) -> Option<usize> {
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    domains
        .iter()
        .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
        .filter(|d| host == *d || host.ends_with(&format!(".{d}")))
        .map(|d| d.len())
        .max()
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
        )
        .unwrap();
        assert_eq!(resolved.endpoint.unwrap().name_any(), "narrow");
        assert_eq!(resolved.policy.max_attempts, 7);
        assert_eq!(resolved.policy.timeout, Duration::from_secs(9));
        assert!(resolved.policy.allowlist.allows(&url("https://other.io/")));
        assert!(!resolved.policy.allowlist.allows(&url("https://evil.io/")));
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
        )
        .unwrap();
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
        )
        .unwrap();
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
