#!/usr/bin/env bash
# make profile-baseline: one reproducible performance snapshot of the whole stack.
#
# Builds the extension and a gateway with symbols and frame pointers, starts a
# fresh cluster under profiles/<timestamp>/ plus that gateway, warms up, then
#   1. a measured load-test run (no profiler attached): throughput, latency, and
#      CPU-seconds per operation of the gateway and of each kind of Postgres
#      process (from /proc/<pid>/stat before and after), gateway peak RSS;
#   2. a second run under `perf record` (gateway and Postgres separately):
#      flame graphs and top-function tables. perf slows what it watches, so the
#      numbers of run 1 are the ones to quote.
# Everything lands in profiles/<timestamp>/ with a README.md summary.
#
#   PROFILE_DURATION=30 PROFILE_PERF_DURATION=20 PROFILE_WARMUP=5   seconds
#   PROFILE_LOAD_ARGS="--workers 10 ..."   extra load-test flags (default: reference workload)
#   PROFILE_PERF_FREQ=199 PROFILE_CALLGRAPH=dwarf|fp   perf sampling
#   EVENTODB_PROFILE_PGPORT, EVENTODB_PROFILE_PORT   ports of the fresh stack (default:
#                     the first free ones from 25439 and 18080)
#   PROFILE_KEEP=1   keep the cluster data and perf.data files
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
. "$ROOT/scripts/bench/bench_lib.sh"

DURATION="${PROFILE_DURATION:-30}"
PERF_DURATION="${PROFILE_PERF_DURATION:-20}"
WARMUP="${PROFILE_WARMUP:-5}"
LOAD_ARGS="${PROFILE_LOAD_ARGS:-}"
FREQ="${PROFILE_PERF_FREQ:-199}"
CALLGRAPH="${PROFILE_CALLGRAPH:-dwarf}"
PGPORT_P="${EVENTODB_PROFILE_PGPORT:-$(free_port 25439)}"
PORT="${EVENTODB_PROFILE_PORT:-$(free_port 18080)}"
STAMP="$(date +%Y%m%d-%H%M%S)"
OUT="$ROOT/profiles/$STAMP"
DB=eventodb
URL="http://127.0.0.1:$PORT"

log() { printf 'profile: %s\n' "$*" >&2; }
mkdir -p "$OUT"
log "writing $OUT"

# --- build ------------------------------------------------------------------
# The extension: Debian's PGXS flags already carry -g and -fno-omit-frame-pointer.
make -s -o gateway -o tools install >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log" >&2; exit 1; }
# The gateway: a private copy of the sources, so the binary matches what was profiled.
mkdir -p "$OUT/src"
cp -r "$ROOT/gateway" "$ROOT/common" "$ROOT/ui" "$OUT/src/"
mkdir -p "$OUT/src/scripts/build" && cp "$ROOT/scripts/build/ui-embed.py" "$OUT/src/scripts/build/"
rm -f "$OUT/src/gateway/eventodb" "$OUT/src/gateway/eventodb-asan"
make -s -C "$OUT/src/gateway" eventodb CFLAGS="-fno-omit-frame-pointer" >>"$OUT/build.log" 2>&1 \
  || { tail -20 "$OUT/build.log" >&2; exit 1; }
GW_BIN="$OUT/src/gateway/eventodb"
make -s -C "$ROOT/scripts/tools" load-test >>"$OUT/build.log" 2>&1
LOAD="$ROOT/scripts/tools/load-test"

