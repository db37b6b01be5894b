//! Person names and places, from gazetteers, capitalisation, titles and cue phrases.

use super::Candidate;
use super::chat;
use super::fields::Fields;
use super::gazetteer::{Gazetteer, PlaceTier, Word, push_key};
use super::lexicon::{
    COMPANY_CUES, COMPANY_SUFFIXES, LONGEST_COMPANY_SUFFIX, PARTICLES, PERSON_AFTER_CUES,
    PERSON_CUES, PLACE_CUES, SIGNATURE_DASHES, SURNAME_ENDINGS, SURNAME_ENDINGS_AS_WRITTEN,
};
use super::tokens::{Token, tokenize};
use crate::context::before;
use crate::entity::EntityType;

/// Which bytes come right before the final space or line break of some [`PERSON_CUES`] entry.
const PERSON_CUE_ENDS: [bool; 256] = super::bytes_from_end(&[PERSON_CUES], 2);

/// The lower-cased tokens (spans of one buffer, empty for tokens that are not capitalised)
/// and what the gazetteer says about each.
#[derive(Clone, Copy)]
struct Lowered<'a> {
    buf: &'a str,
    spans: &'a [(usize, usize)],
    info: &'a [Word],
}

impl<'a> Lowered<'a> {
    /// Token `k`, lower-cased.
    fn word(&self, k: usize) -> &'a str {
        let (from, to) = self.spans[k];
        &self.buf[from..to]
    }

    /// What the gazetteer says about token `k`.
    fn info(&self, k: usize) -> Word {
        self.info[k]
    }

    /// The tokens from `k` on.
    fn from(&self, k: usize) -> Lowered<'a> {
        Lowered {
            buf: self.buf,
            spans: &self.spans[k..],
            info: &self.info[k..],
        }
    }
}

/// Finds PERSON and LOCATION.
pub(crate) struct Names {
    gazetteer: Gazetteer,
    fields: Fields,
}

impl Names {
    /// The gazetteers, read in place.
    pub(crate) fn new() -> Self {
        Names {
            gazetteer: Gazetteer::load(),
            fields: Fields::new(),
        }
    }

