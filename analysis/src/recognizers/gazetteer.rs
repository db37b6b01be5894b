//! Name and place lists compiled into the crate (sources and licences in the crate README).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

const FIRST_NAMES: &str = include_str!("../../data/first_names.txt");
const LAST_NAMES: &str = include_str!("../../data/last_names.txt");
const PLACES: &str = include_str!("../../data/places.tsv");
const COMMON_WORDS: &str = include_str!("../../data/common_words.txt");
const AMBIGUOUS_WORDS: &str = include_str!("../../data/ambiguous_words.txt");

/// How well known a place is: countries, US states and continents first, small cities last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PlaceTier {
    /// A country, US state or continent.
    Region,
    /// A city of at least a million people.
    Metropolis,
    /// A city of at least 100 000 people.
    City,
    /// A town of at least 15 000 people.
    Town,
    /// A village or town of at least 1 000 people, named like no English word or person.
    Village,
}

/// What the lists say about one lower-cased word, so a token needs one lookup.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Word {
    /// A known given name.
    pub first: bool,
    /// A known family name.
    pub last: bool,
    /// A common word, or one that usually is not a name when capitalised.
    pub common: bool,
    /// The tier of the place of this one-word name.
    pub place: Option<PlaceTier>,
    /// The first word of a place name of several words.
    pub starts_longer_place: bool,
    /// A title before a name (`dr`, `mrs`), marked by [`Gazetteer::mark`].
    pub title: bool,
    /// A word that makes a capitalised sequence an organisation, marked by [`Gazetteer::mark`].
    pub org: bool,
}

impl Word {
    /// Whether the word names a place of at least 15 000 people, which outweighs a name.
    pub fn notable_place(&self) -> bool {
        self.place.is_some_and(|t| t < PlaceTier::Village)
    }
}

/// Lower-cased word lists for name and place recognition.
pub(crate) struct Gazetteer {
    places: HashMap<String, PlaceTier>,
    /// The first words (one or more, fewer than all) of every place name of several words.
    place_prefixes: HashSet<String>,
    /// Lower-case words that occur inside place names (`de`, `upon`, `al`).
    connectors: HashSet<String>,
    /// Every single word the lists know, with what they say about it.
    words: HashMap<String, Word>,
    /// The longest place name, in words.
    pub max_place_words: usize,
}

fn words(data: &str) -> impl Iterator<Item = String> + '_ {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|w| {
            let mut key = String::new();
            push_key(w, &mut key);
            key
        })
}

/// Appends the form under which the lists know `word`: lower case, and in Latin letters without
/// accents (`Michał` → `michal`, `Иван` → `ivan`), so a name is found however it is spelled.
pub(crate) fn push_key(word: &str, out: &mut String) {
    let from = out.len();
    if word.is_ascii() {
        out.push_str(word);
        out[from..].make_ascii_lowercase();
    } else {
        out.push_str(&deunicode::deunicode(&word.to_lowercase()));
        out[from..].make_ascii_lowercase();
    }
}

