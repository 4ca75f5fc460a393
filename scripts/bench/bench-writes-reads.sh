#!/usr/bin/env bash
# Write guarantees and richer reads (docs/writes-and-reads.md), measured with
# pgbench on the cluster of scripts/cluster.sh (a scratch database, dropped
# at the end):
#
#   1. stream_write_many of 10 messages to 10 streams vs 10 single
#      stream_write transactions: messages per second;
#   2. the write cost of the opt-in type index: single writes with and
#      without it under the same load, and - steadier on a shared machine -
#      BENCH_SERIAL stream_write calls in one transaction (no fsync in the
#      way): time and WAL bytes per write;
#   3. a type-filtered category read (the type is 1 % of the category,
#      batch 1000) vs the bare indexed SELECT of the same rows (goal >= 0.9).
#
# Runs interleave the variants so that drift hits both alike; the report is
# the median of BENCH_RUNS runs of BENCH_SECONDS each.
#
#   BENCH_RUNS=3 BENCH_SECONDS=10 BENCH_CLIENTS=10 scripts/bench/bench-writes-reads.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${BENCH_RUNS:-3}"
SECS="${BENCH_SECONDS:-10}"
CLIENTS="${BENCH_CLIENTS:-10}"
READ_MESSAGES="${BENCH_READ_MESSAGES:-200000}"
DB="bench_wr_$$"
eval "$("$ROOT/scripts/cluster.sh" env)"
export PGHOST PGPORT PGUSER
WORK="$(mktemp -d)"
cleanup() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '%s\n' "$*" >&2; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
sql "CREATE EXTENSION eventodb" >/dev/null
sql "SELECT eventodb.namespace_create('w') IS NOT NULL; SELECT eventodb.namespace_create('r') IS NOT NULL" >/dev/null
RSCHEMA="$(sql "SELECT schema_name FROM eventodb.namespaces WHERE id = 'r'")"

cat >"$WORK/single.sql" <<'SQL'
\set s random(1, 1000)
SELECT eventodb.stream_write('w', 'acct-' || :s, 'T', '{"amount":1}', NULL, NULL, NULL);
SQL
cat >"$WORK/many.sql" <<'SQL'
SELECT eventodb.stream_write_many('w', (SELECT jsonb_agg(jsonb_build_object(
  'streamName', 'acct-' || (1 + floor(random() * 1000))::int, 'type', 'T', 'data', '{"amount":1}'::jsonb))
  FROM generate_series(1, 10)));
SQL
cat >"$WORK/types.sql" <<SQL
\\set p random(1, $((READ_MESSAGES / 2)))
SELECT eventodb.category_get_types('r', 'rd', :p, 1000, NULL, NULL, NULL, '{Rare}');
SQL
cat >"$WORK/bare.sql" <<SQL
\\set p random(1, $((READ_MESSAGES / 2)))
SELECT id, stream_name, type, position, global_position, data, metadata, time
  FROM "$RSCHEMA".messages
 WHERE message_store.category(stream_name) = 'rd' AND type = 'Rare' AND global_position >= :p
 ORDER BY global_position LIMIT 1000;
SQL

tps() { pgbench -n -c "$CLIENTS" -j 2 -T "$SECS" -f "$1" "$DB" 2>/dev/null | awk '/^tps/ { print $3; exit }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$WORK/single" ; : >"$WORK/many" ; : >"$WORK/indexed"
log "writes: $RUNS x ${SECS}s, $CLIENTS clients"
for r in $(seq "$RUNS"); do
  tps "$WORK/single.sql" >>"$WORK/single"
  echo "$(tps "$WORK/many.sql") * 10" | bc >>"$WORK/many"
  sql "SELECT eventodb.type_index_create('w')" >/dev/null
  tps "$WORK/single.sql" >>"$WORK/indexed"
  sql "SELECT eventodb.type_index_drop('w')" >/dev/null
  log "  run $r: single $(tail -1 "$WORK/single") msg/s, many $(tail -1 "$WORK/many") msg/s, single+type index $(tail -1 "$WORK/indexed") msg/s"
done
SINGLE="$(median <"$WORK/single")"; MANY="$(median <"$WORK/many")"; INDEXED="$(median <"$WORK/indexed")"

# "microseconds per write, WAL bytes per write" of SERIAL writes in one transaction
SERIAL="${BENCH_SERIAL:-20000}"
serial() {
  psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" <<SQL | tail -1
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t, pg_current_wal_insert_lsn() AS l;
SELECT count(eventodb.stream_write('w', 'serial-' || (i % 1000), 'T', '{"amount":1}', NULL, NULL, NULL))
  FROM generate_series(1, $SERIAL) i;
SELECT round(extract(epoch FROM clock_timestamp() - t) * 1e6 / $SERIAL, 1) || ' '
    || round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), l) / $SERIAL) FROM t0;
