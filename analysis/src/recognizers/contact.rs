//! Telephone numbers: North American, E.164 international and national formats.

use regex::Regex;

use super::regions::NumericRegions;
use super::{Candidate, labelled_not_pii};
use crate::context::{Words, around, mentions, standalone_number};
use crate::entity::EntityType;

const PHONE_WORDS: Words = Words::new(&[
    "phone", "call", "tel", "mobile", "cell", "fax", "sms", "text me", "contact", "reach",
    "number", "whatsapp", "dial", "móvil", "movil", "celular", "komórk", "portable",
]);

/// Finds PHONE_NUMBER.
pub(crate) struct Contact {
    phone: Regex,
}

impl Contact {
    /// Compiles the patterns.
    pub(crate) fn new() -> Self {
        // International (+CC ...), North American (NXX NXX XXXX), leading-zero national forms,
        // a two-digit area code in parentheses (Brazil) and grouped national numbers without a
        // trunk zero (Spain, Poland, Italian mobiles, Brazil), which [`shape_score`] narrows.
        let phone = [
            r"\+[0-9]{1,3}(?:[ .\-]?\(?[0-9]{1,5}\)?){1,6}",
            // NB: national numbers with a trunk 0 first, so their last digit is not left out.
            r"\(?0[0-9]{1,4}\)?(?:[ .\-]?[0-9]{2,4}){2,4}",
            r"(?:001[ .\-]|1[ .\-]?)?(?:\([0-9]{3}\)|[0-9]{3})[ .\-]?[0-9]{3}[ .\-]?[0-9]{4}",
            r"\([1-9][0-9]\) ?[0-9]{4,5}[ .\-]?[0-9]{4}",
            r"[1-9][0-9]{2}(?:[ .\-][0-9]{3}[ .\-][0-9]{3,4}|(?:[ .\-][0-9]{2}){3})",
            r"[1-9][0-9][ .\-](?:[0-9]{3}(?:[ .\-][0-9]{2}){2}|[0-9]{4}[ .\-][0-9]{4})",
        ]
        .join("|");
        Contact {
            // NB: not a full DFA (`super::pattern::Pattern`) as the other window patterns are:
            // its nested counted groups make one of 2 MB that takes 140 ms to build.
            phone: Regex::new(&phone).expect("phone pattern"),
        }
    }

    /// Appends candidates found in `text`.
    pub(crate) fn find(&self, text: &str, regions: &NumericRegions, out: &mut Vec<Candidate>) {
        // NB: a match is one cluster and at most a `+` or `(` before it and a `)` after it;
        // every shape [`shape_score`] accepts has at least 8 digits.
        for (start, end) in regions.matches(&self.phone, text, |c| c.digits >= 8, 1, 1) {
            if let Some(c) = phone(text, start, &text[start..end]) {
                out.push(c);
            }
        }
    }
}

fn phone(text: &str, start: usize, s: &str) -> Option<Candidate> {
    // A trailing group may belong to the next number: drop groups until the shape is valid.
    let mut s = s.trim_end_matches(['(', ' ', '.', '-']);
    loop {
        let end = start + s.len();
        if let Some(base) = shape_score(s)
            && standalone_number(text, start, end)
            && balanced(s)
        {
            let (before, after) = around(text, start, end);
            let score = if labelled_not_pii(text, start) {
                base * 0.3
            } else if mentions(before, &PHONE_WORDS)
                || mentions(after, &PHONE_WORDS)
                || after_email(before)
            {
                base + 0.25
            } else {
                base
            };
            return Some(Candidate::new(EntityType::PhoneNumber, start, end, score));
        }
        s = s[..s.rfind([' ', '.', '-'])?].trim_end_matches(['(', ' ', '.', '-']);
    }
}

/// Whether `before` ends with an e-mail address and ` or ` (`mail a@b.org or 0142392409`): a
/// second way to reach someone.
fn after_email(before: &str) -> bool {
    before
        .strip_suffix(" or ")
        .and_then(|b| b.rsplit([' ', '\n', '\t']).next())
        .is_some_and(|word| word.contains('@') && word.contains('.'))
}

fn balanced(s: &str) -> bool {
    s.bytes().filter(|&b| b == b'(').count() == s.bytes().filter(|&b| b == b')').count()
}

