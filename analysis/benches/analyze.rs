//! Throughput of `Analyzer::analyze` with all recognizers on 1 KiB, 64 KiB and 1 MiB texts, and
//! on many short documents.
//!
//! Two corpora: `dense` joins evaluation-set records (a finding every ~40 bytes, a worst case);
//! `sparse` puts one record after every ~2 KiB of ordinary prose. `short` analyses 1,000
//! documents of ~430 bytes (consecutive evaluation records joined), one call each, as a service
//! receiving chat messages or log lines does, with `analyze` and with the spans-only `entities`;
//! `short/entities_sparse` does the same on 1,000 documents of ~430 bytes cut from the sparse
//! corpus; `short/batch` and `short/batch_sparse` pass the same documents to `entities_batch`
//! `BATCH` (512) at a time (about 256 KiB, as `guardrails-analyze --jsonl` does). Time is the
//! benchmark thread's CPU time, so the throughput is per core even on a busy machine.

mod cpu_time;

use cpu_time::ThreadCpuTime;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use guardrails_analysis::{Analyzer, Options};

const DATASET: &str = include_str!("../eval/dataset.jsonl");

/// Ordinary prose without personal data, written for this benchmark.
const PROSE: &[&str] = &[
    "The quarterly report shows that the new onboarding flow reduced support requests noticeably.",
    "Our team reviewed the deployment checklist and agreed to move the release to the next sprint.",
    "Please remember that the staging environment is reset every night, so save your test data.",
    "The design document describes how the cache is invalidated when the upstream schema changes.",
    "After the migration, response times improved for most endpoints, although a few regressed.",
    "We should document the retry behaviour so that client teams know what to expect on failures.",
    "The meeting notes list three open questions about pricing tiers and the trial period length.",
    "Customers asked for an export button, and the product group added it to the roadmap for spring.",
    "The incident review found that an expired certificate caused the outage on the internal gateway.",
    "A short survey will go out to all users next month to collect feedback on the new dashboard.",
];

fn sparse(size: usize) -> String {
    let records = records();
    let mut out = String::with_capacity(size + 4096);
    let mut r = records.iter().cycle();
    'outer: loop {
        for sentence in PROSE.iter().cycle().take(22) {
            if out.len() + sentence.len() + 1 > size {
                break 'outer;
            }
            out.push_str(sentence);
            out.push(' ');
        }
        let record = r.next().unwrap();
        if out.len() + record.len() + 2 > size {
            break;
        }
        out.push_str(record);
        out.push_str("\n\n");
    }
    pad(out, size)
}

fn records() -> Vec<String> {
    DATASET
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn pad(mut out: String, size: usize) -> String {
    while out.len() < size {
        out.push(' ');
    }
    out
}

fn dense(size: usize) -> String {
    let texts = records();
    let mut out = String::with_capacity(size + 1024);
    for t in texts.iter().cycle() {
        if out.len() + t.len() + 2 > size {
            break;
        }
        out.push_str(t);
        out.push_str("\n\n");
    }
    pad(out, size)
}

/// Builds a text of about the given size.
type Corpus = fn(usize) -> String;

fn analyze(c: &mut Criterion<ThreadCpuTime>) {
    let analyzer = Analyzer::new();
    let options = Options::default();
    let mut group = c.benchmark_group("analyze");
    let sizes = [("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)];
    let corpora: [(&str, Corpus); 2] = [("dense", dense), ("sparse", sparse)];
    for ((kind, make), (name, size)) in corpora
        .iter()
        .flat_map(|c| sizes.iter().map(move |s| (c, s)))
    {
        let text = make(*size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.sample_size(if *size >= 1 << 20 { 10 } else { 50 });
        group.bench_with_input(BenchmarkId::new(*kind, name), &text, |b, text| {
            b.iter(|| analyzer.analyze(text, &options).unwrap())
        });
    }
    group.finish();
}

/// Documents of about `size` bytes: consecutive evaluation records joined by a blank line.
fn short_documents(count: usize, size: usize) -> Vec<String> {
    let mut records = records().into_iter().cycle();
    (0..count)
        .map(|_| {
            let mut doc = records.next().unwrap();
            while doc.len() < size {
                doc.push_str("\n\n");
                doc.push_str(&records.next().unwrap());
            }
            doc
        })
        .collect()
}

/// Documents of about `size` bytes cut from the sparse corpus at spaces: most hold no finding,
/// as most chat messages and log lines do not.
fn sparse_documents(count: usize, size: usize) -> Vec<String> {
    let text = sparse((count + 1) * size);
    let mut rest = text.as_str();
    let mut documents = Vec::with_capacity(count);
    while documents.len() < count && !rest.is_empty() {
        let cut = rest
            .char_indices()
            .find(|&(i, c)| i >= size && c == ' ')
            .map_or(rest.len(), |(i, _)| i);
        documents.push(rest[..cut].to_string());
        rest = rest[cut..].trim_start();
    }
    documents
}

/// Total bytes of `documents`.
fn bytes(documents: &[String]) -> u64 {
    documents.iter().map(|d| d.len() as u64).sum()
}

fn short(c: &mut Criterion<ThreadCpuTime>) {
    let analyzer = Analyzer::new();
    let options = Options::default();
    let documents = short_documents(1000, 430);
    let sparse_documents = sparse_documents(1000, 430);
    let mut group = c.benchmark_group("short");
    group.throughput(Throughput::Bytes(bytes(&documents)));
    group.sample_size(30);
    group.bench_function("analyze", |b| {
        b.iter(|| {
            for doc in &documents {
                analyzer.analyze(doc, &options).unwrap();
            }
        })
    });
    group.bench_function("entities", |b| {
        b.iter(|| {
            for doc in &documents {
                analyzer.entities(doc);
            }
        })
    });
    group.bench_function("batch", |b| b.iter(|| batches(&analyzer, &documents)));
    group.throughput(Throughput::Bytes(bytes(&sparse_documents)));
    group.bench_function("entities_sparse", |b| {
        b.iter(|| {
            for doc in &sparse_documents {
                analyzer.entities(doc);
            }
        })
    });
    group.bench_function("batch_sparse", |b| {
        b.iter(|| batches(&analyzer, &sparse_documents))
    });
    group.finish();
}

/// Documents a call in the `batch` benchmarks: about 256 KiB, as `guardrails-analyze --jsonl`
/// takes them.
const BATCH: usize = 512;

/// `documents` through `Analyzer::entities_batch`, [`BATCH`] at a time.
fn batches(analyzer: &Analyzer, documents: &[String]) {
    for batch in documents.chunks(BATCH) {
        let texts: Vec<&str> = batch.iter().map(String::as_str).collect();
        analyzer.entities_batch(&texts);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = analyze, short
}
criterion_main!(benches);
