//! Accuracy on the committed evaluation sets must not regress (numbers: docs/performance.md).

#[path = "../eval/score.rs"]
#[allow(dead_code)] // NB: the per-type `Counts` are only used by the `eval` example.
mod score;

use guardrails_analysis::{Analyzer, Options};
use score::{Record, Span, f1, matches};

/// Micro precision, recall and F1 (overlap rule) of the analyzer on one evaluation file.
fn micro_scores(file: &str) -> (f64, f64, f64) {
    let path = format!("{}/eval/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let analyzer = Analyzer::new();
    let (mut gold, mut predicted, mut hits) = (0, 0, 0);
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
        gold += record.spans.len();
        predicted += found.len();
        hits += matches(&record.spans, &found, false);
    }
    f1(hits, predicted, gold)
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
