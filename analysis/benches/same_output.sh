#!/usr/bin/env bash
# Whether two builds of guardrails-analyze give byte-identical `--jsonl` output on every corpus
# of corpora.py and every evaluation set: the check a change made for speed alone must pass.
#
#   bash analysis/benches/same_output.sh OLD_BINARY NEW_BINARY CORPUS_DIR
set -euo pipefail
if [ $# -ne 3 ]; then
    echo "usage: same_output.sh OLD_BINARY NEW_BINARY CORPUS_DIR" >&2
    exit 2
fi
old=$1 new=$2 dir=$3
eval_dir="$(cd "$(dirname "$0")/../eval" && pwd)"
differ=0
for corpus in "$dir"/*.jsonl "$eval_dir"/*.jsonl; do
    if cmp -s <("$old" --jsonl <"$corpus") <("$new" --jsonl <"$corpus"); then
        echo "same     $corpus"
    else
        echo "DIFFERS  $corpus"
        differ=1
    fi
done
exit $differ