impl Gazetteer {
    /// Parses the compiled-in lists.
    pub(crate) fn load() -> Self {
        let mut max_place_words = 1;
        let mut connectors = HashSet::default();
        let mut places = HashMap::<String, PlaceTier>::default();
        for (name, tier) in PLACES.lines().filter_map(|l| l.split_once('\t')) {
            let tier = match tier.trim() {
                "0" => PlaceTier::Region,
                "1" => PlaceTier::Metropolis,
                "2" => PlaceTier::City,
                "3" => PlaceTier::Town,
                _ => PlaceTier::Village,
            };
            max_place_words = max_place_words.max(name.split(' ').count());
            let mut key = String::with_capacity(name.len());
            push_key(name, &mut key);
            // NB: tokens hold no full stops (`St. Louis` is read as `st louis`).
            key.retain(|c| c != '.');
            connectors.extend(
                name.split(' ')
                    .zip(key.split(' '))
                    .filter(|(w, _)| w.starts_with(char::is_lowercase))
                    .map(|(_, k)| k.to_string()),
            );
            // NB: names that differ only in accents share a key; the larger place keeps it.
            let known = places.entry(key).or_insert(tier);
            *known = (*known).min(tier);
        }
        let place_prefixes: HashSet<String> = places
            .keys()
            .flat_map(|name| {
                name.match_indices(' ')
                    .map(|(at, _)| name[..at].to_string())
            })
            .collect();
        let mut all = HashMap::<String, Word>::default();
        for w in words(FIRST_NAMES) {
            all.entry(w).or_default().first = true;
        }
        for w in words(LAST_NAMES) {
            all.entry(w).or_default().last = true;
        }
        for w in words(COMMON_WORDS).chain(words(AMBIGUOUS_WORDS)) {
            all.entry(w).or_default().common = true;
        }
        for (name, &tier) in places.iter().filter(|(n, _)| !n.contains(' ')) {
            all.entry(name.clone()).or_default().place = Some(tier);
        }
        for prefix in place_prefixes.iter().filter(|p| !p.contains(' ')) {
            all.entry(prefix.clone()).or_default().starts_longer_place = true;
        }
        Gazetteer {
            places,
            place_prefixes,
            connectors,
            words: all,
            max_place_words: max_place_words.min(6),
        }
    }

    /// Sets a flag (with `set`) on each of `words` (lower case).
    pub(crate) fn mark(&mut self, words: &[&str], set: impl Fn(&mut Word)) {
        for w in words {
            set(self.words.entry((*w).to_string()).or_default());
        }
    }

    /// What the lists say about the single word `lower`.
    pub(crate) fn word(&self, lower: &str) -> Word {
        self.words.get(lower).copied().unwrap_or_default()
    }

    /// Whether `key` (see [`push_key`]) occurs in lower case inside some place name.
    pub(crate) fn is_connector(&self, key: &str) -> bool {
        self.connectors.contains(key)
    }

    /// Whether some place name starts with the words `key` and has more words after them.
    pub(crate) fn starts_longer_place(&self, key: &str) -> bool {
        self.place_prefixes.contains(key)
    }

    /// The tier of the place called `lower`, if it is one.
    pub(crate) fn place(&self, lower: &str) -> Option<PlaceTier> {
        self.places.get(lower).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_know_common_names_and_places() {
        let g = Gazetteer::load();
        assert!(g.word("mary").first && g.word("james").first);
        assert!(g.word("smith").last && g.word("garcia").last);
        assert_eq!(g.place("france"), Some(PlaceTier::Region));
        assert_eq!(g.place("new york"), Some(PlaceTier::Region));
        assert!(g.place("tokyo").is_some());
        assert!(g.word("the").common && g.word("monday").common);
        assert!(g.starts_longer_place("new") && !g.starts_longer_place("new york city"));
        let kowalczyk = g.word("kowalczyk");
        assert!(
            kowalczyk.last && !kowalczyk.first && !kowalczyk.common && kowalczyk.place.is_none()
        );
        assert_eq!(g.word("france").place, Some(PlaceTier::Region));
        assert!(g.word("new").starts_longer_place && g.word("the").common);
        assert_eq!(g.word("qwxz"), Word::default());
        // Accents and scripts are read through: `Michał`, `Иван`, `Zamość`.
        let key = |w: &str| {
            let mut k = String::new();
            push_key(w, &mut k);
            k
        };
        assert!(g.word(&key("Michał")).first && g.word(&key("Иван")).first);
        assert_eq!(g.place(&key("Zamość")), Some(PlaceTier::Town));
        assert_eq!(g.place("st louis"), Some(PlaceTier::City));
        // Villages are known, unless they are named like a word or a person.
        assert_eq!(g.place("eibelstadt"), Some(PlaceTier::Village));
        assert!(!g.word("eibelstadt").notable_place() && g.word("zamosc").notable_place());
        assert_eq!(g.place("hope"), None);
    }
}
