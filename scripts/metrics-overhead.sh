#!/usr/bin/env bash
# Cost of scraping GET /metrics during the reference load test
# (scripts/load-test defaults: 10 workers, 90 % stream.write): runs with and
# without a scraper at --rate scrapes/s alternate (off/on, then on/off) on
# one private cluster and gateway; prints each run and the medians, the
# gateway's CPU per operation in both modes, and the gateway CPU one scrape
# costs (2000 back-to-back scrapes of an idle gateway). On a shared machine
# the throughput of single runs swings far more than 2 %; the CPU figures
# are the stable measure.
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
cat >"$WORK/scraper.py" <<'PY'
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

run_load() {  # mode -> "ops/s gateway-µs/op"
  local mode="$1" spid="" t0 t1
  if [ "$mode" = on ]; then
    python3 "$WORK/scraper.py" "$HTTP_PORT" "$RATE" "$WORK/scrapes" & spid=$!
    sleep 0.5
  fi
  t0="$(proc_ticks "$GW_PID")"
  "$ROOT/scripts/load-test" --url "$URL" --token "$DEFAULT_TOKEN" --duration "$SECONDS_PER_RUN" \
    --warmup 2 --progress 0 --json "$WORK/lt.json" >/dev/null 2>&1
  t1="$(proc_ticks "$GW_PID")"
  if [ -n "$spid" ]; then
    kill -TERM "$spid"; wait "$spid" || true
    read -r n bad size <"$WORK/scrapes"
    echo "  scraper: $n scrapes ($bad not 200), $size bytes each" >&2
  fi
  # gateway CPU over warm-up and measurement, per operation of the measurement
  python3 -c 'import json,sys,os
d = json.load(open(sys.argv[1]))
ticks = (int(sys.argv[3]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK")
secs = d["elapsed_s"] + 2
print(d["ops_per_sec"], round(ticks * 1e6 / (d["ops_per_sec"] * secs), 1))' "$WORK/lt.json" "$t0" "$t1"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

OFF="" ON="" OFF_CPU="" ON_CPU=""
for run in $(seq "$RUNS"); do
  order="off on"; [ $((run % 2)) -eq 0 ] && order="on off"
  for mode in $order; do
    read -r ops cpu <<<"$(run_load "$mode")"
    echo "run $run scrape=$mode: $ops ops/s, gateway $cpu us CPU/op" >&2
    if [ "$mode" = on ]; then ON+="$ops " ON_CPU+="$cpu "; else OFF+="$ops " OFF_CPU+="$cpu "; fi
  done
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
printf '| scraping /metrics %s/s | %s | %s| %s us |\n' "$RATE" "$(m "$ON")" "$ON" "$(m "$ON_CPU")"
awk -v a="$(m "$OFF")" -v b="$(m "$ON")" 'BEGIN { printf "\nthroughput with scraping / without: %.3f (medians)\n", b / a }'
echo "one scrape costs the gateway $per_scrape us of CPU: at $RATE/s $(python3 -c "print(round($per_scrape * $RATE / 1e4, 3))") % of one core"
