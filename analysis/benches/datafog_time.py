#!/usr/bin/env python3
"""CPU time of datafog-core (PyPI) on a JSON-lines corpus of corpora.py, for the side-by-side
comparison in docs/performance.md: `datafog_core.scan` on each document's text, with
`time.process_time()` around the loop only (reading the corpus and importing are left out).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install datafog-core==0.4.4
    /tmp/venv/bin/python analysis/benches/datafog_time.py CORPUS.jsonl
"""

import json
import sys
import time

import datafog_core


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: datafog_time.py CORPUS.jsonl")
    with open(sys.argv[1], encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    size = sum(len(t.encode()) for t in texts)
    datafog_core.scan("warm up: call 212-555-0198")
    started = time.process_time()
    for text in texts:
        datafog_core.scan(text)
    cpu = time.process_time() - started
    print(f"{cpu:.2f} s CPU, {size / cpu / 1e6:.1f} MB/s, {len(texts)} documents, {size:,} bytes")


if __name__ == "__main__":
    main()
