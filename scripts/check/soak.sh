#!/usr/bin/env bash
# Soak test: mixed load for a long time; fails on sustained growth of the
# gateway's memory, open descriptors or PostgreSQL connections
# (docs/architecture.md#invariants invariant 6, #pokes).
#
#   scripts/check/soak.sh [--duration S] [--rate R] [--subscribers N] [--out DIR] [--keep]
#
#   --duration S     seconds of load (default 600)
#   --rate R         RPC operations per second of scripts/tools/load-test (default 300)
#   --subscribers N  SSE subscriptions kept open, 10 % never read, 5/s churned (default 100)
#   --interval S     sampling interval (default 10)
#   --out DIR        where samples.csv and the logs go (default a new /tmp directory)
#   --keep           keep the private cluster afterwards
#
# Runs on a private cluster and gateway (nothing else is touched) with three
# loads at once: scripts/tools/load-test (writes + reads over keep-alive
# connections, 4 categories), scripts/check/soak_sse_clients.py (subscribers in
# every mode, some never reading, constant churn) and scripts/check/soak_churn.py
# (namespace create/write/subscribe/import/delete cycles and bad requests).
# Every interval it samples the gateway's VmRSS (/proc/<pid>/status), its
# descriptors (/proc/<pid>/fd), its threads and the cluster's client
# connections (pg_stat_activity); scripts/check/soak_judge.py then decides.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY=/usr/bin/python3
BIN="${EVENTODB_BIN:-$ROOT/gateway/eventodb}"
LOADTEST="$ROOT/scripts/tools/load-test"
DURATION=600
RATE=300
SUBS=100
INTERVAL=10
OUT=""
KEEP=0
THREADS=16
TOKEN="ns_ZGVmYXVsdA_$(printf '0%.0s' $(seq 64))"

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --subscribers) SUBS=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "soak: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "soak: $BIN not built (make)" >&2; exit 2; }
[ -x "$LOADTEST" ] || { echo "soak: $LOADTEST not built (make tools)" >&2; exit 2; }

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

BASE=$(mktemp -d /var/tmp/eventodb-soak.XXXXXX)
chmod 755 "$BASE"
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/eventodb-soak-out.XXXXXX)
mkdir -p "$OUT"
export EVENTODB_CLUSTER_DIR="$BASE/pg" EVENTODB_PGPORT="$(free_port)"
CLUSTER="$ROOT/scripts/cluster.sh"
eval "$("$CLUSTER" env)"
GW_PORT=$(free_port)
URL="http://127.0.0.1:$GW_PORT"
PIDS=()
GW_PID=""

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null || true
  sleep 0.5
  [ -n "$GW_PID" ] && kill -9 "$GW_PID" 2>/dev/null || true
  "$CLUSTER" stop >/dev/null 2>&1 || true
  if [ "$KEEP" = 1 ]; then echo "soak: cluster kept in $BASE"; else rm -rf "$BASE"; fi
}
trap cleanup EXIT

"$CLUSTER" start >/dev/null
"$CLUSTER" createdb soak >/dev/null
EVENTODB_THREADS=$THREADS "$BIN" serve --port="$GW_PORT" --token="$TOKEN" --log-level=warn \
  --db-url="postgresql://$PGUSER@/soak?host=$PGHOST&port=$PGPORT" >"$OUT/gateway.log" 2>&1 &
GW_PID=$!
for _ in $(seq 300); do
  curl -s -o /dev/null --max-time 1 "$URL/health" && break
  kill -0 "$GW_PID" 2>/dev/null || { echo "soak: gateway exited" >&2; cat "$OUT/gateway.log" >&2; exit 1; }
  sleep 0.1
done
echo "soak: ${DURATION}s on a private cluster (port $PGPORT), gateway pid $GW_PID :$GW_PORT, results in $OUT"

