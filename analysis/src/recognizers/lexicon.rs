//! Titles before names, shared with `build.rs`, which marks them in the gazetteer.

/// Titles before a name (`Dr. Okonkwo`, `nurse Blümel`).
pub const TITLES: &[&str] = &[
    "dr",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "prof",
    "professor",
    "doctor",
    "nurse",
    "sir",
    "dame",
    "rev",
    "capt",
];
