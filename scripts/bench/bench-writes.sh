#!/usr/bin/env bash
# Write throughput of the two write modes side by side, in one run: the commit
# horizon (eventodb.write_mode = horizon) and Message DB's category lock held
# to commit (category_lock), against a bare INSERT (no lock) and the same
# INSERT serialised by one advisory lock held to commit - plus category reads
# in both modes and without preloading (no horizon to compute at all: the
# horizon must not slow reads down).
#
# A throw-away cluster on disk (fsync on, like the project cluster), restarted
# for every mode switch; repetitions interleave the modes so that drift hits
# both alike. Reports median tps of BENCH_RUNS x BENCH_SECONDS per cell.
#
#   BENCH_RUNS=3 BENCH_SECONDS=8 BENCH_CLIENTS=10 scripts/bench/bench-writes.sh
#   BENCH_ONLY=REGEX   only cells whose script name matches (e.g. 'get')
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_DIR="$ROOT/scripts/bench/pgbench"
RUNS="${BENCH_RUNS:-3}"
SECS="${BENCH_SECONDS:-8}"
CLIENTS="${BENCH_CLIENTS:-10}"
MESSAGES="${BENCH_MESSAGES:-100000}"
STREAMS=1000
CATEGORIES=10
PG_BINDIR="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"
[ -x "$PG_BINDIR/initdb" ] || PG_BINDIR=/usr/lib/postgresql/15/bin
if [ "$(id -u)" -eq 0 ]; then RUN_USER="${EVENTODB_PG_USER:-postgres}"; else RUN_USER="$(id -un)"; fi
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi; }
log() { printf '%s\n' "$*" >&2; }

BASE="$(mktemp -d /var/tmp/eventodb-bench-writes-XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown "$RUN_USER" "$BASE"
PORT=$(( 56000 + RANDOM % 4000 ))
while [ -e "/tmp/.s.PGSQL.$PORT" ] || ss -ltn 2>/dev/null | grep -q ":$PORT "; do PORT=$(( 56000 + RANDOM % 4000 )); done
cleanup() {
  as_owner "$PG_BINDIR/pg_ctl" -D "$BASE/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$BASE"
}
trap cleanup EXIT
as_owner "$PG_BINDIR/initdb" -D "$BASE/data" -U "$RUN_USER" --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 >"$BASE/initdb.log" 2>&1 || { cat "$BASE/initdb.log" >&2; exit 1; }
export PGHOST="$BASE" PGPORT="$PORT" PGUSER="$RUN_USER" PGDATABASE=bw

# start horizon|category_lock|nopreload
start() {
  local preload="-c shared_preload_libraries=eventodb -c eventodb.write_mode=$1"
  [ "$1" = nopreload ] && preload=""
  as_owner "$PG_BINDIR/pg_ctl" -D "$BASE/data" -m fast -w stop >/dev/null 2>&1 || true
  as_owner "$PG_BINDIR/pg_ctl" -D "$BASE/data" -l "$BASE/postgres.log" -w -t 60 \
    -o "-c port=$PORT -c listen_addresses='' -c unix_socket_directories=$BASE -c max_connections=100 \
        -c shared_buffers=256MB $preload" \
    start >/dev/null || { tail -n 30 "$BASE/postgres.log" >&2; exit 1; }
}

start horizon
log "bench-writes: seeding ($MESSAGES messages)"
psql -X -q -d postgres -c "CREATE DATABASE bw"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION eventodb" \
  -c "SELECT eventodb.namespace_create('default', '', 'ns_ZGVmYXVsdA_' || repeat('0', 64))" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v messages="$MESSAGES" -v streams="$STREAMS" -v categories="$CATEGORIES" \
  -v compact=false -f "$BENCH_DIR/seed.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -f "$BENCH_DIR/bare-schema.sql" >/dev/null
psql -X -q -c "VACUUM ANALYZE"

# id | script | modes it runs in ("both" or "ref": mode-independent, horizon round only)
# (the references run next to the cells they are compared with)
CELLS=(
  "bare INSERT, no lock|bare-write-unlocked|ref"
  "write_message, one category|msgdb-write|both"
  "bare INSERT, one lock held to commit|bare-write-locked|ref"
  "write_message, 10 categories|msgdb-write-10cat|both"
  "eventodb.stream_write, one category|gw-stream-write|both"
  "get_category_messages, batch 100|msgdb-category-get-100|both"
  "eventodb.category_get, batch 100 (JSON)|gw-category-get-100|both"
)

CSV="$BASE/runs.csv"
: >"$CSV"
run_pgbench() {
  local out
  out="$(pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -D streams="$STREAMS" \
    -D categories="$CATEGORIES" -D messages="$MESSAGES" -f "$BENCH_DIR/$1.sql" bw 2>&1)" || true
  sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | head -1
}

for run in $(seq 1 "$RUNS"); do
  for mode in horizon category_lock nopreload; do
    start "$mode"
    for c in "${CELLS[@]}"; do
      IFS='|' read -r what script modes <<<"$c"
      [ "$modes" = ref ] && [ "$mode" != horizon ] && continue
      # Not preloaded, writes are category_lock's: only reads are of interest.
      [ "$mode" = nopreload ] && [[ "$script" != *get* ]] && continue
      [ -n "${BENCH_ONLY:-}" ] && ! [[ "$script" =~ $BENCH_ONLY ]] && continue
      tps="$(run_pgbench "$script")"
      echo "$what|$([ "$modes" = ref ] && echo ref || echo "$mode")|${tps:-err}" >>"$CSV"
      log "bench-writes: run $run $mode: $what: ${tps:-err} tps"
    done
  done
done

/usr/bin/python3 - "$CSV" "$RUNS" "$SECS" "$CLIENTS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
runs, secs, clients = sys.argv[2:5]
cells = {}
for what, mode, tps in rows:
    if tps != "err":
        cells.setdefault((what, mode), []).append(float(tps))
med = {k: statistics.median(v) for k, v in cells.items()}
bare = med.get(("bare INSERT, no lock", "ref"))
print("| %s clients, median of %s x %s s | horizon | category_lock | not preloaded | horizon / category_lock | horizon / bare INSERT | horizon / not preloaded |" % (clients, runs, secs))
print("|---|---:|---:|---:|---:|---:|---:|")
order = []
for what, mode, _ in rows:
    if what not in order:
        order.append(what)
for what in order:
    h, l, r = med.get((what, "horizon")), med.get((what, "category_lock")), med.get((what, "ref"))
    n = med.get((what, "nopreload"))
    if r is not None:
        print("| %s | %.0f (reference) | | | | %s | |" % (what, r, "%.2f" % (r / bare) if bare else ""))
        continue
    fmt = lambda v: "%.0f" % v if v else ""
    ratio = "%.2f" % (h / l) if h and l else ""
    vs_bare = "%.2f" % (h / bare) if h and bare and "get" not in what else ""
    vs_n = "%.2f" % (h / n) if h and n else ""
    print("| %s | %s | %s | %s | %s | %s | %s |" % (what, fmt(h), fmt(l), fmt(n), ratio, vs_bare, vs_n))
PY
