#!/usr/bin/env bash
# The production-shaped check, without Docker: Debian's PostgreSQL, the
# official Temporal server (go.temporal.io/server at the version go.mod
# pins, the release of the compose image) on its postgres12 plugin with the
# schema set up by temporal-sql-tool, mTLS and the JWT authorizer on its
# frontend, `jitflow setup` for the namespace, two `jitflow server` and two
# `jitflow worker`, and Graph, SendGrid and the token issuer as separate
# HTTP services. internal/crashtest TestProduction starts them, injects the
# faults and checks the outcome; this script installs and builds what it
# needs, makes the certificates, and prints the figures.
#
#   scripts/production-check.sh            # JITFLOW_BINARY=path reuses a built jitflow
#
# Everything runs on free loopback ports in one temp dir, removed at the
# end; any failed check exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

. scripts/lib/temporal-postgres.sh
tp_postgres_bin

work=$(mktemp -d /tmp/jitflow-prodcheck.XXXXXX)
cleanup() {
  # The test stops what it started; this catches a test killed by timeout.
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    kill -INT "$(head -n1 "$work/pg/data/postmaster.pid")" 2>/dev/null || true
    sleep 2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# PostgreSQL runs as the postgres user when this runs as root: it must
# reach its data dir below $work.
chmod 711 "$work"
mkdir -p "$work/bin" "$work/certs"

started=$(date +%s)
tp_temporal_tools "$work/bin" "$work"
if [ -z "${JITFLOW_BINARY:-}" ]; then
  go build -o "$work/bin/jitflow" ./cmd/jitflow
  export JITFLOW_BINARY="$work/bin/jitflow"
fi
echo "builds took $(( $(date +%s) - started ))s"

# A CA, the frontend's certificate (localhost, 127.0.0.1) and one client
# certificate for jitflow's processes: what docs/temporal-mtls.md shows.
(
  cd "$work/certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=jitflow prodcheck CA" -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out server.pem \
    -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=jitflow" -keyout client.key -out client.csr 2>/dev/null
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem \
    -extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null
  rm -f ./*.csr ca.key
)

export JITFLOW_PRODCHECK_DIR="$work"
export JITFLOW_PRODCHECK_PG_BIN="$pg_bin"
export JITFLOW_PRODCHECK_SCHEMA="$temporal_schema"
go test -count=1 -timeout "${JITFLOW_PRODCHECK_TIMEOUT:-15m}" -run '^TestProduction$' -v ./internal/crashtest/
echo "production check passed:"
cat "$work/figures.txt"
