#!/usr/bin/env bash
# Crash safety (docs/architecture.md#invariants invariant 3, #when-postgresql-goes-away): acknowledged writes survive
# kill -9 of PostgreSQL and of the gateway, stream positions stay dense, and
# the gateway recovers by itself once PostgreSQL is back.
#
#   scripts/check/crash-test.sh [--count N] [--gateway-kills M] [--duration S]
#                         [--workers W] [--seed X] [--keep]
#
#   --count N          PostgreSQL kills (default 5); odd kills SIGKILL the
#                      postmaster alone (its backends linger as orphans until
#                      they notice), even kills SIGKILL the postmaster and
#                      every backend at once
#   --gateway-kills M  gateway SIGKILLs, restarted on the same port (default 2)
#   --duration S       seconds of writing; kills are spread over it (default 120)
#   --workers W        concurrent keep-alive writers (default 8)
#   --max-recovery S   longest allowed time from PostgreSQL being back to the
#                      gateway answering writes again (default 20)
#   --keep             keep the private cluster directory afterwards
#
# Everything runs on a private, throw-away cluster (own directory and port)
# with a private gateway; nothing else is touched. The writer
# (scripts/check/crash_writer.py) logs every acknowledged write; the verifier
# (scripts/check/crash_verify.py) checks the table and the gateway afterwards.
# Exit status 0 only when every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY=/usr/bin/python3
BIN="${EVENTODB_BIN:-$ROOT/gateway/eventodb}"
COUNT=5
GW_KILLS=2
DURATION=120
WORKERS=8
SEED=$RANDOM
KEEP=0
MAX_RECOVERY=20
TOKEN="ns_ZGVmYXVsdA_$(printf '0%.0s' $(seq 64))"

while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT=$2; shift 2 ;;
    --gateway-kills) GW_KILLS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --max-recovery) MAX_RECOVERY=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "crash-test: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "crash-test: $BIN not built (make)" >&2; exit 2; }
RANDOM=$SEED

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
say() { printf '[%6.1fs] %s\n' "$(elapsed "$T0" "$(now)")" "$*"; }

T0=$(now)
BASE=$(mktemp -d /var/tmp/eventodb-crash.XXXXXX)
chmod 755 "$BASE"
export EVENTODB_CLUSTER_DIR="$BASE/pg" EVENTODB_PGPORT="$(free_port)"
CLUSTER="$ROOT/scripts/cluster.sh"
eval "$("$CLUSTER" env)"
DATA="$PGDATA_DIR"
GW_PORT=$(free_port)
URL="http://127.0.0.1:$GW_PORT"
DB_URL="postgresql://$PGUSER@/crash?host=$PGHOST&port=$PGPORT"
LOG="$BASE/acks.ndjson"
STOP="$BASE/stop"
GW_PID=""
WRITER_PID=""
FAIL=0

cleanup() {
  touch "$STOP" 2>/dev/null || true
  [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null || true
  [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && sleep 0.5 || true
  [ -n "$GW_PID" ] && kill -9 "$GW_PID" 2>/dev/null || true
  "$CLUSTER" stop >/dev/null 2>&1 || true
  if [ "$KEEP" = 1 ] || [ "$FAIL" != 0 ]; then
    echo "crash-test: files kept in $BASE"
  else
    rm -rf "$BASE"
  fi
}
trap cleanup EXIT

pg_start() {
  # After a postmaster-only kill its orphaned backends still hold the shared
  # memory until they notice; PostgreSQL refuses to start until then.
  local deadline=$(( $(date +%s) + 90 ))
  until "$CLUSTER" start >/dev/null 2>>"$BASE/cluster-start.err"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "crash-test: PostgreSQL did not restart" >&2; tail -20 "$PGDATA_DIR/../postgres.log" >&2; return 1; }
    sleep 0.2
  done
}

gw_start() {
  "$BIN" serve --port="$GW_PORT" --db-url="$DB_URL" --token="$TOKEN" --log-level=warn \
    >>"$BASE/gateway.log" 2>&1 &
  GW_PID=$!
  local i
  for i in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "$URL/health" && return 0
    kill -0 "$GW_PID" 2>/dev/null || { echo "crash-test: gateway exited:" >&2; tail -20 "$BASE/gateway.log" >&2; return 1; }
    sleep 0.1
  done
  echo "crash-test: gateway not healthy" >&2
  return 1
}

# A write that must succeed: how the gateway shows it is serving again.
probe_write() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" \
    -d '["stream.write","probe-1",{"type":"Probe","data":{}}]' "$URL/rpc" 2>/dev/null || true
}

wait_recovered() {
  local start; start=$(now)
  local deadline; deadline=$(awk -v s="$start" -v m="$MAX_RECOVERY" 'BEGIN{printf "%.3f", s+m}')
  while :; do
    if [ "$(probe_write)" = 200 ]; then
      RECOVERY=$(elapsed "$start" "$(now)")
      return 0
    fi
    if awk -v d="$deadline" -v n="$(now)" 'BEGIN{exit !(n>d)}'; then
      RECOVERY="> $MAX_RECOVERY"
      return 1
    fi
    sleep 0.05
  done
}

children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

kill_postgres() {
  local mode=$1 pm
  pm=$(head -1 "$DATA/postmaster.pid")
  if [ "$mode" = all ]; then
    local kids; kids=$(children_of "$pm")
    kill -9 "$pm" $kids 2>/dev/null || true
  else
    kill -9 "$pm" 2>/dev/null || true
  fi
  # wait until the postmaster is gone
  while kill -0 "$pm" 2>/dev/null; do sleep 0.02; done
}

