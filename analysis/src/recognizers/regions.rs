//! Where digit-bearing patterns can match: one pass over the text finds the clusters of ASCII
//! digits, and each pattern then searches only around the clusters that could hold a match.
//!
//! A cluster is a maximal run of digits in which consecutive digits are at most
//! [`MAX_GAP`] bytes apart and every byte between them is a [`joiner`] (space, `-`, `.`, `/`,
//! `(`, `)`, `:`, `,`, `T`, `+`). Every match of a digit-bearing pattern keeps its digits inside
//! one cluster (its separators are joiners), so searching windows around the right clusters —
//! merged where they overlap — finds exactly the matches a search of the whole text finds.

use super::bytes8;
use super::pattern::Matches;

/// The most bytes between two digits of one cluster.
const MAX_GAP: usize = 3;

/// Whether `b` may sit between two digits of one cluster.
fn joiner(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'-' | b'.' | b'/' | b'(' | b')' | b':' | b',' | b'T' | b'+'
    )
}

/// A cluster of digits: byte offsets of its first and one past its last digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cluster {
    /// Byte offset of the first digit.
    pub start: usize,
    /// Byte offset one past the last digit.
    pub end: usize,
    /// How many digits the cluster holds.
    pub digits: usize,
    /// How many `.` the cluster holds.
    pub dots: usize,
    /// Whether a `-`, `/` or `.` joins two of its digits.
    pub dashed: bool,
}

/// The digit clusters of a text (those of at least [`MIN_DIGITS`] digits), in order, plus
/// the runs of digits right after a capital and the words that could be Bitcoin addresses.
pub(crate) struct NumericRegions {
    clusters: Vec<Cluster>,
    /// (start, length) of every maximal run of consecutive digits right after a capital.
    runs: Vec<(usize, usize)>,
    /// Maximal runs of ASCII letters and digits, at least [`MIN_COIN_WORD`] bytes long, that
    /// hold a `1` or a `3`: where a Bitcoin address can be.
    coin_words: Vec<(usize, usize)>,
    /// The text with ASCII letters lower-cased (same length, same byte offsets), where
    /// case-insensitive keywords are searched case-sensitively (much faster).
    lower: String,
}

/// Clusters with fewer digits are not kept: no pattern searched around clusters matches them.
const MIN_DIGITS: usize = 4;

/// The shortest Bitcoin address (`bc1` and six characters), in bytes.
const MIN_COIN_WORD: usize = 9;

impl NumericRegions {
    /// Finds the clusters of `text` in one pass.
    pub(crate) fn of(text: &str) -> Self {
        let b = text.as_bytes();
        // NB: sized for dense text (a cluster every ~64 bytes), so it seldom grows.
        let mut clusters = Vec::with_capacity(text.len() / 64);
        let mut runs = Vec::new();
        let mut coin_words = Vec::new();
        let mut word_end = 0;
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_digit() {
                i += 1;
                // NB: most of a text has no digit: skip eight bytes at a time.
                i = bytes8::skip(b, i, bytes8::has_digit);
                continue;
            }
            let mut c = Cluster {
                start: i,
                end: i,
                digits: 0,
                dots: 0,
                dashed: false,
            };
            loop {
                let run_start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let run = i - run_start;
                // NB: only runs right after a capital are kept: IBANs and DEA numbers need one.
                if run_start >= 1 && b[run_start - 1].is_ascii_uppercase() {
                    runs.push((run_start, run));
                }
                // NB: each word is measured once, from its first run of digits.
                if run_start >= word_end {
                    let mut from = run_start;
                    while from > 0 && b[from - 1].is_ascii_alphanumeric() {
                        from -= 1;
                    }
                    word_end = i;
                    while word_end < b.len() && b[word_end].is_ascii_alphanumeric() {
                        word_end += 1;
                    }
                    if word_end - from >= MIN_COIN_WORD
                        && b[from..word_end].iter().any(|&x| x == b'1' || x == b'3')
                    {
                        coin_words.push((from, word_end));
                    }
                }
                c.digits += run;
                c.end = i;
                // The gap to the next digit, if it is short and made of joiners.
                let mut j = i;
                while j < b.len() && j - i < MAX_GAP && joiner(b[j]) {
                    j += 1;
                }
                if j > i && j < b.len() && b[j].is_ascii_digit() {
                    c.dots += b[i..j].iter().filter(|&&x| x == b'.').count();
                    c.dashed |= b[i..j].iter().any(|&x| matches!(x, b'-' | b'/' | b'.'));
                    i = j;
                } else {
                    break;
                }
            }
            // NB: every pattern searched around clusters needs at least 4 digits.
            if c.digits >= MIN_DIGITS {
                clusters.push(c);
            }
        }
        NumericRegions {
            clusters,
            runs,
            coin_words,
            lower: text.to_ascii_lowercase(),
        }
    }

    /// The text with ASCII letters lower-cased: same length, same byte offsets.
    pub(crate) fn lower(&self) -> &str {
        &self.lower
    }

    /// The matches of `re` in windows around the clusters `keep` accepts: each window is the
    /// cluster widened by `before` and `after` bytes (to character boundaries), and overlapping
    /// windows are merged. Byte ranges are of the whole text.
    pub(crate) fn matches<'a>(
        &'a self,
        re: &'a impl Matches,
        text: &'a str,
        keep: impl Fn(&Cluster) -> bool + 'a,
        before: usize,
        after: usize,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        let spans = self
            .clusters
            .iter()
            .filter(move |c| keep(c))
            .map(move |c| (c.start.saturating_sub(before), c.end + after));
        search(re, text, merged(spans, text))
    }

    /// The matches of `re` inside words of letters and digits that could hold a Bitcoin
    /// address (at least 9 bytes, with a `1` or a `3`).
    pub(crate) fn matches_in_coin_words<'a>(
        &'a self,
        re: &'a impl Matches,
        text: &'a str,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        search(re, text, self.coin_words.iter().copied())
    }

    /// The matches of `re` in windows around the runs of consecutive digits `keep` accepts
    /// (given the run's start and length): from `before` bytes before the run's start to
    /// `after` bytes after it.
    pub(crate) fn matches_near_runs<'a>(
        &'a self,
        re: &'a impl Matches,
        text: &'a str,
        keep: impl Fn(usize, usize) -> bool + 'a,
        before: usize,
        after: usize,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        let spans = self
            .runs
            .iter()
            .filter(move |&&(s, len)| keep(s, len))
            .map(move |&(s, _)| (s.saturating_sub(before), s + after));
        search(re, text, merged(spans, text))
    }
}

