#!/usr/bin/env bash
# Gateway overhead: requests/s of stream.write and stream.get through HTTP
# (scripts/tools/load-test, keep-alive) versus the same SQL calls issued directly by
# pgbench (-M prepared), at the same concurrency, interleaved run by run on one
# private cluster; prints medians and the ratio HTTP/direct (target >= 0.85).
#
#   scripts/bench/gateway-overhead.sh [--clients N] [--seconds S] [--runs R]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=bench_lib.sh
. "$ROOT/scripts/bench/bench_lib.sh"

CLIENTS=10 SECONDS_PER_RUN=10 RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) CLIENTS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: $0 [--clients N] [--seconds S] [--runs R]" >&2; exit 2 ;;
  esac
done

private_stack overhead 25530 overhead
HTTP_PORT="$(free_port 18180)"
start_gateway "$ROOT/gateway/eventodb" "$HTTP_PORT" overhead "$PGHOST" "$PGPORT" "$WORK/gateway.log"
URL="http://127.0.0.1:$HTTP_PORT"

pgbench_tps() {
  pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -f "$1" overhead 2>/dev/null |
    awk '/^tps = / { printf "%d\n", $3 }'
}
http_ops() {
  "$ROOT/scripts/tools/load-test" --url "$URL" --token "$DEFAULT_TOKEN" --workers "$CLIENTS" \
    --duration "$SECONDS_PER_RUN" --write-ratio "$1" --streams 100 --prefix ovh \
    --progress 0 --json "$WORK/lt.json" >/dev/null 2>&1
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(d.get("ops_per_sec", d.get("ops_s", 0))))' "$WORK/lt.json"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Seed 100 streams so that reads return full batches of 10.
"$ROOT/scripts/tools/load-test" --url "$URL" --token "$DEFAULT_TOKEN" --workers 4 --duration 3 \
  --write-ratio 1 --streams 100 --prefix ovh --progress 0 >/dev/null 2>&1

declare -A R
for run in $(seq "$RUNS"); do
  R[ws]+="$(pgbench_tps "$ROOT/scripts/bench/pgbench/direct-stream-write.sql") "
  R[wh]+="$(http_ops 1) "
  R[rs]+="$(pgbench_tps "$ROOT/scripts/bench/pgbench/direct-stream-get.sql") "
  R[rh]+="$(http_ops 0) "
  echo "run $run/$RUNS done" >&2
done

printf '\n| operation (%d clients, median of %d x %ds) | direct SQL (pgbench) | through HTTP | HTTP/direct |\n|---|---:|---:|---:|\n' \
  "$CLIENTS" "$RUNS" "$SECONDS_PER_RUN"
for op in w r; do
  s="$(echo ${R[${op}s]} | tr ' ' '\n' | median)"
  h="$(echo ${R[${op}h]} | tr ' ' '\n' | median)"
  name=$([ "$op" = w ] && echo "stream.write" || echo "stream.get batch 10")
  awk -v n="$name" -v s="$s" -v h="$h" 'BEGIN { printf "| %s | %d | %d | %.2f |\n", n, s, h, (s > 0 ? h / s : 0) }'
done
