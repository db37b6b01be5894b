//! Government and health identifiers: US SSN, ITIN, passport, driver's licence, UK NHS, DEA.

use regex::Regex;

use super::pattern::Pattern;
use super::regions::NumericRegions;
use super::{Candidate, labelled_not_pii};
use crate::context::{
    WINDOW_BEFORE, Words, after_keywords, around, keywords, mentions, standalone_number,
};
use crate::entity::EntityType;
use crate::validate;

const SSN_WORDS: Words = Words::new(&[
    "ssn",
    "social security",
    "ss#",
    "ss #",
    "soc sec",
    "social sec",
]);
const ITIN_WORDS: Words = Words::new(&["itin", "taxpayer", "tax id", "tin:", "tin #", "tin no"]);
const NHS_WORDS: Words = Words::new(&["nhs", "national health", "health service"]);
const PASSPORT_WORDS: Words = Words::new(&["passport"]);
const LICENSE_WORDS: &[&str] = &[
    "driver",
    "dl#",
    "dl:",
    "dl no",
    "dl number",
    "dl_number",
    "dl_no",
    "dl_num",
    "license",
    "licence",
    "lic#",
    "lic no",
];
const DEA_WORDS: Words = Words::new(&[
    "dea",
    "prescriber",
    "medical license",
    "medical licence",
    "registration",
    "physician",
]);

/// Finds US_SSN, US_ITIN, US_PASSPORT, US_DRIVER_LICENSE, UK_NHS and MEDICAL_LICENSE.
pub(crate) struct Government {
    /// SSN / ITIN (3-2-4 digits) and NHS (3-3-4 digits) share one pattern and one pass.
    ssn_nhs: Pattern,
    passport: Regex,
    passport_words: Regex,
    license: Regex,
    license_words: Regex,
    dea: Pattern,
}

impl Government {
    /// Compiles the patterns.
    pub(crate) fn new() -> Self {
        Government {
            ssn_nhs: Pattern::new(
                r"[0-9]{3}[ \-.]?[0-9]{2}[0-9]?[ \-.]?[0-9]{4}",
                "ssn and nhs pattern",
            ),
            passport: Regex::new(r"[A-Z]?\d{8,9}").expect("passport pattern"),
            passport_words: keywords(PASSPORT_WORDS.list),
            license_words: keywords(LICENSE_WORDS),
            // NB: grouped state formats first (`32 624 924`, `A6189 81168 32409`,
            // `I 650 466 242 012`, `A123-456-78-901-0`), then Washington's `WDL` + 9, then runs.
            license: Regex::new(
                r"(?:[A-Z] ?)?\d{1,5}(?:[ \-]\d{1,5}){1,4}|WDL[A-Z0-9]{9}|[A-Z]{1,2}[ \-]?\d{4,12}|\d{7,12}",
            )
            .expect("license pattern"),
            dea: Pattern::new(r"[A-Z][A-Z9][0-9]{7}", "dea pattern"),
        }
    }

