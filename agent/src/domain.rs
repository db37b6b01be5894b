//! Domain patterns: the hosts one allowlist entry or one WebhookEndpoint domain covers.

use crate::{Error, Result};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use url::{Host, Url};

/// One pattern of hosts, as written in `ALLOWED_WEBHOOK_DOMAINS` or `WebhookEndpoint.spec.domains`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DomainPattern {
    /// `partner.io`: the host itself and its subdomains on a dot boundary.
    Domain(String),
    /// `*.partner.io` or `.partner.io`: the subdomains only, never `partner.io` itself.
    Subdomains(String),
    /// `10.0.0.1` or `[::1]`: this address only.
    Ip(IpAddr),
}

impl DomainPattern {
    /// How specifically the pattern covers `url`'s host, or `None` when it does not.
    ///
    /// A longer matching domain is more specific; an IP address is the most specific of all.
    pub fn specificity(&self, url: &Url) -> Option<usize> {
        match (self, url.host()?) {
            (DomainPattern::Ip(ip), Host::Ipv4(host)) => {
                (*ip == IpAddr::V4(host)).then_some(usize::MAX)
            }
            (DomainPattern::Ip(ip), Host::Ipv6(host)) => {
                (*ip == IpAddr::V6(host)).then_some(usize::MAX)
            }
            (DomainPattern::Domain(domain), Host::Domain(host)) => {
                let host = normalise(host);
                (host == *domain || is_subdomain(&host, domain)).then_some(domain.len())
            }
            (DomainPattern::Subdomains(domain), Host::Domain(host)) => {
                is_subdomain(&normalise(host), domain).then_some(domain.len())
            }
            _ => None,
        }
    }

    /// Whether the pattern covers `url`'s host.
    pub fn matches(&self, url: &Url) -> bool {
        self.specificity(url).is_some()
    }
}

impl FromStr for DomainPattern {
    type Err = Error;

    /// Parses a bare host, `*.host`, `.host` or an IP address (IPv6 with or without brackets).
    fn from_str(entry: &str) -> Result<Self> {
        let entry = entry.trim();
        let invalid = || Error::InvalidDomain(entry.to_owned());
        let (wildcard, name) = match entry.strip_prefix("*.").or_else(|| entry.strip_prefix('.')) {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return if wildcard {
                Err(invalid())
            } else {
                Ok(DomainPattern::Ip(ip))
            };
        }
        // NB: the URL parser normalises as it does for destinations: case, IDNA to punycode,
        // and odd IPv4 spellings (`0x7f.1`) to addresses.
        match Host::parse(name).map_err(|_| invalid())? {
            Host::Domain(domain) => {
                let domain = normalise(&domain);
                let labels_ok = domain.split('.').all(|label| !label.is_empty());
                if !labels_ok || domain.contains(['/', '@', ':', '*', '%']) {
                    return Err(invalid());
                }
                Ok(if wildcard {
                    DomainPattern::Subdomains(domain)
                } else {
                    DomainPattern::Domain(domain)
                })
            }
            Host::Ipv4(ip) if !wildcard => Ok(DomainPattern::Ip(IpAddr::V4(ip))),
            Host::Ipv6(ip) if !wildcard => Ok(DomainPattern::Ip(IpAddr::V6(ip))),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainPattern::Domain(domain) => f.write_str(domain),
            DomainPattern::Subdomains(domain) => write!(f, "*.{domain}"),
            DomainPattern::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A host name as compared: lower case, without the trailing dot of a fully qualified name.
fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `host` is a subdomain of `domain` on a dot boundary.
fn is_subdomain(host: &str, domain: &str) -> bool {
    host.strip_suffix(domain)
        .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> DomainPattern {
        text.parse().unwrap()
    }

    fn specificity(text: &str, url: &str) -> Option<usize> {
        pattern(text).specificity(&Url::parse(url).unwrap())
    }

    #[test]
    fn a_domain_covers_itself_and_its_subdomains_on_a_dot_boundary() {
        assert!(specificity("partner.io", "https://partner.io/").is_some());
        assert!(specificity("partner.io", "https://a.b.partner.io/").is_some());
        assert!(specificity("partner.io", "https://evilpartner.io/").is_none());
        assert!(specificity("partner.io", "https://partner.io.evil.com/").is_none());
    }

    #[test]
    fn both_wildcard_spellings_cover_the_subdomains_only() {
        for wildcard in ["*.partner.io", ".partner.io"] {
            assert_eq!(
                pattern(wildcard),
                DomainPattern::Subdomains("partner.io".into())
            );
            assert!(specificity(wildcard, "https://hook.partner.io/").is_some());
            assert!(specificity(wildcard, "https://partner.io/").is_none());
            assert!(specificity(wildcard, "https://evilpartner.io/").is_none());
        }
    }

    #[test]
    fn a_longer_domain_is_more_specific() {
        let url = "https://api.partner.io/";
        assert!(specificity("api.partner.io", url) > specificity("*.partner.io", url));
        assert!(specificity("10.0.0.1", "http://10.0.0.1/") > specificity("api.partner.io", url));
    }

    #[test]
    fn case_trailing_dots_and_international_names_are_normalised() {
        assert!(specificity("Partner.IO.", "https://API.partner.io./").is_some());
        assert!(specificity("bücher.de", "https://shop.xn--bcher-kva.de/").is_some());
        assert!(specificity("*.xn--bcher-kva.de", "https://shop.BÜCHER.de/").is_some());
    }

    #[test]
    fn ip_patterns_match_only_the_same_address() {
        assert!(specificity("[::1]", "http://[::1]:8080/").is_some());
        assert!(specificity("::1", "http://[::1]/").is_some());
        assert!(specificity("127.0.0.1", "http://0x7f.1/").is_some());
        assert!(specificity("10.0.0.1", "http://10.0.0.2/").is_none());
        assert!(specificity("partner.io", "http://10.0.0.1/").is_none());
    }

    #[test]
    fn unusable_patterns_are_refused_with_the_entry() {
        for bad in [
            "partner.io:443",
            "partner.io/hook",
            "user@partner.io",
            "a*b.io",
            "*.*.io",
            "*",
            "*.",
            "a..io",
            "*.10.0.0.1",
            "",
        ] {
            let err = bad.parse::<DomainPattern>().unwrap_err();
            assert!(err.to_string().contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn patterns_print_in_their_normal_form() {
        assert_eq!(pattern(".Partner.io").to_string(), "*.partner.io");
        assert_eq!(pattern("[::1]").to_string(), "::1");
    }
}
