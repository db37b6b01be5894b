//! Calendar dates and times of day.

use regex::Regex;

use super::Candidate;
use super::pattern::Pattern;
use super::regions::{Cluster, NumericRegions, merged, search};
use crate::context::{Words, around, mentions, standalone};
use crate::entity::EntityType;

const BIRTH_WORDS: Words = Words::new(&["dob", "date of birth", "born", "birthday", "d.o.b"]);
const MONTH: &str = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";

/// Finds DATE_TIME.
pub(crate) struct Dates {
    numeric: Pattern,
    /// NB: not a full DFA (`Pattern`): building one adds 4 ms to start-up (the CLI's is 8 ms)
    /// to save 0.5 % of the instructions on dense text.
    worded: Regex,
    /// The first three letters of every month name: where a worded date can be.
    month: Regex,
    time: Regex,
}

impl Dates {
    /// Compiles the patterns.
    pub(crate) fn new() -> Self {
        let iso = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?:Z|[+\-][0-9]{2}:?[0-9]{2})?)?";
        let slashed = r"[0-9]{1,2}[/.][0-9]{1,2}[/.][0-9]{4}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}|[0-9]{4}/[0-9]{2}/[0-9]{2}";
        let worded = format!(
            r"{MONTH}\.? [0-9]{{1,2}}(?:st|nd|rd|th)?,? [0-9]{{4}}|[0-9]{{1,2}}(?:st|nd|rd|th)? (?:of )?{MONTH}\.?,? [0-9]{{4}}|{MONTH} [0-9]{{4}}"
        );
        Dates {
            numeric: Pattern::new(&format!("{iso}|{slashed}"), "numeric date pattern"),
            worded: Regex::new(&worded).expect("worded date pattern"),
            month: Regex::new("Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
                .expect("month pattern"),
            time: Regex::new(r"\d{1,2}:\d{2}(?::\d{2})?(?: ?[AaPp]\.?[Mm]\.?)?")
                .expect("time pattern"),
        }
    }

    /// Appends candidates found in `text`.
    pub(crate) fn find(&self, text: &str, regions: &NumericRegions, out: &mut Vec<Candidate>) {
        let first = out.len();
        self.find_parts(text, regions, out);
        join_parts(text, &mut out[first..]);
        let mut kept = first;
        for k in first..out.len() {
            if out[k].score > 0.0 {
                out[kept] = out[k];
                kept += 1;
            }
        }
        out.truncate(kept);
    }

    /// Dates and times, each on its own.
    fn find_parts(&self, text: &str, regions: &NumericRegions, out: &mut Vec<Candidate>) {
        // NB: a numeric date is one cluster of at least 4 digits with a `-`, `/` or `.`
        // between two of them, perhaps followed by a `Z`.
        let dated = |c: &Cluster| c.digits >= 4 && c.dashed;
        for (start, end) in regions.matches(&self.numeric, text, dated, 0, 1) {
            if plausible_numeric(&text[start..end])
                && standalone(text, start, end)
                && !dotted_neighbour(text, start, end)
            {
                out.push(scored(text, start, end, 0.85));
            }
        }
        // NB: a worded date starts at most 8 bytes before its month name (`31st of `) and ends
        // at most 21 bytes after the name's start (`September. 30th, 2024`).
        let months = self
            .month
            .find_iter(text)
            .map(|m| (m.start().saturating_sub(8), m.start() + 21));
        for (start, end) in search(&self.worded, text, merged(months, text)) {
            if standalone(text, start, end) {
                out.push(scored(text, start, end, 0.85));
            }
        }
        for m in self.time.find_iter(text) {
            let (start, end, s) = (m.start(), m.end(), m.as_str());
            let mut parts = s
                .split(|c: char| !c.is_ascii_digit())
                .filter(|p| !p.is_empty());
            let hour: u32 = parts.next().and_then(|h| h.parse().ok()).unwrap_or(99);
            let minute: u32 = parts.next().and_then(|h| h.parse().ok()).unwrap_or(99);
            let meridiem = s.bytes().any(|b| matches!(b, b'm' | b'M'));
            let valid = minute < 60
                && if meridiem {
                    (1..=12).contains(&hour)
                } else {
                    hour < 24
                };
            let glued = text[..start].ends_with([':', 'T']) || text[end..].starts_with(':');
            if valid && !glued && standalone(text, start, end) {
                let score = if meridiem || s.len() >= 8 { 0.7 } else { 0.55 };
                out.push(Candidate::new(EntityType::DateTime, start, end, score));
            }
        }
    }
}

