//! Values of labelled fields that name a person or a place, whatever the words are: `city=Lund`,
//! `"city": "Mäntsälä"`, `customer_name='Aatu Virtanen'`, `City: Lund`, and the cells of a CSV
//! or tab-separated column headed `city` or `full_name`.

use regex::Regex;

use super::Candidate;
use super::gazetteer::{Gazetteer, push_key};
use crate::entity::EntityType;

/// Key endings whose value is a place, whatever it is called.
const PLACE_KEYS: &[&str] = &[
    "city",
    "town",
    "village",
    "country",
    "birthplace",
    "hometown",
    "destination",
    "municipality",
    "suburb",
    "locality",
];
/// Key endings whose value is a place only when the gazetteer knows it (`state=Active` is not).
const KNOWN_PLACE_KEYS: &[&str] = &[
    "state", "region", "province", "county", "location", "origin",
];
/// Which bytes end some [`PLACE_KEYS`] or [`KNOWN_PLACE_KEYS`] entry: a key ending in another
/// names no place, and is not compared with them.
const PLACE_KEY_ENDS: [bool; 256] = super::bytes_from_end(&[PLACE_KEYS, KNOWN_PLACE_KEYS], 1);
/// Keys (whole, or before `name`: `customer_name`, `firstName`) whose value is a person.
const PERSON_KEYS: &[&str] = &[
    "full",
    "first",
    "last",
    "given",
    "family",
    "middle",
    "sur",
    "maiden",
    "customer",
    "client",
    "patient",
    "contact",
    "holder",
    "cardholder",
    "account_holder",
    "passenger",
    "traveler",
    "traveller",
    "guest",
    "employee",
    "member",
    "recipient",
    "sender",
    "author",
    "assignee",
    "reporter",
    "requester",
    "owner",
    "beneficiary",
    "policyholder",
    "insured",
    "physician",
    "emergency_contact",
    "user",
];
/// Longest key, in bytes.
const MAX_KEY: usize = 40;
/// Longest value, in bytes.
const MAX_VALUE: usize = 64;
/// Most words in a value.
const MAX_WORDS: usize = 5;
/// Values that say a field is empty or hidden, not a name.
const PLACEHOLDERS: &[&str] = &[
    "unknown",
    "none",
    "null",
    "nil",
    "other",
    "various",
    "undefined",
    "default",
    "remote",
    "online",
    "test",
    "sample",
    "example",
    "redacted",
    "hidden",
    "anonymous",
    "private",
];
/// Score of a labelled value.
const SCORE: f64 = 0.9;

/// What a key says its value is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A place, whatever its name.
    Place,
    /// A place, if the gazetteer knows it.
    KnownPlace,
    /// A person, whatever the name.
    Person,
}

/// Finds labelled fields.
pub(crate) struct Fields {
    /// A line of a postal code and a town (`37148 Kökar`, `81-264 Gorlice`, `H-1372 Ócsa`).
    postal: Regex,
}

impl Fields {
    /// Compiles the postal-line pattern.
    pub(crate) fn new() -> Self {
        Fields {
            postal: Regex::new(
                r"^(?:[A-Z]{1,2}-)?(?:[0-9]{4,8}|[0-9]{2,5}[- ][0-9]{2,4}) +(\p{Lu}[^\n\r,;:0-9]{1,48}?) *\r?$",
            )
            .expect("the postal pattern compiles"),
        }
    }

    /// Appends the people and places that labelled fields name in `text`.
    pub(crate) fn find(&self, text: &str, g: &Gazetteer, out: &mut Vec<Candidate>) {
        keyed(text, g, out);
        columns(text, g, out);
        self.postal(text, g, out);
    }

