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
}

/// Lower-cased word lists for name and place recognition.
pub(crate) struct Gazetteer {
    first: HashSet<String>,
    last: HashSet<String>,
    places: HashMap<String, PlaceTier>,
    /// The first words (one or more, fewer than all) of every place name of several words.
    place_prefixes: HashSet<String>,
    common: HashSet<String>,
    /// Lower-case words that occur inside place names (`de`, `upon`, `al`).
    connectors: HashSet<String>,
    /// The longest place name, in words.
    pub max_place_words: usize,
}

fn words(data: &str) -> impl Iterator<Item = String> + '_ {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
}

impl Gazetteer {
    /// Parses the compiled-in lists.
    pub(crate) fn load() -> Self {
        let mut max_place_words = 1;
        let mut connectors = HashSet::default();
        let places = PLACES
            .lines()
            .filter_map(|l| {
                let (name, tier) = l.split_once('\t')?;
                let tier = match tier.trim() {
                    "0" => PlaceTier::Region,
                    "1" => PlaceTier::Metropolis,
                    "2" => PlaceTier::City,
                    _ => PlaceTier::Town,
                };
                max_place_words = max_place_words.max(name.split(' ').count());
                connectors.extend(
                    name.split(' ')
                        .filter(|w| w.starts_with(char::is_lowercase))
                        .map(str::to_string),
                );
                Some((name.to_lowercase(), tier))
            })
            .collect::<HashMap<String, PlaceTier>>();
        let place_prefixes = places
            .keys()
            .flat_map(|name| {
                name.match_indices(' ')
                    .map(|(at, _)| name[..at].to_string())
            })
            .collect();
        Gazetteer {
            first: words(FIRST_NAMES).collect(),
            last: words(LAST_NAMES).collect(),
            places,
            place_prefixes,
            common: words(COMMON_WORDS).chain(words(AMBIGUOUS_WORDS)).collect(),
            connectors,
            max_place_words: max_place_words.min(6),
        }
    }

    /// Whether `lower` is a known given name.
    pub(crate) fn is_first_name(&self, lower: &str) -> bool {
        self.first.contains(lower)
    }

    /// Whether `lower` is a known family name.
    pub(crate) fn is_last_name(&self, lower: &str) -> bool {
        self.last.contains(lower)
    }

    /// Whether `lower` is a common word or one that usually is not a name when capitalised.
    pub(crate) fn is_common(&self, lower: &str) -> bool {
        self.common.contains(lower)
    }

    /// Whether `word` (as written) occurs in lower case inside some place name.
    pub(crate) fn is_connector(&self, word: &str) -> bool {
        self.connectors.contains(word)
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
        assert!(g.is_first_name("mary") && g.is_first_name("james"));
        assert!(g.is_last_name("smith") && g.is_last_name("garcia"));
        assert_eq!(g.place("france"), Some(PlaceTier::Region));
        assert_eq!(g.place("new york"), Some(PlaceTier::Region));
        assert!(g.place("tokyo").is_some());
        assert!(g.is_common("the") && g.is_common("monday"));
        assert!(g.starts_longer_place("new") && !g.starts_longer_place("new york city"));
    }
}