    /// Appends candidates found in `text`.
    pub(crate) fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        let tokens = tokenize(text);
        // NB: only capitalised tokens are looked up, so only they are lower-cased, all into
        // one buffer.
        let mut buf = String::with_capacity(text.len() / 4);
        let spans: Vec<(usize, usize)> = tokens
            .iter()
            .map(|t| {
                let from = buf.len();
                if t.capitalised {
                    push_key(&text[t.start..t.end], &mut buf);
                }
                (from, buf.len())
            })
            .collect();
        let mut lower = Lowered {
            buf: &buf,
            spans: &spans,
            info: &[],
        };
        let g = &self.gazetteer;
        // NB: one lookup per capitalised token answers every one-word question below.
        let info: Vec<Word> = tokens
            .iter()
            .enumerate()
            .map(|(k, t)| {
                if t.capitalised {
                    g.word(lower.word(k))
                } else {
                    Word::default()
                }
            })
            .collect();
        lower.info = &info;
        self.speakers(text, out);
        self.fields.find(text, g, out);
        let mut key = String::new();
        let mut last_person = None;
        let mut i = 0;
        while i < tokens.len() {
            if !tokens[i].capitalised {
                i = uncased_person(text, &tokens, i, out).unwrap_or(i + 1);
                continue;
            }
            let run = name_run(text, &tokens, i);
            // NB: names before a company suffix are neither a person nor a place (`Moreno Inc`).
            if before_company(&text[tokens[i].end..]) {
                i = run;
                continue;
            }
            // NB: a known place of several words is not read as a person (`San Pedro de la Paz`).
            if let Some(k) = self.places(text, &tokens, &lower, i, &mut key, out)
                && k > i
            {
                i = k + 1;
                continue;
            }
            if info[i].title && run > i + 1 {
                let last = (i + 1..run)
                    .rev()
                    .find(|&k| !info[k].common)
                    .unwrap_or(i + 1);
                out.push(Candidate::new(
                    EntityType::Person,
                    tokens[i + 1].start,
                    tokens[last].end,
                    0.85,
                ));
                i = run;
                continue;
            }
            let street = after_house_number(text, tokens[i].start)
                || before_house_number(&text[tokens[run - 1].end..]);
            if info[i..run].iter().any(|w| w.org) || street {
                i = run;
                continue;
            }
            // NB: `Tina Brown and Erkki Häkkinen`: a name joined to a person is one too.
            let coordinated =
                last_person.is_some_and(|end| coordination(&text[end..tokens[i].start]));
            if let Some(c) = self.person(text, &tokens[i..run], lower.from(i), coordinated) {
                last_person = Some(c.end);
                let next = i + tokens[i..run]
                    .iter()
                    .position(|t| t.end == c.end)
                    .map_or(1, |p| p + 1);
                out.push(c);
                i = next;
                continue;
            }
            i += 1;
        }
        let again = mentions(text, &tokens, lower, out);
        out.extend(again);
    }

    /// A person starting at the first token of `run`, if the names and cues support one.
    fn person(
        &self,
        text: &str,
        run: &[Token],
        lower: Lowered,
        coordinated: bool,
    ) -> Option<Candidate> {
        let cue = |end: usize| coordinated || cued(text, run[0].start, end);
        let cue_after = |end: usize| PERSON_AFTER_CUES.iter().any(|c| text[end..].starts_with(c));
        let first_known = lower.info(0).first;
        let first_common = lower.info(0).common;
        if lower.info(0).title || lower.info(0).place_first_word {
            return None;
        }
        // Longest plausible name: up to three capitalised words (particles between them), ending
        // on a non-common word, with no common word inside but initials.
        for len in (2..=run.len()).rev() {
            let words = run[..len].iter().filter(|t| t.capitalised).count();
            let common_inside =
                (1..len - 1).any(|k| lower.info(k).common && lower.word(k).chars().count() > 1);
            let last = lower.info(len - 1);
            // NB: a surname that is also a word (`Brown`, `King`) ends a name after a given name.
            let common_surname = last.common && last.last && first_known && !first_common;
            if words > 3
                || !run[len - 1].capitalised
                || (last.common && !common_surname)
                || common_inside
            {
                continue;
            }
            if common_surname {
                return Some(Candidate::new(
                    EntityType::Person,
                    run[0].start,
                    run[len - 1].end,
                    0.7,
                ));
            }
            let last_known = last.last;
            let score = match (first_known, last_known, first_common) {
                (true, true, false) => 0.85,
                (true, true, true) => 0.6,
                (true, false, false) => 0.7,
                (false, true, false) if !lower.info(0).notable_place() => 0.6,
                _ if !first_common
                    && (cue(run[len - 1].end)
                        || cue_after(run[len - 1].end)
                        || name_shaped(text, &run[..len], lower)) =>
                {
                    0.7
                }
                _ => continue,
            };
            return Some(Candidate::new(
                EntityType::Person,
                run[0].start,
                run[len - 1].end,
                score,
            ));
        }
        if !first_common && (cue(run[0].end) || cue_after(run[0].end)) {
            let score = if first_known { 0.75 } else { 0.55 };
            return Some(Candidate::new(
                EntityType::Person,
                run[0].start,
                run[0].end,
                score,
            ));
        }
        None
    }

    /// Chat speakers (`Mary: …`, `[13:24] Name: …`): a known given name, or any name when the
    /// text has the shape of a transcript; roles, common words, titles and places are not.
    fn speakers(&self, text: &str, out: &mut Vec<Candidate>) {
        for s in chat::speakers(text) {
            let first = text[s.start..s.end].split(' ').next().unwrap_or_default();
            let mut key = String::new();
            push_key(first, &mut key);
            let word = self.gazetteer.word(&key);
            let other = word.org || word.title || word.notable_place();
            if !word.common && (word.first || s.transcript && !other) {
                let score = if word.first { 0.85 } else { 0.75 };
                out.push(Candidate::new(EntityType::Person, s.start, s.end, score));
            }
        }
    }

    /// Places starting at token `i`: the longest known name wins; returns its last token.
    fn places(
        &self,
        text: &str,
        tokens: &[Token],
        lower: &Lowered,
        i: usize,
        key: &mut String,
        out: &mut Vec<Candidate>,
    ) -> Option<usize> {
        let g = &self.gazetteer;
        let mut found = lower.info(i).place.map(|tier| (i, tier));
        // NB: words are added only while some longer place name starts with the words so far.
        if lower.info(i).starts_longer_place {
            key.clear();
            key.push_str(lower.word(i));
            for k in i + 1..tokens.len().min(i + g.max_place_words) {
                if !tokens[k].joined {
                    break;
                }
                key.push(' ');
                if tokens[k].capitalised {
                    key.push_str(lower.word(k));
                } else {
                    let at = key.len();
                    push_key(&text[tokens[k].start..tokens[k].end], key);
                    if !g.is_connector(&key[at..]) {
                        break;
                    }
                }
                if tokens[k].capitalised
                    && let Some(tier) = g.place(key)
                {
                    found = Some((k, tier));
                }
                if !g.starts_longer_place(key) {
                    break;
                }
            }
        }
        let (k, tier) = found?;
        let (start, end) = (tokens[i].start, tokens[k].end);
        let near = before(text, start, 16);
        // NB: every cue ends with a space.
        let cued = near.ends_with(' ')
            && PLACE_CUES.iter().any(|c| {
                ends_with_ignore_case(near, c)
                    || ends_with_ignore_case(near, c.trim_start())
                        && near.len() == c.trim_start().len()
            });
        let paired = text[end..].starts_with(", ") && next_is_region(g, &text[end + 2..])
            || near.ends_with(", ") && i > 0 && lower.info(i - 1).place.is_some();
        let common = k == i && lower.info(i).common;
        let base = match tier {
            PlaceTier::Region => 0.7,
            PlaceTier::Metropolis => 0.65,
            PlaceTier::City => 0.5,
            PlaceTier::Town => 0.35,
            PlaceTier::Village => 0.3,
        };
        let score = if common {
            if cued { 0.5 } else { 0.1 }
        } else if cued || paired {
            base + 0.25
        } else {
            base
        };
        if near.contains('@') {
            return None;
        }
        out.push(Candidate::new(EntityType::Location, start, end, score));
        Some(k)
    }
}

