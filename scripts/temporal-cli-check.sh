#!/usr/bin/env bash
# Proves that the official Temporal CLI works against `jitflow dev`: it lists
# a request by jitflow's search attributes and shows its history with the
# approver in it. It also proves the CLI cannot decide: an approval sent
# straight through Temporal (`temporal workflow update execute`) with a
# forged approver is refused and leaves nothing in the history. Then
# scripts/temporal-address-check.sh runs `jitflow dev --temporal-address`
# against the CLI's own dev server.
#
# Usage: scripts/temporal-cli-check.sh
#   TEMPORAL_CLI=/path/to/temporal  use this CLI instead of building one
#   TEMPORAL_CLI_VERSION=v1.5.1     the CLI version to build (default v1.5.1)
#
# The CLI is built in its own module context, outside jitflow's go.mod:
# v1.5.1 is the newest release that `go install` accepts (later ones carry
# replace directives). It talks to Temporal only over the public gRPC API,
# so it need not match the embedded server's version.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
work=$(mktemp -d)
# The script's own status is kept: a stopped process's exit status must
# not become it (errexit applies inside the trap too).
trap 'rc=$?; set +e; [ -n "${pid:-}" ] && { kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; rm -rf "$work"; exit $rc' EXIT

cli=${TEMPORAL_CLI:-}
if [ -z "$cli" ]; then
  version=${TEMPORAL_CLI_VERSION:-v1.5.1}
  echo "building the Temporal CLI $version ..."
  start=$(date +%s)
  GOBIN="$work/bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$version"
  echo "built in $(( $(date +%s) - start ))s"
  cli="$work/bin/temporal"
fi
go build -o "$work/jitflow" ./cmd/jitflow

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=127.0.0.1:$(free_port)
tport=$(free_port)
"$work/jitflow" dev --data-dir "$work/data" --http-addr "$http" --temporal-port "$tport" \
  --graph-addr "127.0.0.1:$(free_port)" --no-ui >"$work/dev.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$http/healthz")" = 200 ] && break
  kill -0 $pid 2>/dev/null || { cat "$work/dev.log"; exit 1; }
  sleep 0.1
done

api=http://$http
token() { curl -sf "$api/dev/token?user=$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
id=$(curl -sf -X POST -H "Authorization: Bearer $(token alice)" -H 'Content-Type: application/json' \
  -d '{"role":"reader","duration":"1h","justification":"Temporal CLI check"}' "$api/api/v1/requests" | field id)
temporal() { "$cli" --address "127.0.0.1:$tport" --namespace default "$@"; }
view() { curl -sf -H "Authorization: Bearer $(token alice)" "$api/api/v1/requests/$id"; }

bob_id=$(view | python3 -c 'import json,sys; print(json.load(sys.stdin)["approvers"][0]["approver_id"])')
forged="{\"approver_id\":\"$bob_id\",\"decision\":\"approve\",\"comment\":\"forged through the CLI\"}"
echo "temporal workflow update execute -w $id --name decide --input '$forged'"
if out=$(temporal workflow update execute -w "$id" --name decide --input "$forged" 2>&1); then
  echo "FAIL: the forged approval was accepted: $out" >&2; exit 1
fi
echo "$out"
grep -q 'not issued by a jitflow server' <<<"$out" || { echo "FAIL: the forged approval failed otherwise: $out" >&2; exit 1; }
[ "$(view | field status)" = pending_approval ] || { echo "FAIL: the request moved after the forged approval" >&2; exit 1; }

curl -sf -X POST -H "Authorization: Bearer $(token bob)" -H 'Content-Type: application/json' \
  -d '{"comment":"approved for the CLI check"}' "$api/api/v1/requests/$id/approve" >/dev/null
requester=$(view | field requester_id)

query="WorkflowType='AccessRequest' AND JitflowRole='reader' AND JitflowRequesterId='$requester'"
echo "temporal workflow list --query \"$query\""
list=$(temporal workflow list --query "$query")
echo "$list"
grep -q "$id" <<<"$list" || { echo "FAIL: the list does not show $id" >&2; exit 1; }

echo "temporal workflow show -w $id --detailed (the decision)"
show=$(temporal workflow show -w "$id" --detailed)
grep -A6 'WorkflowExecutionUpdateAccepted' <<<"$show"
grep -q 'details.data\[0\].event.actor: bob@example.com' <<<"$show" || { echo "FAIL: no audit marker naming bob" >&2; exit 1; }
grep -q 'acceptedRequest.input.args\[0\].comment: approved for the CLI check' <<<"$show" || { echo "FAIL: no accepted decision" >&2; exit 1; }
if grep -q 'forged through the CLI' <<<"$show"; then echo "FAIL: the forged approval is in the history" >&2; exit 1; fi
echo "OK: the Temporal CLI lists $id and shows bob@example.com approving it; its forged approval was refused"

kill -INT "$pid"; wait "$pid" 2>/dev/null || true
pid=
TEMPORAL_CLI="$cli" JITFLOW="$work/jitflow" scripts/temporal-address-check.sh
