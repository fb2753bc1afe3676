#!/usr/bin/env bash
# jitflow bench on the production shape beside the embedded one: starts
# PostgreSQL and the official Temporal server on it (4 history shards,
# plain gRPC) in a temp dir, creates the namespace with `jitflow setup`,
# runs `jitflow bench --temporal-address` with 1, 2 and 4 `jitflow worker`
# processes, then the bench on its embedded Temporal, and prints one
# table of the --json lines.
#
#   scripts/bench-postgres.sh [jitflow bench flags]   e.g. --requests 100
#
#   JITFLOW_BINARY=path   reuse a built jitflow
#   BENCH_WORKERS="1 2 4" the worker counts run against PostgreSQL
#   BENCH_BUDGET=45m      time for everything, builds excluded (timeout's units)
#   BENCH_SHARDS=4        history shards of the PostgreSQL-backed Temporal
#
# Everything runs on free loopback ports in one temp dir, removed at the
# end with the processes; a failed run exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
. scripts/lib/temporal-postgres.sh

workers_list=${BENCH_WORKERS:-1 2 4}
budget=${BENCH_BUDGET:-45m}
shards=${BENCH_SHARDS:-4}
namespace=jitflow-bench
for arg in "$@"; do
  case "$arg" in
  --api* | --temporal-address* | --namespace* | --workers* | --json* | --data-dir* | --pending*)
    echo "bench-postgres.sh: ${arg%%=*} is set by this script; give only the load's flags (--requests, --concurrency, --grant, --latency, --expire-together)" >&2
    exit 2
    ;;
  esac
done

tp_postgres_bin
work=$(mktemp -d /tmp/jitflow-bench-postgres.XXXXXX)
# PostgreSQL runs as the postgres user when this runs as root: it must
# reach its data dir below $work.
chmod 711 "$work"
temporal_pid=""
bench_pid=""
cleanup() {
  local rc=$?
  set +e
  # A bench stopped early stops its own workers on SIGTERM.
  if [ -n "$bench_pid" ]; then
    kill -TERM "$bench_pid" 2>/dev/null
    wait "$bench_pid" 2>/dev/null
  fi
  if [ -n "$temporal_pid" ]; then
    kill -TERM "$temporal_pid" 2>/dev/null
    wait "$temporal_pid" 2>/dev/null
  fi
  tp_stop_postgres "$work/pg"
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tp_temporal_tools "$work/bin" "$work"
jitflow=${JITFLOW_BINARY:-}
if [ -z "$jitflow" ]; then
  go build -o "$work/bin/jitflow" ./cmd/jitflow
  jitflow="$work/bin/jitflow"
fi
case "$budget" in
*h) budget_s=${budget%h}; mult=3600 ;;
*m) budget_s=${budget%m}; mult=60 ;;
*s) budget_s=${budget%s}; mult=1 ;;
*) budget_s=$budget; mult=1 ;;
esac
[[ "$budget_s" =~ ^[0-9]+$ ]] || { echo "BENCH_BUDGET=$budget: give a whole number of seconds, minutes or hours, e.g. 45m" >&2; exit 2; }
deadline=$(( $(date +%s) + budget_s * mult ))
# remaining prints the seconds left of the budget, or fails once it is
# spent; use it as secs=$(remaining), so that errexit sees the failure.
remaining() {
  local left=$(( deadline - $(date +%s) ))
  if [ "$left" -le 0 ]; then
    echo "bench-postgres.sh: the budget of $budget (BENCH_BUDGET) is spent" >&2
    return 1
  fi
  echo "$left"
}

tp_start_postgres "$work/pg"
tp_create_schemas "$work/bin/temporal-sql-tool" "$work/sql-tool.log"
tp_write_config "$work/temporal.yaml" "$shards"
"$work/bin/temporal-server" --config-file "$work/temporal.yaml" start \
  --service frontend --service history --service matching --service worker >"$work/temporal.log" 2>&1 &
temporal_pid=$!
echo "PostgreSQL on 127.0.0.1:$pg_port, Temporal $temporal_version on $temporal_address ($shards history shards)"
# setup waits for the frontend and the namespace; the retention is the
# shortest it accepts: bench requests need no audit trail.
secs=$(remaining)
if ! timeout "$secs" "$jitflow" setup --temporal-address "$temporal_address" --namespace "$namespace" \
  --retention 24h --wait 3m >"$work/setup.log" 2>&1; then
  cat "$work/setup.log" "$work/temporal.log" >&2
  echo "bench-postgres.sh: jitflow setup failed" >&2
  exit 1
fi