/// Whether `rest` (the text after a capitalised run) starts with a house number that ends the
/// line or the field (`Alameda Octavia Cueto 28`): a street, not a person.
fn before_house_number(rest: &str) -> bool {
    let Some(number) = rest.strip_prefix(' ') else {
        return false;
    };
    let digits = number.bytes().take_while(u8::is_ascii_digit).count();
    let after = &number[digits..];
    (1..=5).contains(&digits) && (after.is_empty() || after.starts_with([',', '\n', '/']))
}

/// Whether `rest` (the text after a capitalised run) names a company, directly or after more
/// names (`Martinez-Rivas LLC`, `Payne, Roberts and Walsh Ltd`).
fn before_company(rest: &str) -> bool {
    // NB: most names are followed by neither a space and a capital nor a comma: decided here.
    let b = rest.as_bytes();
    let next = b.get(1).copied().unwrap_or_default();
    if !(b.first() == Some(&b',')
        || b.first() == Some(&b' ')
            && (next >= 0x80 || next.is_ascii_uppercase() || next == b'&' || next == b'a'))
    {
        return false;
    }
    let near = crate::context::after(rest, 0, 64);
    let line = super::first_line(near);
    // NB: more capitalised names, `,` and `and` may come before the suffix.
    for word in line.split([' ', ',']).filter(|w| !w.is_empty()).take(6) {
        let word = word.trim_end_matches('.');
        let name = word.starts_with(|c: char| c.is_uppercase());
        // NB: most names are longer than any suffix: the list is read only for short words.
        if name
            && word.len() <= LONGEST_COMPANY_SUFFIX
            && COMPANY_SUFFIXES
                .iter()
                .any(|s| word.eq_ignore_ascii_case(s))
        {
            return true;
        }
        if !(name || word == "and" || word == "&") {
            return false;
        }
    }
    false
}

