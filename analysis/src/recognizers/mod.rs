//! Recognizers: one file per family of entity types, each turning text into scored candidates.
//!
//! Every family compiles its patterns once in `new()`; `find` appends candidates (byte offsets)
//! to a shared list, and [`Recognizers::detect`] resolves overlaps and drops weak candidates.

mod bytes8;
mod chat;
mod contact;
mod credentials;
mod dates;
mod fields;
mod financial;
mod fold;
mod gazetteer;
mod government;
mod lexicon;
mod names;
mod network;
mod pattern;
mod regions;
mod table;
mod tokens;
mod word_flags;

use crate::entity::EntityType;

/// Candidates scoring below this are not reported.
pub(crate) const MIN_SCORE: f64 = 0.5;

/// Words near a number that say it is an order, ticket, version or similar, not personal data.
pub(crate) const NOT_PII_WORDS: crate::context::Words = crate::context::Words::new(&[
    "order", "tracking", "invoice", "ticket", "ref", "sku", "serial", "version", "build", "isbn",
    "uuid", "sha", "hash", "commit", "part no", "item", "case #", "release", "firmware", "model",
]);

/// How close before a number a [`NOT_PII_WORDS`] label must be to count.
const LABEL_WINDOW: usize = 20;

/// Whether the words right before `start` label a number as an order, ticket, version or similar.
pub(crate) fn labelled_not_pii(text: &str, start: usize) -> bool {
    crate::context::mentions(
        crate::context::before(text, start, LABEL_WINDOW),
        &NOT_PII_WORDS,
    )
}

/// The lines of `text`, each with its line break, and the byte offset where each starts.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1);
    ends.chain(std::iter::once(text.len()))
        .filter_map(move |end| {
            let line = (start, &text[start..end]);
            start = end;
            (!line.1.is_empty()).then_some(line)
        })
}

/// Which bytes stand `back` bytes from the end (1: the last byte) of some entry of `lists`:
/// one table load rules out most places before any entry is compared.
pub(crate) const fn bytes_from_end(lists: &[&[&str]], back: usize) -> [bool; 256] {
    let mut table = [false; 256];
    let mut l = 0;
    while l < lists.len() {
        let mut i = 0;
        while i < lists[l].len() {
            let entry = lists[l][i].as_bytes();
            table[entry[entry.len() - back] as usize] = true;
            i += 1;
        }
        l += 1;
    }
    table
}

/// `text` up to its first line break.
pub(crate) fn first_line(text: &str) -> &str {
    memchr::memchr(b'\n', text.as_bytes()).map_or(text, |i| &text[..i])
}

/// A possible finding: byte offsets into the text, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    /// What the candidate would be.
    pub entity_type: EntityType,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Confidence in [0, 1].
    pub score: f64,
}

impl Candidate {
    /// A candidate with its score clamped to [0, 1].
    pub(crate) fn new(entity_type: EntityType, start: usize, end: usize, score: f64) -> Self {
        Candidate {
            entity_type,
            start,
            end,
            score: score.clamp(0.0, 1.0),
        }
    }
}

/// All recognizer families, compiled once.
pub(crate) struct Recognizers {
    financial: financial::Financial,
    government: government::Government,
    network: network::Network,
    contact: contact::Contact,
    credentials: credentials::Credentials,
    dates: dates::Dates,
    names: names::Names,
}

impl Recognizers {
    /// Compiles every pattern and loads the gazetteers.
    pub(crate) fn new() -> Self {
        Recognizers {
            financial: financial::Financial::new(),
            government: government::Government::new(),
            network: network::Network::new(),
            contact: contact::Contact::new(),
            credentials: credentials::Credentials::new(),
            dates: dates::Dates::new(),
            names: names::Names::new(),
        }
    }

    /// The findings in `text`: non-overlapping, at or above [`MIN_SCORE`], sorted by start.
    pub(crate) fn detect(&self, text: &str) -> Vec<Candidate> {
        self.detect_each(&[text]).pop().unwrap_or_default()
    }

    /// The findings in each of `texts`, as [`Recognizers::detect`] finds them. Each family runs
    /// over all the texts before the next starts, so that its patterns, tables and code stay
    /// in the CPU's caches: on dense short texts that saves 8 % of the time in batches of
    /// 64 KiB, 14 % in batches of 256 KiB.
    pub(crate) fn detect_each(&self, texts: &[&str]) -> Vec<Vec<Candidate>> {
        let regions: Vec<regions::NumericRegions> = texts
            .iter()
            .map(|t| regions::NumericRegions::of(t))
            .collect();
        // NB: sized for dense text up front, so a long text is not copied as the list grows.
        let mut found: Vec<Vec<Candidate>> = texts
            .iter()
            .map(|t| Vec::with_capacity(t.len() / 16))
            .collect();
        type Family<'a> = &'a dyn Fn(&str, &regions::NumericRegions, &mut Vec<Candidate>);
        let families: [Family; 7] = [
            &|t, r, out| self.credentials.find(t, r.lower(), out),
            &|t, r, out| self.financial.find(t, r, out),
            &|t, r, out| self.government.find(t, r, out),
            &|t, r, out| self.network.find(t, r, out),
            &|t, r, out| self.contact.find(t, r, out),
            &|t, r, out| self.dates.find(t, r, out),
            &|t, _, out| self.names.find(t, out),
        ];
        for family in families {
            for ((text, regions), out) in texts.iter().zip(&regions).zip(&mut found) {
                family(text, regions, out);
            }
        }
        found.into_iter().map(resolve).collect()
    }
}

