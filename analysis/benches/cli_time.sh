#!/usr/bin/env bash
# User + system CPU seconds of `BINARY --jsonl < CORPUS` for each binary, ROUNDS times, the
# binaries taking turns so that a slower minute of the machine falls on all of them alike.
#
#   bash analysis/benches/cli_time.sh ROUNDS CORPUS BINARY...
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: cli_time.sh ROUNDS CORPUS BINARY..." >&2
    exit 2
fi
rounds=$1 corpus=$2
shift 2
for _ in $(seq "$rounds"); do
    for binary in "$@"; do
        TIMEFORMAT="%U %S"
        cpu=$({ time "$binary" --jsonl <"$corpus" >/dev/null; } 2>&1 | awk '{print $1 + $2}')
        echo "$binary $cpu"
    done
done | awk '{runs[$1] = runs[$1] " " $2} END {for (b in runs) print b ":" runs[b]}'