/// Whether a house number comes right before byte `start` (`418 Nicole Plains`): a street, not
/// a person.
fn after_house_number(text: &str, start: usize) -> bool {
    let near = before(text, start, 8).as_bytes();
    let Some((b' ', rest)) = near.split_last() else {
        return false;
    };
    let digits = rest.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    (1..=6).contains(&digits)
        && (digits == rest.len() || matches!(rest[rest.len() - digits - 1], b' ' | b'\n' | b','))
}

/// The end of the run of joined capitalised tokens (and initials) starting at token `i`, with
/// name particles between them; at most five tokens.
fn name_run(text: &str, tokens: &[Token], i: usize) -> usize {
    let mut run = i + 1;
    while run < tokens.len() && run - i < 5 && tokens[run].joined {
        if tokens[run].capitalised {
            run += 1;
            continue;
        }
        // NB: particles count only when a capitalised word follows them.
        let mut k = run;
        while k < tokens.len()
            && k - i < 4
            && tokens[k].joined
            && !tokens[k].capitalised
            && PARTICLES.contains(&&text[tokens[k].start..tokens[k].end])
        {
            k += 1;
        }
        if k == run || k >= tokens.len() || !tokens[k].joined || !tokens[k].capitalised {
            break;
        }
        run = k + 1;
    }
    run
}

/// Whether `gap` joins two names as a list (` and `, ` & `, or ` (the Seller) and `).
fn coordination(gap: &str) -> bool {
    // NB: a role in parentheses after the first name does not break the list.
    let gap = match gap.strip_prefix(" (").and_then(|g| g.split_once(')')) {
        Some((role, rest)) if role.len() <= 24 && !role.contains('\n') => rest,
        _ => gap,
    };
    matches!(gap, " and " | " & " | " und " | " et " | " y ")
}

/// Later mentions of people already found, by one of their words alone (`Софрон` after
/// `Софрон Куваев`, `said Szabó` after `Ádám Szabó`), where nothing else was found.
fn mentions(text: &str, tokens: &[Token], lower: Lowered, found: &[Candidate]) -> Vec<Candidate> {
    let kept = |c: &Candidate| c.score >= super::MIN_SCORE;
    let mut people: Vec<(usize, usize)> = found
        .iter()
        .filter(|c| kept(c) && c.entity_type == EntityType::Person)
        .map(|c| (c.start, c.end))
        .collect();
    people.sort_unstable();
    // NB: tokens are in text order, so each person's tokens are one slice of them.
    let mut own = vec![false; tokens.len()];
    let mut words = Vec::new();
    for &(start, end) in &people {
        let from = tokens.partition_point(|t| t.start < start);
        let to = from + tokens[from..].partition_point(|t| t.end <= end);
        own[from..to].fill(true);
        // NB: only a name that reads as one is repeated — one that starts with a known given
        // name, or has a name's shape: a person found by a cue alone is weaker evidence, and
        // repeating it would repeat its mistakes (`- Fix PowerPC` … `Fix`).
        let capitalised = || (from..to).filter(|&k| tokens[k].capitalised);
        let (Some(first), Some(last)) = (capitalised().next(), capitalised().next_back()) else {
            continue;
        };
        let given = lower.info(first).first && !lower.info(first).common;
        if first == last || !(given || name_shaped(text, &tokens[from..to], lower.from(from))) {
            continue;
        }
        // NB: after a known given name every word is the name's; otherwise each word repeated
        // is a name by itself too (not `Add` of `Add Simon Josefsson`); an initial (`M.`)
        // stands for many names.
        let name = |k: usize| {
            let (info, t) = (lower.info(k), &tokens[k]);
            given
                || info.first
                || info.last
                || proper_script(text, t)
                || family_name_ending(text, t, lower.word(k))
        };
        words.extend(
            capitalised()
                .filter(|&k| lower.word(k).len() > 1 && name(k))
                .map(|k| lower.word(k)),
        );
    }
    if words.is_empty() {
        return Vec::new();
    }
    words.sort_unstable();
    let again: Vec<usize> = (0..tokens.len())
        .filter(|&k| {
            let (t, info) = (&tokens[k], lower.info(k));
            t.capitalised && !own[k] && !info.common && !info.title
        })
        .filter(|&k| words.binary_search(&lower.word(k)).is_ok())
        .collect();
    if again.is_empty() {
        return Vec::new();
    }
    // NB: sorted by start, each end raised to the furthest end so far: the last finding that
    // starts before a token ends then says whether any finding reaches into the token.
    let mut taken: Vec<(usize, usize)> = found
        .iter()
        .filter(|c| kept(c))
        .map(|c| (c.start, c.end))
        .collect();
    taken.sort_unstable();
    let mut furthest = 0;
    for span in &mut taken {
        furthest = furthest.max(span.1);
        span.1 = furthest;
    }
    again
        .into_iter()
        .map(|k| &tokens[k])
        .filter(|t| {
            let at = taken.partition_point(|&(start, _)| start < t.end);
            at == 0 || taken[at - 1].1 <= t.start
        })
        .map(|t| Candidate::new(EntityType::Person, t.start, t.end, 0.7))
        .collect()
}