# --- fresh stack ----------------------------------------------------------------
export EVENTODB_CLUSTER_DIR="$OUT/cluster" EVENTODB_PGPORT="$PGPORT_P"
CLUSTER="$ROOT/scripts/cluster.sh"
GW_PID=""
PERF_PIDS=()
cleanup() {
  for p in "${PERF_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  stop_pid "$GW_PID"
  "$CLUSTER" stop >/dev/null 2>&1 || true
  cp "$OUT/cluster/postgres.log" "$OUT/postgres.log" 2>/dev/null || true
  if [ -z "${PROFILE_KEEP:-}" ]; then
    rm -rf "$OUT/cluster" "$OUT"/*.perf.data "$OUT/symfs"
  fi
}
trap cleanup EXIT
"$CLUSTER" start >&2
"$CLUSTER" createdb "$DB" >&2
eval "$("$CLUSTER" env)"
DATA="$PGDATA_DIR"
start_gateway "$GW_BIN" "$PORT" "$DB" "$EVENTODB_PG_SOCKET" "$PGPORT_P" "$OUT/gateway.log"
log "gateway pid $GW_PID on :$PORT"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- extension gateway common 2>/dev/null || echo ' (uncommitted changes)')"
  echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "postgres: $(psql -X -Atd "$DB" -c 'SHOW server_version') (fsync $(psql -X -Atd "$DB" -c 'SHOW fsync'), synchronous_commit $(psql -X -Atd "$DB" -c 'SHOW synchronous_commit'), shared_buffers $(psql -X -Atd "$DB" -c 'SHOW shared_buffers'))"
  echo "load: load-test ${LOAD_ARGS:-(reference workload)}; warm-up ${WARMUP}s, measured ${DURATION}s, profiled ${PERF_DURATION}s"
  echo "perf: -F $FREQ --call-graph $CALLGRAPH"
} >"$OUT/env.txt"

export EVENTODB_TOKEN="$DEFAULT_TOKEN"
# shellcheck disable=SC2086
"$LOAD" --url "$URL" --duration "$WARMUP" --progress 0 $LOAD_ARGS >"$OUT/warmup.txt" 2>&1 || true

# --- 1. measured run --------------------------------------------------------------
log "measured run (${DURATION}s)"
cpu_snapshot "$GW_PID" "$DATA" >"$OUT/cpu-before.txt"
# shellcheck disable=SC2086
"$LOAD" --url "$URL" --duration "$DURATION" --json "$OUT/load.json" $LOAD_ARGS >"$OUT/load.txt" 2>"$OUT/load.progress.txt" || true
cpu_snapshot "$GW_PID" "$DATA" >"$OUT/cpu-after.txt"
{
  echo "rss_kb $(proc_status_kb "$GW_PID" VmRSS)"
  echo "hwm_kb $(proc_status_kb "$GW_PID" VmHWM)"
  echo "threads $(proc_status_kb "$GW_PID" Threads)"
} >"$OUT/gateway-mem.txt"
cat "$OUT/load.txt" >&2

# --- 2. profiled run ----------------------------------------------------------------
if perf_usable; then
  log "profiled run (${PERF_DURATION}s, perf -F $FREQ --call-graph $CALLGRAPH)"
  cg="$CALLGRAPH"; [ "$cg" = dwarf ] && cg="dwarf,8192"
  PG_PIDS="$(cluster_pids "$DATA" | paste -sd, -)"
  pg_roles() { for pid in $(cluster_pids "$DATA"); do r="$(pg_role "$pid")"; echo "$pid pg-${r#pg-}"; done; }
  pg_roles >"$OUT/postgres-roles.txt"
  perf record -q -F "$FREQ" --call-graph "$cg" -p "$GW_PID" -o "$OUT/gateway.perf.data" >"$OUT/perf-gateway.log" 2>&1 &
  PERF_PIDS+=($!)
  perf record -q -F "$FREQ" --call-graph "$cg" -p "$PG_PIDS" -o "$OUT/postgres.perf.data" >"$OUT/perf-postgres.log" 2>&1 &
  PERF_PIDS+=($!)
  sleep 1
  # shellcheck disable=SC2086
  "$LOAD" --url "$URL" --duration "$PERF_DURATION" --json "$OUT/load-perf.json" $LOAD_ARGS >"$OUT/load-perf.txt" 2>/dev/null || true
  for p in "${PERF_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${PERF_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PERF_PIDS=()
  # perf follows processes forked during the run (new backends); name them too.
  pg_roles >>"$OUT/postgres-roles.txt"
  log "rendering flame graphs"
  # Libraries reinstalled during the run (other builds in this tree) are recovered
  # from the live processes so that their functions keep their names.
  SYMFS="$(/usr/bin/python3 "$ROOT/scripts/profile/perf_symfs.py" "$OUT/symfs" "$GW_PID" $(cluster_pids "$DATA"))"
  SCRIPT_ARGS=()
  if [ -n "$SYMFS" ]; then
    SCRIPT_ARGS=(--symfs="$SYMFS" --kallsyms=/proc/kallsyms)
    log "recovered replaced libraries into $SYMFS"
  fi
  perf script "${SCRIPT_ARGS[@]}" -i "$OUT/gateway.perf.data" 2>/dev/null \
    | /usr/bin/python3 "$ROOT/scripts/profile/flamegraph.py" - "$OUT/gateway" --title "gateway (eventodb serve)"
  perf script "${SCRIPT_ARGS[@]}" -i "$OUT/postgres.perf.data" 2>/dev/null \
    | /usr/bin/python3 "$ROOT/scripts/profile/flamegraph.py" - "$OUT/postgres" --title "PostgreSQL processes" \
        --root-map "$OUT/postgres-roles.txt"
else
  log "perf is unavailable or not permitted here (perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)); no CPU profiles"
  echo "perf unavailable or not permitted (perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null))" >"$OUT/perf-unavailable.txt"
fi

/usr/bin/python3 "$ROOT/scripts/profile/profile_report.py" "$OUT"
log "done: $OUT/README.md"
cat "$OUT/README.md"