sample() {
  local idle=${1:-0} rss fds thr conns
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$GW_PID/status")
  thr=$(awk '/^Threads:/{print $2}' "/proc/$GW_PID/status")
  fds=$(ls "/proc/$GW_PID/fd" | wc -l)
  conns=$(psql -X -Atq -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = 'soak'" 2>/dev/null || echo -1)
  echo "$(( $(date +%s) - START )),$rss,$fds,$thr,$conns,$idle" >> "$OUT/samples.csv"
  printf 'soak: t=%4ss rss=%6.1f MiB fds=%4s threads=%3s pg_conns=%3s%s\n' "$(( $(date +%s) - START ))" \
    "$(awk -v r="$rss" 'BEGIN{print r/1024}')" "$fds" "$thr" "$conns" \
    "$(case "$idle" in 1) echo ' (idle, load stopped)' ;; 2) echo ' (baseline, no load yet)' ;; esac)"
}

echo "elapsed_s,rss_kb,fds,threads,pg_conns,idle" > "$OUT/samples.csv"
START=$(date +%s)
sample 2						# the baseline, before any load
"$LOADTEST" --url "$URL" --token "$TOKEN" --workers 8 --duration "$DURATION" --write-ratio 0.5 \
  --streams 200 --categories 4 --rate "$RATE" --progress 0 --json "$OUT/load-test.json" \
  >"$OUT/load-test.log" 2>&1 &
PIDS+=($!)
$PY "$ROOT/scripts/check/soak_sse_clients.py" --url "$URL" --token "$TOKEN" --duration "$DURATION" \
  --subscribers "$SUBS" --stuck $((SUBS / 10)) --category loadtest0 --streams 50 \
  >"$OUT/sse_clients.json" 2>"$OUT/sse_clients.err" &
PIDS+=($!)
$PY "$ROOT/scripts/check/soak_churn.py" --url "$URL" --token "$TOKEN" --duration "$DURATION" \
  >"$OUT/churn.json" 2>"$OUT/churn.err" &
PIDS+=($!)

while [ $(( $(date +%s) - START )) -lt "$DURATION" ]; do
  sleep "$INTERVAL"
  kill -0 "$GW_PID" 2>/dev/null || { echo "soak: FAIL: the gateway died"; tail -30 "$OUT/gateway.log"; exit 1; }
  sample
done
for p in "${PIDS[@]}"; do wait "$p" || true; done
PIDS=()
# Closed subscriptions are noticed at the next write to them (the 20 s
# heartbeat at the latest); connections whose peer vanished mid-request at
# the connection timeout (120 s). Wait that long for descriptors to return.
FD0=$(sed -n 2p "$OUT/samples.csv" | cut -d, -f3)
PG0=$(sed -n 2p "$OUT/samples.csv" | cut -d, -f5)
IDLE0=$(date +%s)
while [ $(( $(date +%s) - IDLE0 )) -lt 150 ]; do
  pool=$(psql -X -Atq -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = 'soak'" 2>/dev/null || echo 0)
  [ "$(ls "/proc/$GW_PID/fd" | wc -l)" -le $((FD0 + pool - PG0 + 8)) ] && break
  if [ $(( $(date +%s) - IDLE0 )) = 30 ]; then
    echo "soak: after 30 s idle: $(ss -tn state close-wait "sport = :$GW_PORT" | tail -n +2 | wc -l) connections in CLOSE-WAIT (peer gone, not yet noticed)"
  fi
  sleep 1
done
echo "soak: descriptors settled $(( $(date +%s) - IDLE0 )) s after the load stopped"
sample 1

echo "soak: load-test: $(tail -c 600 "$OUT/load-test.log" | tr '\n' ' ' | cut -c1-400)"
echo "soak: subscribers: $(cat "$OUT/sse_clients.json" 2>/dev/null)"
echo "soak: churn: $(cat "$OUT/churn.json" 2>/dev/null)"
FAIL=0
if grep -q '"unexpected": [1-9]' "$OUT/churn.json" 2>/dev/null; then
  echo "soak: FAIL: unexpected answers during churn"; FAIL=1
fi
if grep -q 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$OUT/gateway.log"; then
  echo "soak: FAIL: sanitizer report"; grep -m3 -A15 'AddressSanitizer\|runtime error:' "$OUT/gateway.log"; FAIL=1
fi
# pool = one connection per worker thread, plus LISTEN and catch-up workers
$PY "$ROOT/scripts/check/soak_judge.py" "$OUT/samples.csv" --max-pg-conns $((THREADS + 8)) || FAIL=1
exit "$FAIL"
