//! The words that names and places are read from: letters with inner apostrophes and hyphens,
//! each marked as capitalised, joined to the one before, or in a script without case.

use super::bytes8;
use super::chat;
use super::lexicon::TITLES;

/// A word of the text, as the name and place rules read it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Byte offset of the first letter.
    pub start: usize,
    /// Byte offset one past the last letter.
    pub end: usize,
    /// Starts with an upper-case letter followed by at least one lower-case letter.
    pub capitalised: bool,
    /// Joined to the previous token by exactly one space (or ". " after an initial).
    pub joined: bool,
    /// Made of letters of a script without case (Hebrew, Devanagari, Arabic, …).
    pub uncased: bool,
}

/// Whether `c` belongs in a word: a letter, or a combining mark that names carry.
fn is_letter(c: char) -> bool {
    c.is_alphabetic() || chat::is_mark(c)
}

/// Whether `word` is an initial or a title, after which `. ` does not end a name (`J. Moore`,
/// `Dr. van Luyssel`).
fn initial_or_title(word: &str) -> bool {
    word.chars().count() == 1 || TITLES.iter().any(|title| word.eq_ignore_ascii_case(title))
}

/// The letter starting at byte `i`, if there is one, and its length in bytes.
fn letter_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        return b.is_ascii_alphabetic().then_some((char::from(b), 1));
    }
    let c = text[i..].chars().next()?;
    is_letter(c).then_some((c, c.len_utf8()))
}

/// The first byte from `from` on that starts a word (see [`starts_word`]) with an upper-case
/// ASCII letter or a non-ASCII character; the end of `text` if none does.
fn next_word_start(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        // NB: most of prose is lower case: eight bytes at a time are passed over.
        i = bytes8::skip(bytes, i, bytes8::may_start_capital);
        // NB: 0xC0 and above start a character of several bytes; 0x80..0xC0 continue one.
        let candidate = bytes
            .get(i)
            .is_some_and(|&b| b.is_ascii_uppercase() || b >= 0xC0);
        if candidate && starts_word(text, i) {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// Whether byte `i` starts a word: no letter comes right before it, nor a letter and a joiner
/// (`'`, `-`, `’`).
fn starts_word(text: &str, i: usize) -> bool {
    let mut before = text[..i].chars().rev();
    match before.next() {
        Some('\'' | '-' | '’') => !before.next().is_some_and(is_letter),
        Some(c) => !is_letter(c),
        None => true,
    }
}

/// Words of letters (with inner apostrophes and hyphens), without a trailing possessive `'s`.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    // NB: sized for dense text up front, so a long text is not copied as the list grows.
    let mut tokens: Vec<Token> = Vec::with_capacity(text.len() / 12);
    let mut i = 0;
    while i < bytes.len() {
        // NB: ASCII bytes that are not letters start no token.
        if bytes[i] < 0x80 && !bytes[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        // NB: fast path for plain lower-case ASCII words, the bulk of prose. They matter only
        // right after a kept token (place connectors such as `de`), so others are skipped.
        if bytes[i].is_ascii_lowercase() {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
                j += 1;
            }
            let plain_end = bytes
                .get(j)
                .is_none_or(|&b| b < 0x80 && b != b'\'' && b != b'-');
            if plain_end {
                // NB: also after the full stop of a title or initial (`Dr. van Luyssel`).
                let adjacent = tokens.last().is_some_and(|t| {
                    t.end + 1 == i && bytes[t.end] == b' '
                        || t.end + 2 == i
                            && &text[t.end..i] == ". "
                            && initial_or_title(&text[t.start..t.end])
                });
                let after_capital = || {
                    tokens
                        .iter()
                        .rev()
                        .take(3)
                        .position(|t| t.capitalised)
                        .is_some_and(|p| {
                            tokens[tokens.len() - 1 - p..]
                                .iter()
                                .skip(1)
                                .all(|t| !t.capitalised && t.joined)
                        })
                };
                if adjacent && after_capital() {
                    tokens.push(Token {
                        start: i,
                        end: j,
                        capitalised: false,
                        joined: true,
                        uncased: false,
                    });
                    i = j;
                } else {
                    // NB: no later lower-case word is next to a kept token either, so the scan
                    // goes on at the next word that starts with a capital or a non-ASCII letter.
                    i = next_word_start(text, j);
                }
                continue;
            }
        }
        let Some((first, len)) = letter_at(text, i) else {
            // NB: skip continuation bytes of non-letter characters cheaply.
            i += 1;
            while i < bytes.len() && !text.is_char_boundary(i) {
                i += 1;
            }
            continue;
        };
        let start = i;
        let (mut upper, mut lower) = (
            usize::from(first.is_uppercase()),
            usize::from(first.is_lowercase()),
        );
        i += len;
        loop {
            // NB: ASCII letters first, without decoding characters.
            while let Some(&b) = bytes.get(i)
                && b.is_ascii_alphabetic()
            {
                upper += usize::from(b.is_ascii_uppercase());
                lower += usize::from(b.is_ascii_lowercase());
                i += 1;
            }
            if let Some((c, len)) = letter_at(text, i) {
                upper += usize::from(c.is_uppercase());
                lower += usize::from(c.is_lowercase());
                i += len;
                continue;
            }
            let joiner = match bytes.get(i) {
                Some(b'\'' | b'-') => 1,
                Some(0xE2) if text[i..].starts_with('’') => 3,
                _ => 0,
            };
            if joiner == 0 || letter_at(text, i + joiner).is_none() {
                break;
            }
            let rest = &text[i + joiner..];
            let possessive = bytes[i] != b'-'
                && (rest.starts_with('s') || rest.starts_with('S'))
                && letter_at(rest, 1).is_none();
            if possessive {
                break;
            }
            i += joiner;
        }
        let end = i;
        let gap = &text[tokens.last().map_or(0, |t| t.end)..start];
        let joined = tokens
            .last()
            .is_some_and(|t| gap == " " || gap == ". " && initial_or_title(&text[t.start..t.end]));
        let single_initial = upper == 1 && lower == 0 && text[end..].starts_with('.');
        let capitalised = first.is_uppercase() && (lower > 0 || single_initial) && upper <= 3;
        tokens.push(Token {
            start,
            end,
            capitalised,
            joined,
            uncased: upper == 0 && lower == 0,
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(&str, bool, bool)> {
        tokenize(text)
            .iter()
            .map(|t| (&text[t.start..t.end], t.capitalised, t.joined))
            .collect()
    }

    #[test]
    fn capitalised_words_are_kept_and_lower_case_words_only_just_after_them() {
        assert_eq!(
            words("we flew to Rio de Janeiro and then home to São Paulo's old town"),
            vec![
                ("Rio", true, false),
                ("de", false, true),
                ("Janeiro", true, true),
                ("and", false, true),
                ("then", false, true),
                ("home", false, true),
                ("São", true, false),
                ("Paulo", true, true),
            ]
        );
    }

    #[test]
    fn initials_titles_joiners_and_scripts_without_case_are_marked() {
        assert_eq!(
            words("Dr. J. O'Neil-Smith met נועה"),
            vec![
                ("Dr", true, false),
                ("J", true, true),
                ("O'Neil-Smith", true, true),
                ("met", false, true),
                ("נועה", false, true),
            ]
        );
        let uncased: Vec<bool> = tokenize("Dr. met נועה").iter().map(|t| t.uncased).collect();
        assert_eq!(uncased, vec![false, false, true]);
    }
}