    /// The town of an address block's postal line: the line before it holds a house number.
    fn postal(&self, text: &str, g: &Gazetteer, out: &mut Vec<Candidate>) {
        let mut previous = "";
        for (line_start, line) in super::lines(text) {
            let line = line.strip_suffix('\n').unwrap_or(line);
            // NB: only a line starting with a digit, or a country letter and `-`, is tried.
            let b = line.as_bytes();
            let candidate = b.first().is_some_and(u8::is_ascii_digit)
                || b.len() > 2 && b[0].is_ascii_uppercase() && (b[1] == b'-' || b[2] == b'-');
            let above = std::mem::replace(&mut previous, line);
            if !candidate || !above.bytes().any(|b| b.is_ascii_digit()) {
                continue;
            }
            let Some(town) = self.postal.captures(line).and_then(|c| c.get(1)) else {
                continue;
            };
            let org = town.as_str().split(' ').any(|w| {
                let mut key = String::new();
                push_key(w, &mut key);
                g.word(&key).org
            });
            if !org {
                let from = line_start + town.start();
                push(g, Kind::Place, town.as_str(), from, from + town.len(), out);
            }
        }
    }
}

/// `key=value`, `"key": "value"`, `key: Value`.
fn keyed(text: &str, g: &Gazetteer, out: &mut Vec<Candidate>) {
    for at in memchr::memchr2_iter(b':', b'=', text.as_bytes()) {
        keyed_value(text, at, g, out);
    }
}

/// The value of the key before the delimiter at byte `at`, if the key names a person or place.
fn keyed_value(text: &str, at: usize, g: &Gazetteer, out: &mut Vec<Candidate>) {
    let head = text[..at]
        .trim_end_matches([' '])
        .trim_end_matches(['"', '\'']);
    // NB: a key ends with a letter; most colons (times, URLs) are passed over here.
    if !head.as_bytes().last().is_some_and(u8::is_ascii_alphabetic) {
        return;
    }
    let key_start = head
        .bytes()
        .rev()
        .take(MAX_KEY + 1)
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .map_or(head.len().saturating_sub(MAX_KEY + 1), |n| head.len() - n);
    let Some(kind) = kind(&head[key_start..]) else {
        return;
    };
    let rest = &text[at + 1..];
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    let quote = rest[spaces..]
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\''));
    // NB: a person after a form label (`Patient: …`) is the names' cue's to find.
    let form = quote.is_none() && text.as_bytes()[at] == b':';
    if form && kind == Kind::Person {
        return;
    }
    let start = at + 1 + spaces + quote.map_or(0, char::len_utf8);
    if let Some((end, value)) = value(text, start, quote) {
        push(g, kind, value, start, end, out);
    }
}

/// The cells of columns whose header names people or places, in lines with as many cells as the
/// header.
fn columns(text: &str, g: &Gazetteer, out: &mut Vec<Candidate>) {
    let mut header: Option<(u8, Vec<Option<Kind>>)> = None;
    for (line_start, line) in super::lines(text) {
        let line = line.trim_end_matches(['\n', '\r']);
        if let Some(found) = header_of(line) {
            header = Some(found);
            continue;
        }
        if let Some((delimiter, kinds)) = &header {
            let cells = cells(line, *delimiter);
            // NB: a row with another number of cells (an unquoted comma) is passed over.
            if cells.len() == kinds.len() {
                for (&(from, to), kind) in cells.iter().zip(kinds) {
                    let Some(kind) = *kind else { continue };
                    let cell = line[from..to].trim_matches([' ', '"']);
                    let start = line_start + from + line[from..to].find(cell).unwrap_or(0);
                    if !cell.is_empty() && name_like(cell, g) {
                        push(g, kind, cell, start, start + cell.len(), out);
                    }
                }
            }
        }
    }
}

