#!/usr/bin/env bash
# The reference load test (scripts/tools/load-test) against the gateway with the
# commit-horizon write path and with Message DB's category lock
# (eventodb.write_mode = category_lock), alternating on one private cluster;
# prints ops/s and errors per run and the median ratio.
#
#   scripts/bench/horizon-vs-lock.sh [--seconds S] [--runs R]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=bench_lib.sh
. "$ROOT/scripts/bench/bench_lib.sh"

SECS=20 RUNS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--runs R]" >&2; exit 2 ;;
  esac
done

private_stack hvl 25560 hvl
CONF="$PGDATA_DIR/postgresql.conf"
HTTP_PORT="$(free_port 18280)"

run_mode() {
  local mode="$1"
  stop_pid "$GW_PID"
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PGUSER" -- sh -c "sed -i '/^eventodb.write_mode/d' '$CONF'; echo \"eventodb.write_mode = $mode\" >> '$CONF'"
  else
    sed -i '/^eventodb.write_mode/d' "$CONF"; echo "eventodb.write_mode = $mode" >>"$CONF"
  fi
  "$ROOT/scripts/cluster.sh" restart >/dev/null
  start_gateway "$ROOT/gateway/eventodb" "$HTTP_PORT" hvl "$PGHOST" "$PGPORT" "$WORK/gateway.log"
  got="$(psql -X -Atd hvl -c 'SELECT eventodb.write_mode()')"
  "$ROOT/scripts/tools/load-test" --url "http://127.0.0.1:$HTTP_PORT" --token "$DEFAULT_TOKEN" \
    --duration "$SECS" --progress 0 --json "$WORK/lt.json" >/dev/null 2>&1
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], int(d["ops_per_sec"]), d["errors"], d["latency_ms"]["p99"])' \
    "$WORK/lt.json" "$got"
}

printf 'mode ops/s errors p99_ms\n'
for _ in $(seq "$RUNS"); do
  run_mode horizon
  run_mode category_lock
done | tee "$WORK/runs.txt"
python3 - "$WORK/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    mode, ops = line.split()[:2]
    if ops.isdigit():
        runs.setdefault(mode, []).append(int(ops))
h, l = statistics.median(runs.get("horizon", [0])), statistics.median(runs.get("category_lock", [0]))
print("median ops/s: horizon %d, category_lock %d, ratio %.2f" % (h, l, h / l if l else 0))
PY
