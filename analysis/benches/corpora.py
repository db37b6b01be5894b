#!/usr/bin/env python3
"""Writes the JSON-lines corpora that docs/performance.md times `guardrails-analyze --jsonl` on.

    python3 analysis/benches/corpora.py OUT_DIR

- dense.jsonl: 40,000 documents, each consecutive eval/dataset.jsonl records joined by a blank
  line until at least 430 bytes (a finding every ~40 bytes: chat, tickets, notes, logs).
- sparse.jsonl: 40,000 documents of ~430 bytes cut, at the first space after 430 bytes, from the
  criterion benchmark's sparse text (its prose sentences, a dataset record after every 22).
- long.jsonl: 31 documents of 64 KiB of the dense records.
- fuzz.jsonl: 5,000 documents of random characters from many scripts (a fixed seed), for
  checking that a change leaves the output the same, not for timing.

The prose is read from benches/analyze.rs, so the criterion benchmark and these corpora agree.
"""

import json
import random
import re
import sys
from pathlib import Path

CRATE = Path(__file__).resolve().parent.parent
DOCS = 40_000
SHORT = 430


def records():
    with open(CRATE / "eval" / "dataset.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def prose():
    source = (CRATE / "benches" / "analyze.rs").read_text(encoding="utf-8")
    block = source.split("const PROSE")[1].split("];")[0]
    return re.findall(r'^\s+"(.*)",$', block, re.M)


def dense(recs):
    docs, i = [], 0
    while len(docs) < DOCS:
        parts = []
        while len("\n\n".join(parts).encode()) < SHORT:
            parts.append(recs[i % len(recs)])
            i += 1
        docs.append("\n\n".join(parts))
    return docs


def sparse(recs, sentences):
    pieces, size, r = [], 0, 0
    while size < DOCS * (SHORT + 100):
        for k in range(22):
            pieces.append(sentences[k % len(sentences)] + " ")
        pieces.append(recs[r % len(recs)] + "\n\n")
        r += 1
        size += sum(len(p) for p in pieces[-23:])
    text = "".join(pieces)
    docs, at = [], 0
    while len(docs) < DOCS:
        cut = text.index(" ", at + SHORT)
        docs.append(text[at:cut])
        at = cut + 1
    return docs


def long(recs):
    text = "\n\n".join(recs * 20).encode()
    docs = []
    for k in range(31):
        chunk = text[k * 65536 : (k + 1) * 65536]
        docs.append(chunk.decode("utf-8", errors="ignore"))
    return docs


def fuzz():
    rng = random.Random(7)
    alphabet = list(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-/()+@#'\"\n\t_="
    ) + list("éüßøñçЖжДдΩωאבגדहिन्दीViệtالعربية中文日本語😀👍٣") + ["\u0301", "\u200d"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 600))) for _ in range(5000)]


def write(path, docs):
    with open(path, "w", encoding="utf-8") as f:
        for k, text in enumerate(docs):
            f.write(json.dumps({"id": str(k), "text": text}) + "\n")
    print(f"{path}: {len(docs)} documents, {sum(len(d.encode()) for d in docs):,} bytes of text")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: corpora.py OUT_DIR")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    recs = records()
    write(out / "dense.jsonl", dense(recs))
    write(out / "sparse.jsonl", sparse(recs, prose()))
    write(out / "long.jsonl", long(recs))
    write(out / "fuzz.jsonl", fuzz())


if __name__ == "__main__":
    main()
