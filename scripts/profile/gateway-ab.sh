#!/usr/bin/env bash
# make gateway-ab: the gateway of an older commit against the one of this tree,
# side by side on one fresh cluster and in one run (docs/benchmarks.md#the-http-loop).
#
# Both gateways serve the same database at the same time; load-test runs against
# them in alternating order (A B B A ...), so drift of a noisy machine hits both.
# Per run: ops/s, p50/p99, gateway CPU per operation, gateway context switches per
# operation and PostgreSQL CPU per operation (all from /proc, no profiler attached).
#
#   GATEWAY_AB_BASE=<rev>   the old build (default: the commit before the HTTP loop)
#   GATEWAY_AB_ROUNDS=4 GATEWAY_AB_SECONDS=10 GATEWAY_AB_WARMUP=3
#   GATEWAY_AB_LOAD_ARGS="--workers 10"   load-test flags (default: reference workload)
#   GATEWAY_AB_NEW_ENV="EVENTODB_HTTP_MODE=threads"   environment of the new gateway
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
. "$ROOT/scripts/bench/bench_lib.sh"

ROUNDS="${GATEWAY_AB_ROUNDS:-4}"
SECONDS_PER_RUN="${GATEWAY_AB_SECONDS:-10}"
WARMUP="${GATEWAY_AB_WARMUP:-3}"
LOAD_ARGS="${GATEWAY_AB_LOAD_ARGS:-}"
NEW_ENV="${GATEWAY_AB_NEW_ENV:-}"
if [ -n "${GATEWAY_AB_BASE:-}" ]; then
  BASE="$GATEWAY_AB_BASE"
else
  first="$(git log --diff-filter=A --format=%H -- gateway/http_loop.c | tail -1)"
  [ -n "$first" ] || { echo "gateway-ab: set GATEWAY_AB_BASE (no commit adds gateway/http_loop.c)" >&2; exit 2; }
  BASE="$first^"
fi
log() { printf 'gateway-ab: %s\n' "$*" >&2; }

private_stack gateway-ab 25700 eventodb
BASE_TREE="$WORK/base"
OLD_PID="" NEW_PID=""
cleanup_ab() {
  stop_pid "$OLD_PID"; stop_pid "$NEW_PID"
  git -C "$ROOT" worktree remove --force "$BASE_TREE" >/dev/null 2>&1 || true
  private_stack_cleanup
}
trap cleanup_ab EXIT

log "building the old gateway ($(git rev-parse --short "$BASE"))"
git worktree add -q --detach "$BASE_TREE" "$BASE"
make -s -C "$BASE_TREE/gateway" eventodb >"$WORK/build-old.log" 2>&1 || { tail -20 "$WORK/build-old.log" >&2; exit 1; }
make -s -C "$ROOT/gateway" eventodb >"$WORK/build-new.log" 2>&1 || { tail -20 "$WORK/build-new.log" >&2; exit 1; }
make -s -C "$ROOT/scripts/tools" load-test >/dev/null
cp "$BASE_TREE/gateway/eventodb" "$WORK/eventodb-old"
cp "$ROOT/gateway/eventodb" "$WORK/eventodb-new"

OLD_PORT="$(free_port 18400)"
start_gateway "$WORK/eventodb-old" "$OLD_PORT" eventodb "$EVENTODB_PG_SOCKET" "$EVENTODB_PGPORT" "$WORK/old.log"
OLD_PID="$GW_PID"
NEW_PORT="$(free_port $((OLD_PORT + 1)))"
# shellcheck disable=SC2086
env $NEW_ENV bash -c '. "$1"; start_gateway "$2" "$3" eventodb "$4" "$5" "$6"; echo "$GW_PID" >"$7"; disown' _ \
  "$ROOT/scripts/bench/bench_lib.sh" "$WORK/eventodb-new" "$NEW_PORT" "$EVENTODB_PG_SOCKET" "$EVENTODB_PGPORT" "$WORK/new.log" "$WORK/new.pid"
NEW_PID="$(cat "$WORK/new.pid")"
GW_PID=""
export EVENTODB_TOKEN="$DEFAULT_TOKEN"
LOAD="$ROOT/scripts/tools/load-test"

ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'; }
pg_ticks() { local t=0 p; for p in $(cluster_pids "$PGDATA_DIR"); do t=$((t + $(proc_ticks "$p"))); done; echo "$t"; }

one_run() {
  local name="$1" pid="$2" port="$3" t0 c0 p0 out ops
  t0="$(proc_ticks "$pid")"; c0="$(ctx_switches "$pid")"; p0="$(pg_ticks)"
  # shellcheck disable=SC2086
  out="$("$LOAD" --url "http://127.0.0.1:$port" --duration "$SECONDS_PER_RUN" --progress 0 $LOAD_ARGS 2>&1)"
  ops="$(awk '/^  ops/ { print $2 }' <<<"$out")"
  awk -v name="$name" -v ops="$ops" -v tck="$CLK_TCK" \
      -v gw="$(( $(proc_ticks "$pid") - t0 ))" -v cs="$(( $(ctx_switches "$pid") - c0 ))" \
      -v pg="$(( $(pg_ticks) - p0 ))" '
    /^  ops/ { rate = $3 } /^  errors/ { errors = $2 } /^  all/ { p50 = $5; p99 = $9 }
    END { printf "%s %s %s %s %.1f %.2f %.1f %s\n", name, rate, p50, p99,
            gw * 1e6 / tck / ops, cs / ops, pg * 1e6 / tck / ops, errors }' <<<"$out"
}

log "warm-up ($WARMUP s each)"
for port in "$OLD_PORT" "$NEW_PORT"; do
  # shellcheck disable=SC2086
  "$LOAD" --url "http://127.0.0.1:$port" --duration "$WARMUP" --progress 0 $LOAD_ARGS >/dev/null 2>&1 || true
done
RESULTS="$WORK/results.txt"
: >"$RESULTS"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
  for v in $order; do
    if [ "$v" = old ]; then one_run old "$OLD_PID" "$OLD_PORT"; else one_run new "$NEW_PID" "$NEW_PORT"; fi
  done | tee -a "$RESULTS" >&2
done

echo "## Gateway A/B: $(git rev-parse --short "$BASE") (old) vs $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- gateway common 2>/dev/null || echo '+changes') (new)${NEW_ENV:+ with $NEW_ENV}"
echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load-test ${LOAD_ARGS:-(reference workload)}, $ROUNDS rounds of $SECONDS_PER_RUN s, alternating order"
echo
echo "| build | ops/s | p50 ms | p99 ms | gateway CPU µs/op | gateway context switches/op | PostgreSQL CPU µs/op | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
sort -s -k1,1 "$RESULTS" | awk '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
/usr/bin/python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def med(name, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == name)
print()
print("| median | ops/s | gateway CPU µs/op | context switches/op | PostgreSQL CPU µs/op |")
print("|---|---:|---:|---:|---:|")
for n in ("old", "new"):
    print(f"| {n} | {med(n,1):.0f} | {med(n,4):.1f} | {med(n,5):.2f} | {med(n,6):.1f} |")
print(f"| new/old | {med('new',1)/med('old',1):.2f}x | {med('new',4)/med('old',4):.2f}x | "
      f"{med('new',5)/med('old',5):.2f}x | {med('new',6)/med('old',6):.2f}x |")
PY
