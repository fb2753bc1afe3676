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
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "== $pkg $name (${secs}s)"
  go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s"
done