echo "crash-test: seed $SEED, $COUNT PostgreSQL kills, $GW_KILLS gateway kills, ${DURATION}s, $WORKERS writers"
echo "crash-test: private cluster $BASE (port $PGPORT), gateway :$GW_PORT"
"$CLUSTER" start >/dev/null
"$CLUSTER" createdb crash >/dev/null
gw_start

$PY "$ROOT/scripts/check/crash_writer.py" --url "$URL" --token "$TOKEN" --log "$LOG" \
  --workers "$WORKERS" --duration $((DURATION + 60)) --stop-file "$STOP" --seed "$SEED" \
  2>"$BASE/writer.summary" &
WRITER_PID=$!

# The kill schedule: PostgreSQL and gateway kills shuffled, spread evenly
# over the run with jitter, never in the first or last two seconds.
events=()
for _ in $(seq "$COUNT"); do events+=(pg); done
for _ in $(seq "$GW_KILLS"); do events+=(gw); done
mapfile -t events < <(printf '%s\n' "${events[@]}" | awk -v seed="$SEED" 'BEGIN{srand(seed)} {print rand() "\t" $0}' | sort -n | cut -f2)
n=${#events[@]}
pg_kills=0
RECOVERIES=()
for i in "${!events[@]}"; do
  slot=$(awk -v d="$DURATION" -v n="$n" -v i="$i" -v r="$RANDOM" 'BEGIN{w=(d-4)/n; printf "%.2f", 2 + i*w + (r/32767)*w*0.8}')
  while awk -v t="$slot" -v e="$(elapsed "$T0" "$(now)")" 'BEGIN{exit !(e<t)}'; do sleep 0.05; done
  acked=$(grep -c '"ack"' "$LOG" 2>/dev/null || true)
  case "${events[$i]}" in
    pg)
      pg_kills=$((pg_kills + 1))
      mode=$([ $((pg_kills % 2)) = 1 ] && echo postmaster || echo all)
      kill_postgres "$mode"
      say "SIGKILL PostgreSQL ($mode) after $acked acknowledged writes"
      sleep "$(awk -v r="$RANDOM" 'BEGIN{printf "%.2f", 0.2 + (r/32767)*1.8}')"
      pg_start || { FAIL=1; break; }
      say "PostgreSQL restarted"
      if ! kill -0 "$GW_PID" 2>/dev/null; then
        say "FAIL: the gateway died while PostgreSQL was down"; tail -30 "$BASE/gateway.log"; FAIL=1; break
      fi
      if wait_recovered; then
        say "gateway serving writes again after ${RECOVERY}s (same process, not restarted)"
        RECOVERIES+=("$RECOVERY")
      else
        say "FAIL: gateway still not serving writes ${MAX_RECOVERY}s after PostgreSQL came back"
        FAIL=1; break
      fi
      ;;
    gw)
      if ! kill -0 "$GW_PID" 2>/dev/null; then
        say "FAIL: the gateway had died on its own"; tail -30 "$BASE/gateway.log"; FAIL=1; break
      fi
      kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
      say "SIGKILL gateway after $acked acknowledged writes"
      sleep "$(awk -v r="$RANDOM" 'BEGIN{printf "%.2f", 0.1 + (r/32767)*0.9}')"
      gw_start || { FAIL=1; break; }
      say "gateway restarted"
      ;;
  esac
done

while awk -v t="$DURATION" -v e="$(elapsed "$T0" "$(now)")" 'BEGIN{exit !(e<t)}'; do sleep 0.1; done
touch "$STOP"
wait "$WRITER_PID" || true
WRITER_PID=""
say "writers stopped: $(cat "$BASE/writer.summary" 2>/dev/null | tail -1)"

if [ "$FAIL" = 0 ]; then
  if ! kill -0 "$GW_PID" 2>/dev/null; then say "FAIL: gateway died"; FAIL=1; fi
fi
if grep -q 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$BASE/gateway.log" 2>/dev/null; then
  say "FAIL: sanitizer report in the gateway log"; grep -m5 -A20 'AddressSanitizer\|runtime error:' "$BASE/gateway.log"; FAIL=1
fi
max_lat=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["max_latency_s"])' "$BASE/writer.summary" 2>/dev/null || echo "?")
if [ "$max_lat" != "?" ] && awk -v m="$max_lat" 'BEGIN{exit !(m>30)}'; then
  say "FAIL: a request took ${max_lat}s (the gateway must fail fast, never hang)"; FAIL=1
fi

say "verifying"
if $PY "$ROOT/scripts/check/crash_verify.py" --log "$LOG" --dsn "host=$PGHOST port=$PGPORT user=$PGUSER dbname=crash" \
     --url "$URL" --token "$TOKEN" > "$BASE/verify.json" 2> "$BASE/verify.err"; then
  say "verified: $(cat "$BASE/verify.json")"
else
  say "FAIL: $(cat "$BASE/verify.json")"; head -50 "$BASE/verify.err"; FAIL=1
fi
echo "crash-test: recovery times after PostgreSQL restarts (s): ${RECOVERIES[*]:-none}; max request latency ${max_lat}s"
if [ "$FAIL" = 0 ]; then echo "crash-test: PASS"; else echo "crash-test: FAIL"; fi
exit "$FAIL"