/// The delimiter and the kind of each column, if `line` is a header naming a person or place.
fn header_of(line: &str) -> Option<(u8, Vec<Option<Kind>>)> {
    // NB: a header holds only identifiers, delimiters and quotes, at least one delimiter, and
    // no cell longer than a key; most lines (prose too) fail this test within a few dozen bytes,
    // before anything is allocated.
    const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];
    let (mut cell, mut counts) = (0, [0usize; DELIMITERS.len()]);
    for b in line.bytes() {
        if let Some(d) = DELIMITERS.iter().position(|&d| d == b) {
            (cell, counts[d]) = (0, counts[d] + 1);
            continue;
        }
        match b {
            b' ' | b'"' => {}
            b'_' | b'-' | b'.' => cell += 1,
            _ if b.is_ascii_alphanumeric() => cell += 1,
            _ => return None,
        }
        if cell > MAX_KEY {
            return None;
        }
    }
    // NB: the delimiter the line holds most of; a tie goes to the later one in `DELIMITERS`.
    let (most, &count) = counts.iter().enumerate().max_by_key(|&(_, c)| c)?;
    if count == 0 {
        return None;
    }
    let delimiter = DELIMITERS[most];
    let cells = cells(line, delimiter);
    let identifiers = cells.len() >= 2
        && cells.iter().all(|&(from, to)| {
            let cell = line[from..to].trim_matches([' ', '"']);
            // NB: a header cell is a short identifier, not a phrase (`Full Name`, `city`).
            !cell.is_empty()
                && cell.len() <= MAX_KEY
                && cell.split(' ').count() <= 2
                && !cell.contains('"')
        });
    if !identifiers {
        return None;
    }
    let kinds: Vec<Option<Kind>> = cells
        .iter()
        .map(|&(from, to)| kind(line[from..to].trim_matches([' ', '"'])))
        .collect();
    kinds
        .iter()
        .any(Option::is_some)
        .then_some((delimiter, kinds))
}

/// Byte ranges of the cells of `line`; a cell in double quotes may hold the delimiter, and a
/// comma followed by a space is a value's (`May 27, 2026` in an export that does not quote it).
fn cells(line: &str, delimiter: u8) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let inside = b == b',' && bytes.get(i + 1) == Some(&b' ');
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted && !inside {
            found.push((start, i));
            start = i + 1;
        }
    }
    found.push((start, line.len()));
    found
}

/// What a key (`city`, `billing_city`, `billingCity`, `customer_name`) says its value is, if it
/// names a person or a place.
fn kind(key: &str) -> Option<Kind> {
    // NB: an ending counts after a separator (`_`, `-`, `.`, ` `) or as a camelCase word.
    let ending = |word: &str| {
        let at = key.len().checked_sub(word.len())?;
        let starts_word = at == 0
            || matches!(key.as_bytes()[at - 1], b'_' | b'-' | b'.' | b' ')
            || key.as_bytes()[at].is_ascii_uppercase();
        (key.is_char_boundary(at) && key[at..].eq_ignore_ascii_case(word) && starts_word)
            .then(|| key[..at].trim_end_matches(['_', '-', '.', ' ']))
    };
    let last = key.as_bytes().last()?.to_ascii_lowercase();
    if PLACE_KEY_ENDS[usize::from(last)] {
        if PLACE_KEYS.iter().any(|k| ending(k).is_some()) {
            return Some(Kind::Place);
        }
        if KNOWN_PLACE_KEYS.iter().any(|k| ending(k).is_some()) {
            return Some(Kind::KnownPlace);
        }
    }
    // NB: a bare `name` may name anything (a product, a language), so it is not a person's.
    let owner = ending("names").or_else(|| ending("name")).unwrap_or(key);
    let owner = owner.rsplit(['.', ' ']).next().unwrap_or(owner);
    // NB: `account-holder` and `account_holder` are the same key.
    let same = |k: &str| {
        k.len() == owner.len()
            && k.bytes()
                .zip(owner.bytes())
                .all(|(a, b)| a == b.to_ascii_lowercase() || (a == b'_' && b == b'-'))
    };
    PERSON_KEYS.iter().any(|k| same(k)).then_some(Kind::Person)
}

/// The value starting at byte `start`: up to the closing `quote`, or the capitalised words there;
/// its end and text, if it reads as a name.
fn value(text: &str, start: usize, quote: Option<char>) -> Option<(usize, &str)> {
    let rest = &text[start..];
    let rest = crate::context::after(rest, 0, MAX_VALUE);
    let rest = rest.split(['\n', '\r', '\t']).next().unwrap_or_default();
    let value = match quote {
        Some(q) => &rest[..rest.find(q)?],
        None => {
            // NB: words up to the first that is not part of a name, or that is the next label;
            // a short word with a full stop (`St.`, `F.`) does not end the value.
            let (mut at, mut end) = (0, 0);
            for word in rest.split(' ').take(MAX_WORDS) {
                let clean = word.trim_end_matches([',', ';', ')']);
                let clean = if clean.len() <= 4 {
                    clean
                } else {
                    clean.trim_end_matches('.')
                };
                if !starts_upper(clean) || word.ends_with(':') {
                    break;
                }
                end = at + clean.len();
                if clean.len() != word.len() {
                    break;
                }
                at += word.len() + 1;
            }
            rest[..end].trim_end_matches('.')
        }
    };
    (!value.is_empty()).then_some((start + value.len(), value))
}

