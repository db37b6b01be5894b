//! Chat-transcript structure: the speaker label at the start of a line (`Mary: sure`,
//! `[13:24] Randý Vígþórsdóttir: +1`, `[2:07 PM] Brian J. Moore: ok`).

/// Labels that name a role, not a person (`Agent: hi`, `Customer: thanks`).
const ROLES: &[&str] = &[
    "admin",
    "agent",
    "assistant",
    "bot",
    "caller",
    "client",
    "customer",
    "guest",
    "host",
    "me",
    "moderator",
    "operator",
    "rep",
    "staff",
    "support",
    "system",
    "user",
    "visitor",
    "you",
];
/// Longest speaker label, in bytes.
const MAX_LABEL: usize = 64;
/// Most words in a speaker label.
const MAX_WORDS: usize = 4;

/// A speaker label: byte offsets of the name before the colon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Speaker {
    /// First byte of the name.
    pub start: usize,
    /// One past the last byte of the name.
    pub end: usize,
    /// Whether the line starts with a bracketed time, or the same label starts another line:
    /// the shape of a transcript, which makes the label a name without a gazetteer's say.
    pub transcript: bool,
}

/// The speaker labels of `text`, in order.
pub(crate) fn speakers(text: &str) -> Vec<Speaker> {
    let mut found = Vec::new();
    // NB: a label ends with `: `, so texts without one (most prose) are passed over at once.
    if !text.contains(": ") {
        return found;
    }
    for (line_start, line) in super::lines(text) {
        if let Some(s) = label(line, line_start) {
            found.push(s);
        }
    }
    // NB: labels are few, so each is compared with the others.
    for i in 0..found.len() {
        let name = &text[found[i].start..found[i].end];
        let repeated = found
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && &text[o.start..o.end] == name);
        found[i].transcript |= repeated;
    }
    found
}

/// The label of one line (starting at byte `offset` of the text), if it has one.
fn label(line: &str, offset: usize) -> Option<Speaker> {
    let first = *line.as_bytes().first()?;
    if first < 0x80 && first != b'[' && !first.is_ascii_uppercase() {
        return None;
    }
    let (skip, timed) = match line.strip_prefix('[') {
        Some(rest) => {
            let close = rest.find("] ")?;
            let stamp = &rest[..close];
            if close > 24 || !stamp.bytes().any(|b| b.is_ascii_digit()) || !stamp.contains(':') {
                return None;
            }
            (close + 3, true)
        }
        None => (0, false),
    };
    let rest = &line[skip..];
    let colon = memchr::memchr2(b':', b'\n', &rest.as_bytes()[..rest.len().min(MAX_LABEL)])?;
    if !rest[colon..].starts_with(": ") {
        return None;
    }
    let name = &rest[..colon];
    let mut words = name.split(' ');
    let first_word = words.next()?;
    if !name_word(first_word)
        || ROLES.iter().any(|r| first_word.eq_ignore_ascii_case(r))
        || words.clone().count() >= MAX_WORDS
        || !words.all(name_word)
    {
        return None;
    }
    Some(Speaker {
        start: offset + skip,
        end: offset + skip + colon,
        transcript: timed,
    })
}

/// A word of a name: starts with a capital (or a letter of a script without case), then letters,
/// combining marks, inner `'`, `-` or a final `.` of an initial.
fn name_word(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let starts = first.is_uppercase() || (first.is_alphabetic() && !first.is_lowercase());
    let rest = word[first.len_utf8()..].trim_end_matches('.');
    starts
        && rest
            .chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '-' || is_mark(c))
        && (word.len() - rest.len() - first.len_utf8() <= 1)
}

/// Combining marks that `char::is_alphabetic` leaves out but names in Indic scripts carry
/// (virama, nukta and the other signs of the Devanagari to Malayalam blocks).
pub(crate) fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{0900}'..='\u{0963}' | '\u{0981}'..='\u{0D63}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(&str, bool)> {
        speakers(text)
            .iter()
            .map(|s| (&text[s.start..s.end], s.transcript))
            .collect()
    }

    #[test]
    fn labels_at_line_starts_are_speakers_and_repeats_or_times_mark_a_transcript() {
        assert_eq!(
            names("Mary: sure thing\nTom: ok\nMary: thanks"),
            vec![("Mary", true), ("Tom", false), ("Mary", true)]
        );
        assert_eq!(
            names("[13:24] Randý Vígþórsdóttir: +1\n[2:07 PM] Brian J. Moore: ok"),
            vec![("Randý Vígþórsdóttir", true), ("Brian J. Moore", true)]
        );
        assert_eq!(names("[09:12] נועה כהן: שלום"), vec![("נועה כהן", true)]);
        // NB: byte 64 of this line falls inside a character.
        let greek = "Σταυρούλα: καλημέρα σε όλους, τι κάνετε σήμερα;";
        assert_eq!(names(greek), vec![("Σταυρούλα", false)]);
    }

    #[test]
    fn roles_sentences_and_times_are_not_speakers() {
        for text in [
            "Agent: hi\nAgent: bye",
            "Note that this: is prose",
            "we met at 10:30 today",
            "see https://example.com",
            "Subject line here and more words: x",
        ] {
            assert!(names(text).is_empty(), "{text}");
        }
    }
}
