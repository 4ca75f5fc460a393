#!/usr/bin/env bash
# A local high-availability cluster: one etcd member and three PostgreSQL 15
# nodes managed by Patroni, with synchronous replication, all on 127.0.0.1.
#
#   scripts/ha.sh up|down|destroy|status|url|read-url|leader|pids
#
#   up        starts etcd and the three nodes (bootstraps them the first time:
#             database $HA_DB with CREATE EXTENSION eventodb) and waits until
#             there is a leader, a synchronous standby and the database
#   down      stops the nodes and etcd (data kept; `up` resumes it)
#   destroy   down, then removes the data folder
#   status    patronictl list and etcd's health
#   url       libpq multi-host URL that reaches the primary (read-write)
#   read-url  the same, preferring a standby (prefer-standby)
#   leader    the name of the current leader (node1..node3)
#   pids      "name patroni-pid postmaster-pid" per node (for fault tests)
#
# Settings (environment): HA_DIR (default <project>/.ha), HA_HOST (127.0.0.1),
# HA_PG_PORTS ("5501 5502 5503"), HA_REST_PORTS ("8008 8009 8010"),
# HA_ETCD_PORT (2379), HA_ETCD_PEER_PORT (2380), HA_DB (eventodb),
# HA_SCOPE (eventodb-ha), HA_TTL (6), HA_LOOP_WAIT (1), HA_RETRY_TIMEOUT (2),
# HA_UP_TIMEOUT (120 s). Patroni needs loop_wait + 2 * retry_timeout <= ttl;
# with etcd 3.4 its etcd3 client breaks below retry_timeout 2.
#
# Run as root, every process runs as user postgres ($EVENTODB_PG_USER), as in
# scripts/cluster.sh. Processes are only ever stopped through the pid files
# this script wrote. The packages come from scripts/deps.sh --ha.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The server of the pg_config on PATH (so a private build runs), else Debian's.
PG_BINDIR="${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}"
if [ ! -x "$PG_BINDIR/postgres" ]; then PG_BINDIR=/usr/lib/postgresql/15/bin; fi
HA_HOST="${HA_HOST:-127.0.0.1}"
read -r -a PG_PORTS <<<"${HA_PG_PORTS:-5501 5502 5503}"
read -r -a REST_PORTS <<<"${HA_REST_PORTS:-8008 8009 8010}"
ETCD_PORT="${HA_ETCD_PORT:-2379}"
ETCD_PEER_PORT="${HA_ETCD_PEER_PORT:-2380}"
DB="${HA_DB:-eventodb}"
SCOPE="${HA_SCOPE:-eventodb-ha}"
TTL="${HA_TTL:-6}"
LOOP_WAIT="${HA_LOOP_WAIT:-1}"
RETRY_TIMEOUT="${HA_RETRY_TIMEOUT:-2}"
UP_TIMEOUT="${HA_UP_TIMEOUT:-120}"
NODES=${#PG_PORTS[@]}

if [ "$(id -u)" -eq 0 ]; then
  RUN_USER="${EVENTODB_PG_USER:-postgres}"
else
  RUN_USER="$(id -un)"
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi
}

pick_dir() {
  local dir="${HA_DIR:-$ROOT/.ha}"
  if [ -z "${HA_DIR:-}" ] && [ "$(id -u)" -eq 0 ] && ! runuser -u "$RUN_USER" -- test -x "$ROOT"; then
    # (as in cluster.sh: the server user cannot reach a private home)
    dir="/var/tmp/eventodb-ha-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
  fi
  echo "$dir"
}
DIR="$(pick_dir)"
MARKER="$DIR/eventodb-ha.marker"

die() { echo "ha: $*" >&2; exit 1; }

# (a zombie is not alive: our detached processes are reaped by init, which
# in a container may never do it)
alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
    [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}
pid_of() { cat "$1" 2>/dev/null || true; }

# A pid file's process, when it is still the program we started.
running_pid() {
  local pid; pid="$(pid_of "$1")"
  if alive "$pid" && grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null; then echo "$pid"; fi
}

node_dir() { echo "$DIR/node$1"; }
etcd_url() { echo "http://$HA_HOST:$ETCD_PORT"; }

hosts_list() {
  local out="" i
  for ((i = 0; i < NODES; i++)); do out+="${out:+,}$HA_HOST:${PG_PORTS[$i]}"; done
  echo "$out"
}

cmd_url() { echo "postgresql://$RUN_USER@$(hosts_list)/$DB?target_session_attrs=read-write&connect_timeout=2"; }
cmd_read_url() { echo "postgresql://$RUN_USER@$(hosts_list)/$DB?target_session_attrs=prefer-standby&connect_timeout=2"; }

