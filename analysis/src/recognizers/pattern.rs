//! Compiled patterns as the recognizers search them: byte ranges of leftmost-first matches.

use regex::Regex;
use regex_automata::dfa::regex::Regex as Dfa;

/// A pattern searched in many small windows, compiled to a full DFA up front: a search neither
/// builds states as it goes, as `regex` does, nor pays its engine's set-up for each window.
pub(crate) struct Pattern(Dfa);

impl Pattern {
    /// Compiles `pattern` (`regex` syntax); panics with `what` if it does not compile.
    pub(crate) fn new(pattern: &str, what: &str) -> Self {
        Pattern(Dfa::new(pattern).unwrap_or_else(|e| panic!("{what}: {e}")))
    }
}

/// A compiled pattern: where it matches in a text.
pub(crate) trait Matches {
    /// The byte ranges of the leftmost-first matches in `text`, in order.
    fn ranges<'t>(&'t self, text: &'t str) -> impl Iterator<Item = (usize, usize)> + 't;
}

impl Matches for Pattern {
    fn ranges<'t>(&'t self, text: &'t str) -> impl Iterator<Item = (usize, usize)> + 't {
        self.0.find_iter(text).map(|m| (m.start(), m.end()))
    }
}

impl Matches for Regex {
    fn ranges<'t>(&'t self, text: &'t str) -> impl Iterator<Item = (usize, usize)> + 't {
        self.find_iter(text).map(|m| (m.start(), m.end()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Patterns with the features the recognizers' full DFAs use: alternation, optional
    /// separators, counted repetition, classes of digits and capitals.
    const PATTERNS: &[&str] = &[
        r"[0-9]{3}[ \-.]?[0-9]{2}[0-9]?[ \-.]?[0-9]{4}",
        r"[0-9](?:[ \-]?[0-9]){12,18}",
        r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}",
        r"[0-9]{1,2}[/.][0-9]{1,2}[/.][0-9]{4}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}|[0-9]{4}/[0-9]{2}/[0-9]{2}",
        r"(?:Jan|Feb)\.? [0-9]{1,2}(?:st|nd)?,? [0-9]{4}|[0-9]{1,2} (?:of )?(?:Jan|Feb) [0-9]{4}",
    ];

    proptest! {
        #[test]
        fn a_full_dfa_finds_what_regex_finds(
            text in "[0-9A-Z /.\\-,éo fJanbst]{0,80}",
            which in 0..PATTERNS.len(),
        ) {
            let (dfa, re) = (Pattern::new(PATTERNS[which], "test"), Regex::new(PATTERNS[which]).unwrap());
            let found: Vec<_> = dfa.ranges(&text).collect();
            prop_assert_eq!(found, re.ranges(&text).collect::<Vec<_>>());
        }
    }

    #[test]
    fn matches_are_byte_ranges_of_the_text() {
        let text = "née 536-22-1234, 4111 1111 1111 1111";
        let p = Pattern::new(r"[0-9]{3}-[0-9]{2}-[0-9]{4}", "ssn");
        assert_eq!(p.ranges(text).collect::<Vec<_>>(), vec![(5, 16)]);
    }
}
