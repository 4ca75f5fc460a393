#!/usr/bin/env bash
# Development/test PostgreSQL cluster owned by this project.
#
#   scripts/cluster.sh init|start|stop|restart|status|destroy|env|createdb NAME|psql [args]
#
# Everything lives under one base directory (default: <project>/.pgdata, or
# $EVENTODB_CLUSTER_DIR): data/, run/ (socket), postgres.log. A marker file in
# data/ records that this script created the cluster; stop/destroy refuse to act
# on a directory without it, so a cluster we did not create is never touched.
# PostgreSQL refuses to run as root: as root the server runs as user "postgres"
# (or $EVENTODB_PG_USER); otherwise as the invoking user.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BINDIR="${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}"
# pg_config from postgresql-common may point at /usr/bin; the server binaries live here.
if [ ! -x "$PG_BINDIR/initdb" ]; then PG_BINDIR=/usr/lib/postgresql/15/bin; fi
# Default port below the kernel's ephemeral range (32768-60999), where an
# outgoing connection can hold a port for a moment and make the server fail
# to bind. An existing cluster keeps the port it was initialised with.
DEFAULT_PORT=25329
MARKER_NAME="eventodb-cluster.marker"

if [ "$(id -u)" -eq 0 ]; then
  RUN_USER="${EVENTODB_PG_USER:-postgres}"
else
  RUN_USER="$(id -un)"
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi
}

pick_base() {
  local base="${EVENTODB_CLUSTER_DIR:-$ROOT/.pgdata}"
  if [ -z "${EVENTODB_CLUSTER_DIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
    # The server user must be able to reach the project directory; a clone
    # under a private home is not reachable, so fall back to /var/tmp.
    if ! runuser -u "$RUN_USER" -- test -x "$ROOT"; then
      base="/var/tmp/eventodb-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
    fi
  fi
  echo "$base"
}

BASE="$(pick_base)"
DATA="$BASE/data"
SOCK="$BASE/run"
LOG="$BASE/postgres.log"

is_ours() { [ -f "$DATA/$MARKER_NAME" ]; }

port_busy() { ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }

pick_port() {
  if [ -n "${EVENTODB_PGPORT:-}" ]; then echo "$EVENTODB_PGPORT"; return; fi
  if is_ours; then
    local p; p="$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$DATA/postgresql.conf" | tail -1)"
    if [ -n "$p" ]; then echo "$p"; return; fi
  fi
  local p=$DEFAULT_PORT
  while port_busy "$p"; do p=$((p + 1)); done
  echo "$p"
}
PORT="$(pick_port)"

cmd_init() {
  if is_ours; then echo "cluster: already initialised at $DATA"; return 0; fi
  if [ -e "$DATA" ] && [ -n "$(ls -A "$DATA" 2>/dev/null)" ]; then
    echo "cluster: $DATA exists and was not created by this script; refusing" >&2
    exit 1
  fi
  mkdir -p "$DATA" "$SOCK"
  if [ "$(id -u)" -eq 0 ]; then chown -R "$RUN_USER" "$BASE"; fi
  chmod 700 "$DATA"
  as_owner "$PG_BINDIR/initdb" -D "$DATA" -U "$RUN_USER" --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$BASE/initdb.log" 2>&1 || {
      cat "$BASE/initdb.log" >&2; exit 1; }
  as_owner tee -a "$DATA/postgresql.conf" >/dev/null <<CONF

# --- eventodb development cluster ---
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
max_connections = 300
shared_buffers = 256MB
max_locks_per_transaction = 256
# one eventodb poke worker per database that writes (horizon mode)
max_worker_processes = 64
log_min_messages = warning
log_line_prefix = '%m [%p] '
CONF
  as_owner touch "$DATA/$MARKER_NAME"
  echo "cluster: initialised $DATA (port $PORT, socket $SOCK, user $RUN_USER)"
}

running() { is_ours && as_owner "$PG_BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

cmd_start() {
  is_ours || cmd_init
  if running; then
    # A preloaded library is mapped at postmaster start: after `make install`
    # replaced it, backends would run the old code against the new SQL.
    local so; so="$(pg_config --pkglibdir)/eventodb.so"
    if [ -f "$so" ] && [ "$so" -nt "$DATA/postmaster.pid" ]; then
      echo "cluster: extension library changed since start; restarting"
      as_owner "$PG_BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    else
      echo "cluster: already running"; return 0
    fi
  fi
  # Preload the extension's library when it is installed (it must be for the
  # server to start with it); the extension also works without preloading.
  local opts=""
  if [ -f "$(pg_config --pkglibdir)/eventodb.so" ]; then
    # (and room for a poke worker per database, also on clusters
    # initialised before postgresql.conf got the setting)
    opts="-c shared_preload_libraries=eventodb -c max_worker_processes=64"
  fi
  as_owner "$PG_BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -o "$opts" -w -t 60 start >/dev/null || {
    tail -n 30 "$LOG" >&2; exit 1; }
  echo "cluster: running on port $PORT (socket $SOCK)"
}

cmd_stop() {
  if ! is_ours; then echo "cluster: none at $DATA"; return 0; fi
  if running; then
    as_owner "$PG_BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    echo "cluster: stopped"
  else
    echo "cluster: not running"
  fi
}

cmd_destroy() {
  if [ ! -e "$DATA" ]; then echo "cluster: nothing to remove"; return 0; fi
  if ! is_ours; then echo "cluster: $DATA was not created by this script; refusing" >&2; exit 1; fi
  cmd_stop
  rm -rf "$BASE"
  echo "cluster: removed $BASE"
}

cmd_env() {
  echo "export PGHOST='$SOCK' PGPORT='$PORT' PGUSER='$RUN_USER' PGDATA_DIR='$DATA'"
  echo "export EVENTODB_PG_SOCKET='$SOCK' EVENTODB_PG_LOG='$LOG'"
}

cmd_createdb() {
  local db="${1:?database name required}"
  export PGHOST="$SOCK" PGPORT="$PORT" PGUSER="$RUN_USER"
  if ! psql -X -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = \$\$$db\$\$" | grep -q 1; then
    createdb "$db"
  fi
  psql -X -q -d "$db" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS eventodb"
  echo "cluster: database $db ready"
}

case "${1:-}" in
  init) cmd_init ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) if running; then echo "running"; else echo "stopped"; exit 3; fi ;;
  destroy) cmd_destroy ;;
  env) cmd_env ;;
  createdb) shift; cmd_createdb "$@" ;;
  psql) shift; PGHOST="$SOCK" PGPORT="$PORT" PGUSER="$RUN_USER" exec psql -X "$@" ;;
  *) echo "usage: $0 init|start|stop|restart|status|destroy|env|createdb NAME|psql [args]" >&2; exit 2 ;;
esac
