#!/usr/bin/env bash
# Proves `jitflow dev --temporal-address` against a Temporal server that is
# not jitflow's: the official CLI's dev server. jitflow creates its search
# attributes there and runs the README walkthrough (alice asks, bob
# approves, the role is active in the Graph emulator, alice revokes, the
# audit trail tells it); a namespace that does not exist is refused with
# how to create it.
#
# Usage: TEMPORAL_CLI=/path/to/temporal scripts/temporal-address-check.sh
#   scripts/temporal-cli-check.sh builds the CLI and runs this script.
#   JITFLOW=/path/to/jitflow  use this binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
cli=${TEMPORAL_CLI:?set TEMPORAL_CLI to the Temporal CLI, or run scripts/temporal-cli-check.sh, which builds it and runs this}
work=$(mktemp -d)
# The script's own status is kept: a stopped process's exit status must
# not become it (errexit applies inside the trap too).
trap 'rc=$?; set +e; for p in ${jpid:-} ${tpid:-}; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; exit $rc' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

jitflow=${JITFLOW:-}
if [ -z "$jitflow" ]; then
  go build -o "$work/jitflow" ./cmd/jitflow
  jitflow="$work/jitflow"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tport=$(free_port)
"$cli" server start-dev --headless --ip 127.0.0.1 --port "$tport" --http-port "$(free_port)" \
  --metrics-port "$(free_port)" --db-filename "$work/temporal.db" --log-level error >"$work/temporal.log" 2>&1 &
tpid=$!
temporal() { "$cli" --address "127.0.0.1:$tport" "$@"; }
for _ in $(seq 1 300); do
  temporal operator cluster health >/dev/null 2>&1 && break
  kill -0 $tpid 2>/dev/null || { cat "$work/temporal.log"; fail "the Temporal dev server did not start"; }
  sleep 0.2
done
echo "Temporal CLI dev server on 127.0.0.1:$tport"

# A namespace that is not there: a clear refusal naming it and jitflow setup.
if "$jitflow" dev --temporal-address "127.0.0.1:$tport" --namespace nosuch --data-dir "$work/nosuch" \
  --http-addr 127.0.0.1:0 --graph-addr 127.0.0.1:0 >"$work/nosuch.log" 2>&1; then
  fail "jitflow dev started against a namespace that does not exist"
fi
grep -q 'namespace "nosuch" does not exist' "$work/nosuch.log" && grep -q 'jitflow setup' "$work/nosuch.log" \
  || { cat "$work/nosuch.log"; fail "the refusal does not name the namespace and jitflow setup"; }
echo "OK: a missing namespace is refused: $(tail -1 "$work/nosuch.log")"

http=127.0.0.1:$(free_port)
graph=127.0.0.1:$(free_port)
"$jitflow" dev --temporal-address "127.0.0.1:$tport" --namespace default --data-dir "$work/data" \
  --http-addr "$http" --graph-addr "$graph" >"$work/dev.log" 2>&1 &
jpid=$!
for _ in $(seq 1 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$http/healthz")" = 200 ] && break
  kill -0 $jpid 2>/dev/null || { cat "$work/dev.log"; fail "jitflow dev --temporal-address did not start"; }
  sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$http/healthz")" = 200 ] || { cat "$work/dev.log"; fail "not healthy"; }
cat "$work/dev.log"
attrs=$(temporal operator search-attribute list --namespace default)
for a in JitflowStatus JitflowRole JitflowRequesterId JitflowApproverIds; do
  grep -q "$a" <<<"$attrs" || fail "jitflow dev did not create the search attribute $a"
done

api=http://$http
token() { curl -sf "$api/dev/token?user=$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
alice=$(token alice)
bob=$(token bob)
id=$(curl -sf -X POST -H "Authorization: Bearer $alice" -H 'Content-Type: application/json' \
  -d '{"role":"reader","duration":"2m","justification":"look at the sign-in logs for INC-42"}' "$api/api/v1/requests" | field id)
echo "request $id"
for _ in $(seq 1 100); do
  curl -sf "$api/dev/outbox" | python3 -c 'import json,sys; sys.exit(0 if any("bob@example.com" in e["to"] for e in json.load(sys.stdin)) else 1)' && break
  sleep 0.1
done || fail "no email to bob in the outbox"
status=$(curl -sf -X POST -H "Authorization: Bearer $bob" -H 'Content-Type: application/json' \
  -d '{"comment":"ok"}' "$api/api/v1/requests/$id/approve" | field status)
echo "approved: $status"
for _ in $(seq 1 100); do
  status=$(curl -sf -H "Authorization: Bearer $alice" "$api/api/v1/requests/$id" | field status)
  [ "$status" = active ] && break
  sleep 0.1
done
[ "$status" = active ] || fail "status $status, want active"
requester=$(curl -sf -H "Authorization: Bearer $alice" "$api/api/v1/requests/$id" | field requester_id)
held() {
  curl -sf "http://$graph/v1.0/roleManagement/directory/roleAssignmentScheduleInstances" | python3 -c "import json,sys
sys.exit(0 if any(i['principalId']=='$requester' and i['roleDefinitionId']=='f2ef992c-3afb-46b9-b7cf-a126ee74c451' for i in json.load(sys.stdin)['value']) else 1)"
}
held || fail "the Graph emulator holds no Global Reader assignment for alice"
echo "active, and Global Reader is assigned in the emulator"
status=$(curl -sf -X POST -H "Authorization: Bearer $alice" "$api/api/v1/requests/$id/revoke" | field status)
for _ in $(seq 1 100); do
  [ "$status" = revoked ] && ! held && break
  sleep 0.1
  status=$(curl -sf -H "Authorization: Bearer $alice" "$api/api/v1/requests/$id" | field status)
done
[ "$status" = revoked ] || fail "status $status after revoke, want revoked"
held && fail "the assignment is still in the emulator after the revoke"
echo "revoked, and the assignment is gone"
events=$(curl -sf -H "Authorization: Bearer $alice" "$api/api/v1/requests/$id/audit" \
  | python3 -c 'import json,sys; print(" ".join(e["type"]+":"+e["actor"] for e in json.load(sys.stdin)["events"]))')
echo "audit: $events"
for want in requested:alice@example.com approved:bob@example.com activated: revoked:alice@example.com; do
  grep -q " $want" <<<" $events" || fail "the audit trail has no $want"
done
# The request is a workflow on the CLI's server, found by jitflow's attributes.
temporal workflow list --namespace default --query "JitflowRequesterId='$requester' AND JitflowStatus='revoked'" | grep -q "$id" \
  || fail "the Temporal CLI does not list $id by its search attributes"
echo "OK: jitflow dev --temporal-address ran the README walkthrough against a separate Temporal server"
