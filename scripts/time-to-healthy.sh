#!/usr/bin/env bash
# Measures the time from `go run ./cmd/jitflow dev` to the first 200 from
# /healthz: once on a new data dir (cold: schema and namespace created),
# then again on the same data dir (warm: a restart).
# Usage: scripts/time-to-healthy.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d)/jitflow}
addr=127.0.0.1:18080
ms() { date +%s%3N; }

run() {
  local start pid
  start=$(ms)
  go run ./cmd/jitflow dev --data-dir "$dir" --http-addr $addr --temporal-port 17233 \
    --ui-port 18233 --graph-addr 127.0.0.1:18091 >/dev/null 2>&1 &
  pid=$!
  until [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' http://$addr/healthz)" = 200 ]; do
    kill -0 $pid 2>/dev/null || { echo "jitflow dev exited" >&2; exit 1; }
    sleep 0.05
  done
  echo "$1: $(( $(ms) - start )) ms to /healthz 200"
  pkill -INT -P $pid 2>/dev/null || kill -INT $pid
  wait $pid 2>/dev/null || true
}

run cold
run warm
