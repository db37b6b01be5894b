//! Per-entity precision, recall and F1 of the analyzer on the evaluation set.
//!
//! `cargo run -p guardrails-analysis --release --example eval [-- analysis/eval/dataset.jsonl]`
//!
//! Exact: type, start and end equal the gold span. Overlap: same type and the spans share at
//! least one code point (each gold span matched at most once).
//! `-- PATH TYPE` also prints that type's misses and false alarms (exact rule).

#[path = "../benches/cpu_time/mod.rs"]
#[allow(dead_code)]
mod cpu_time;

#[path = "../eval/score.rs"]
mod score;

use std::collections::BTreeMap;

use guardrails_analysis::{Analyzer, Options};
use score::{Counts, Record, Span, f1, matches};

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "analysis/eval/dataset.jsonl".to_string());
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let records: Vec<Record> = data
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid record"))
        .collect();
    let show = std::env::args().nth(2);
    let analyzer = Analyzer::new();
    let options = Options::default();
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut bytes = 0usize;
    // NB: one untimed pass first: the lazy DFAs build their states on first use, as in any
    // long-running process that analyses many texts.
    for r in &records {
        analyzer
            .analyze(&r.text, &options)
            .expect("analysis succeeds");
    }
    let started = cpu_time::thread_cpu_time();
    let mut all_predictions = Vec::with_capacity(records.len());
    for r in &records {
        let result = analyzer
            .analyze(&r.text, &options)
            .expect("analysis succeeds");
        bytes += r.text.len();
        all_predictions.push(result);
    }
    let elapsed = cpu_time::thread_cpu_time() - started;
    for (r, result) in records.iter().zip(&all_predictions) {
        let predicted: Vec<Span> = result
            .pii
            .entities
            .iter()
            .map(|e| Span {
                entity_type: e.entity_type.to_string(),
                start: e.position.start,
                end: e.position.end,
            })
            .collect();
        let types: std::collections::BTreeSet<&String> = r
            .spans
            .iter()
            .chain(&predicted)
            .map(|s| &s.entity_type)
            .collect();
        for t in types {
            let g: Vec<Span> = r
                .spans
                .iter()
                .filter(|s| &s.entity_type == t)
                .cloned()
                .collect();
            let p: Vec<Span> = predicted
                .iter()
                .filter(|s| &s.entity_type == t)
                .cloned()
                .collect();
            if show.as_ref() == Some(t) {
                let chars: Vec<char> = r.text.chars().collect();
                let cut = |s: &Span| chars[s.start..s.end].iter().collect::<String>();
                for s in g
                    .iter()
                    .filter(|s| !p.iter().any(|x| x.start == s.start && x.end == s.end))
                {
                    println!("missed  {:?} in {:?}", cut(s), r.text);
                }
                for s in p
                    .iter()
                    .filter(|s| !g.iter().any(|x| x.start == s.start && x.end == s.end))
                {
                    println!("spurious {:?} in {:?}", cut(s), r.text);
                }
            }
            let c = counts.entry(t.clone()).or_default();
            c.gold += g.len();
            c.predicted += p.len();
            c.exact += matches(&g, &p, true);
            c.overlap += matches(&g, &p, false);
        }
    }
    println!("{} records, {} bytes from {path}", records.len(), bytes);
    println!(
        "{:<18} {:>5} {:>5} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}",
        "type", "gold", "pred", "P", "R", "F1", "P~", "R~", "F1~"
    );
    let mut total = Counts::default();
    for (t, c) in &counts {
        let (p, r, f) = f1(c.exact, c.predicted, c.gold);
        let (po, ro, fo) = f1(c.overlap, c.predicted, c.gold);
        println!(
            "{t:<18} {:>5} {:>5} | {p:>6.3} {r:>6.3} {f:>6.3} | {po:>6.3} {ro:>6.3} {fo:>6.3}",
            c.gold, c.predicted
        );
        total.gold += c.gold;
        total.predicted += c.predicted;
        total.exact += c.exact;
        total.overlap += c.overlap;
    }
    let (p, r, f) = f1(total.exact, total.predicted, total.gold);
    let (po, ro, fo) = f1(total.overlap, total.predicted, total.gold);
    println!(
        "{:<18} {:>5} {:>5} | {p:>6.3} {r:>6.3} {f:>6.3} | {po:>6.3} {ro:>6.3} {fo:>6.3}",
        "ALL (micro)", total.gold, total.predicted
    );
    println!("(P/R/F1 exact span; P~/R~/F1~ overlapping span of the same type)");
    let secs = elapsed.as_secs_f64();
    println!(
        "throughput: {:.1} records/s, {:.2} MB/s of one core's CPU time ({:.3} s CPU)",
        records.len() as f64 / secs,
        bytes as f64 / secs / 1e6,
        secs
    );
}