write_node_config() {
  local i=$1 n=$(($1 + 1)) d; d="$(node_dir "$n")"
  mkdir -p "$d/run"
  cat >"$d/post-bootstrap.sh" <<EOF
#!/bin/sh
# Patroni runs this once, on the node that bootstraps the cluster.
set -e
exec >>"$d/post-bootstrap.log" 2>&1
sql() { psql -X -q -At -h $HA_HOST -p ${PG_PORTS[$i]} -U $RUN_USER -v ON_ERROR_STOP=1 "\$@"; }
# (retried: CREATE DATABASE fails while anything else is connected to template1)
for try in 1 2 3 4 5; do
  if [ "\$(sql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" = 1 ] ||
     sql -d postgres -c 'CREATE DATABASE "$DB"'; then break; fi
  sleep 1
done
sql -d "$DB" -c 'CREATE EXTENSION IF NOT EXISTS eventodb'
EOF
  chmod 755 "$d/post-bootstrap.sh"
  cat >"$d/patroni.yml" <<EOF
# Written by scripts/ha.sh; rewritten by every 'up'.
scope: $SCOPE
namespace: /eventodb/
name: node$n
log:
  level: WARNING
restapi:
  listen: $HA_HOST:${REST_PORTS[$i]}
  connect_address: $HA_HOST:${REST_PORTS[$i]}
etcd3:
  hosts: $HA_HOST:$ETCD_PORT
bootstrap:
  dcs:
    ttl: $TTL
    loop_wait: $LOOP_WAIT
    retry_timeout: $RETRY_TIMEOUT
    maximum_lag_on_failover: 1048576
    # A commit is acknowledged once a second node has it; Patroni promotes
    # only that synchronous standby.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        shared_preload_libraries: eventodb
        max_worker_processes: 64
        max_connections: 200
        max_locks_per_transaction: 256
        shared_buffers: 32MB
        wal_level: replica
        hot_standby: 'on'
        wal_log_hints: 'on'
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
  post_bootstrap: $d/post-bootstrap.sh
postgresql:
  listen: $HA_HOST:${PG_PORTS[$i]}
  connect_address: $HA_HOST:${PG_PORTS[$i]}
  data_dir: $d/data
  bin_dir: $PG_BINDIR
  pgpass: $d/pgpass
  authentication:
    superuser:
      username: $RUN_USER
      password: eventodb-ha
    replication:
      username: replicator
      password: eventodb-ha
    rewind:
      username: $RUN_USER
      password: eventodb-ha
  parameters:
    unix_socket_directories: '$d/run'
    shared_preload_libraries: eventodb
    max_worker_processes: 64
    log_min_messages: warning
    log_line_prefix: '%m [%p] node$n '
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
  basebackup:
    - checkpoint: fast
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
}

# Starts "$@" detached as the run user; its pid goes to $1 (the pid file).
# shellcheck disable=SC2016  # (expanded by the inner sh)
start_detached() {
  local pidfile=$1 log=$2; shift 2
  as_owner sh -c 'pidfile=$1; log=$2; shift 2; setsid "$@" >>"$log" 2>&1 </dev/null & echo $! >"$pidfile"' \
    sh "$pidfile" "$log" "$@"
}

etcd_healthy() { curl -fsS -m 2 "$(etcd_url)/health" 2>/dev/null | grep -q '"health":"true"'; }

start_etcd() {
  if [ -n "$(running_pid "$DIR/etcd.pid" etcd)" ]; then return 0; fi
  start_detached "$DIR/etcd.pid" "$DIR/etcd.log" etcd --name ha0 --data-dir "$DIR/etcd" \
    --listen-client-urls "$(etcd_url)" --advertise-client-urls "$(etcd_url)" \
    --listen-peer-urls "http://$HA_HOST:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://$HA_HOST:$ETCD_PEER_PORT" \
    --initial-cluster "ha0=http://$HA_HOST:$ETCD_PEER_PORT" --initial-cluster-state new \
    --log-level warn
  local t=0
  until etcd_healthy; do
    # (a second look after a moment: the pid file may name the launcher that just exec'd)
    [ -n "$(running_pid "$DIR/etcd.pid" etcd)" ] || { sleep 1; [ -n "$(running_pid "$DIR/etcd.pid" etcd)" ]; } ||
      { tail -20 "$DIR/etcd.log" >&2; die "etcd exited (log: $DIR/etcd.log)"; }
    t=$((t + 1)); [ $t -lt 100 ] || die "etcd not healthy after 20 s"
    sleep 0.2
  done
}

start_node() {
  local n=$1 d; d="$(node_dir "$n")"
  if [ -n "$(running_pid "$d/patroni.pid" patroni)" ]; then return 0; fi
  start_detached "$d/patroni.pid" "$d/patroni.log" patroni "$d/patroni.yml"
}

# Prints the members as "name role state lag" lines (from a REST API that answers).
members() {
  local i
  for ((i = 0; i < NODES; i++)); do
    if curl -fsS -m 2 "http://$HA_HOST:${REST_PORTS[$i]}/cluster" 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for m in json.load(sys.stdin).get("members", []):
    print(m["name"], m["role"], m["state"], m.get("lag", 0))' 2>/dev/null; then
      return 0
    fi
  done
  return 1
}

