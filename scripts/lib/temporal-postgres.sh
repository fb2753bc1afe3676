# The production shape of Temporal without Docker, for the scripts that
# need it (production-check.sh, bench-postgres.sh): Debian's PostgreSQL
# and the official temporal-server and temporal-sql-tool at the version
# go.mod pins (the release of the compose image). Source it from the
# repository's root with `set -euo pipefail` in effect.

# tp_postgres_bin sets pg_bin to PostgreSQL's newest bin dir, installing
# Debian's package first when there is none. The package's own cluster is
# not used: callers run their own.
tp_postgres_bin() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/postgres" ]; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  "$pg_bin/postgres" --version
}

# tp_temporal_tools DEST SCRATCH puts temporal-server and temporal-sql-tool
# into DEST and sets temporal_version and temporal_schema (the postgres12
# schema dir of that version). They are built once per version into the
# user's cache: linking the server takes minutes. The server's
# command-line packages need a few modules jitflow does not (urfave/cli):
# they are resolved in a copy of go.mod under SCRATCH, so that the build
# uses every version jitflow pins and leaves the repository's go.mod alone.
tp_temporal_tools() {
  local dest=$1 scratch=$2 tools
  temporal_version=$(go list -m -f '{{.Version}}' go.temporal.io/server)
  temporal_schema="$(go list -m -f '{{.Dir}}' go.temporal.io/server)/schema/postgresql/v12"
  tools="${XDG_CACHE_HOME:-$HOME/.cache}/jitflow-prodcheck/temporal-$temporal_version"
  echo "building temporal-server and temporal-sql-tool $temporal_version"
  if [ ! -x "$tools/temporal-server" ] || [ ! -x "$tools/temporal-sql-tool" ]; then
    mkdir -p "$scratch/mod" "$tools"
    cp go.mod go.sum "$scratch/mod/"
    go get -modfile="$scratch/mod/go.mod" go.temporal.io/server/cmd/server@"$temporal_version" go.temporal.io/server/cmd/tools/sql@"$temporal_version"
    go build -modfile="$scratch/mod/go.mod" -o "$tools/temporal-server" go.temporal.io/server/cmd/server
    go build -modfile="$scratch/mod/go.mod" -o "$tools/temporal-sql-tool" go.temporal.io/server/cmd/tools/sql
  fi
  mkdir -p "$dest"
  cp "$tools/temporal-server" "$tools/temporal-sql-tool" "$dest/"
}

# tp_low_port prints a free loopback port below 32768: Temporal keeps each
# service's membership port in a PostgreSQL smallint, and the kernel hands
# out ephemeral ports above that.
tp_low_port() {
  python3 - <<'EOF'
import random, socket
for _ in range(1000):
    port = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port between 20000 and 32000")
EOF
}

# tp_pg_run runs a PostgreSQL program as the postgres user when this runs
# as root (PostgreSQL refuses root), as the caller otherwise.
tp_pg_run() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# tp_start_postgres DIR sets pg_port and starts a cluster in DIR (which
# must not exist) on it: user temporal, password temporal, loopback only.
# tp_stop_postgres DIR stops it. Everything on the way to DIR must be
# searchable by the postgres user when this runs as root.
tp_start_postgres() {
  local dir=$1
  pg_port=$(tp_low_port)
  mkdir -p "$dir/data" "$dir/sock"
  chmod 700 "$dir" "$dir/data" "$dir/sock"
  printf 'temporal\n' >"$dir/pwfile"
  [ "$(id -u)" != 0 ] || chown -R postgres:postgres "$dir"
  tp_pg_run "$pg_bin/initdb" -D "$dir/data" -U temporal --pwfile "$dir/pwfile" \
    --auth-host scram-sha-256 --auth-local peer -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  tp_pg_run "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $pg_port -k $dir/sock -c listen_addresses=127.0.0.1" start >/dev/null \
    || { cat "$dir/postgres.log" >&2; return 1; }
}

tp_stop_postgres() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  tp_pg_run "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
    || kill -KILL "$(head -n1 "$dir/data/postmaster.pid")" 2>/dev/null || true
}

# tp_create_schemas TOOL LOG sets up Temporal's two databases on pg_port
# with its own tool, as the admin-tools image does in docker-compose.yml;
# the tool's output goes to LOG, shown when it fails.
tp_create_schemas() {
  local tool=$1 log=$2 db dir step
  for db in temporal temporal_visibility; do
    dir=temporal
    [ "$db" = temporal ] || dir=visibility
    local base=(--plugin postgres12 --ep 127.0.0.1 -p "$pg_port" -u temporal --pw temporal --db "$db")
    for step in create-database "setup-schema -v 0.0" "update-schema -d $temporal_schema/$dir/versioned"; do
      # shellcheck disable=SC2086 # step is the subcommand and its flags
      "$tool" "${base[@]}" $step >>"$log" 2>&1 || {
        cat "$log" >&2
        echo "temporal-sql-tool $db ${step%% *} failed" >&2
        return 1
      }
    done
  done
}

# tp_write_config FILE SHARDS writes a Temporal server config on pg_port
# with SHARDS history shards, every service on free loopback ports and
# plain gRPC (no TLS, no authorizer), and sets temporal_address to its
# frontend and temporal_metrics_url to its Prometheus endpoint (the
# server's own metrics, persistence requests included).
tp_write_config() {
  local file=$1 shards=$2 frontend metrics
  frontend=$(tp_low_port)
  metrics=$(tp_low_port)
  temporal_address=127.0.0.1:$frontend
  temporal_metrics_url=http://127.0.0.1:$metrics/metrics
  tp_sql() {
    printf '      sql:\n        pluginName: postgres12\n        databaseName: %s\n        connectAddr: 127.0.0.1:%s\n' "$1" "$pg_port"
    printf '        connectProtocol: tcp\n        user: temporal\n        password: temporal\n'
    printf '        maxConns: %s\n        maxIdleConns: %s\n        maxConnLifetime: 1h\n' "$2" "$2"
  }
  tp_service() {
    printf '  %s:\n    rpc:\n      grpcPort: %s\n      membershipPort: %s\n      bindOnLocalHost: true\n' "$1" "$2" "$(tp_low_port)"
  }
  {
    printf 'log:\n  stdout: true\n  level: warn\n'
    printf 'persistence:\n  defaultStore: default\n  visibilityStore: visibility\n  numHistoryShards: %s\n  datastores:\n' "$shards"
    printf '    default:\n'
    tp_sql temporal 20
    printf '    visibility:\n'
    tp_sql temporal_visibility 10
    printf 'global:\n  membership:\n    maxJoinDuration: 30s\n    broadcastAddress: 127.0.0.1\n'
    printf '  metrics:\n    prometheus:\n      timerType: histogram\n      listenAddress: 127.0.0.1:%s\n' "$metrics"
    printf 'services:\n'
    tp_service frontend "$frontend"
    printf '      httpPort: %s\n' "$(tp_low_port)"
    tp_service history "$(tp_low_port)"
    tp_service matching "$(tp_low_port)"
    tp_service worker "$(tp_low_port)"
    printf 'clusterMetadata:\n  enableGlobalNamespace: false\n  failoverVersionIncrement: 10\n'
    printf '  masterClusterName: active\n  currentClusterName: active\n  clusterInformation:\n'
    printf '    active:\n      enabled: true\n      initialFailoverVersion: 1\n      rpcName: frontend\n      rpcAddress: %s\n' "$temporal_address"
    printf 'dcRedirectionPolicy:\n  policy: noop\n'
  } >"$file"
}
