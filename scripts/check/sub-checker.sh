#!/usr/bin/env bash
# The checker of persistent subscriptions (test/sub_checker.py): writers into
# many streams with random commit delays, competing consumers on a pinned and
# a roundRobin subscription that ack, ack in batches, nack (retry, park,
# skip), drop deliveries, ack late or twice, crash and get killed, with a
# kill -9 of PostgreSQL (and, with --http, of the gateway) in the middle;
# then proof from the consumers' logs and the tables that every message was
# acked exactly once or parked, per-stream order under pinned, nothing lost,
# nothing delivered before it committed (docs/subscriptions.md#how-messages-are-handed-out).
#
#   scripts/check/sub-checker.sh [--short] [--http] [--seconds N] [sub_checker.py options...]
#
#   --short      10 s of load (make test); default 30 s
#   --http       two of three consumers go through a private gateway
#                (subscription.fetch with and without waitMs, ack, nack),
#                which is killed -9 and restarted once (--gw-kills N)
#   --nopreload  the server without shared_preload_libraries (the fallback, no
#                commit horizon: whole-namespace sources drain the writers of
#                the moment instead), no PostgreSQL kills
#   e.g. --seconds 300 --pg-kills 4 --gw-kills 4 --consumer-kills 10 --consumers 5
#
# Everything runs on a private, throw-away cluster (own directory, port and
# socket; scripts/cluster.sh with EVENTODB_CLUSTER_DIR), never on the shared
# project cluster: PostgreSQL is killed. SUBCHK_KEEP_CLUSTER=1 keeps it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY=/usr/bin/python3
BIN="${EVENTODB_BIN:-$ROOT/gateway/eventodb}"
ARGS=()
HTTP=0
NOPRELOAD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --short) ARGS+=(--seconds 10); shift ;;
    --http) HTTP=1; ARGS+=(--http --gateway-bin "$BIN"); shift ;;
    --nopreload) NOPRELOAD=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
if [ "$HTTP" = 1 ] && [ ! -x "$BIN" ]; then echo "sub-checker: $BIN not built (make)" >&2; exit 2; fi

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# /dev/shm when possible: crash recovery's fsync of the data directory is
# then fast (a process kill, not a machine crash, is what is tested).
parent=/var/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && parent=/dev/shm
BASE=$(mktemp -d "$parent/eventodb-subchk.XXXXXX")
chmod 755 "$BASE"
export EVENTODB_CLUSTER_DIR="$BASE/pg" EVENTODB_PGPORT="$(free_port)"
CLUSTER="$ROOT/scripts/cluster.sh"
eval "$("$CLUSTER" env)"
cleanup() {
  if [ -n "${SUBCHK_KEEP_CLUSTER:-}" ]; then return; fi
  "$CLUSTER" stop >/dev/null 2>&1 || true
  # after a postmaster-only kill, orphans may delay the stop; never leave it running
  if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
    kill -9 "$(head -1 "$PGDATA_DIR/postmaster.pid")" 2>/dev/null || true
  fi
  rm -rf "$BASE"
}
trap cleanup EXIT
"$CLUSTER" init >/dev/null
rc=0
if [ "$NOPRELOAD" = 1 ]; then
  # The fallback without shared_preload_libraries (no commit horizon); no
  # PostgreSQL kills (cluster.sh start would preload the library again).
  if [ "$(id -u)" -eq 0 ]; then RUN_USER="${EVENTODB_PG_USER:-postgres}"; else RUN_USER="$(id -un)"; fi
  as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi; }
  PG_BINDIR="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"
  [ -x "$PG_BINDIR/pg_ctl" ] || PG_BINDIR=/usr/lib/postgresql/15/bin
  as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$BASE/pg/postgres.log" -w start >/dev/null
  $PY "$ROOT/test/sub_checker.py" --pg-kills 0 "${ARGS[@]}" || rc=$?
else
  "$CLUSTER" start >/dev/null
  $PY "$ROOT/test/sub_checker.py" --cluster-sh "$CLUSTER" --data-dir "$PGDATA_DIR" "${ARGS[@]}" || rc=$?
fi
if [ "$rc" != 0 ]; then
  # Kept (stopped) for a post-mortem: EVENTODB_CLUSTER_DIR=$BASE/pg EVENTODB_PGPORT=... scripts/cluster.sh start
  "$CLUSTER" stop >/dev/null 2>&1 || true
  echo "sub-checker: failed; the cluster is kept (stopped) in $BASE (EVENTODB_CLUSTER_DIR=$BASE/pg EVENTODB_PGPORT=$EVENTODB_PGPORT scripts/cluster.sh start)"
  SUBCHK_KEEP_CLUSTER=1
fi
exit "$rc"
