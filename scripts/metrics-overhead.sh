#!/usr/bin/env bash
# Cost of scraping GET /metrics during the reference load test
# (scripts/load-test defaults: 10 workers, 90 % stream.write): runs with and
# without a scraper at --rate scrapes/s alternate (off/on, then on/off) on
# one private cluster and gateway; prints each run and the medians.
#
#   scripts/metrics-overhead.sh [--runs N] [--seconds S] [--rate R]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"

RUNS=4 SECONDS_PER_RUN=20 RATE=100
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

# A scraper as Prometheus is one: a keep-alive connection, one GET every 1/RATE s.
scraper() {
  python3 - "$HTTP_PORT" "$RATE" "$1" <<'PY'
import http.client, signal, sys, time
port, rate, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
stop = False
def end(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, end)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
n = bad = size = 0
next_t = time.monotonic()
while not stop:
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    body = r.read()
    n += 1
    size = len(body)
    bad += r.status != 200
    next_t += 1.0 / rate
    d = next_t - time.monotonic()
    if d > 0:
        time.sleep(d)
with open(out, "w") as f:
    f.write("%d %d %d\n" % (n, bad, size))
PY
}

run_load() {  # mode -> ops/s
  local mode="$1" spid=""
  if [ "$mode" = on ]; then
    scraper "$WORK/scrapes" & spid=$!
    sleep 0.5
  fi
  "$ROOT/scripts/load-test" --url "$URL" --token "$DEFAULT_TOKEN" --duration "$SECONDS_PER_RUN" \
    --warmup 2 --progress 0 --json "$WORK/lt.json" >/dev/null 2>&1
  if [ -n "$spid" ]; then
    kill -TERM "$spid"; wait "$spid" || true
    read -r n bad size <"$WORK/scrapes"
    echo "  scraper: $n scrapes ($bad not 200), $size bytes each" >&2
  fi
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ops_per_sec"])' "$WORK/lt.json"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

OFF="" ON=""
for run in $(seq "$RUNS"); do
  order="off on"; [ $((run % 2)) -eq 0 ] && order="on off"
  for mode in $order; do
    ops="$(run_load "$mode")"
    echo "run $run scrape=$mode: $ops ops/s" >&2
    if [ "$mode" = on ]; then ON+="$ops "; else OFF+="$ops "; fi
  done
done
off_m="$(echo $OFF | tr ' ' '\n' | median)"
on_m="$(echo $ON | tr ' ' '\n' | median)"
printf '\n| reference load test (%d runs x %ds each) | ops/s, median | runs |\n|---|---:|---|\n' "$RUNS" "$SECONDS_PER_RUN"
printf '| without scraping | %s | %s|\n| scraping /metrics %s/s | %s | %s|\n' "$off_m" "$OFF" "$RATE" "$on_m" "$ON"
awk -v a="$off_m" -v b="$on_m" 'BEGIN { printf "\nscraping costs %.2f %% of the throughput (median vs median)\n", (a - b) * 100 / a }'
