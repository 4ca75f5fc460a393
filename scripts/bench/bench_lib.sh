# Shell helpers shared by the benchmarks in scripts/bench/ and by
# scripts/profile/profile-baseline.sh: a gateway on a cluster of
# scripts/cluster.sh, and CPU/memory readings of processes from /proc.
# Source it; it defines functions only.

DEFAULT_TOKEN="ns_ZGVmYXVsdA_0000000000000000000000000000000000000000000000000000000000000000"
CLK_TCK="$(getconf CLK_TCK)"

# utime + stime of a whole process (all threads), in clock ticks. The command name
# may contain spaces and parentheses, so count fields after the last ')'.
proc_ticks() {
  [ -r "/proc/$1/stat" ] || { echo 0; return; }
  sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# VmRSS / VmHWM (peak) of a process in kB.
proc_status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Every process of a cluster: the postmaster and its children.
cluster_pids() {
  local data="$1" pm
  pm="$(head -1 "$data/postmaster.pid" 2>/dev/null)" || return 0
  [ -n "$pm" ] || return 0
  echo "$pm"
  pgrep -P "$pm" || true
}

# A short role for a Postgres process, from its title ("postgres: walwriter",
# "postgres: postgres eventodb [local] idle" = a client backend).
pg_role() {
  local t
  t="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)"
  case "$t" in
    "postgres: "*"[local]"*|"postgres: "*"127.0.0.1"*|"postgres: "*"::1"*) echo backend ;;
    "postgres: walwriter"*) echo walwriter ;;
    "postgres: checkpointer"*) echo checkpointer ;;
    "postgres: background writer"*) echo bgwriter ;;
    "postgres: autovacuum"*) echo autovacuum ;;
    "postgres: logical replication"*|"postgres: walsender"*) echo replication ;;
    "postgres: "*) echo pg-other ;;
    *) echo postmaster ;;
  esac
}

# "pid role ticks" for the gateway and every cluster process.
cpu_snapshot() {
  local gw="$1" data="$2" pid
  [ -n "$gw" ] && echo "$gw gateway $(proc_ticks "$gw")"
  for pid in $(cluster_pids "$data"); do
    echo "$pid $(pg_role "$pid") $(proc_ticks "$pid")"
  done
}

wait_http() {
  local url="$1" tries="${2:-100}"
  for _ in $(seq "$tries"); do
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# start_gateway BIN PORT DB SOCKETDIR PGPORT LOG -> sets GW_PID
start_gateway() {
  local bin="$1" port="$2" db="$3" sock="$4" pgport="$5" log="$6" user
  user="$(stat -c %U "$sock")"
  "$bin" serve --port="$port" --db-url="postgresql://$user@/$db?host=$sock&port=$pgport" \
    --token="$DEFAULT_TOKEN" >"$log" 2>&1 &
  GW_PID=$!
  if ! wait_http "http://127.0.0.1:$port/health" 150; then
    echo "gateway did not come up on :$port; last log lines:" >&2
    tail -20 "$log" >&2
    return 1
  fi
}

stop_pid() {
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# Is perf present and allowed to profile other processes? Installs it on demand.
perf_usable() {
  if ! command -v perf >/dev/null 2>&1; then
    EVENTODB_DEPS_EXTRA=linux-perf "$ROOT/scripts/deps.sh" >&2 || return 1
  fi
  perf record -q -o /dev/null -- true >/dev/null 2>&1
}

# A running cluster keeps the extension library it preloaded at start-up; after a
# `make install` it would go on serving the old code (or miss new functions), so
# restart it when its postmaster maps a replaced eventodb.so.
restart_if_stale_extension() {
  local data="$1" pm
  pm="$(head -1 "$data/postmaster.pid" 2>/dev/null)" || return 0
  if [ -n "$pm" ] && grep -q 'eventodb\.so (deleted)' "/proc/$pm/maps" 2>/dev/null; then
    echo "the cluster runs a replaced eventodb.so; restarting it" >&2
    "$ROOT/scripts/cluster.sh" restart >&2
  fi
}

# First TCP port from $1 upwards that no socket uses, listening or not (test
# clusters and gateways come and go). Keep $1 below the ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range, usually from 32768): there any outgoing
# connection may hold the port for a moment and a server then fails to bind it.
free_port() {
  local p="$1"
  while ss -Htan "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
  echo "$p"
}

# private_stack NAME PORT_BASE DB: a throw-away cluster under /var/tmp with
# database DB (extension created), the project built, PG* variables exported,
# and everything (gateway in GW_PID included) removed when the script exits.
private_stack() {
  local name="$1" port_base="$2" db="$3"
  WORK="$(mktemp -d "/var/tmp/eventodb-$name.XXXXXX")"
  [ "$(id -u)" -eq 0 ] && chmod 755 "$WORK"
  export EVENTODB_CLUSTER_DIR="$WORK/cluster"
  EVENTODB_PGPORT="$(free_port "$port_base")"
  export EVENTODB_PGPORT
  GW_PID=""
  trap private_stack_cleanup EXIT
  make -C "$ROOT" -s all >/dev/null
  "$ROOT/scripts/cluster.sh" start >/dev/null
  "$ROOT/scripts/cluster.sh" createdb "$db" >/dev/null
  eval "$("$ROOT/scripts/cluster.sh" env)"
}

private_stack_cleanup() {
  stop_pid "$GW_PID"
  "$ROOT/scripts/cluster.sh" destroy >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
