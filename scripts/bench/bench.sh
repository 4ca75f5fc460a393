#!/usr/bin/env bash
# make bench: SQL-level throughput of our functions side by side with the same
# workload on bare SQL over an identical plain table (the physical limit) and,
# when npm can fetch it, on Message DB's own PL/pgSQL - all in one run, on one
# cluster, repetitions interleaved so that drift hits every column alike.
#
# Reports the median tps of BENCH_RUNS runs of BENCH_SECONDS each, with ratios,
# on stdout and in bench/results/latest.md (raw runs: latest.csv; every run also
# keeps bench-<stamp>-<pid>.md/.csv).
#
#   BENCH_RUNS=3 BENCH_SECONDS=5    repetitions and seconds per run
#   BENCH_ONLY=REGEX                only workloads whose id matches (e.g. 'write|version')
#   BENCH_MESSAGES=100000 BENCH_STREAMS=1000 BENCH_CATEGORIES=10   seed size
#   BENCH_LARGE=1                   the large store: 10,000,000 messages, 10,000 streams
#                                   with compact data (opt-in; seeding takes about ten
#                                   minutes and ~8 GB; databases eventodb_bench_large*,
#                                   kept with BENCH_KEEP)
#   BENCH_COMPACT=true|false        data of three fields instead of ~500 bytes (default:
#                                   true for the large store, so both copies stay in the
#                                   page cache and reads measure code, not disk)
#   BENCH_NO_MESSAGEDB=1            skip the Message DB column
#   BENCH_KEEP=1                    reuse the seeded databases of the previous run
#
# The cluster is scripts/cluster.sh's (EVENTODB_CLUSTER_DIR / EVENTODB_PGPORT apply).
# Nothing here fails because the machine is slow: numbers are reported, never judged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BENCH_DIR="$ROOT/scripts/bench/pgbench"
OUT="$ROOT/bench/results"
RUNS="${BENCH_RUNS:-3}"
SECS="${BENCH_SECONDS:-5}"
ONLY="${BENCH_ONLY:-}"
if [ -n "${BENCH_LARGE:-}" ]; then
  MESSAGES="${BENCH_MESSAGES:-10000000}"
  STREAMS="${BENCH_STREAMS:-10000}"
  DB=eventodb_bench_large
  MDB=eventodb_bench_large_mdb
  COMPACT="${BENCH_COMPACT:-true}"
else
  MESSAGES="${BENCH_MESSAGES:-100000}"
  STREAMS="${BENCH_STREAMS:-1000}"
  DB=eventodb_bench
  MDB=eventodb_bench_mdb
fi
CATEGORIES="${BENCH_CATEGORIES:-10}"
COMPACT="${COMPACT:-${BENCH_COMPACT:-false}}"
case "$COMPACT" in true|false) ;; *) echo "bench: BENCH_COMPACT must be true or false" >&2; exit 2 ;; esac

