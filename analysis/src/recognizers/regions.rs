//! The parts of a text near digits: patterns that need a digit only search there.

use regex::Regex;

/// How far from a digit a match of a digit-bearing pattern can start or end, in bytes.
const MARGIN: usize = 100;

/// Byte ranges of a text that lie within [`MARGIN`] bytes of a digit, merged and sorted.
pub(crate) struct NumericRegions(Vec<(usize, usize)>);

impl NumericRegions {
    /// Finds the regions of `text`.
    pub(crate) fn of(text: &str) -> Self {
        let mut regions: Vec<(usize, usize)> = Vec::new();
        for (i, _) in text.bytes().enumerate().filter(|(_, b)| b.is_ascii_digit()) {
            let (start, end) = (i.saturating_sub(MARGIN), (i + MARGIN + 1).min(text.len()));
            match regions.last_mut() {
                Some(last) if start <= last.1 => last.1 = end,
                _ => regions.push((start, end)),
            }
        }
        for r in &mut regions {
            while !text.is_char_boundary(r.0) {
                r.0 -= 1;
            }
            while !text.is_char_boundary(r.1) {
                r.1 += 1;
            }
        }
        NumericRegions(regions)
    }

    /// The matches of `re` inside the regions, as byte ranges of the whole text.
    pub(crate) fn matches<'a>(
        &'a self,
        re: &'a Regex,
        text: &'a str,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        self.0.iter().flat_map(move |&(from, to)| {
            re.find_iter(&text[from..to])
                .map(move |m| (from + m.start(), from + m.end()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_far_from_digits_is_not_searched() {
        let text = format!("{}call 212-555-0198{}", "a".repeat(300), "b".repeat(300));
        let regions = NumericRegions::of(&text);
        assert_eq!(regions.0, vec![(205, 417)]);
        let re = Regex::new(r"[a-z]+").unwrap();
        let total: usize = regions.matches(&re, &text).map(|(s, e)| e - s).sum();
        assert!(total < 250);
    }

    #[test]
    fn matches_are_reported_in_whole_text_offsets() {
        let text = format!("{}SSN 536-22-1234", "é".repeat(200));
        let re = Regex::new(r"\d{3}-\d{2}-\d{4}").unwrap();
        let found: Vec<&str> = NumericRegions::of(&text)
            .matches(&re, &text)
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(found, vec!["536-22-1234"]);
    }
}