# cpu_now prints the CPU seconds used so far by the benches with their
# workers (this shell's finished children), by temporal-server and by
# PostgreSQL (the postmaster, its finished backends and its live ones).
# Call it with a redirection, not in $(...): `times` reads this shell's
# children only when run in this shell.
cpu_now() {
  local tck f pm line bench=0 temporal=0 postgres=0
  tck=$(getconf CLK_TCK)
  times >"$work/times"
  line=$(tail -n1 "$work/times")
  bench=$(awk '{ for (i = 1; i <= 2; i++) { split($i, t, "m"); s += t[1] * 60 + t[2] } printf "%.1f", s }' <<<"$line")
  pm=$(head -n1 "$work/pg/data/postmaster.pid")
  for f in /proc/[0-9]*/stat; do
    read -r -a line 2>/dev/null <"$f" || continue
    if [ "${line[0]}" = "$temporal_pid" ]; then
      temporal=$(( line[13] + line[14] + line[15] + line[16] ))
    elif [ "${line[0]}" = "$pm" ]; then
      postgres=$(( postgres + line[13] + line[14] + line[15] + line[16] ))
    elif [ "${line[3]}" = "$pm" ]; then
      postgres=$(( postgres + line[13] + line[14] ))
    fi
  done
  echo "$bench $(( temporal / tck )) $(( postgres / tck ))"
}

# run NAME ARGS... runs one bench and keeps its --json line in
# $work/NAME.json; its progress goes to the terminal.
run() {
  local name=$1
  shift
  local secs
  secs=$(remaining)
  echo "== $name: jitflow bench $*"
  cut -d' ' -f1 /proc/loadavg >"$work/$name.load"
  cpu_now >"$work/$name.cpu"
  timeout --kill-after=60 "$secs" "$jitflow" bench --json "$@" >"$work/$name.out" &
  bench_pid=$!
  if ! wait "$bench_pid"; then
    bench_pid=""
    cat "$work/$name.out" >&2
    echo "bench-postgres.sh: $name failed" >&2
    exit 1
  fi
  bench_pid=""
  cpu_now >>"$work/$name.cpu"
  cut -d' ' -f1 /proc/loadavg >>"$work/$name.load"
  sed '$d' "$work/$name.out"
  tail -n1 "$work/$name.out" >"$work/$name.json"
}

runs=()
for n in $workers_list; do
  run "postgres-$n" --temporal-address "$temporal_address" --temporal-metrics-url "$temporal_metrics_url" --namespace "$namespace" --workers "$n" "$@"
  runs+=("postgres-$n")
done
run embedded "$@"
runs+=(embedded)

echo
echo "jitflow bench ${*:-(default load)}: PostgreSQL-backed Temporal $temporal_version ($shards history shards) beside the embedded one (SQLite, 1 shard); ms, per second"
{
  printf 'stack\tworkers\tlifecycles/s\tapprove p50\texpiry p50\texpiry p99\texpiry max\tbaseline lifecycles/s\tbaseline approve p50\tbaseline expiry p50\tbaseline expiry p99\toverhead\tworkflow tasks\thistory events\tstore writes\tCPU s jitflow/temporal/postgres\tload before/after\n'
  for name in "${runs[@]}"; do
    cpu=$(awk 'NR == 1 { for (i = 1; i <= 3; i++) b[i] = $i } NR == 2 { printf "%.0f/%d/%d", $1 - b[1], $2 - b[2], $3 - b[3] }' "$work/$name.cpu")
    # The embedded run has Temporal in the bench's process.
    [ "$name" != embedded ] || cpu="${cpu%%/*}/-/-"
    jq -r --arg name "${name%%-*}" --arg cpu "$cpu" --arg load "$(paste -sd/ "$work/$name.load")" '[$name, .workers, .lifecycles_per_sec, .approve_to_active_ms.p50,
      .expiry_lag_ms.p50, .expiry_lag_ms.p99, .expiry_lag_ms.max,
      .baseline.lifecycles_per_sec, .baseline.approve_to_active_ms, .baseline.expiry_lag_ms.p50, .baseline.expiry_lag_ms.p99, .overhead_ratio,
      (.work | if . == null then null else "\(.jitflow.workflow_tasks)/\(.baseline.workflow_tasks)" end),
      (.work | if . == null then null else "\(.jitflow.history_events)/\(.baseline.history_events)" end),
      (.work | if . == null then null else "\(.jitflow.persistence_writes)/\(.baseline.persistence_writes)" end),
      $cpu, $load] | map(. // "-" | tostring) | @tsv' "$work/$name.json"
  done
} | column -t -s $'\t'
echo "workflow tasks, history events, store writes: per lifecycle of the throughput phase, jitflow/baseline (store writes: the"
echo "  Temporal server's persistence write requests, read from its Prometheus endpoint or counted in process)"
echo "CPU s: seconds of CPU during the run: the bench process with its worker processes (its API server, Graph emulator,"
echo "  load and baseline too; with the embedded server, Temporal as well), temporal-server, PostgreSQL"
echo "load: the 1-minute load average before and after each run; at the end $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