SQL
}
: >"$WORK/serial_plain" ; : >"$WORK/serial_indexed"
for r in $(seq "$RUNS"); do
  serial >>"$WORK/serial_plain"
  sql "SELECT eventodb.type_index_create('w')" >/dev/null
  serial >>"$WORK/serial_indexed"
  sql "SELECT eventodb.type_index_drop('w')" >/dev/null
  log "  serial run $r: without index $(tail -1 "$WORK/serial_plain") (us, WAL bytes per write), with $(tail -1 "$WORK/serial_indexed")"
done
US_PLAIN="$(cut -d' ' -f1 "$WORK/serial_plain" | median)"; US_INDEXED="$(cut -d' ' -f1 "$WORK/serial_indexed" | median)"
WAL_PLAIN="$(cut -d' ' -f2 "$WORK/serial_plain" | median)"; WAL_INDEXED="$(cut -d' ' -f2 "$WORK/serial_indexed" | median)"

log "reads: $READ_MESSAGES messages in category rd, 1 % of type Rare"
sql "INSERT INTO \"$RSCHEMA\".messages (stream_name, position, type, data)
     SELECT 'rd-' || (i % 1000), i / 1000, CASE WHEN i % 100 = 0 THEN 'Rare' ELSE 'Common' END, '{\"amount\":1}'
       FROM generate_series(0, $READ_MESSAGES - 1) i" >/dev/null
sql "SELECT eventodb.type_index_create('r')" >/dev/null
sql "VACUUM ANALYZE \"$RSCHEMA\".messages" >/dev/null
: >"$WORK/types" ; : >"$WORK/bare"
for r in $(seq "$RUNS"); do
  tps "$WORK/types.sql" >>"$WORK/types"
  tps "$WORK/bare.sql" >>"$WORK/bare"
  log "  run $r: category_get_types $(tail -1 "$WORK/types") tps, bare SELECT $(tail -1 "$WORK/bare") tps"
done
TYPES="$(median <"$WORK/types")"; BARE="$(median <"$WORK/bare")"

printf 'stream_write_many x10 : %10.0f msg/s\n' "$MANY"
printf 'stream_write (single) : %10.0f msg/s   many/single %.2f\n' "$SINGLE" "$(echo "$MANY / $SINGLE" | bc -l)"
printf 'single + type index   : %10.0f msg/s   cost %.1f %%\n' "$INDEXED" "$(echo "(1 - $INDEXED / $SINGLE) * 100" | bc -l)"
printf 'serial write          : %10.1f us  %6.0f WAL bytes without the type index\n' "$US_PLAIN" "$WAL_PLAIN"
printf 'serial write + index  : %10.1f us  %6.0f WAL bytes (+%.1f %% time, +%.1f %% WAL)\n' "$US_INDEXED" "$WAL_INDEXED" \
  "$(echo "($US_INDEXED / $US_PLAIN - 1) * 100" | bc -l)" "$(echo "($WAL_INDEXED / $WAL_PLAIN - 1) * 100" | bc -l)"
printf 'category_get_types    : %10.1f tps\n' "$TYPES"
printf 'bare indexed SELECT   : %10.1f tps     ratio %.2f (goal >= 0.9)\n' "$BARE" "$(echo "$TYPES / $BARE" | bc -l)"