/// Whether `run` (two words or more) has the shape of a name without the lists' say: its last
/// word ends like a family name (`Baimuratova`, `Barbarić`), or its words are in a script whose
/// capitals mark only names (`Софрон Куваев`, `Τάκης Δραγούμη`).
fn name_shaped(text: &str, run: &[Token], lower: Lowered) -> bool {
    let last = run.len() - 1;
    run.len() >= 2
        && (run.iter().all(|t| proper_script(text, t))
            || family_name_ending(text, &run[last], lower.word(last)))
}

/// Whether `token` is written in Greek or Cyrillic letters, whose capitals mark only names.
fn proper_script(text: &str, token: &Token) -> bool {
    text[token.start..token.end]
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '\u{0370}'..='\u{03FF}' | '\u{0400}'..='\u{04FF}'))
}

/// Whether `token` (whose key is `key`) ends like a family name (`Kuvaev`, `Barbarić`).
fn family_name_ending(text: &str, token: &Token, key: &str) -> bool {
    let ending = |endings: &[&str], word: &str| {
        endings
            .iter()
            .any(|e| word.len() >= e.len() + 3 && word.ends_with(e))
    };
    ending(SURNAME_ENDINGS, key)
        || ending(SURNAME_ENDINGS_AS_WRITTEN, &text[token.start..token.end])
}

/// Whether `rest`, the text after a name, ends its line as a signature does: with nothing but
/// punctuation, or with an address in angle brackets, a comma or a parenthesis after the name.
fn signs_off(rest: &str) -> bool {
    let line = super::first_line(rest).trim();
    line.starts_with(['<', ',', '(']) || line.chars().all(|c| c.is_ascii_punctuation())
}

/// Whether a cue introduces the name `start..end`: a cue phrase right before it (`my name is `,
/// `Dear `, `Thanks,\n`…; a dash only when the name ends its line, as a signature's does, not
/// `- Fix PowerPC build`), or the name alone in parentheses before a colon (`(Amanda):`).
fn cued(text: &str, start: usize, end: usize) -> bool {
    let near = before(text, start, 16);
    // NB: every cue ends with a space or a line break, after one of a few bytes.
    let b = near.as_bytes();
    let phrase = near.ends_with([' ', '\n'])
        && b.len() >= 2
        && PERSON_CUE_ENDS[usize::from(b[b.len() - 2].to_ascii_lowercase())]
        && PERSON_CUES.iter().any(|c| {
            // NB: the last two bytes first, which rule out most cues without a full comparison.
            let cue = c.as_bytes();
            cue[cue.len() - 1] == b[b.len() - 1]
                && cue[cue.len() - 2] == b[b.len() - 2].to_ascii_lowercase()
                && ends_with_ignore_case(near, c)
        });
    let company =
        near.ends_with("by ") && COMPANY_CUES.iter().any(|c| ends_with_ignore_case(near, c));
    let signed = SIGNATURE_DASHES.iter().any(|d| near.ends_with(d)) && signs_off(&text[end..]);
    (phrase && !company) || signed || near.ends_with('(') && text[end..].starts_with("):")
}

