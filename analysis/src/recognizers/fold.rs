//! The form under which the gazetteers know a word (shared with `build.rs`, which writes them).

/// Appends the form under which the lists know `word`: lower case, and in Latin letters without
/// accents (`Michał` → `michal`, `Иван` → `ivan`), so a name is found however it is spelled.
pub fn push_key(word: &str, out: &mut String) {
    let from = out.len();
    if word.is_ascii() {
        out.push_str(word);
    } else {
        out.push_str(&deunicode::deunicode(&word.to_lowercase()));
    }
    out[from..].make_ascii_lowercase();
}
