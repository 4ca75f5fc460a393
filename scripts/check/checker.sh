#!/usr/bin/env bash
# The concurrency checker of the write path (test/checker.py): concurrent
# writers (aborts, random commit delays, expected versions) against category
# pagers and a LISTEN session, then proof that no pager skipped a committed
# message, positions are dense, versions exact, and pokes exactly the
# committed writes.
#
#   scripts/check/checker.sh [--mode MODE] [--short] [checker.py options...]
#
#   --mode horizon        (default) the running project cluster (scripts/cluster.sh:
#                         EVENTODB_CLUSTER_DIR / EVENTODB_PGPORT apply), which
#                         preloads the library: the commit horizon
#   --mode category_lock  a throw-away cluster with eventodb.write_mode =
#                         category_lock (Message DB's lock held to commit)
#   --mode nopreload      a throw-away cluster without shared_preload_libraries
#                         (the fallback: category lock, no horizon; '' readers
#                         are not checked - they are not gap-free there)
#   --short               8 s of load (make test); default 20 s
#   e.g. --seconds 120 --writers 16 --control
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BINDIR="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"
[ -x "$PG_BINDIR/initdb" ] || PG_BINDIR=/usr/lib/postgresql/15/bin
MODE=horizon
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE="$2"; shift 2 ;;
    --mode=*) MODE="${1#--mode=}"; shift ;;
    --short) ARGS+=(--seconds 8 --writers 6); shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

run_checker() { /usr/bin/python3 "$ROOT/test/checker.py" "${ARGS[@]}"; }

case "$MODE" in
  horizon)
    # Not started or restarted here: a test session may be using it.
    eval "$("$ROOT/scripts/cluster.sh" env)"
    mode="$(psql -X -Atd postgres -c "SELECT current_setting('eventodb.write_mode', true)")"
    if [ "$mode" != horizon ]; then
      echo "checker: the project cluster does not run the horizon write mode (eventodb.write_mode='$mode')" >&2
      exit 2
    fi
    run_checker
    ;;
  category_lock|nopreload)
    if [ "$(id -u)" -eq 0 ]; then RUN_USER="${EVENTODB_PG_USER:-postgres}"; else RUN_USER="$(id -un)"; fi
    as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi; }
    parent=/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && parent=/dev/shm
    BASE="$(mktemp -d "$parent/eventodb-checker-XXXXXX")"
    [ "$(id -u)" -eq 0 ] && chown "$RUN_USER" "$BASE"
    cleanup() {
      as_owner "$PG_BINDIR/pg_ctl" -D "$BASE/data" -m immediate -w stop >/dev/null 2>&1 || true
      rm -rf "$BASE"
    }
    # CHECKER_KEEP_CLUSTER=1 leaves the cluster running for a post-mortem.
    if [ -n "${CHECKER_KEEP_CLUSTER:-}" ]; then echo "checker: cluster in $BASE" >&2; else trap cleanup EXIT; fi
    as_owner "$PG_BINDIR/initdb" -D "$BASE/data" -U "$RUN_USER" --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$BASE/initdb.log" 2>&1 || { cat "$BASE/initdb.log" >&2; exit 1; }
    extra=""
    if [ "$MODE" = category_lock ]; then
      extra="-c shared_preload_libraries=eventodb -c eventodb.write_mode=category_lock"
    fi
    # A random port, another one if something else holds it.
    for try in 1 2 3 4 5; do
      PORT=$(( 56000 + RANDOM % 4000 ))
      opts="-c port=$PORT -c listen_addresses='' -c unix_socket_directories=$BASE -c max_connections=100 $extra"
      if as_owner "$PG_BINDIR/pg_ctl" -D "$BASE/data" -l "$BASE/postgres.log" -o "$opts" -w -t 60 start >/dev/null; then
        break
      fi
      [ "$try" = 5 ] && { tail -n 30 "$BASE/postgres.log" >&2; exit 1; }
    done
    export PGHOST="$BASE" PGPORT="$PORT" PGUSER="$RUN_USER"
    run_checker
    ;;
  *)
    echo "checker: unknown mode '$MODE' (horizon, category_lock, nopreload)" >&2
    exit 2
    ;;
esac