/// Whether `value` is one to five words that could make up a name (`Aatu Virtanen`,
/// `Rio de Janeiro`, `O'Brien-Smith`).
fn name_like(value: &str, g: &Gazetteer) -> bool {
    let words: Vec<&str> = value.split(' ').collect();
    let mut key = String::new();
    words.len() <= MAX_WORDS
        && starts_upper(words[0])
        && words.iter().all(|w| {
            key.clear();
            push_key(w, &mut key);
            let letters = w
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, '\'' | '-' | '.' | '’'));
            letters && (starts_upper(w) || g.is_connector(&key)) && !g.word(&key).common
        })
}

/// Appends a candidate for `value` at `start..end`, if it reads as what the field says.
fn push(
    g: &Gazetteer,
    kind: Kind,
    value: &str,
    start: usize,
    end: usize,
    out: &mut Vec<Candidate>,
) {
    if !name_like(value, g) || PLACEHOLDERS.iter().any(|p| value.eq_ignore_ascii_case(p)) {
        return;
    }
    let entity_type = match kind {
        Kind::Place => EntityType::Location,
        Kind::KnownPlace => {
            let mut key = String::new();
            push_key(value, &mut key);
            if g.place(&key).is_none() {
                return;
            }
            EntityType::Location
        }
        Kind::Person => EntityType::Person,
    };
    out.push(Candidate::new(entity_type, start, end, SCORE));
}

fn starts_upper(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let g = Gazetteer::load();
        let mut out = Vec::new();
        Fields::new().find(text, &g, &mut out);
        out.iter()
            .map(|c| (c.entity_type, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn keyed_values_name_places_and_people() {
        assert_eq!(
            found(r#"{"customer_name": "Aatu Virtanen", "city": "Mäntsälä", "state": "Active"}"#),
            vec![
                (EntityType::Person, "Aatu Virtanen"),
                (EntityType::Location, "Mäntsälä")
            ]
        );
        assert_eq!(
            found("user=42 billingCity=Lund status=ok"),
            vec![(EntityType::Location, "Lund")]
        );
        assert_eq!(
            found("City: Bad Kötzting Phone: 0123"),
            vec![(EntityType::Location, "Bad Kötzting")]
        );
        assert_eq!(
            found(r#"{"given_names": "Aatu Olavi", "family_name": "Virtanen"}"#),
            vec![
                (EntityType::Person, "Aatu Olavi"),
                (EntityType::Person, "Virtanen")
            ]
        );
        assert!(found(r#"{"name": "Lower Southern Aranda", "velocity": "High"}"#).is_empty());
    }

    #[test]
    fn csv_columns_name_places_and_people() {
        let text = "id,full_name,city,plan\n1,Aatu Virtanen,Mäntsälä,Gold\n2,\"Ilse de Vries\",Lund,Basic\n";
        assert_eq!(
            found(text),
            vec![
                (EntityType::Person, "Aatu Virtanen"),
                (EntityType::Location, "Mäntsälä"),
                (EntityType::Person, "Ilse de Vries"),
                (EntityType::Location, "Lund")
            ]
        );
        assert!(found("a,b\nAatu Virtanen,Lund\n").is_empty());
        // An unquoted `May 27, 2026` does not shift the columns.
        assert_eq!(
            found("first_name,city,signup\nAatu,Lund,May 27, 2026\n"),
            vec![(EntityType::Person, "Aatu"), (EntityType::Location, "Lund")]
        );
    }

    #[test]
    fn the_town_of_a_postal_line_under_a_street_is_a_place() {
        assert_eq!(
            found("Runoilijanpolku 9\n37148 Kökar\nFinland\n"),
            vec![(EntityType::Location, "Kökar")]
        );
        assert_eq!(
            found("ulica Kopernika 88\n84-763 Legnica\n"),
            vec![(EntityType::Location, "Legnica")]
        );
        assert!(found("Order total\n12345 Widgets\n").is_empty());
    }
}
