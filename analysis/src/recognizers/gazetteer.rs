//! Name and place lists compiled into the crate (sources and licences in the crate README), as
//! hash tables that `build.rs` writes from `data/`.

pub(crate) use super::fold::push_key;
use super::table::Table;
use super::word_flags as flag;

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

impl PlaceTier {
    /// The tier stored as `n` (its number in `places.tsv` plus one; 0 is no place).
    fn stored(n: u16) -> Option<Self> {
        Some(match n {
            1 => PlaceTier::Region,
            2 => PlaceTier::Metropolis,
            3 => PlaceTier::City,
            4 => PlaceTier::Town,
            5.. => PlaceTier::Village,
            0 => return None,
        })
    }
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
    /// A title before a name (`dr`, `mrs`).
    pub title: bool,
    /// A word that makes a capitalised sequence an organisation.
    pub org: bool,
    /// A word that starts place names rather than people's (`Port`, `Saint`, `Lake`).
    pub place_first_word: bool,
}

impl Word {
    /// Whether the word names a place of at least 15 000 people, which outweighs a name.
    pub fn notable_place(&self) -> bool {
        self.place.is_some_and(|t| t < PlaceTier::Village)
    }

    /// The word whose table value is `bits`.
    fn from_bits(bits: u16) -> Self {
        Word {
            first: bits & flag::FIRST != 0,
            last: bits & flag::LAST != 0,
            common: bits & flag::COMMON != 0,
            place: PlaceTier::stored(bits >> flag::PLACE_SHIFT & 0b111),
            starts_longer_place: bits & flag::STARTS_LONGER_PLACE != 0,
            title: bits & flag::TITLE != 0,
            org: bits & flag::ORG != 0,
            place_first_word: bits & flag::PLACE_FIRST_WORD != 0,
        }
    }
}

/// Lower-cased word lists for name and place recognition.
pub(crate) struct Gazetteer {
    /// Every single word the lists know, with what they say about it.
    words: Table,
    /// Every place name, of one word or several, with its tier.
    places: Table,
    /// The first words (one or more, fewer than all) of every place name of several words.
    place_prefixes: Table,
    /// Lower-case words that occur inside place names (`de`, `upon`, `al`).
    connectors: Table,
    /// The longest place name, in words.
    pub max_place_words: usize,
}

macro_rules! table {
    ($file:literal) => {
        Table::new(include_bytes!(concat!(env!("OUT_DIR"), "/", $file)))
    };
}

impl Gazetteer {
    /// The lists compiled into the crate.
    pub(crate) fn load() -> Self {
        Gazetteer {
            words: table!("words.table"),
            places: table!("places.table"),
            place_prefixes: table!("place_prefixes.table"),
            connectors: table!("connectors.table"),
            max_place_words: include!(concat!(env!("OUT_DIR"), "/max_place_words.rs")),
        }
    }

    /// What the lists say about the single word `lower`.
    pub(crate) fn word(&self, lower: &str) -> Word {
        self.words
            .get(lower)
            .map(Word::from_bits)
            .unwrap_or_default()
    }

    /// Whether `key` (see [`push_key`]) occurs in lower case inside some place name.
    pub(crate) fn is_connector(&self, key: &str) -> bool {
        self.connectors.get(key).is_some()
    }

    /// Whether some place name starts with the words `key` and has more words after them.
    pub(crate) fn starts_longer_place(&self, key: &str) -> bool {
        self.place_prefixes.get(key).is_some()
    }

    /// The tier of the place called `lower`, if it is one.
    pub(crate) fn place(&self, lower: &str) -> Option<PlaceTier> {
        self.places.get(lower).and_then(PlaceTier::stored)
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