/// Keeps the strongest of overlapping candidates: higher score, then longer span, then earlier.
fn resolve(mut found: Vec<Candidate>) -> Vec<Candidate> {
    found.retain(|c| c.score >= MIN_SCORE && c.start < c.end);
    found.sort_unstable_by_key(|c| (c.start, c.end, c.entity_type));
    let mut kept = Vec::with_capacity(found.len());
    // Most candidates overlap nothing: only clusters of overlapping ones need a choice.
    let mut from = 0;
    while from < found.len() {
        let mut to = from + 1;
        let mut end = found[from].end;
        while to < found.len() && found[to].start < end {
            end = end.max(found[to].end);
            to += 1;
        }
        if to - from == 1 {
            kept.push(found[from]);
        } else {
            choose(&mut found[from..to], &mut kept);
        }
        from = to;
    }
    kept.sort_by_key(|c| (c.start, c.end));
    kept
}

/// Greedy choice inside one cluster of overlapping candidates.
fn choose(cluster: &mut [Candidate], kept: &mut Vec<Candidate>) {
    // NB: scores are compared after rounding so the outcome matches the reported confidences.
    let key = |c: &Candidate| (c.score * 100.0).round() as i64;
    cluster.sort_by(|a, b| {
        key(b)
            .cmp(&key(a))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
            .then(a.entity_type.cmp(&b.entity_type))
    });
    // NB: an interval map keeps this O(k log k) even for a long chain of overlapping candidates.
    let mut taken = std::collections::BTreeMap::<usize, usize>::new();
    for c in cluster.iter() {
        let before = taken.range(..c.end).next_back();
        if before.is_some_and(|(_, &end)| end > c.start) {
            continue;
        }
        taken.insert(c.start, c.end);
        kept.push(*c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_tables_mark_the_bytes_at_a_distance_from_the_ends() {
        let last = bytes_from_end(&[&["city", "ab"], &["town"]], 1);
        let marked: Vec<u8> = (0..=255u8).filter(|&b| last[usize::from(b)]).collect();
        assert_eq!(marked, b"bny");
        assert!(bytes_from_end(&[&["ab "]], 2)[usize::from(b'b')]);
    }

    #[test]
    fn lines_keep_their_breaks_and_offsets() {
        let all = |t| lines(t).collect::<Vec<_>>();
        assert_eq!(all("a\n\nbc\n"), vec![(0, "a\n"), (2, "\n"), (3, "bc\n")]);
        assert_eq!(all("a\nb"), vec![(0, "a\n"), (2, "b")]);
        assert!(all("").is_empty());
        assert_eq!(first_line("ab\ncd"), "ab");
        assert_eq!(first_line("ab"), "ab");
    }

    fn c(t: EntityType, start: usize, end: usize, score: f64) -> Candidate {
        Candidate::new(t, start, end, score)
    }

    #[test]
    fn the_higher_score_wins_an_overlap() {
        let kept = resolve(vec![
            c(EntityType::PhoneNumber, 0, 12, 0.7),
            c(EntityType::UkNhs, 0, 12, 0.95),
        ]);
        assert_eq!(kept, vec![c(EntityType::UkNhs, 0, 12, 0.95)]);
    }

    #[test]
    fn the_longer_span_wins_a_tie() {
        let kept = resolve(vec![
            c(EntityType::Person, 0, 5, 0.8),
            c(EntityType::Person, 0, 11, 0.8),
        ]);
        assert_eq!(kept, vec![c(EntityType::Person, 0, 11, 0.8)]);
    }

    #[test]
    fn weak_candidates_are_dropped_and_disjoint_ones_kept_in_order() {
        let kept = resolve(vec![
            c(EntityType::Url, 20, 30, 0.9),
            c(EntityType::UsSsn, 0, 11, 0.6),
            c(EntityType::UsPassport, 40, 49, 0.1),
        ]);
        assert_eq!(
            kept,
            vec![
                c(EntityType::UsSsn, 0, 11, 0.6),
                c(EntityType::Url, 20, 30, 0.9)
            ]
        );
    }
}
