//! Accuracy on the committed evaluation sets must not regress (numbers: docs/performance.md).

#[path = "../eval/score.rs"]
#[allow(dead_code)] // NB: exact-span counts are only used by the `eval` example.
mod score;

use std::collections::BTreeMap;

use guardrails_analysis::{Analyzer, Options};
use score::{Counts, Record, Span, f1, matches};

/// Span counts (overlap rule) of the analyzer on one evaluation file: per entity type and in all.
fn counts(file: &str) -> (BTreeMap<String, Counts>, Counts) {
    let path = format!("{}/eval/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let analyzer = Analyzer::new();
    let mut by_type: BTreeMap<String, Counts> = BTreeMap::new();
    for line in data.lines() {
        let record: Record = serde_json::from_str(line).expect("valid record");
        let found: Vec<Span> = analyzer
            .analyze(&record.text, &Options::default())
            .unwrap()
            .pii
            .entities
            .iter()
            .map(|e| Span {
                entity_type: e.entity_type.to_string(),
                start: e.position.start,
                end: e.position.end,
            })
            .collect();
        for span in &record.spans {
            by_type.entry(span.entity_type.clone()).or_default().gold += 1;
        }
        for span in &found {
            by_type
                .entry(span.entity_type.clone())
                .or_default()
                .predicted += 1;
        }
        for (t, c) in by_type.iter_mut() {
            let of_type = |spans: &[Span]| -> Vec<Span> {
                spans
                    .iter()
                    .filter(|s| &s.entity_type == t)
                    .cloned()
                    .collect()
            };
            c.overlap += matches(&of_type(&record.spans), &of_type(&found), false);
        }
    }
    let mut total = Counts::default();
    for c in by_type.values() {
        total.gold += c.gold;
        total.predicted += c.predicted;
        total.overlap += c.overlap;
    }
    (by_type, total)
}

/// Micro precision, recall and F1 (overlap rule) of the analyzer on one evaluation file.
fn micro_scores(file: &str) -> (f64, f64, f64) {
    let (_, total) = counts(file);
    f1(total.overlap, total.predicted, total.gold)
}

#[test]
fn the_heldout_set_keeps_its_accuracy() {
    let (p, r, f) = micro_scores("heldout.jsonl");
    assert!(
        p >= 0.99 && r >= 0.94 && f >= 0.97,
        "heldout P {p:.3} R {r:.3} F1 {f:.3}"
    );
}

#[test]
fn the_development_set_keeps_its_accuracy() {
    let (p, r, f) = micro_scores("dataset.jsonl");
    assert!(
        p >= 0.99 && r >= 0.99 && f >= 0.99,
        "dataset P {p:.3} R {r:.3} F1 {f:.3}"
    );
}

/// Floors of the independent set (overlap F1): the measured value rounded down to a hundredth.
const INDEPENDENT_FLOORS: &[(&str, f64)] = &[
    ("ALL", 0.97),
    ("API_KEY", 1.00),
    ("AWS_ACCESS_KEY", 1.00),
    ("CREDIT_CARD", 0.99),
    ("CRYPTO", 1.00),
    ("DATE_TIME", 1.00),
    ("EMAIL_ADDRESS", 1.00),
    ("IBAN_CODE", 1.00),
    ("IP_ADDRESS", 0.81),
    ("JWT", 1.00),
    ("LOCATION", 0.75),
    ("MEDICAL_LICENSE", 1.00),
    ("PERSON", 0.99),
    ("PHONE_NUMBER", 0.98),
    ("PRIVATE_KEY", 1.00),
    ("UK_NHS", 1.00),
    ("US_BANK_NUMBER", 1.00),
    ("US_DRIVER_LICENSE", 0.97),
    ("US_ITIN", 1.00),
    ("US_PASSPORT", 1.00),
    ("US_SSN", 1.00),
];

/// Floors of the blind set (overlap F1): the measured value rounded down to a hundredth. Its
/// documents and errors are never read: see eval/gen_blind.py.
const BLIND_FLOORS: &[(&str, f64)] = &[
    ("ALL", 0.96),
    ("CREDIT_CARD", 1.00),
    ("DATE_TIME", 1.00),
    ("EMAIL_ADDRESS", 1.00),
    ("IBAN_CODE", 1.00),
    ("IP_ADDRESS", 1.00),
    ("LOCATION", 0.92),
    ("PERSON", 0.91),
    ("PHONE_NUMBER", 0.96),
    ("US_SSN", 1.00),
];

/// Floors of the development set of business documents (overlap F1), tuned on: a regression
/// guard, not a measure of generality.
const FORMS_FLOORS: &[(&str, f64)] = &[
    ("ALL", 0.95),
    ("DATE_TIME", 1.00),
    ("EMAIL_ADDRESS", 1.00),
    ("LOCATION", 0.87),
    ("PERSON", 0.97),
];

/// Floors of the development set of notices, letters and lists with Mimesis names (overlap F1),
/// tuned on: a regression guard, not a measure of generality.
const NOTICES_FLOORS: &[(&str, f64)] = &[
    ("ALL", 0.91),
    ("DATE_TIME", 1.00),
    ("EMAIL_ADDRESS", 1.00),
    ("LOCATION", 0.69),
    ("PERSON", 0.93),
];

/// The types of `file` whose overlap F1 (or the micro F1, `ALL`) is below its floor.
fn below_floors(file: &str, floors: &[(&str, f64)]) -> Vec<String> {
    let (by_type, total) = counts(file);
    let f1_of = |c: &Counts| f1(c.overlap, c.predicted, c.gold).2;
    floors
        .iter()
        .filter_map(|&(name, floor)| {
            let f = if name == "ALL" {
                f1_of(&total)
            } else {
                by_type.get(name).map_or(0.0, f1_of)
            };
            (f < floor).then(|| format!("{name} F1 {f:.3} < {floor}"))
        })
        .collect()
}

#[test]
fn the_independent_set_keeps_its_accuracy_overall_and_by_type() {
    let below = below_floors("independent.jsonl", INDEPENDENT_FLOORS);
    assert!(below.is_empty(), "independent set: {}", below.join(", "));
}

#[test]
fn the_forms_set_keeps_its_accuracy_overall_and_by_type() {
    let below = below_floors("forms.jsonl", FORMS_FLOORS);
    assert!(below.is_empty(), "forms set: {}", below.join(", "));
}

#[test]
fn the_notices_set_keeps_its_accuracy_overall_and_by_type() {
    let below = below_floors("notices.jsonl", NOTICES_FLOORS);
    assert!(below.is_empty(), "notices set: {}", below.join(", "));
}

#[test]
fn the_blind_set_keeps_its_accuracy_overall_and_by_type() {
    let below = below_floors("blind.jsonl", BLIND_FLOORS);
    assert!(below.is_empty(), "blind set: {}", below.join(", "));
}

/// Checks that `set` is what `generator` writes, with the Python named by `GUARDRAILS_PYTHON`
/// (which has Faker and Mimesis from scripts/test-requirements.txt); without that variable it
/// prints why and checks nothing.
fn check_generated(generator: &str, set: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/eval");
    let Ok(python) = std::env::var("GUARDRAILS_PYTHON") else {
        eprintln!(
            "skipped: GUARDRAILS_PYTHON is not set; point it at a Python with the tools of \
             scripts/test-requirements.txt (scripts/test.sh does) to check eval/{set}"
        );
        return;
    };
    let out = std::process::Command::new(&python)
        .arg(format!("{dir}/{generator}"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run GUARDRAILS_PYTHON `{python}`: {e}"));
    assert!(
        out.status.success(),
        "{generator} failed (scripts/test-requirements.txt installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read(format!("{dir}/{set}")).unwrap();
    assert!(
        out.stdout == committed,
        "eval/{set} differs from what {generator} writes: regenerate it"
    );
}

#[test]
fn the_independent_set_is_what_its_generator_writes() {
    check_generated("gen_independent.py", "independent.jsonl");
}

#[test]
fn the_forms_set_is_what_its_generator_writes() {
    check_generated("gen_forms.py", "forms.jsonl");
}

#[test]
fn the_notices_set_is_what_its_generator_writes() {
    check_generated("gen_notices.py", "notices.jsonl");
}

#[test]
fn the_blind_set_is_what_its_generator_writes() {
    check_generated("gen_blind.py", "blind.jsonl");
}
