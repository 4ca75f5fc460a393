#!/usr/bin/env bash
# Cost of the retention worker during the reference load test
# (scripts/tools/load-test defaults: 10 workers, 90 % stream.write to 100 streams
# of category loadtest): runs with and without a retention rule alternate
# (off/on, then on/off) on one private cluster and gateway whose retention
# worker serves the database. "on" sets category loadtest's maxAge (default
# 5 s) so the worker removes, in steady state, as many messages a second as
# the load writes; "off" clears the rule (the worker then finds nothing to
# do). Before an "on" run the backlog of the previous "off" run is removed,
# and both modes start from a vacuumed table, so every "on" run measures
# the steady state (its own deletes and the vacuuming they cause). Prints each run with the
# messages the worker removed during it and the messages older than
# maxAge + 2 naptimes left at its end (0: the worker kept up), the medians
# the worker's CPU time in each run, and the ratio of each adjacent pair.
# On a shared machine single runs swing far beyond 10 %; the worker's CPU
# per removed message is the stable measure.
#
#   scripts/bench/retention-overhead.sh [--runs N] [--seconds S] [--max-age SECONDS]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=bench_lib.sh
. "$ROOT/scripts/bench/bench_lib.sh"

RUNS=3 SECONDS_PER_RUN=20 MAX_AGE=5 NAPTIME=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --max-age) MAX_AGE="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--seconds S] [--max-age SECONDS]" >&2; exit 2 ;;
  esac
done

private_stack retention 25660 retention
psql -X -q -d retention -v ON_ERROR_STOP=1 \
  -c "ALTER SYSTEM SET eventodb.retention_database = 'retention'" \
  -c "ALTER SYSTEM SET eventodb.retention_naptime = '${NAPTIME}s'" >/dev/null
"$ROOT/scripts/cluster.sh" restart >/dev/null
psql -X -q -d retention -tA -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'eventodb retention worker'" \
  | grep -qx 1 || { echo "retention worker not running" >&2; exit 1; }
HTTP_PORT="$(free_port 18380)"
start_gateway "$ROOT/gateway/eventodb" "$HTTP_PORT" retention "$PGHOST" "$PGPORT" "$WORK/gateway.log"
URL="http://127.0.0.1:$HTTP_PORT"
sql() { psql -X -q -d retention -tA -v ON_ERROR_STOP=1 -c "$1"; }
# the default namespace's lifecycle tables exist from here on
sql "SELECT eventodb.category_set_retention('default', 'loadtest')" >/dev/null

removed_so_far() { sql "SELECT coalesce(n_tup_del, 0) FROM pg_stat_user_tables WHERE schemaname = 'message_store' AND relname = 'messages'"; }

WORKER_PID="$(psql -X -q -d retention -tA -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'eventodb retention worker'")"

run_load() {  # mode -> "ops/s removed stale worker-cpu-s"
  local mode="$1" d0 d1 stale c0 c1
  if [ "$mode" = on ]; then
    sql "SELECT eventodb.category_set_retention('default', 'loadtest', $MAX_AGE)" >/dev/null
    sql "SELECT eventodb.retention_run('default', 100000000)" >/dev/null
  else
    sql "SELECT eventodb.category_set_retention('default', 'loadtest')" >/dev/null
  fi
  # Neither mode pays for the previous run: the backlog's dead rows go now.
  sql "VACUUM message_store.messages" >/dev/null
  sleep 1
  d0="$(removed_so_far)"
  c0="$(proc_ticks "$WORKER_PID")"
  "$ROOT/scripts/tools/load-test" --url "$URL" --token "$DEFAULT_TOKEN" --duration "$SECONDS_PER_RUN" \
    --warmup 2 --progress 0 --json "$WORK/lt.json" >/dev/null 2>&1
  sleep 0.6  # statistics are reported by backends at most every 500 ms
  d1="$(removed_so_far)"
  c1="$(proc_ticks "$WORKER_PID")"
  stale="$(sql "SELECT count(*) FROM message_store.messages WHERE time < (now() AT TIME ZONE 'utc') - interval '$((MAX_AGE + 2 * NAPTIME)) seconds'")"
  [ "$mode" = on ] || stale="-"
  python3 -c 'import json,sys,os; print(json.load(open(sys.argv[1]))["ops_per_sec"], sys.argv[2], sys.argv[3],
  round((int(sys.argv[5]) - int(sys.argv[4])) / os.sysconf("SC_CLK_TCK"), 2))' \
    "$WORK/lt.json" "$((d1 - d0))" "$stale" "$c0" "$c1"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

OFF="" ON="" RATIOS=""
for run in $(seq "$RUNS"); do
  order="off on"; [ $((run % 2)) -eq 0 ] && order="on off"
  for mode in $order; do
    read -r ops removed stale wcpu <<<"$(run_load "$mode")"
    echo "run $run retention=$mode: $ops ops/s, $removed messages removed during the run (worker CPU ${wcpu} s), $stale older than maxAge + 2 naptimes at its end" >&2
    if [ "$mode" = on ]; then ON+="$ops " on_ops="$ops"; else OFF+="$ops " off_ops="$ops"; fi
  done
  RATIOS+="$(awk -v a="$off_ops" -v b="$on_ops" 'BEGIN { printf "%.4f", b / a }') "
done

m() { echo "$1" | tr ' ' '\n' | grep . | median; }
printf '\n| reference load test (%d runs x %ds each, alternating) | ops/s, median | runs |\n|---|---:|---|\n' \
  "$RUNS" "$SECONDS_PER_RUN"
printf '| no retention rule | %s | %s|\n' "$(m "$OFF")" "$OFF"
printf '| category maxAge %ss, worker naptime %ss | %s | %s|\n' "$MAX_AGE" "$NAPTIME" "$(m "$ON")" "$ON"
awk -v a="$(m "$OFF")" -v b="$(m "$ON")" 'BEGIN { printf "\nthroughput with retention / without: %.3f (medians)\n", b / a }'
echo "per pair (on/off, adjacent runs): $RATIOS-> median $(m "$RATIOS")"
