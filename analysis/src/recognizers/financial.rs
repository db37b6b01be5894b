//! Payment cards, IBANs, US bank account numbers and Bitcoin addresses.

use regex::Regex;

use super::pattern::Pattern;
use super::regions::NumericRegions;
use super::{Candidate, labelled_not_pii};
use crate::context::{
    WINDOW_BEFORE, Words, after_keywords, around, keywords, mentions, standalone, standalone_number,
};
use crate::entity::EntityType;
use crate::validate;

const CARD_WORDS: Words = Words::new(&[
    "card",
    "visa",
    "mastercard",
    "amex",
    "credit",
    "debit",
    "cc",
    "payment",
]);
const ACCOUNT_WORDS: &[&str] = &[
    "account", "acct", "a/c", "bank", "checking", "savings", "deposit",
];
/// Words that say a nine-digit number is a routing number, not an account.
const ROUTING_WORDS: Words = Words::new(&["routing", "aba"]);
const IBAN_WORDS: Words = Words::new(&["iban", "bank", "transfer", "account", "sepa"]);

/// Finds CREDIT_CARD, IBAN_CODE, US_BANK_NUMBER and CRYPTO.
pub(crate) struct Financial {
    card: Pattern,
    iban: Pattern,
    account: Regex,
    account_words: Regex,
    btc: Regex,
}

impl Financial {
    /// Compiles the patterns.
    pub(crate) fn new() -> Self {
        Financial {
            card: Pattern::new(r"[0-9](?:[ \-]?[0-9]){12,18}", "card pattern"),
            iban: Pattern::new(r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}", "iban pattern"),
            account: Regex::new(r"\d{8,17}").expect("account pattern"),
            account_words: keywords(ACCOUNT_WORDS),
            // NB: not a full DFA: building one passed 2^31 states (after 9 minutes and 16 GB).
            btc: Regex::new(
                r"[13][1-9A-HJ-NP-Za-km-z]{25,34}|(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87}",
            )
            .expect("bitcoin pattern"),
        }
    }

    /// Appends candidates found in `text`.
    pub(crate) fn find(&self, text: &str, regions: &NumericRegions, out: &mut Vec<Candidate>) {
        // NB: a card number is one cluster of at least 13 digits.
        for (start, end) in regions.matches(&self.card, text, |c| c.digits >= 13, 0, 0) {
            if let Some(c) = card(text, start, end) {
                out.push(c);
            }
        }
        // NB: an IBAN starts two capitals before a run of digits and spans at most 64 bytes.
        let b = text.as_bytes();
        let after_capitals = |s: usize, len: usize| {
            len >= 2 && s >= 2 && b[s - 2].is_ascii_uppercase() && b[s - 1].is_ascii_uppercase()
        };
        for (start, end) in regions.matches_near_runs(&self.iban, text, after_capitals, 2, 62) {
            if let Some(c) = iban(text, start, &text[start..end]) {
                out.push(c);
            }
        }
        // NB: account numbers need context, so only the text after a keyword is searched.
        for (offset, region) in
            after_keywords(text, regions.lower(), &self.account_words, WINDOW_BEFORE)
        {
            for m in self.account.find_iter(region) {
                if let Some(c) = account(text, offset + m.start(), offset + m.end()) {
                    out.push(c);
                }
            }
        }
        // NB: an address is letters and digits only, with a `1` or `3` in it.
        for (start, end) in regions.matches_in_coin_words(&self.btc, text) {
            let s = &text[start..end];
            let valid = || {
                if s.starts_with("bc1") || s.starts_with("BC1") {
                    validate::bech32(s)
                } else {
                    validate::base58check(s)
                }
            };
            if standalone(text, start, end) && valid() {
                out.push(Candidate::new(EntityType::Crypto, start, end, 1.0));
            }
        }
    }
}

fn card(text: &str, start: usize, end: usize) -> Option<Candidate> {
    let s = &text[start..end];
    if !standalone_number(text, start, end) {
        return None;
    }
    // Separators, when present, must all be the same character.
    let mut seps = s.bytes().filter(|b| !b.is_ascii_digit());
    if let Some(first) = seps.next()
        && seps.any(|b| b != first)
    {
        return None;
    }
    let d = validate::digits(s);
    if !validate::luhn(&d) || !validate::card_issuer_known(&d) {
        return None;
    }
    let (before, after) = around(text, start, end);
    let score = if mentions(before, &CARD_WORDS) || mentions(after, &CARD_WORDS) {
        1.0
    } else {
        0.9
    };
    Some(Candidate::new(EntityType::CreditCard, start, end, score))
}

fn iban(text: &str, start: usize, s: &str) -> Option<Candidate> {
    // The pattern may run into a following upper-case word: drop trailing groups until valid.
    let mut s = s.trim_end();
    loop {
        let compact: String = s.chars().filter(|c| *c != ' ').collect();
        let end = start + s.len();
        if validate::iban(&compact) && standalone(text, start, end) {
            let (before, _) = around(text, start, end);
            let score = if mentions(before, &IBAN_WORDS) {
                1.0
            } else {
                0.95
            };
            return Some(Candidate::new(EntityType::IbanCode, start, end, score));
        }
        s = &s[..s.rfind(' ')?];
    }
}

fn account(text: &str, start: usize, end: usize) -> Option<Candidate> {
    if !standalone_number(text, start, end) {
        return None;
    }
    let (before, _) = around(text, start, end);
    if labelled_not_pii(text, start) {
        return None;
    }
    let d = validate::digits(&text[start..end]);
    if mentions(before, &ROUTING_WORDS) && validate::aba_routing(&d) {
        return None;
    }
    Some(Candidate::new(EntityType::UsBankNumber, start, end, 0.75))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        Financial::new().find(text, &NumericRegions::of(text), &mut out);
        out.iter()
            .map(|c| (c.entity_type, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn valid_cards_are_found_with_and_without_separators() {
        assert_eq!(
            types("card 4111 1111 1111 1111."),
            vec![(EntityType::CreditCard, "4111 1111 1111 1111")]
        );
        assert_eq!(
            types("pay 5555555555554444 now"),
            vec![(EntityType::CreditCard, "5555555555554444")]
        );
        assert_eq!(
            types("amex 3782-822463-10005"),
            vec![(EntityType::CreditCard, "3782-822463-10005")]
        );
    }

    #[test]
    fn luhn_failing_and_mixed_separator_numbers_are_not_cards() {
        assert!(types("card 4111 1111 1111 1112").is_empty());
        assert!(types("card 4111-1111 1111-1111").is_empty());
    }

    #[test]
    fn ibans_are_validated_and_trimmed() {
        assert_eq!(
            types("IBAN: GB82 WEST 1234 5698 7654 32 THANKS"),
            vec![(EntityType::IbanCode, "GB82 WEST 1234 5698 7654 32")]
        );
        assert!(types("ref GB82 WEST 1234 5698 7654 33").is_empty());
    }

    #[test]
    fn bank_numbers_need_account_context() {
        assert_eq!(
            types("checking account 12345678901"),
            vec![(EntityType::UsBankNumber, "12345678901")]
        );
        assert!(types("order 12345678901 shipped").is_empty());
        assert!(types("routing number 021000021").is_empty());
    }

    #[test]
    fn bitcoin_addresses_need_a_valid_checksum() {
        assert_eq!(
            types("send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 today"),
            vec![(EntityType::Crypto, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")]
        );
        assert_eq!(types("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq").len(), 1);
        assert!(types("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3").is_empty());
    }
}