/// The matches of `re` in each window, as byte ranges of the whole text.
pub(crate) fn search<'a>(
    re: &'a impl Matches,
    text: &'a str,
    windows: impl Iterator<Item = (usize, usize)> + 'a,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    windows.flat_map(move |(from, to)| {
        re.ranges(&text[from..to])
            .map(move |(start, end)| (from + start, from + end))
    })
}

/// Sorted spans clipped to the text, widened to character boundaries and merged where they
/// overlap or touch.
pub(crate) fn merged<'a>(
    spans: impl Iterator<Item = (usize, usize)> + 'a,
    text: &'a str,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let mut spans = spans
        .map(move |(mut from, to)| {
            let mut to = to.min(text.len());
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            while !text.is_char_boundary(to) {
                to += 1;
            }
            (from, to)
        })
        .peekable();
    std::iter::from_fn(move || {
        let (from, mut to) = spans.next()?;
        while let Some(&(f, t)) = spans.peek() {
            if f > to {
                break;
            }
            to = to.max(t);
            spans.next();
        }
        Some((from, to))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn clusters_join_digits_across_short_separators() {
        let text = "call (212) 555-0198 or 10.0.0.1, not 12 ab 34 but 2024 12 31";
        let r = NumericRegions::of(text);
        let spans: Vec<&str> = r.clusters.iter().map(|c| &text[c.start..c.end]).collect();
        assert_eq!(spans, vec!["212) 555-0198", "10.0.0.1", "2024 12 31"]);
        assert_eq!(r.clusters[0].digits, 10);
        assert_eq!(r.clusters[1].dots, 3);
        assert!(r.clusters[0].dashed && !r.clusters[2].dashed);
    }

    #[test]
    fn words_that_could_be_bitcoin_addresses_are_found_once() {
        let text = "to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2, bc1qar0srrr7x, 12345678 x9y2z4w5v6u";
        let words: Vec<&str> = NumericRegions::of(text)
            .coin_words
            .iter()
            .map(|&(s, e)| &text[s..e])
            .collect();
        assert_eq!(
            words,
            vec!["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "bc1qar0srrr7x"]
        );
    }

    #[test]
    fn only_windows_around_kept_clusters_are_searched() {
        let text = format!(
            "{}call 212-555-0198 and 12-34{}",
            "a".repeat(300),
            "b".repeat(300)
        );
        let r = NumericRegions::of(&text);
        let re = Regex::new(r"[0-9a-z]+").unwrap();
        let found: Vec<&str> = r
            .matches(&re, &text, |c| c.digits >= 8, 1, 1)
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(found, vec!["212", "555", "0198"]);
    }

    #[test]
    fn matches_are_reported_in_whole_text_offsets() {
        let text = format!("{}SSN 536-22-1234", "é".repeat(200));
        let re = Regex::new(r"[0-9]{3}-[0-9]{2}-[0-9]{4}").unwrap();
        let found: Vec<&str> = NumericRegions::of(&text)
            .matches(&re, &text, |_| true, 3, 0)
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(found, vec!["536-22-1234"]);
    }

    #[test]
    fn overlapping_windows_are_merged_and_kept_on_character_boundaries() {
        let text = "é1é2ééééééé3";
        let spans: Vec<(usize, usize)> =
            merged([(1, 3), (2, 5), (13, 14)].into_iter(), text).collect();
        assert_eq!(spans, vec![(0, 5), (12, 14)]);
    }
}