cluster_ready() {
  local m; m="$(members)" || return 1
  [ "$(grep -c ' running \| streaming ' <<<"$m")" -eq "$NODES" ] || return 1
  grep -q ' leader running' <<<"$m" || return 1
  # (Patroni 3.0 reports a streaming replica as "running", later ones as "streaming")
  grep -Eq ' sync_standby (running|streaming)' <<<"$m" || return 1
  psql -X -q -At "$(cmd_url)" -c "SELECT 1 FROM pg_extension WHERE extname = 'eventodb'" 2>/dev/null | grep -q 1
}

cmd_up() {
  if ! command -v patroni >/dev/null || ! command -v etcd >/dev/null; then
    "$ROOT/scripts/deps.sh" --ha >&2
  fi
  [ -f "$(pg_config --pkglibdir)/eventodb.so" ] || die "the extension is not installed: run make install"
  if [ -e "$DIR" ] && [ ! -f "$MARKER" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
    die "$DIR exists and was not created by this script; refusing"
  fi
  mkdir -p "$DIR"
  touch "$MARKER"
  local n
  for ((n = 1; n <= NODES; n++)); do write_node_config $((n - 1)); done
  if [ "$(id -u)" -eq 0 ]; then chown -R "$RUN_USER" "$DIR"; fi
  start_etcd
  for ((n = 1; n <= NODES; n++)); do start_node "$n"; done
  local start=$SECONDS
  until cluster_ready; do
    for ((n = 1; n <= NODES; n++)); do
      [ -n "$(running_pid "$(node_dir "$n")/patroni.pid" patroni)" ] ||
        { tail -20 "$(node_dir "$n")/patroni.log" >&2; die "patroni of node$n exited"; }
    done
    [ $((SECONDS - start)) -lt "$UP_TIMEOUT" ] || { members >&2 || true; die "not ready after $UP_TIMEOUT s"; }
    sleep 0.5
  done
  echo "ha: up in $((SECONDS - start)) s: $(members | tr '\n' ';')"
  echo "ha: url $(cmd_url)"
}

# Stops a pid file's process: TERM, then KILL after $3 seconds.
stop_pid() {
  local pid; pid="$(running_pid "$1" "$2")"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local t=0
  while alive "$pid" && [ $t -lt $(($3 * 10)) ]; do sleep 0.1; t=$((t + 1)); done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
}

# A postmaster left behind by a Patroni that was killed.
stop_postmaster() {
  local d="$1/data" pid
  pid="$(head -1 "$d/postmaster.pid" 2>/dev/null || true)"
  if alive "$pid" && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null; then
    as_owner "$PG_BINDIR/pg_ctl" -D "$d" -m immediate -w -t 20 stop >/dev/null 2>&1 ||
      kill -KILL "$pid" 2>/dev/null || true
  fi
}

# $1 = TERM: Patroni stops its PostgreSQL cleanly (a shutdown checkpoint
# each, ~10 s); KILL (destroy, where the data goes anyway): at once.
stop_all() {
  [ -f "$MARKER" ] || { echo "ha: nothing at $DIR"; return 0; }
  local n pids=()
  # All at once: a leader stopped alone would fail over to the others first.
  for ((n = 1; n <= NODES; n++)); do
    local pid; pid="$(running_pid "$(node_dir "$n")/patroni.pid" patroni)"
    if [ -n "$pid" ]; then kill -"$1" "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  local t=0
  for pid in "${pids[@]}"; do
    while alive "$pid" && [ $t -lt 300 ]; do sleep 0.1; t=$((t + 1)); done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for ((n = 1; n <= NODES; n++)); do stop_postmaster "$(node_dir "$n")"; done
  stop_pid "$DIR/etcd.pid" etcd 10
  echo "ha: stopped"
}

cmd_down() { stop_all TERM; }

cmd_destroy() {
  [ -e "$DIR" ] || { echo "ha: nothing to remove"; return 0; }
  [ -f "$MARKER" ] || die "$DIR was not created by this script; refusing"
  stop_all KILL
  rm -rf "$DIR"
  echo "ha: removed $DIR"
}

cmd_status() {
  if [ -n "$(running_pid "$DIR/etcd.pid" etcd)" ] && etcd_healthy; then
    echo "etcd: healthy at $(etcd_url)"
  else
    echo "etcd: not running"
  fi
  if [ -f "$(node_dir 1)/patroni.yml" ] && members >/dev/null; then
    as_owner patronictl -c "$(node_dir 1)/patroni.yml" list 2>/dev/null || members
  else
    echo "nodes: not running"; return 3
  fi
}

cmd_leader() { members | awk '$2 == "leader" { print $1 }'; }

cmd_pids() {
  local n d
  for ((n = 1; n <= NODES; n++)); do
    d="$(node_dir "$n")"
    echo "node$n $(running_pid "$d/patroni.pid" patroni || true) $(head -1 "$d/data/postmaster.pid" 2>/dev/null || true)"
  done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  destroy) cmd_destroy ;;
  status) cmd_status ;;
  url) cmd_url ;;
  read-url) cmd_read_url ;;
  leader) cmd_leader ;;
  pids) cmd_pids ;;
  *) echo "usage: $0 up|down|destroy|status|url|read-url|leader|pids" >&2; exit 2 ;;
esac
