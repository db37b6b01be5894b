//! Scoring shared by the `eval` example and the evaluation regression test.

use serde::Deserialize;

/// One evaluation record.
#[derive(Deserialize)]
pub struct Record {
    /// The text.
    pub text: String,
    /// The gold spans.
    pub spans: Vec<Span>,
}

/// A gold or predicted span, in code points.
#[derive(Deserialize, Clone)]
pub struct Span {
    /// The entity type name.
    #[serde(rename = "type")]
    pub entity_type: String,
    /// First code point.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
}

/// Span counts for one entity type.
#[derive(Default)]
pub struct Counts {
    /// Gold spans.
    pub gold: usize,
    /// Predicted spans.
    pub predicted: usize,
    /// Predictions matching a gold span exactly.
    pub exact: usize,
    /// Predictions overlapping a gold span of the same type.
    pub overlap: usize,
}

/// How many predictions match a distinct gold span (exact span, or any overlap).
pub fn matches(gold: &[Span], predicted: &[Span], exact: bool) -> usize {
    let mut used = vec![false; gold.len()];
    let mut hits = 0;
    for p in predicted {
        let hit = gold.iter().enumerate().position(|(i, g)| {
            !used[i]
                && g.entity_type == p.entity_type
                && if exact {
                    g.start == p.start && g.end == p.end
                } else {
                    g.start < p.end && p.start < g.end
                }
        });
        if let Some(i) = hit {
            used[i] = true;
            hits += 1;
        }
    }
    hits
}

/// Precision, recall and F1 from true positives and the two totals.
pub fn f1(tp: usize, predicted: usize, gold: usize) -> (f64, f64, f64) {
    let p = if predicted == 0 {
        0.0
    } else {
        tp as f64 / predicted as f64
    };
    let r = if gold == 0 {
        0.0
    } else {
        tp as f64 / gold as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}