    /// Appends candidates found in `text`.
    pub(crate) fn find(&self, text: &str, regions: &NumericRegions, out: &mut Vec<Candidate>) {
        // NB: SSNs, ITINs and NHS numbers are one cluster of at least 9 digits.
        for (start, end) in regions.matches(&self.ssn_nhs, text, |c| c.digits >= 9, 0, 0) {
            let s = &text[start..end];
            if s.bytes().filter(u8::is_ascii_digit).count() == 9 {
                out.extend(ssn_or_itin(text, start, end));
                continue;
            }
            if !standalone_number(text, start, end) || !consistent_separators(s) || s.contains('.')
            {
                continue;
            }
            if validate::nhs(&validate::digits(s)) {
                let (before, after) = around(text, start, end);
                let score = if mentions(before, &NHS_WORDS) || mentions(after, &NHS_WORDS) {
                    1.0
                } else {
                    0.45
                };
                out.push(Candidate::new(EntityType::UkNhs, start, end, score));
            }
        }
        // NB: passports and licences need context, so only the text after a keyword is searched.
        for (offset, region) in
            after_keywords(text, regions.lower(), &self.passport_words, WINDOW_BEFORE)
                .into_iter()
                .map(|(offset, region)| (offset, through_reply(text, offset, region)))
        {
            for m in self.passport.find_iter(region) {
                let (start, end) = (offset + m.start(), offset + m.end());
                if standalone_number(text, start, end) {
                    out.push(Candidate::new(EntityType::UsPassport, start, end, 0.8));
                }
            }
        }
        for (offset, region) in
            after_keywords(text, regions.lower(), &self.license_words, WINDOW_BEFORE)
        {
            for m in self.license.find_iter(region) {
                let (start, end) = (offset + m.start(), offset + m.end());
                let (before, _) = around(text, start, end);
                let medical = mentions(before, &DEA_WORDS) && validate::dea(m.as_str());
                if plausible_license(m.as_str())
                    && standalone_number(text, start, end)
                    && !medical
                    && !mentions(before, &PASSPORT_WORDS)
                {
                    out.push(Candidate::new(
                        EntityType::UsDriverLicense,
                        start,
                        end,
                        0.75,
                    ));
                }
            }
        }
        // NB: a DEA number is a capital, a capital or 9, then 7 digits: a run of 7 or more
        // digits right after a capital, or after a capital and a capital.
        let b = text.as_bytes();
        let after_capital =
            |s: usize, len: usize| len >= 7 && s >= 1 && b[s - 1].is_ascii_uppercase();
        for (start, end) in regions.matches_near_runs(&self.dea, text, after_capital, 2, 8) {
            if !standalone_number(text, start, end) || !validate::dea(&text[start..end]) {
                continue;
            }
            let (before, _) = around(text, start, end);
            let score = if mentions(before, &DEA_WORDS) {
                1.0
            } else if labelled_not_pii(text, start) {
                0.2
            } else {
                0.55
            };
            out.push(Candidate::new(
                EntityType::MedicalLicense,
                start,
                end,
                score,
            ));
        }
    }
}

/// `region` (starting at byte `offset`), extended through the next line when its own line is a
/// question: in a chat the number comes in the reply (`passport # please?` / `Ana: 912803456`).
fn through_reply<'t>(text: &'t str, offset: usize, region: &'t str) -> &'t str {
    const MAX_REPLY: usize = 160;
    let Some(line_end) = text[offset..].find('\n').map(|i| offset + i) else {
        return region;
    };
    if !text[..line_end].trim_end().ends_with('?') {
        return region;
    }
    let reply_end = text[line_end + 1..]
        .find('\n')
        .map_or(text.len(), |i| line_end + 1 + i);
    if reply_end - offset > MAX_REPLY || reply_end <= offset + region.len() {
        return region;
    }
    &text[offset..reply_end]
}

/// Whether a licence-shaped match is ungrouped (its pattern says enough) or, when grouped, has
/// 7 to 14 digits and one kind of separator.
fn plausible_license(s: &str) -> bool {
    let mut separators = s
        .trim_start_matches(|c: char| c.is_ascii_uppercase())
        .trim_start()
        .bytes()
        .filter(|b| matches!(b, b' ' | b'-'));
    let Some(first) = separators.next() else {
        return true;
    };
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    (7..=14).contains(&digits) && separators.all(|b| b == first)
}

fn consistent_separators(s: &str) -> bool {
    let mut seps = s.bytes().filter(|b| !b.is_ascii_digit());
    match seps.next() {
        None => true,
        Some(first) => {
            seps.all(|b| b == first) && s.bytes().filter(|b| !b.is_ascii_digit()).count() == 2
        }
    }
}

