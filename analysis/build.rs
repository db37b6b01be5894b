//! Writes the gazetteer's hash tables from `data/` at build time, so a process reads them in
//! place instead of building them at start-up (see `src/recognizers/table.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[path = "src/recognizers/fold.rs"]
mod fold;
#[allow(dead_code)] // NB: the build marks only the titles.
#[path = "src/recognizers/lexicon.rs"]
mod lexicon;
#[allow(dead_code)] // NB: the build only writes tables.
#[path = "src/recognizers/table.rs"]
mod table;
#[path = "src/recognizers/word_flags.rs"]
mod word_flags;

use word_flags as flag;

const DATA: &[&str] = &[
    "first_names.txt",
    "last_names.txt",
    "common_words.txt",
    "ambiguous_words.txt",
    "org_words.txt",
    "place_first_words.txt",
    "places.tsv",
];

fn main() {
    for file in DATA {
        println!("cargo:rerun-if-changed=data/{file}");
    }
    for file in ["fold.rs", "lexicon.rs", "table.rs", "word_flags.rs"] {
        println!("cargo:rerun-if-changed=src/recognizers/{file}");
    }
    let read = |file: &str| std::fs::read_to_string(Path::new("data").join(file)).expect("data");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let out = Path::new(&out);

    let mut places = BTreeMap::<String, u16>::new();
    let mut connectors = BTreeSet::<String>::new();
    let mut max_place_words = 1;
    for (name, tier) in read("places.tsv")
        .lines()
        .filter_map(|l| l.split_once('\t'))
    {
        // NB: tiers are stored plus one, so 0 means no place.
        let tier = tier.trim().parse::<u16>().expect("a tier") + 1;
        max_place_words = max_place_words.max(name.split(' ').count());
        // NB: tokens hold no full stops (`St. Louis` is read as `st louis`).
        let mut key = key(name);
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
    let prefixes: BTreeSet<String> = places
        .keys()
        .flat_map(|name| {
            name.match_indices(' ')
                .map(|(at, _)| name[..at].to_string())
        })
        .collect();

    let mut words = BTreeMap::<String, u16>::new();
    let listed = [
        ("first_names.txt", flag::FIRST),
        ("last_names.txt", flag::LAST),
        ("common_words.txt", flag::COMMON),
        ("ambiguous_words.txt", flag::COMMON),
        ("org_words.txt", flag::ORG),
        ("place_first_words.txt", flag::PLACE_FIRST_WORD),
    ];
    for (file, bits) in listed {
        for w in lines(&read(file)) {
            *words.entry(w).or_default() |= bits;
        }
    }
    for title in lexicon::TITLES {
        *words.entry(key(title)).or_default() |= flag::TITLE;
    }
    let single = places.iter().filter(|(n, _)| !n.contains(' '));
    for (name, tier) in single {
        *words.entry(name.clone()).or_default() |= tier << flag::PLACE_SHIFT;
    }
    for prefix in prefixes.iter().filter(|p| !p.contains(' ')) {
        *words.entry(prefix.clone()).or_default() |= flag::STARTS_LONGER_PLACE;
    }

    let write = |file: &str, entries: Vec<(String, u16)>| {
        std::fs::write(out.join(file), table::write(&entries)).expect("a table is written");
    };
    write("words.table", words.into_iter().collect());
    write("places.table", places.into_iter().collect());
    write(
        "place_prefixes.table",
        prefixes.into_iter().map(|p| (p, 1)).collect(),
    );
    write(
        "connectors.table",
        connectors.into_iter().map(|c| (c, 1)).collect(),
    );
    std::fs::write(
        out.join("max_place_words.rs"),
        format!("{}", max_place_words.min(6)),
    )
    .expect("a constant is written");
}

fn key(word: &str) -> String {
    let mut key = String::new();
    fold::push_key(word, &mut key);
    key
}

fn lines(data: &str) -> impl Iterator<Item = String> + '_ {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(key)
}