# id | section | what | clients | our script | limit script | Message DB runs our script too
WORKLOADS=(
  "stream_get_10|read|get_stream_messages, batch 10|1 10|msgdb-stream-get-10|bare-stream-get-10|yes"
  "stream_get_100|read|get_stream_messages, batch 100|1 10|msgdb-stream-get-100|bare-stream-get-100|yes"
  "category_get_100|read|get_category_messages, batch 100|1 10|msgdb-category-get-100|bare-category-get-100|yes"
  "category_get_100_group|read|get_category_messages, batch 100, consumer group 4|1 10|msgdb-category-get-100-group|bare-category-get-100-group|yes"
  "category_get_100_corr|read|get_category_messages, batch 100, correlation|1 10|msgdb-category-get-100-corr|bare-category-get-100-corr|yes"
  "category_get_rare|read|get_category_messages, rare category (5 messages after the store)|1 10|msgdb-category-get-rare|bare-category-get-rare|yes"
  "last_message|read|get_last_stream_message|1 10|msgdb-last|bare-last|yes"
  "stream_version|read|stream_version|1 10|msgdb-version|bare-version|yes"
  "gw_stream_get_10|gateway|eventodb.stream_get, batch 10 (JSON)|1 10|gw-stream-get-10|bare-json-stream-get-10|no"
  "gw_category_get_100|gateway|eventodb.category_get, batch 100 (JSON)|1 10|gw-category-get-100|bare-json-category-get-100|no"
  "gw_category_get_rare|gateway|eventodb.category_get, rare category (JSON)|1 10|gw-category-get-rare|bare-json-category-get-rare|no"
  "gw_stream_last|gateway|eventodb.stream_last (JSON)|1 10|gw-stream-last|bare-json-stream-last|no"
  "gw_stream_version|gateway|eventodb.stream_version|1 10|gw-stream-version|bare-version|no"
  "write_1cat|write|write_message, one category|10|msgdb-write|bare-write-stream-locked|yes"
  "write_10cat|write|write_message, 10 categories|10|msgdb-write-10cat|bare-write-stream-locked-10cat|yes"
  "write_own_stream|write|write_message, one category, a stream per client (against the INSERT without lock)|10|msgdb-write-own|bare-write-unlocked|yes"
  "gw_stream_write|write|eventodb.stream_write, one category|10|gw-stream-write|bare-write-stream-locked|no"
  "ref_insert_unlocked|write|reference: INSERT without lock|10|-|bare-write-unlocked|no"
  "ref_insert_category_lock|write|reference: INSERT under one category lock held to commit (Message DB's design)|10|-|bare-write-locked|no"
  "ref_insert_locked_notify|write|reference: the same + NOTIFY|10|-|bare-write-locked-notify|no"
  "ref_insert_10cat_lock|write|reference: 10 categories, category lock held to commit|10|-|bare-write-locked-10cat|no"
  "ref_insert_10cat_notify|write|reference: 10 categories, category lock + NOTIFY|10|-|bare-write-locked-10cat-notify|no"
)

log() { printf '%s\n' "$*" >&2; }

. "$ROOT/scripts/bench/bench_lib.sh"
eval "$("$ROOT/scripts/cluster.sh" env)"
"$ROOT/scripts/cluster.sh" start >&2
restart_if_stale_extension "$PGDATA_DIR"
mkdir -p "$OUT"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