fn ssn_or_itin(text: &str, start: usize, end: usize) -> Option<Candidate> {
    let s = &text[start..end];
    if !standalone_number(text, start, end) || !consistent_separators(s) {
        return None;
    }
    let d = validate::digits(s);
    let separated = s.len() == 11;
    let (kind, words) = if validate::itin(&d) {
        (EntityType::UsItin, &ITIN_WORDS)
    } else if validate::ssn(&d) {
        (EntityType::UsSsn, &SSN_WORDS)
    } else {
        return None;
    };
    // NB: context is read only for valid numbers, the label only when no context word is near.
    let (before, after) = around(text, start, end);
    let score = if mentions(before, words) || mentions(after, words) {
        0.95
    } else if labelled_not_pii(text, start) {
        0.2
    } else if separated {
        0.6
    } else {
        0.3
    };
    Some(Candidate::new(kind, start, end, score))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognizers::MIN_SCORE;

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        Government::new().find(text, &NumericRegions::of(text), &mut out);
        out.iter()
            .filter(|c| c.score >= MIN_SCORE)
            .map(|c| (c.entity_type, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn dashed_ssns_are_found_and_context_raises_bare_ones() {
        assert_eq!(
            found("it is 536-22-1234."),
            vec![(EntityType::UsSsn, "536-22-1234")]
        );
        assert_eq!(
            found("SSN: 536221234"),
            vec![(EntityType::UsSsn, "536221234")]
        );
        assert!(found("id 536221234").is_empty());
    }

    #[test]
    fn invalid_ssns_are_not_reported() {
        for text in [
            "000-12-3456",
            "666-12-3456",
            "536-00-1234",
            "536-22-0000",
            "order 536-22-1234",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn itins_are_told_apart_from_ssns() {
        assert_eq!(
            found("ITIN 912-70-1234"),
            vec![(EntityType::UsItin, "912-70-1234")]
        );
    }

    #[test]
    fn nhs_numbers_need_the_check_digit_and_context() {
        assert_eq!(
            found("NHS number 943 476 5919"),
            vec![(EntityType::UkNhs, "943 476 5919")]
        );
        assert!(found("NHS number 943 476 5918").is_empty());
    }

    #[test]
    fn passports_and_licences_need_context() {
        assert_eq!(
            found("passport no. 912803456"),
            vec![(EntityType::UsPassport, "912803456")]
        );
        assert_eq!(
            found("driver's license D1234567"),
            vec![(EntityType::UsDriverLicense, "D1234567")]
        );
        assert!(found("reference D1234567").is_empty());
    }

    #[test]
    fn a_passport_number_answering_a_question_on_the_line_before_is_found() {
        let chat = "[1:20 PM] Kevin: can you confirm the passport number on the booking?\n\
                    [1:22 PM] Aurelia Featherstonehaugh-Smith: W60089502\n";
        assert_eq!(found(chat), vec![(EntityType::UsPassport, "W60089502")]);
        let statement = "we checked the passport at the desk yesterday.\n\
                         Kevin Featherstonehaugh-Smith: order 912803456\n";
        assert!(found(statement).is_empty());
    }

    #[test]
    fn state_licence_formats_with_spaces_dashes_and_key_value_labels_are_found() {
        for (text, number) in [
            ("license 32 624 924 (Pennsylvania)", "32 624 924"),
            ("driver's license A6189 81168 32409", "A6189 81168 32409"),
            ("DL# I 650 466 242 012", "I 650 466 242 012"),
            ("license A123-456-78-901-0 (Florida)", "A123-456-78-901-0"),
            ("dl_number=WDL7K2M9QX41 dl_state=Washington", "WDL7K2M9QX41"),
            ("dl_number=A1234567 result=ok", "A1234567"),
            ("Ohio license AB123456", "AB123456"),
        ] {
            assert_eq!(
                found(text),
                vec![(EntityType::UsDriverLicense, number)],
                "{text}"
            );
        }
        assert!(found("license valid 2019 - 2024").is_empty());
        assert!(found("license 12 34").is_empty());
    }

    #[test]
    fn dea_numbers_are_medical_licenses() {
        assert_eq!(
            found("DEA number AB1234563"),
            vec![(EntityType::MedicalLicense, "AB1234563")]
        );
        assert!(found("DEA number AB1234567").is_empty());
    }
}