/// A person of one to three words in a script without case right after a cue, if token `i`
/// starts one; returns the token after it.
fn uncased_person(
    text: &str,
    tokens: &[Token],
    i: usize,
    out: &mut Vec<Candidate>,
) -> Option<usize> {
    if !tokens[i].uncased {
        return None;
    }
    let mut run = i + 1;
    while run < tokens.len() && run - i < 3 && tokens[run].joined && tokens[run].uncased {
        run += 1;
    }
    let last = tokens[run - 1].end;
    if !cued(text, tokens[i].start, last) {
        return None;
    }
    out.push(Candidate::new(
        EntityType::Person,
        tokens[i].start,
        last,
        0.7,
    ));
    Some(run)
}

fn next_is_region(g: &Gazetteer, rest: &str) -> bool {
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphabetic() || *c == ' ')
        .take(20)
        .collect();
    let mut key = String::new();
    word.split(' ').take(3).any(|w| {
        if !key.is_empty() {
            key.push(' ');
        }
        push_key(w, &mut key);
        g.place(&key) == Some(PlaceTier::Region)
    })
}

fn ends_with_ignore_case(hay: &str, suffix: &str) -> bool {
    hay.len() >= suffix.len()
        && hay.is_char_boundary(hay.len() - suffix.len())
        && hay[hay.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognizers::{MIN_SCORE, resolve};

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        Names::new().find(text, &mut out);
        out.retain(|c| c.score >= MIN_SCORE);
        resolve(out)
            .iter()
            .map(|c| (c.entity_type, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn known_first_and_last_names_make_a_person() {
        assert_eq!(
            found("Please ask Maria Garcia about it."),
            vec![(EntityType::Person, "Maria Garcia")]
        );
        assert_eq!(
            found("Robert J. Smith called."),
            vec![(EntityType::Person, "Robert J. Smith")]
        );
    }

    #[test]
    fn titles_and_cues_introduce_names() {
        assert_eq!(
            found("seen by Dr. Okonkwo today"),
            vec![(EntityType::Person, "Okonkwo")]
        );
        assert_eq!(
            found("Hi Priya, thanks"),
            vec![(EntityType::Person, "Priya")]
        );
        assert_eq!(
            found("my name is José Álvarez."),
            vec![(EntityType::Person, "José Álvarez")]
        );
    }

    #[test]
    fn places_are_found_with_and_without_cues() {
        assert_eq!(
            found("She lives in Austin, Texas."),
            vec![
                (EntityType::Location, "Austin"),
                (EntityType::Location, "Texas")
            ]
        );
        assert_eq!(
            found("flights to New York"),
            vec![(EntityType::Location, "New York")]
        );
        assert_eq!(
            found("Germany and Japan"),
            vec![
                (EntityType::Location, "Germany"),
                (EntityType::Location, "Japan")
            ]
        );
    }

    #[test]
    fn common_capitalised_words_are_not_names() {
        assert!(found("Thanks for the update. Will you call on Monday?").is_empty());
        assert!(found("The Mobile team is Reading logs at Johns Hopkins Hospital").is_empty());
    }

    #[test]
    fn chat_speakers_sign_offs_and_agents_are_people() {
        assert_eq!(
            found("[13:24] Randý Vígþórsdóttir: +1\n[13:25] Kevin: ok"),
            vec![
                (EntityType::Person, "Randý Vígþórsdóttir"),
                (EntityType::Person, "Kevin")
            ]
        );
        assert_eq!(
            found("Mary: sure thing"),
            vec![(EntityType::Person, "Mary")]
        );
        assert_eq!(
            found("Thank you,\nShannon"),
            vec![(EntityType::Person, "Shannon")]
        );
        assert_eq!(
            found("Assigned to agent Laura."),
            vec![(EntityType::Person, "Laura")]
        );
        assert!(found("Agent: hi\nAgent: bye\nStatus: open").is_empty());
    }

    #[test]
    fn family_name_endings_and_proper_scripts_make_people() {
        let none = Vec::<(EntityType, &str)>::new();
        assert_eq!(
            found("The report was signed off by Yalkın Ekşioğlu yesterday."),
            vec![(EntityType::Person, "Yalkın Ekşioğlu")]
        );
        assert_eq!(
            found("Attending today: Maksimilijan Barbarić and others"),
            vec![(EntityType::Person, "Maksimilijan Barbarić")]
        );
        assert_eq!(
            found("Yours faithfully,\nАқшора Идрисова\nHead of Operations"),
            vec![(EntityType::Person, "Ақшора Идрисова")]
        );
        assert_eq!(
            found("I have known Τάκης Δραγούμη for years."),
            vec![(EntityType::Person, "Τάκης Δραγούμη")]
        );
        // Accents alone make no name: dishes and companies keep theirs.
        assert_eq!(found("We ordered Crème Brûlée and Café Noir."), none);
        assert_eq!(found("Société Générale reported higher profits."), none);
    }

    #[test]
    fn later_mentions_of_a_person_are_people_too() {
        assert_eq!(
            found("I have known Софрон Куваев for years. Софрон is careful."),
            vec![
                (EntityType::Person, "Софрон Куваев"),
                (EntityType::Person, "Софрон")
            ]
        );
        assert_eq!(
            found("Present: Ádám Szabó, Mia Ortiz.\nThe budget passed; Szabó asked for a recount."),
            vec![
                (EntityType::Person, "Ádám Szabó"),
                (EntityType::Person, "Mia Ortiz"),
                (EntityType::Person, "Szabó")
            ]
        );
        // NB: a word of a name that is also a common word is not taken alone (`Will`).
        assert_eq!(
            found("Will Jones called. Will you call back?"),
            vec![(EntityType::Person, "Will Jones")]
        );
        // Only a name that reads as one is repeated, only by its words that are names, and
        // never by an initial: a cue's mistakes and verbs stay where they were.
        let changelog = found(
            "  - Fix PowerPC build.\n  - ARM: Fix typo.\n  * Add Simon Josefsson's key.\n  \
             * Add tests.\n -- M. Small wrote it; M is for Michael.",
        );
        let lone = |word| changelog.iter().filter(|(_, w)| *w == word).count();
        assert_eq!(
            (lone("Fix"), lone("Add"), lone("M")),
            (0, 0, 0),
            "{changelog:?}"
        );
    }

    #[test]
    fn quotes_speech_judges_and_parties_name_people() {
        assert_eq!(
            found("Mardan wrote:\n> Rolling back fixed it."),
            vec![(EntityType::Person, "Mardan")]
        );
        assert_eq!(
            found("\"I never expected it,\" said Ertepınar, smiling."),
            vec![(EntityType::Person, "Ertepınar")]
        );
        assert_eq!(
            found("Before Judge Vrdoljak at 10:00"),
            vec![(EntityType::Person, "Vrdoljak")]
        );
        assert_eq!(
            found("between Mary Smith (the Landlord) and Leivo Tammik (the Tenant)"),
            vec![
                (EntityType::Person, "Mary Smith"),
                (EntityType::Person, "Leivo Tammik")
            ]
        );
        assert_eq!(
            found("Given names: Nordica\n"),
            vec![(EntityType::Person, "Nordica")]
        );
    }

    #[test]
    fn a_dash_signs_a_name_only_at_the_end_of_its_line() {
        assert_eq!(
            found("Thanks for the quick fix 🤔 — Shaina"),
            vec![(EntityType::Person, "Shaina")]
        );
        assert_eq!(
            found(" -- Jeremy Bicha <jbicha@example.com>  Wed, 30 Aug 2017"),
            vec![(EntityType::Person, "Jeremy Bicha")]
        );
        // Bullets of a change log start with a dash too.
        assert_eq!(
            found(
                "  * New upstream release.\n    - Fix PowerPC build\n    - Bluetooth: fix a leak"
            ),
            Vec::<(EntityType, &str)>::new()
        );
    }

    #[test]
    fn names_in_scripts_without_case_are_found_after_a_cue() {
        assert_eq!(
            found("Customer name: נועה כהן\n"),
            vec![(EntityType::Person, "נועה כהן")]
        );
        assert_eq!(
            found("Patient: कशोर बलासुब्रमानियम\n"),
            vec![(EntityType::Person, "कशोर बलासुब्रमानियम")]
        );
        assert!(found("שלום עולם").is_empty());
    }

    #[test]
    fn form_labels_and_note_authors_introduce_names() {
        assert_eq!(
            found("Customer: Fatmanur Sakarya <x@example.com>"),
            vec![(EntityType::Person, "Fatmanur Sakarya")]
        );
        assert_eq!(
            found("Note from Hallný: see below"),
            vec![(EntityType::Person, "Hallný")]
        );
        assert_eq!(
            found("travelled last week, née Kowalczyk."),
            vec![(EntityType::Person, "Kowalczyk")]
        );
    }

    #[test]
    fn particles_belong_to_the_family_name() {
        assert_eq!(
            found("Emergency contact: Anouk van den Corput, +34 981 981 360"),
            vec![(EntityType::Person, "Anouk van den Corput")]
        );
        assert_eq!(
            found("Please ask Maria da Costa."),
            vec![(EntityType::Person, "Maria da Costa")]
        );
        assert_eq!(
            found("Customer moved to San Pedro de la Paz last month."),
            vec![(EntityType::Location, "San Pedro de la Paz")]
        );
    }

    #[test]
    fn names_are_read_through_accents_and_scripts() {
        assert_eq!(
            found("Please ask Michał Porwoł about it."),
            vec![(EntityType::Person, "Michał Porwoł")]
        );
        assert_eq!(
            found("Письмо от Иван Петров"),
            vec![(EntityType::Person, "Иван Петров")]
        );
    }

    #[test]
    fn a_street_after_a_house_number_is_not_a_person() {
        assert!(
            found("Bill to: 06240 Xavier Mountains Apt. 058")
                .iter()
                .all(|(t, _)| *t != EntityType::Person)
        );
    }

    #[test]
    fn companies_and_streets_named_after_people_are_not_people() {
        for text in [
            "Sold by Rodriguez-Hess. Questions?",
            "Vendor: Payne, Roberts and Walsh Ltd",
            "Deliver to:\nAlameda Octavia Cueto 28\n",
            "Invoice from Moreno Inc",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn roles_lists_and_word_surnames_make_people() {
        assert_eq!(
            found("Guests: Tina Brown and Erkki Häkkinen"),
            vec![
                (EntityType::Person, "Tina Brown"),
                (EntityType::Person, "Erkki Häkkinen")
            ]
        );
        assert_eq!(
            found("your appointment with nurse Blümel on Monday"),
            vec![(EntityType::Person, "Blümel")]
        );
        assert_eq!(
            found("Dear Dr. van Luyssel,"),
            vec![(EntityType::Person, "van Luyssel")]
        );
        assert_eq!(
            found("Port Lauren is lovely"),
            Vec::<(EntityType, &str)>::new()
        );
    }

    #[test]
    fn villages_need_a_cue() {
        assert_eq!(
            found("They relocate from Eibelstadt next month."),
            vec![(EntityType::Location, "Eibelstadt")]
        );
        assert!(found("Eibelstadt").is_empty());
        assert_eq!(
            found("Place of birth: Eibelstadt\n"),
            vec![(EntityType::Location, "Eibelstadt")]
        );
    }

    #[test]
    fn possessives_are_not_part_of_a_name() {
        assert_eq!(
            found("Maria Garcia's file"),
            vec![(EntityType::Person, "Maria Garcia")]
        );
    }
}