/// The base confidence of a number's shape, or None if it cannot be a phone number.
fn shape_score(s: &str) -> Option<f64> {
    // NB: only the count and the first seven digits matter; no allocation per candidate.
    let mut first = [0u8; 7];
    let mut count = 0;
    for b in s.bytes().filter(u8::is_ascii_digit) {
        if let Some(d) = first.get_mut(count) {
            *d = b - b'0';
        }
        count += 1;
    }
    let digits = &first[..count.min(first.len())];
    let separated = s.bytes().any(|b| matches!(b, b' ' | b'.' | b'-' | b'('));
    if s.starts_with('+') {
        let ok = (8..=15).contains(&count) && (digits[0] != 1 || count == 11);
        return ok.then_some(0.75);
    }
    // NB: `001` is how a North American number is dialled from many countries.
    let nanp = match count {
        10 if digits[0] != 0 => Some(digits),
        11 if digits[0] == 1 => Some(&digits[1..]),
        13 if separated && digits[..3] == [0, 0, 1] => Some(&digits[3..]),
        _ => None,
    };
    if let Some(d) = nanp
        && d[0] >= 2
        && d[3] >= 2
    {
        return Some(if separated { 0.7 } else { 0.4 });
    }
    // NB: a national number with its trunk 0 (`020 7946 0958`); unseparated, only with a cue.
    if digits.first() == Some(&0) && (10..=11).contains(&count) {
        return Some(if separated { 0.6 } else { NATIONAL_SCORE });
    }
    if s.starts_with('(') && s.as_bytes().get(3) == Some(&b')') && (10..=11).contains(&count) {
        return Some(0.6);
    }
    national_groups(s, count, digits[0]).then_some(NATIONAL_SCORE)
}

/// The score of a grouped national number without a trunk zero: reported only with a phone word
/// near it, since such groups are also quantities, codes and ids.
const NATIONAL_SCORE: f64 = 0.3;

/// Whether `s` (with `count` digits, the first `first`) is grouped as a national number without
/// a trunk zero: 9 digits as `912 345 678`, `612 34 56 78` or `12 345 67 89` (Spain, Poland),
/// 10 as `11 2345 6789` (Brazil) or `333 123 4567` (Italian mobiles start with 3).
fn national_groups(s: &str, count: usize, first: u8) -> bool {
    let mut groups = [0usize; 5];
    let mut n = 0;
    for run in s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty())
    {
        if n == groups.len() {
            return false;
        }
        groups[n] = run.len();
        n += 1;
    }
    match (count, &groups[..n]) {
        (9, [3, 3, 3] | [3, 2, 2, 2] | [2, 3, 2, 2]) => first != 0,
        (10, [2, 4, 4]) => first != 0,
        (10, [3, 3, 4]) => first == 3,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognizers::MIN_SCORE;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Contact::new().find(text, &NumericRegions::of(text), &mut out);
        out.iter()
            .filter(|c| c.score >= MIN_SCORE)
            .map(|c| &text[c.start..c.end])
            .collect()
    }

    #[test]
    fn north_american_numbers_are_found_in_common_formats() {
        assert_eq!(found("call (212) 555-0198 now"), vec!["(212) 555-0198"]);
        assert_eq!(found("cell: 212.555.0198"), vec!["212.555.0198"]);
        assert_eq!(found("at +1 212-555-0198."), vec!["+1 212-555-0198"]);
        assert_eq!(found("phone 2125550198"), vec!["2125550198"]);
    }

    #[test]
    fn international_and_national_numbers_are_found() {
        assert_eq!(
            found("ring +44 20 7946 0958 today"),
            vec!["+44 20 7946 0958"]
        );
        assert_eq!(found("ring +49 30 12345678"), vec!["+49 30 12345678"]);
        assert_eq!(found("tel 020 7946 0958"), vec!["020 7946 0958"]);
        assert_eq!(found("teléfono 912 345 678"), vec!["912 345 678"]);
        assert_eq!(found("móvil: 612 34 56 78"), vec!["612 34 56 78"]);
        assert_eq!(found("tel. 12 345 67 89"), vec!["12 345 67 89"]);
        assert_eq!(found("cellulare 333 123 4567"), vec!["333 123 4567"]);
        assert_eq!(found("ligue (11) 91234-5678"), vec!["(11) 91234-5678"]);
        assert_eq!(found("(21) 2345-6789"), vec!["(21) 2345-6789"]);
        assert_eq!(found("telefone 11 2345 6789"), vec!["11 2345 6789"]);
        assert_eq!(found("Phone: 001-431-883-7296"), vec!["001-431-883-7296"]);
        assert_eq!(found("Phone: 07315380818"), vec!["07315380818"]);
        assert_eq!(
            found("Questions: emma@example.net or 0142392409"),
            vec!["0142392409"]
        );
    }

    #[test]
    fn order_numbers_dates_and_bare_digit_runs_are_not_phones() {
        assert!(found("order 2125550198 shipped").is_empty());
        assert!(found("id 2125550198").is_empty());
        assert!(found("on 2024-03-14").is_empty());
        assert!(found("ssn 536-22-1234").is_empty());
        assert!(found("we shipped 912 345 678 units").is_empty());
        assert!(found("order number 612 34 56 78").is_empty());
        assert!(found("ref 07315380818 closed").is_empty());
        assert!(found("see me at 10:00 or 0142392409").is_empty());
    }
}
