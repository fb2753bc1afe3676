#!/usr/bin/env bash
# Runs every fuzz target briefly: the request decoder, bearer token and
# header parsing, page tokens, the approval link token verifier, the
# duration parser and the policy loader's parser.
# Usage: scripts/fuzz.sh [seconds per target, default 10]
# A failure leaves its input under the package's testdata/fuzz/ folder;
# `go test` then replays it on every run until it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
targets=(
  "./server FuzzDecodeStrict"
  "./server FuzzVerify"
  "./server FuzzBearerToken"
  "./server FuzzPageToken"
  "./approvals FuzzVerify"
  "./durations FuzzParse"
  "./policies FuzzParse"
)
# fuzz runs one target; its output is kept to tell a finding from the fuzz
# engine's own "context deadline exceeded" when -fuzztime ends while a
# worker is still minimizing a new interesting input (no input is written
# then: nothing was found). That one case runs the target once more.
fuzz() {
  local out=$1 pkg=$2 name=$3
  go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" 2>&1 | tee "$out"
  return "${PIPESTATUS[0]}"
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "== $pkg $name (${secs}s)"
  if ! fuzz "$log" "$pkg" "$name"; then
    if grep -q 'Failing input written' "$log" || ! grep -q 'context deadline exceeded' "$log"; then
      exit 1
    fi
    echo "== $pkg $name: the fuzz engine ran out of time while minimizing (no failing input); once more"
    fuzz "$log" "$pkg" "$name"
  fi
done
