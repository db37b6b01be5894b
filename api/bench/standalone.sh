#!/usr/bin/env bash
# Benchmark of the standalone api on loopback with wrk: sync and async, 64 connections; after each
# run, the server's CPU time per request (user + system, from /proc) and its resident memory.
# Usage: bash api/bench/standalone.sh   (needs `wrk`: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=target}"
DURATION="${DURATION:-20s}"
PORT="${PORT:-18700}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release -p guardrails-api --bin guardrails-api
data_dir=$(mktemp -d)
"$CARGO_TARGET_DIR/release/guardrails-api" --standalone --auth none --listen "127.0.0.1:$PORT" \
  --data-dir "$data_dir" --max-queued-tasks 1000000 --max-stored-tasks 1000000 2>/dev/null &
server=$!
trap 'kill "$server"; rm -rf "$data_dir"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
ticks_per_second=$(getconf CLK_TCK)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for endpoint in /api/v1/analyze /api/v1/analyze/async; do
  echo "== $endpoint, 64 connections, $DURATION"
  before=$(cpu_ticks)
  report=$(wrk -t 2 -c 64 -d "$DURATION" --latency -s api/bench/request.lua "http://127.0.0.1:$PORT" -- "$endpoint")
  after=$(cpu_ticks)
  echo "$report"
  requests=$(awk '/requests in/ {print $1}' <<<"$report")
  echo "server CPU per request: $(( (after - before) * 1000000 / ticks_per_second / requests )) us;" \
    "server $(grep VmRSS "/proc/$server/status" | tr -s ' \t' ' ')"
done
