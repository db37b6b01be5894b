//! E-mail addresses, URLs and IP addresses.

use std::net::{Ipv4Addr, Ipv6Addr};

use regex::Regex;

use super::Candidate;
use super::pattern::Pattern;
use super::regions::{Cluster, NumericRegions, search};
use crate::context::{Words, around, before, mentions, standalone, standalone_number};
use crate::entity::EntityType;

const VERSION_WORDS: Words = Words::new(&[
    "version",
    "ver ",
    "ver.",
    "release",
    "build",
    "firmware",
    "v.",
    "sdk",
    "update to",
    "upgrade to",
    "runtime",
    "patch",
    "kernel",
    "exercise",
    "section",
    "chapter",
    "clause",
    "article",
    "\u{a7}",
]);
const IP_WORDS: Words = Words::new(&[
    "ip", "address", "host", "server", "client", "from", "connect", "addr",
]);

/// Finds EMAIL_ADDRESS, URL and IP_ADDRESS.
pub(crate) struct Network {
    email: Regex,
    url: Regex,
    ipv4: Pattern,
    ipv6: Pattern,
}

impl Network {
    /// Compiles the patterns.
    pub(crate) fn new() -> Self {
        Network {
            email: Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}")
                .expect("email pattern"),
            url: Regex::new(r#"(?:https?|ftp)://[^\s<>"'`]+|www\.[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+[^\s<>"'`]*"#)
                .expect("url pattern"),
            ipv4: Pattern::new(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", "ipv4 pattern"),
            ipv6: Pattern::new(r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*", "ipv6 pattern"),
        }
    }

    /// Appends candidates found in `text`.
    pub(crate) fn find(&self, text: &str, regions: &NumericRegions, out: &mut Vec<Candidate>) {
        for m in self.email.find_iter(text) {
            let start = m.start() + m.as_str().bytes().take_while(|&b| b == b'.').count();
            if standalone(text, start, m.end()) {
                out.push(Candidate::new(
                    EntityType::EmailAddress,
                    start,
                    m.end(),
                    0.95,
                ));
            }
        }
        for m in self.url.find_iter(text) {
            let s = m
                .as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"']);
            // Keep a closing parenthesis that belongs to the URL itself.
            let s = if s.contains('(') && m.as_str()[s.len()..].starts_with(')') {
                &m.as_str()[..s.len() + 1]
            } else {
                s
            };
            let end = m.start() + s.len();
            if text[..m.start()]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '@')
            {
                continue;
            }
            let score = if s.starts_with("www.") { 0.7 } else { 0.85 };
            out.push(Candidate::new(EntityType::Url, m.start(), end, score));
        }
        // NB: an IPv4 address is one cluster of at least 4 digits and 3 dots.
        let dotted = |c: &Cluster| c.digits >= 4 && c.dots >= 3;
        for (start, end) in regions.matches(&self.ipv4, text, dotted, 0, 0) {
            if !standalone_number(text, start, end) || text[start..end].parse::<Ipv4Addr>().is_err()
            {
                continue;
            }
            let (before_text, _) = around(text, start, end);
            let near = before(text, start, 16);
            let score = if mentions(near, &VERSION_WORDS)
                || before_text.ends_with('v')
                || in_version_column(text, start)
            {
                0.1
            } else if mentions(before_text, &IP_WORDS) {
                0.95
            } else {
                0.8
            };
            out.push(Candidate::new(EntityType::IpAddress, start, end, score));
        }
        for (start, end) in search(&self.ipv6, text, ipv6_runs(text)) {
            let mut s = &text[start..end];
            if s.ends_with(':') && !s.ends_with("::") {
                s = &s[..s.len() - 1];
            }
            let end = start + s.len();
            let colons = s.bytes().filter(|&b| b == b':').count();
            if colons < 2
                || !s.bytes().any(|b| b.is_ascii_hexdigit())
                || s.parse::<Ipv6Addr>().is_err()
            {
                continue;
            }
            if standalone(text, start, end) {
                out.push(Candidate::new(EntityType::IpAddress, start, end, 0.9));
            }
        }
    }
}

/// The maximal runs of hex digits, `:` and `.` that hold at least two colons: every character
/// of an IPv6 match is one of these and it has two colons, so the pattern is searched only
/// there (most colons, in `Name: value` or a time, start no such run).
fn ipv6_runs(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    let inside = |x: u8| x.is_ascii_hexdigit() || x == b':' || x == b'.';
    let mut searched = 0;
    memchr::memchr_iter(b':', b).filter_map(move |colon| {
        if colon < searched {
            return None;
        }
        let start = b[..colon]
            .iter()
            .rposition(|&x| !inside(x))
            .map_or(0, |i| i + 1);
        searched = b[colon..]
            .iter()
            .position(|&x| !inside(x))
            .map_or(b.len(), |i| colon + i);
        let colons = b[start..searched].iter().filter(|&&x| x == b':').count();
        (colons >= 2).then_some((start, searched))
    })
}

/// Whether byte `at` is in a cell of a `|`-delimited table whose header cell for that column
/// names a version, release or build.
fn in_version_column(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..at].trim_start().starts_with('|') {
        return false;
    }
    let column = text[line_start..at].matches('|').count();
    // NB: the header is the first line of the run of table lines above.
    let mut header = line_start;
    while header > 0 {
        let previous = text[..header - 1].rfind('\n').map_or(0, |i| i + 1);
        if !text[previous..header].trim_start().starts_with('|') {
            break;
        }
        header = previous;
    }
    let header_line = text[header..].lines().next().unwrap_or("");
    header_line
        .split('|')
        .nth(column)
        .is_some_and(|cell| mentions(cell, &VERSION_WORDS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognizers::MIN_SCORE;

    #[test]
    fn ipv6_is_searched_only_in_runs_of_hex_digits_with_two_colons() {
        let text = "Patient: Ada, 10:30, face:beef, at fe80::1 or 2001:db8::ff00:42:8329.";
        let runs: Vec<&str> = ipv6_runs(text).map(|(s, e)| &text[s..e]).collect();
        assert_eq!(runs, vec!["fe80::1", "2001:db8::ff00:42:8329."]);
    }

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        Network::new().find(text, &NumericRegions::of(text), &mut out);
        out.iter()
            .filter(|c| c.score >= MIN_SCORE)
            .map(|c| (c.entity_type, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn emails_are_found() {
        assert_eq!(
            found("mail jane.doe+x@mail.example.co.uk."),
            vec![(EntityType::EmailAddress, "jane.doe+x@mail.example.co.uk")]
        );
    }

    #[test]
    fn urls_lose_trailing_punctuation() {
        assert_eq!(
            found("see https://example.com/a?b=1)."),
            vec![(EntityType::Url, "https://example.com/a?b=1")]
        );
        assert_eq!(
            found("(www.example.org/x)"),
            vec![(EntityType::Url, "www.example.org/x")]
        );
    }

    #[test]
    fn ipv4_addresses_are_parsed_and_version_strings_ignored() {
        assert_eq!(
            found("client 192.168.1.20 connected"),
            vec![(EntityType::IpAddress, "192.168.1.20")]
        );
        assert!(found("upgrade to version 10.2.3.4 now").is_empty());
        for text in [
            "see Exercise 7.4.6.5",
            "runtime 17.7.15.75 is installed",
            "per section 12.4.1.3 of the policy",
            "| component | version |\n|---|---|\n| cache | 10.2.3.4 |\n| api | 11.0.1.2 |",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
        assert_eq!(
            found("| host | address |\n|---|---|\n| db | 10.2.3.4 |"),
            vec![(EntityType::IpAddress, "10.2.3.4")]
        );
        assert!(found("999.1.1.1").is_empty());
        assert!(found("1.2.3.4.5").is_empty());
    }

    #[test]
    fn ipv6_addresses_are_parsed_and_times_and_macs_ignored() {
        assert_eq!(
            found("from 2001:db8::8a2e:370:7334 ok"),
            vec![(EntityType::IpAddress, "2001:db8::8a2e:370:7334")]
        );
        assert_eq!(
            found("[fe80::1]:443"),
            vec![(EntityType::IpAddress, "fe80::1")]
        );
        assert!(found("at 10:30:00 and 00:1A:2B:3C:4D:5E").is_empty());
    }
}
