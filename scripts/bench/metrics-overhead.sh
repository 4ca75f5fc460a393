#!/usr/bin/env bash
# Cost of scraping GET /metrics during the reference load test
# (scripts/tools/load-test defaults: 10 workers, 90 % stream.write): runs with and
# without a scraper at --rate scrapes/s alternate (off/on, then on/off) on
# one private cluster and gateway; curl is the scraper (one keep-alive
# connection, paced by --rate). Prints each run, the medians, the ratio of
# each adjacent pair, the gateway's CPU per operation in both modes, and the
# gateway CPU one scrape costs (2000 back-to-back scrapes of an idle
# gateway). On a shared machine single runs swing far more than 2 %; the CPU
# figures are the stable measure.
#
#   scripts/bench/metrics-overhead.sh [--runs N] [--seconds S] [--rate R]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=bench_lib.sh
. "$ROOT/scripts/bench/bench_lib.sh"

RUNS=4 SECONDS_PER_RUN=20 RATE=100
# SCRAPE_PATH=/health runs the same client against an endpoint that renders
# nothing: what the scraping client and one HTTP request a time cost alone.
SCRAPE_PATH="${SCRAPE_PATH:-/metrics}"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--seconds S] [--rate R]" >&2; exit 2 ;;
  esac
done

private_stack metrics 25560 metrics
HTTP_PORT="$(free_port 18280)"
start_gateway "$ROOT/gateway/eventodb" "$HTTP_PORT" metrics "$PGHOST" "$PGPORT" "$WORK/gateway.log"
URL="http://127.0.0.1:$HTTP_PORT"

# A scraper as Prometheus is one: one keep-alive connection, RATE GETs a
# second (curl paces itself; the query string only makes the URLs distinct).

run_load() {  # mode -> "ops/s gateway-µs/op"
  local mode="$1" spid="" t0 t1
  if [ "$mode" = on ]; then
    curl -s --rate "$RATE/s" -o /dev/null -w '%{http_code} %{size_download}\n' \
      "$URL$SCRAPE_PATH?[1-10000000]" >"$WORK/scrapes" & spid=$!
    sleep 0.5
  fi
  t0="$(proc_ticks "$GW_PID")"
  "$ROOT/scripts/tools/load-test" --url "$URL" --token "$DEFAULT_TOKEN" --duration "$SECONDS_PER_RUN" \
    --warmup 2 --progress 0 --json "$WORK/lt.json" >/dev/null 2>&1
  t1="$(proc_ticks "$GW_PID")"
  if [ -n "$spid" ]; then
    kill -TERM "$spid"; wait "$spid" || true
    # the transfer cut off by the kill reads 000
    awk '$1 == 200 { n++; size = $2 } $1 != 200 && $1 != "000" { bad++ }
         END { printf "  scraper: %d scrapes answered 200 (%d other), %d bytes each\n", n, bad, size }' \
      "$WORK/scrapes" >&2
  fi
  # gateway CPU over warm-up and measurement, per operation of the measurement
  python3 -c 'import json,sys,os
d = json.load(open(sys.argv[1]))
ticks = (int(sys.argv[3]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK")
secs = d["elapsed_s"] + 2
print(d["ops_per_sec"], round(ticks * 1e6 / (d["ops_per_sec"] * secs), 1))' "$WORK/lt.json" "$t0" "$t1"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

OFF="" ON="" OFF_CPU="" ON_CPU="" RATIOS=""
for run in $(seq "$RUNS"); do
  order="off on"; [ $((run % 2)) -eq 0 ] && order="on off"
  for mode in $order; do
    read -r ops cpu <<<"$(run_load "$mode")"
    echo "run $run scrape=$mode: $ops ops/s, gateway $cpu us CPU/op" >&2
    if [ "$mode" = on ]; then ON+="$ops " ON_CPU+="$cpu " on_ops="$ops"; else OFF+="$ops " OFF_CPU+="$cpu " off_ops="$ops"; fi
  done
  RATIOS+="$(awk -v a="$off_ops" -v b="$on_ops" 'BEGIN { printf "%.4f", b / a }') "
done

# The gateway CPU of one scrape, on an idle gateway.
t0="$(proc_ticks "$GW_PID")"
python3 - "$HTTP_PORT" <<'PY'
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for _ in range(2000):
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    r.read()
    assert r.status == 200
PY
t1="$(proc_ticks "$GW_PID")"
per_scrape="$(python3 -c 'import os,sys; print(round((int(sys.argv[2]) - int(sys.argv[1])) / os.sysconf("SC_CLK_TCK") * 1e6 / 2000, 1))' "$t0" "$t1")"

m() { echo "$1" | tr ' ' '\n' | grep . | median; }
printf '\n| reference load test (%d runs x %ds each, alternating) | ops/s, median | runs | gateway CPU/op, median |\n|---|---:|---|---:|\n' \
  "$RUNS" "$SECONDS_PER_RUN"
printf '| without scraping | %s | %s| %s us |\n' "$(m "$OFF")" "$OFF" "$(m "$OFF_CPU")"
printf '| scraping %s %s/s | %s | %s| %s us |\n' "$SCRAPE_PATH" "$RATE" "$(m "$ON")" "$ON" "$(m "$ON_CPU")"
awk -v a="$(m "$OFF")" -v b="$(m "$ON")" 'BEGIN { printf "\nthroughput with scraping / without: %.3f (medians)\n", b / a }'
echo "per pair (on/off, adjacent runs): $RATIOS-> median $(m "$RATIOS")"
echo "one scrape costs the gateway $per_scrape us of CPU: at $RATE/s $(python3 -c "print(round($per_scrape * $RATE / 1e4, 3))") % of one core"
