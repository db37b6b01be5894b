//! Throughput of `Analyzer::analyze` with all recognizers on 1 KiB, 64 KiB and 1 MiB texts.
//!
//! The texts are evaluation-set records joined by blank lines (dense PII: a worst case). Time is
//! the benchmark thread's CPU time, so the throughput is per core even on a busy machine.

mod cpu_time;

use cpu_time::ThreadCpuTime;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use guardrails_analysis::{Analyzer, Options};

const DATASET: &str = include_str!("../eval/dataset.jsonl");

fn corpus(size: usize) -> String {
    let texts: Vec<String> = DATASET
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut out = String::with_capacity(size + 1024);
    for t in texts.iter().cycle() {
        if out.len() + t.len() + 2 > size {
            break;
        }
        out.push_str(t);
        out.push_str("\n\n");
    }
    while out.len() < size {
        out.push(' ');
    }
    out
}

fn analyze(c: &mut Criterion<ThreadCpuTime>) {
    let analyzer = Analyzer::new();
    let options = Options::default();
    let mut group = c.benchmark_group("analyze");
    for (name, size) in [("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)] {
        let text = corpus(size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        if size >= 1 << 20 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(name), &text, |b, text| {
            b.iter(|| analyzer.analyze(text, &options).unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = analyze
}
criterion_main!(benches);