/// Makes one span of a date and the time right after it (`06/08/2026 10:17 PM`,
/// `March 3, 2024 at 14:05`), and takes in a weekday right before a date (`Monday, March 3`):
/// a time taken into its date gets score 0 (the caller drops it).
fn join_parts(text: &str, found: &mut [Candidate]) {
    found.sort_by_key(|c| c.start);
    for k in 0..found.len() {
        let weekday = weekday_before(text, found[k].start);
        found[k].start -= weekday;
        if k + 1 < found.len() && found[k].score > 0.0 {
            let gap = &text[found[k].end.min(found[k + 1].start)..found[k + 1].start];
            let is_date = !text[found[k].start..found[k].end].contains(':');
            let next_is_time = text[found[k + 1].start..found[k + 1].end].contains(':');
            if is_date && next_is_time && matches!(gap, " " | ", " | " at " | ", at ") {
                found[k].end = found[k + 1].end;
                found[k + 1].score = 0.0;
            }
        }
    }
}

/// How many bytes of a weekday name (`Monday, `, `Tue `) end right before byte `start`.
fn weekday_before(text: &str, start: usize) -> usize {
    const DAYS: &[&str] = &[
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
    ];
    let head = &text[..start];
    for sep in [", ", " "] {
        if let Some(rest) = head.strip_suffix(sep)
            && let Some(day) = DAYS.iter().find(|d| rest.ends_with(**d))
            && !rest[..rest.len() - day.len()]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
        {
            return day.len() + sep.len();
        }
    }
    0
}

fn scored(text: &str, start: usize, end: usize, base: f64) -> Candidate {
    let (before, _) = around(text, start, end);
    let score = if mentions(before, &BIRTH_WORDS) {
        0.95
    } else {
        base
    };
    Candidate::new(EntityType::DateTime, start, end, score)
}

/// Whether a numeric date has a month in 1–12 and a day in 1–31 in some common order.
fn plausible_numeric(s: &str) -> bool {
    // NB: the first three pieces between non-digits, those that parse, without a vector.
    let (mut nums, mut n) = ([0u32; 3], 0);
    for p in s.split(|c: char| !c.is_ascii_digit()).take(3) {
        if let Ok(v) = p.parse() {
            nums[n] = v;
            n += 1;
        }
    }
    if n != 3 {
        return false;
    }
    let [a, b, c] = nums;
    let day = |d: u32| (1..=31).contains(&d);
    let month = |m: u32| (1..=12).contains(&m);
    if a > 31 {
        (1900..=2100).contains(&a) && month(b) && day(c)
    } else {
        (month(a) && day(b) || day(a) && month(b)) && (c < 100 || (1900..=2100).contains(&c))
    }
}

fn dotted_neighbour(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    (start >= 2 && b[start - 1] == b'.' && b[start - 2].is_ascii_digit())
        || (end + 1 < b.len() && b[end] == b'.' && b[end + 1].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Dates::new().find(text, &NumericRegions::of(text), &mut out);
        out.iter().map(|c| &text[c.start..c.end]).collect()
    }

    #[test]
    fn numeric_and_worded_dates_are_found() {
        assert_eq!(found("DOB 03/14/1985."), vec!["03/14/1985"]);
        assert_eq!(found("on March 3, 2024 we"), vec!["March 3, 2024"]);
        assert_eq!(found("seen 14 Feb 2023"), vec!["14 Feb 2023"]);
        assert_eq!(
            found("[2024-03-14T10:22:01Z] start"),
            vec!["2024-03-14T10:22:01Z"]
        );
    }

    #[test]
    fn a_date_takes_in_the_time_after_it_and_the_weekday_before_it() {
        assert_eq!(
            found("opened 06/08/2026 10:17 PM\n"),
            vec!["06/08/2026 10:17 PM"]
        );
        assert_eq!(
            found("on Monday, March 3, 2024 at 14:05."),
            vec!["Monday, March 3, 2024 at 14:05"]
        );
        assert_eq!(found("12 Jan 2024 16:40"), vec!["12 Jan 2024 16:40"]);
        assert_eq!(found("at 10:30:00 11:00"), vec!["10:30:00", "11:00"]);
        assert_eq!(found("Sundays 03/14/1985"), vec!["03/14/1985"]);
    }

    #[test]
    fn times_of_day_are_found() {
        assert_eq!(found("meet at 10:30 AM"), vec!["10:30 AM"]);
        assert_eq!(found("at 14:05 sharp"), vec!["14:05"]);
    }

    #[test]
    fn impossible_dates_and_times_are_not_found() {
        assert!(found("2024-13-40 and 25:99 and 1.2.3.4").is_empty());
        assert!(found("version 10.12.2024.1").is_empty());
    }
}