db_exists() { [ "$(psql -X -Atd postgres -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; }

setup_ours() {
  log "bench: seeding $DB ($MESSAGES messages, $STREAMS streams, $CATEGORIES categories)"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  "$ROOT/scripts/cluster.sh" createdb "$DB" >&2
  "${PSQL[@]}" -d "$DB" -v messages="$MESSAGES" -v streams="$STREAMS" -v categories="$CATEGORIES" \
    -v compact="$COMPACT" -f "$BENCH_DIR/seed.sql" >/dev/null
  "${PSQL[@]}" -d "$DB" -v messages="$MESSAGES" -f "$BENCH_DIR/seed-rare.sql" >/dev/null
  # The bare copy's indexes are built in one pass; ours grew row by row while the seed
  # loaded (half again as large at 10 M): rebuilt, both copies read equally dense indexes.
  "${PSQL[@]}" -d "$DB" -c "REINDEX TABLE message_store.messages" >/dev/null
  "${PSQL[@]}" -d "$DB" -f "$BENCH_DIR/bare-schema.sql" >/dev/null
  # The gateway creates `default` at start-up; the bench talks to SQL directly.
  "${PSQL[@]}" -d "$DB" -c "DO \$\$ BEGIN
      IF to_regproc('eventodb.namespace_exists') IS NOT NULL
         AND NOT eventodb.namespace_exists('default') THEN
        PERFORM eventodb.namespace_create('default', 'Default namespace', '$DEFAULT_TOKEN');
      END IF;
    END \$\$" >/dev/null 2>&1 || log "bench: could not ensure the default namespace (gateway rows may fail)"
  "${PSQL[@]}" -d "$DB" -c "VACUUM ANALYZE" >/dev/null
}

# Message DB from its npm package, installed by its own install script into a
# database of its own (none of our code is loaded there).
fetch_messagedb() {
  local cache="$OUT/message-db-package"
  if [ ! -f "$cache/package/database/install.sh" ]; then
    command -v npm >/dev/null || return 1
    rm -rf "$cache" && mkdir -p "$cache"
    (cd "$cache" && npm pack --silent @eventide/message-db >npm.log 2>&1 && tar xzf ./*.tgz) || return 1
  fi
  echo "$cache/package/database"
}

setup_messagedb() {
  local dir
  if [ -n "${BENCH_NO_MESSAGEDB:-}" ] || ! dir="$(fetch_messagedb)"; then
    log "bench: Message DB unavailable (npm pack @eventide/message-db failed or disabled); column left empty"
    return 1
  fi
  log "bench: installing Message DB $(cat "$dir/VERSION.txt") into $MDB"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $MDB WITH (FORCE)"
  DATABASE_NAME="$MDB" PGOPTIONS='-c client_min_messages=warning' bash "$dir/install.sh" \
    >"$OUT/message-db-install.log" 2>&1 || { log "bench: Message DB install failed, see $OUT/message-db-install.log"; return 1; }
  # Its functions call each other unqualified (docs/sql-api.md#search-path).
  "${PSQL[@]}" -d postgres -c "ALTER DATABASE $MDB SET search_path = message_store, public"
  "${PSQL[@]}" -d "$MDB" -v messages="$MESSAGES" -v streams="$STREAMS" -v categories="$CATEGORIES" \
    -v compact="$COMPACT" -f "$BENCH_DIR/seed.sql" >/dev/null
  "${PSQL[@]}" -d "$MDB" -c "REINDEX TABLE message_store.messages" >/dev/null
  "${PSQL[@]}" -d "$MDB" -v messages="$MESSAGES" -f "$BENCH_DIR/seed-rare.sql" >/dev/null
  "${PSQL[@]}" -d "$MDB" -c "VACUUM ANALYZE" >/dev/null
}

if [ -n "${BENCH_KEEP:-}" ] && db_exists "$DB"; then
  log "bench: reusing $DB"
else
  setup_ours
fi
HAVE_MDB=no
if [ -n "${BENCH_KEEP:-}" ] && db_exists "$MDB"; then
  HAVE_MDB=yes
elif setup_messagedb; then
  HAVE_MDB=yes
fi

# Private files while running (several checkouts' benches may share bench/results),
# published as latest.* and bench-<stamp>.* at the end.
STAMP="$(date +%Y%m%d-%H%M%S)"
CSV="$OUT/bench-$STAMP-$$.csv"
ERRLOG="$OUT/bench-$STAMP-$$-errors.log"
echo "id,section,what,clients,impl,run,tps,latency_ms" >"$CSV"
: >"$ERRLOG"

# One pgbench run; prints "tps latency_ms" or "err err".
run_pgbench() {
  local db="$1" script="$2" clients="$3" jobs=1 out
  [ "$clients" -gt 1 ] && jobs=$(( $(nproc) < clients ? $(nproc) : clients ))
  if out="$(pgbench -n -M prepared -c "$clients" -j "$jobs" -T "$SECS" \
      -D streams="$STREAMS" -D categories="$CATEGORIES" -D messages="$MESSAGES" \
      -f "$BENCH_DIR/$script.sql" "$db" 2>&1)" \
     && tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | head -1)" && [ -n "$tps" ]; then
    echo "$tps $(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out" | head -1)"
  else
    { echo "== $script on $db, $clients clients"; grep -m5 -iE 'error|abort|fatal' <<<"$out" || tail -5 <<<"$out"; } >>"$ERRLOG"
    echo "err err"
  fi
}

# Reads first: writes grow the tables.
ORDERED=()
for section in read gateway write; do
  for w in "${WORKLOADS[@]}"; do
    IFS='|' read -r id sec _ <<<"$w"
    [ "$sec" = "$section" ] || continue
    if [ -n "$ONLY" ] && ! [[ "$id" =~ $ONLY ]]; then continue; fi
    ORDERED+=("$w")
  done
done
total=0
for w in "${ORDERED[@]}"; do
  IFS='|' read -r _ _ _ clients_list _ <<<"$w"
  for _c in $clients_list; do total=$((total + 1)); done
done
log "bench: $total cells x $RUNS runs x ${SECS}s per implementation (Message DB: $HAVE_MDB)"

# Reads measure the code, not the disk: before each read workload both copies are read
# into the page cache (pg_prewarm, a contrib module of the server package), so that no cell
# depends on what the cells before it left cached. A no-op for pages already cached.
PREWARM_SQL="SELECT pg_catalog.sum(pg_prewarm(c.oid::regclass, 'read')) FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname IN ('message_store', 'bare') AND c.relkind IN ('r', 'i', 't')"
PREWARM_DBS=("$DB")
[ "$HAVE_MDB" = yes ] && PREWARM_DBS+=("$MDB")
for db in "${PREWARM_DBS[@]}"; do
  "${PSQL[@]}" -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null 2>&1 \
    || { PREWARM_DBS=(); log "bench: pg_prewarm unavailable; read cells start with whatever is cached"; break; }
done
prewarm() {
  local db blocks
  for db in "${PREWARM_DBS[@]}"; do
    blocks="$(psql -X -Atd "$db" -c "$PREWARM_SQL" 2>/dev/null)" || { log "bench: prewarm of $db failed"; continue; }
    log "bench: prewarmed $blocks blocks of $db"
  done
}

n=0
for w in "${ORDERED[@]}"; do
  IFS='|' read -r id section what clients_list ours limit mdb <<<"$w"
  [ "$section" = write ] || prewarm
  for clients in $clients_list; do
    n=$((n + 1))
    for run in $(seq 1 "$RUNS"); do
      line=""
      for impl in ours limit messagedb; do
        case "$impl" in
          ours) [ "$ours" != "-" ] || continue; db="$DB"; script="$ours" ;;
          limit) db="$DB"; script="$limit" ;;
          messagedb) [ "$mdb" = yes ] && [ "$HAVE_MDB" = yes ] || continue; db="$MDB"; script="$ours" ;;
        esac
        read -r tps lat < <(run_pgbench "$db" "$script" "$clients")
        echo "$id,$section,\"$what\",$clients,$impl,$run,$tps,$lat" >>"$CSV"
        line+=" $impl=$tps"
      done
      log "bench: [$n/$total] $id c=$clients run $run:$line"
    done
  done
done

{
  echo "# make bench — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(psql -X -Atd "$DB" -c 'SHOW server_version' | cut -d' ' -f1) (fsync $(psql -X -Atd "$DB" -c 'SHOW fsync'), synchronous_commit $(psql -X -Atd "$DB" -c 'SHOW synchronous_commit')), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "Seed: $MESSAGES messages, $STREAMS streams, $CATEGORIES categories$([ "$COMPACT" = true ] && echo ', compact data'), and 5 messages of category 'rare' after them. pgbench -M prepared, median of $RUNS x ${SECS}s, runs interleaved; pgbench runs on the same machine."
  echo
  /usr/bin/python3 "$ROOT/scripts/bench/report.py" "$CSV"
  echo
  echo "ours = this extension (message_store.* / eventodb.*); limit = the same work in plain SQL on an identical"
  echo "table (scripts/bench/pgbench/bare-*.sql; writes: version lookup + INSERT under a per-stream advisory lock held to"
  echo "commit, i.e. our commit-horizon write path; the reference rows show Message DB's category-lock design);"
  echo "Message DB = its 1.3 PL/pgSQL from npm, in its own database. Ratios of medians; > 1 means faster."
  if [ -s "$ERRLOG" ]; then echo; echo "Failed runs (err): see bench/results/latest-errors.log"; fi
} >"$OUT/bench-$STAMP-$$.md"
cp "$OUT/bench-$STAMP-$$.md" "$OUT/latest.md"
cp "$CSV" "$OUT/latest.csv"
cp "$ERRLOG" "$OUT/latest-errors.log"
cat "$OUT/latest.md"
