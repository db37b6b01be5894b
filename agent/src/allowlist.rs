//! The destination allowlist: which hosts webhooks may be sent to.

use crate::Result;
use crate::domain::DomainPattern;
use url::Url;

/// Hosts deliveries may go to; an empty list allows every host (the original default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<DomainPattern>,
}

impl AllowList {
    /// Builds an allowlist from domain patterns (see [`DomainPattern`]); blank entries are skipped.
    pub fn new<I, S>(entries: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let entries = entries
            .into_iter()
            .filter(|entry| !entry.as_ref().trim().is_empty())
            .map(|entry| entry.as_ref().parse())
            .collect::<Result<_>>()?;
        Ok(Self { entries })
    }

    /// Builds an allowlist from a comma-separated list such as `ALLOWED_WEBHOOK_DOMAINS`.
    pub fn from_comma_separated(list: &str) -> Result<Self> {
        Self::new(list.split(','))
    }

    /// The domain patterns of the list.
    pub fn entries(&self) -> &[DomainPattern] {
        &self.entries
    }

    /// Whether every host is allowed (the list is empty).
    pub fn allows_all(&self) -> bool {
        self.entries.is_empty()
    }

    /// The union of two allowlists (e.g. the environment's and a namespace's endpoints').
    pub fn union(&self, other: &AllowList) -> AllowList {
        let mut entries = self.entries.clone();
        entries.extend(
            other
                .entries
                .iter()
                .filter(|e| !self.entries.contains(e))
                .cloned(),
        );
        AllowList { entries }
    }

    /// Whether a webhook may be sent to `url`'s host.
    pub fn allows(&self, url: &Url) -> bool {
        self.allows_all() || self.specificity(url).is_some()
    }

    /// How specifically the best entry covers `url`'s host (see [`DomainPattern::specificity`]).
    pub fn specificity(&self, url: &Url) -> Option<usize> {
        self.entries.iter().filter_map(|e| e.specificity(url)).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(list: &str, url: &str) -> bool {
        AllowList::from_comma_separated(list)
            .unwrap()
            .allows(&Url::parse(url).unwrap())
    }

    #[test]
    fn an_empty_list_allows_every_host() {
        assert!(allows("", "https://anything.example/hook"));
        assert!(allows(" , ", "https://anything.example/hook"));
    }

    #[test]
    fn subdomains_match_only_on_a_dot_boundary() {
        assert!(allows("partner.io", "https://partner.io/hook"));
        assert!(allows("partner.io", "https://a.b.partner.io/hook"));
        assert!(!allows("partner.io", "https://evilpartner.io/hook"));
        assert!(!allows("partner.io", "https://partner.io.evil.com/hook"));
    }

    #[test]
    fn case_and_trailing_dots_are_ignored() {
        assert!(allows("Partner.IO.", "https://API.partner.io./hook"));
        assert!(allows("*.partner.io", "https://api.partner.io/hook"));
        assert!(!allows("*.partner.io", "https://partner.io/hook"));
    }

    #[test]
    fn international_names_are_compared_in_punycode() {
        assert!(allows("bücher.de", "https://shop.xn--bcher-kva.de/"));
        assert!(allows("xn--bcher-kva.de", "https://shop.BÜCHER.de/"));
    }

    #[test]
    fn userinfo_and_ports_do_not_fool_the_match() {
        assert!(!allows("partner.io", "https://partner.io@evil.com/hook"));
        assert!(!allows(
            "partner.io",
            "https://partner.io:pw@evil.com:443/hook"
        ));
        assert!(allows("partner.io", "https://user:pw@partner.io:8443/hook"));
    }

    #[test]
    fn ip_literals_match_only_an_equal_ip_entry() {
        assert!(allows("10.0.0.1", "http://10.0.0.1/"));
        assert!(allows("[::1]", "http://[::1]:8080/"));
        assert!(!allows("0.0.1", "http://10.0.0.1/"));
        assert!(!allows("partner.io", "http://10.0.0.1/"));
        // The URL parser normalises odd IPv4 spellings before the match.
        assert!(allows("127.0.0.1", "http://0x7f.1/"));
    }

    #[test]
    fn entries_with_ports_or_paths_are_refused() {
        for entry in ["partner.io:443", "partner.io/hook", "user@partner.io"] {
            let err = AllowList::from_comma_separated(entry).unwrap_err();
            assert!(err.to_string().contains(entry), "{err}");
        }
    }

    #[test]
    fn union_keeps_both_lists() {
        let env = AllowList::from_comma_separated("a.io").unwrap();
        let endpoints = AllowList::from_comma_separated("b.io,a.io").unwrap();
        let merged = env.union(&endpoints);
        assert!(merged.allows(&Url::parse("https://x.b.io").unwrap()));
        assert!(merged.allows(&Url::parse("https://a.io").unwrap()));
        assert_eq!(merged.entries.len(), 2);
    }
}
