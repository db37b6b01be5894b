//! Context words: text around a candidate that makes it more (or less) likely to be real.

/// How many bytes before a candidate are searched for context words.
pub(crate) const WINDOW_BEFORE: usize = 48;
/// How many bytes after a candidate are searched for context words.
pub(crate) const WINDOW_AFTER: usize = 24;

/// The text around `start..end` (byte offsets), clipped to character boundaries.
pub(crate) fn around(text: &str, start: usize, end: usize) -> (&str, &str) {
    (
        before(text, start, WINDOW_BEFORE),
        after(text, end, WINDOW_AFTER),
    )
}

/// Up to `len` bytes of text ending at `start`, clipped to a character boundary.
pub(crate) fn before(text: &str, start: usize, len: usize) -> &str {
    let mut from = start.saturating_sub(len);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    &text[from..start]
}

/// Up to `len` bytes of text starting at `end`, clipped to a character boundary.
pub(crate) fn after(text: &str, end: usize, len: usize) -> &str {
    let mut to = (end + len).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    &text[end..to]
}

/// A regex matching any of `words` (lower-case ASCII), to be searched in the ASCII-lower-cased
/// text: the same matches as a case-insensitive search of the text, but with a fast
/// (case-sensitive) literal prefilter.
pub(crate) fn keywords(words: &[&str]) -> regex::Regex {
    let alternation: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    regex::Regex::new(&format!("(?-u:{})", alternation.join("|"))).expect("keyword pattern")
}

/// The text after keyword matches (searched in `lower`, `text` with ASCII letters lower-cased):
/// from each match's end up to `len` bytes on, overlapping regions merged, as (byte offset,
/// region).
pub(crate) fn after_keywords<'t>(
    text: &'t str,
    lower: &str,
    keywords: &regex::Regex,
    len: usize,
) -> Vec<(usize, &'t str)> {
    let mut regions: Vec<(usize, usize)> = Vec::new();
    for k in keywords.find_iter(lower) {
        let end = k.end() + after(text, k.end(), len).len();
        match regions.last_mut() {
            Some(last) if k.end() <= last.1 => last.1 = end,
            _ => regions.push((k.end(), end)),
        }
    }
    regions
        .into_iter()
        .map(|(from, to)| (from, &text[from..to]))
        .collect()
}

/// A list of context words (lower-case ASCII) with a filter of their first two bytes, built at
/// compile time, so that most places in a text are ruled out with one bit test.
pub(crate) struct Words {
    /// The words.
    pub list: &'static [&'static str],
    /// Bit `pair(a, b)` is set if some word starts with the bytes `a`, `b`.
    pairs: [u64; 4],
    /// Whether some word is shorter than two bytes (then the filter is not used).
    short: bool,
}

const fn pair(a: u8, b: u8) -> usize {
    ((a as usize).wrapping_mul(31) ^ (b as usize)) & 255
}

impl Words {
    /// The filter for `list`.
    pub(crate) const fn new(list: &'static [&'static str]) -> Self {
        let mut pairs = [0u64; 4];
        let mut short = false;
        let mut i = 0;
        while i < list.len() {
            let w = list[i].as_bytes();
            if w.len() < 2 {
                short = true;
            } else {
                let h = pair(w[0], w[1]);
                pairs[h / 64] |= 1 << (h % 64);
            }
            i += 1;
        }
        Words { list, pairs, short }
    }
}

/// Whether `hay` contains any of `words`, ignoring ASCII case.
pub(crate) fn mentions(hay: &str, words: &Words) -> bool {
    let mut buf = [0u8; 128];
    let hay = &hay.as_bytes()[hay.len().saturating_sub(buf.len())..];
    let lowered = &mut buf[..hay.len()];
    for (d, s) in lowered.iter_mut().zip(hay) {
        *d = s.to_ascii_lowercase();
    }
    if words.short {
        return words.list.iter().any(|w| contains(lowered, w.as_bytes()));
    }
    (0..lowered.len().saturating_sub(1)).any(|i| {
        let h = pair(lowered[i], lowered[i + 1]);
        // NB: the first two bytes are compared before the whole word, in line.
        words.pairs[h / 64] & (1 << (h % 64)) != 0
            && words.list.iter().any(|w| {
                let w = w.as_bytes();
                w[..2] == lowered[i..i + 2] && lowered[i..].starts_with(w)
            })
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    // NB: compared byte by byte in line; the needles are a few bytes long.
    (0..=hay.len() - needle.len()).any(|i| {
        hay[i] == first
            && hay[i + 1..i + needle.len()]
                .iter()
                .zip(rest)
                .all(|(a, b)| a == b)
    })
}

/// Whether the characters just outside `start..end` are not letters or digits.
pub(crate) fn standalone(text: &str, start: usize, end: usize) -> bool {
    let prev = text[..start].chars().next_back();
    let next = text[end..].chars().next();
    !prev.is_some_and(char::is_alphanumeric) && !next.is_some_and(char::is_alphanumeric)
}

/// Whether a number candidate is not glued to other digits, letters or dotted number parts.
pub(crate) fn standalone_number(text: &str, start: usize, end: usize) -> bool {
    if !standalone(text, start, end) {
        return false;
    }
    let b = text.as_bytes();
    let glued_before = start >= 2
        && matches!(b[start - 1], b'.' | b'-' | b'/' | b'_')
        && b[start - 2].is_ascii_alphanumeric();
    let glued_after = end + 1 < b.len()
        && matches!(b[end], b'.' | b'-' | b'/' | b'_')
        && b[end + 1].is_ascii_alphanumeric();
    !glued_before && !glued_after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_ignores_case() {
        const SSN: Words = Words::new(&["ssn", "social security"]);
        assert!(mentions("My SSN is", &SSN));
        assert!(mentions("his Social Security number", &SSN));
        assert!(!mentions("my id is", &SSN));
        assert!(!mentions("s", &SSN));
        const AT: Words = Words::new(&["@", "at"]);
        assert!(mentions("x@", &AT) && mentions("AT", &AT) && !mentions("a t", &AT));
    }

    #[test]
    fn windows_never_split_a_character() {
        let text = "ééééé 123";
        let (b, a) = around(text, 11, 14);
        assert_eq!(b, "ééééé ");
        assert_eq!(a, "");
        assert_eq!(before(text, 6, 3), "é");
    }

    #[test]
    fn numbers_glued_to_dotted_parts_are_not_standalone() {
        let text = "v 1.2.3.4 and 10.0.0.1";
        assert!(standalone_number(text, 14, 22));
        assert!(!standalone_number(text, 4, 5));
    }
}
