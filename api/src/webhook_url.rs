//! The webhook URL check at submission: the delivery engine's allowlist and SSRF rules, applied
//! before anything is created so a doomed delivery is refused with `422` and its reason.
//!
//! Host names other than `localhost` are not resolved here: the delivery engine's resolver checks
//! their addresses when it connects (so a name cannot pass here and point elsewhere later anyway).

use std::net::{IpAddr, Ipv4Addr};

use guardrails_agent::deliverer::parse_destination;
use guardrails_agent::{AllowList, NetworkGuard};
use guardrails_crds::WebhookEndpoint;
use kube::runtime::reflector::Store;
use url::Host;

use crate::problem::{ApiError, Code};

/// Longest webhook URL accepted (the AnalysisTask schema's limit).
pub const MAX_URL_LENGTH: usize = 2048;

/// The destination rules of webhooks: the allowlist and the SSRF guard of the delivery engine.
#[derive(Clone, Default)]
pub struct WebhookRules {
    /// Hosts webhooks may go to (`ALLOWED_WEBHOOK_DOMAINS`); empty allows every host.
    pub allowlist: AllowList,
    /// Which addresses deliveries may connect to.
    pub guard: NetworkGuard,
    /// WebhookEndpoints of the namespace, whose `domains` join the allowlist (Kubernetes mode).
    pub endpoints: Option<Store<WebhookEndpoint>>,
}

impl WebhookRules {
    /// The effective allowlist: the environment's and the WebhookEndpoints' domains.
    pub fn effective_allowlist(&self) -> AllowList {
        let Some(endpoints) = &self.endpoints else {
            return self.allowlist.clone();
        };
        let mut allowlist = self.allowlist.clone();
        for endpoint in endpoints.state() {
            // NB: an endpoint with a bad domain is skipped, as the agent skips it (not Ready).
            if let Ok(domains) = AllowList::new(&endpoint.spec.domains) {
                allowlist = allowlist.union(&domains);
            }
        }
        allowlist
    }
}

impl WebhookRules {
    /// Checks `url` and returns it normalised (as the delivery engine will parse it).
    pub fn check(&self, url: &str) -> Result<String, ApiError> {
        let refuse = |detail: String| ApiError::new(Code::InvalidWebhookUrl, detail);
        if url.len() > MAX_URL_LENGTH {
            return Err(refuse(format!(
                "`webhook_url` is longer than {MAX_URL_LENGTH} characters"
            )));
        }
        let parsed = parse_destination(url).map_err(|e| refuse(e.to_string()))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse(
                "`webhook_url` must not contain credentials (`user@` or `user:password@`)".into(),
            ));
        }
        let host = parsed
            .host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if !self.effective_allowlist().allows(&parsed) {
            return Err(refuse(format!(
                "host `{host}` is not in the webhook allowlist (ALLOWED_WEBHOOK_DOMAINS and the \
                 namespace's WebhookEndpoints)"
            )));
        }
        self.guard
            .check_url(&parsed)
            .map_err(|e| refuse(e.to_string()))?;
        if let Some(Host::Domain(_)) = parsed.host()
            && (host == "localhost" || host.ends_with(".localhost"))
            && !self.guard.permits(IpAddr::V4(Ipv4Addr::LOCALHOST))
        {
            return Err(refuse(
                guardrails_agent::Error::DestinationRefused(host).to_string(),
            ));
        }
        Ok(parsed.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(allowlist: &str) -> WebhookRules {
        WebhookRules {
            allowlist: AllowList::from_comma_separated(allowlist).unwrap(),
            guard: NetworkGuard::default(),
            endpoints: None,
        }
    }

    fn refused(rules: &WebhookRules, url: &str) -> String {
        let err = rules.check(url).expect_err(url);
        assert_eq!(err.code, Code::InvalidWebhookUrl, "{url}");
        err.detail
    }

    #[test]
    fn public_https_urls_pass_and_come_back_normalised() {
        assert_eq!(
            rules("").check("HTTPS://Partner.IO/hook").unwrap(),
            "https://partner.io/hook"
        );
    }

    #[test]
    fn schemes_other_than_http_are_refused() {
        let rules = rules("");
        for url in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://partner.io/x",
            "hook",
        ] {
            refused(&rules, url);
        }
        assert!(refused(&rules, "ftp://partner.io/x").contains("ftp"));
    }

    #[test]
    fn userinfo_tricks_are_refused() {
        let detail = refused(&rules("allowed.com"), "https://allowed.com@evil.com/");
        assert!(detail.contains("credentials"), "{detail}");
        refused(&rules(""), "https://user:pw@partner.io/");
    }

    #[test]
    fn hosts_outside_the_allowlist_are_refused_with_the_host_named() {
        let detail = refused(&rules("partner.io"), "https://evilpartner.io/hook");
        assert!(detail.contains("`evilpartner.io`"), "{detail}");
        assert!(rules("partner.io").check("https://api.partner.io/").is_ok());
    }

    #[test]
    fn private_and_metadata_ip_literals_are_refused() {
        let rules = rules("");
        for url in [
            "http://127.0.0.1:8080/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0x7f.1/",
            "http://localhost:9000/",
        ] {
            refused(&rules, url);
        }
        assert!(rules.check("http://8.8.8.8/").is_ok());
    }

    #[test]
    fn the_private_switch_lets_loopback_through() {
        let rules = WebhookRules {
            guard: NetworkGuard {
                allow_private: true,
                ..NetworkGuard::default()
            },
            ..WebhookRules::default()
        };
        assert!(rules.check("http://127.0.0.1:9000/hook").is_ok());
        assert!(rules.check("http://localhost:9000/hook").is_ok());
    }
}
