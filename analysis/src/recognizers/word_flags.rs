//! The bits of a word's value in the gazetteer's word table (shared with `build.rs`).

/// A known given name.
pub const FIRST: u16 = 1;
/// A known family name.
pub const LAST: u16 = 1 << 1;
/// A common word, or one that usually is not a name when capitalised.
pub const COMMON: u16 = 1 << 2;
/// The first word of a place name of several words.
pub const STARTS_LONGER_PLACE: u16 = 1 << 3;
/// A title before a name.
pub const TITLE: u16 = 1 << 4;
/// A word that makes a capitalised sequence an organisation.
pub const ORG: u16 = 1 << 5;
/// A word that starts place names rather than people's (`Port`, `Saint`, `Lake`).
pub const PLACE_FIRST_WORD: u16 = 1 << 9;
/// Where the place tier plus one (0: not a place) starts; three bits.
pub const PLACE_SHIFT: u16 = 6;
