#!/usr/bin/env bash
# SSE fan-out benchmark: for each mode (stream, category, all) and subscriber count
# (0, 1, 100, 1000) it runs scripts/tools/load-test in the background as write load and
# scripts/tools/sse-fanout to subscribe and time probe pokes (see sse-fanout.c for what
# "send -> poke" and "ack -> poke" mean), and reads the gateway's CPU and memory.
# The 0-subscriber row is the gateway's cost of the load alone.
#
#   FANOUT_MODES="stream category all"  FANOUT_SIZES="0 1 100 1000"
#   FANOUT_SECONDS=20       probe seconds per cell     FANOUT_PROBE_RATE=20  probes/s
#   FANOUT_LOAD_RATE=200    background ops/s (load-test --rate; 0 = flat out, reference mix)
#   FANOUT_URL + FANOUT_GATEWAY_PID + EVENTODB_TOKEN   use a running gateway; otherwise one
#                           is started on the scripts/cluster.sh cluster (database
#                           eventodb_fanout, port EVENTODB_FANOUT_PORT=18081)
# Results: stdout and bench/results/sse-fanout.md (+ bench/results/sse-fanout-<stamp>/
# with one JSON and text report per cell).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
. "$ROOT/scripts/bench/bench_lib.sh"

MODES="${FANOUT_MODES:-stream category all}"
SIZES="${FANOUT_SIZES:-0 1 100 1000}"
SECS="${FANOUT_SECONDS:-20}"
PROBE_RATE="${FANOUT_PROBE_RATE:-20}"
LOAD_RATE="${FANOUT_LOAD_RATE:-200}"
OUT="$ROOT/bench/results/sse-fanout-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"

make -s -C "$ROOT/scripts/tools" load-test sse-fanout

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
GW_PID=""
if [ -n "${FANOUT_URL:-}" ]; then
  URL="$FANOUT_URL"
  GW_PID="${FANOUT_GATEWAY_PID:-}"
  : "${EVENTODB_TOKEN:?EVENTODB_TOKEN must be set with FANOUT_URL}"
else
  [ -x "$ROOT/gateway/eventodb" ] || make -s -C "$ROOT/gateway"
  "$ROOT/scripts/cluster.sh" start >&2
  eval "$("$ROOT/scripts/cluster.sh" env)"
  restart_if_stale_extension "$PGDATA_DIR"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS eventodb_fanout WITH (FORCE)"
  "$ROOT/scripts/cluster.sh" createdb eventodb_fanout >&2
  PORT="${EVENTODB_FANOUT_PORT:-$(free_port 18081)}"
  URL="http://127.0.0.1:$PORT"
  OWN_GATEWAY=1
  trap 'stop_pid "$GW_PID"' EXIT
  export EVENTODB_TOKEN="$DEFAULT_TOKEN"
fi

# Our own gateway is restarted for every cell so that memory readings start clean.
fresh_gateway() {
  [ -n "${OWN_GATEWAY:-}" ] || return 0
  stop_pid "$GW_PID"
  start_gateway "$ROOT/gateway/eventodb" "$PORT" eventodb_fanout "$EVENTODB_PG_SOCKET" "$PGPORT" "$OUT/gateway.log"
}

for mode in $MODES; do
  for n in $SIZES; do
    echo "sse-fanout-bench: $mode x $n" >&2
    fresh_gateway
    # The load runs a little longer than the probing, which starts once all are subscribed.
    "$ROOT/scripts/tools/load-test" --url "$URL" --duration $((SECS + 15)) --rate "$LOAD_RATE" --progress 0 \
      --json "$OUT/load-$mode-$n.json" >/dev/null 2>&1 &
    load_pid=$!
    sleep 2
    "$ROOT/scripts/tools/sse-fanout" --url "$URL" --mode "$mode" --subscribers "$n" --duration "$SECS" \
      --probe-rate "$PROBE_RATE" ${GW_PID:+--gateway-pid "$GW_PID"} --json "$OUT/$mode-$n.json" \
      >"$OUT/$mode-$n.txt" 2>&1 || echo "sse-fanout-bench: $mode x $n failed, see $OUT/$mode-$n.txt" >&2
    stop_pid "$load_pid"
    wait "$load_pid" 2>/dev/null || true
  done
done

/usr/bin/python3 - "$OUT" "$LOAD_RATE" "$PROBE_RATE" "$SECS" <<'EOF' | tee "$ROOT/bench/results/sse-fanout.md"
import glob, json, os, sys
out, load_rate, probe_rate, secs = sys.argv[1:5]
rows = []
for path in glob.glob(os.path.join(out, "*.json")):
    name = os.path.basename(path)
    if name.startswith("load-"):
        continue
    with open(path) as f:
        r = json.load(f)
    try:
        with open(os.path.join(out, f"load-{r['mode']}-{r['subscribers']}.json")) as f:
            r["load_ops"] = json.load(f).get("ops_per_sec")
    except (OSError, ValueError):
        r["load_ops"] = None
    rows.append(r)
order = {"stream": 0, "category": 1, "all": 2}
rows.sort(key=lambda r: (order.get(r["mode"], 9), r["subscribers"]))
print(f"# SSE fan-out\n\nBackground load {'flat out' if load_rate == '0' else load_rate + ' ops/s'} "
      f"(load-test reference mix), {probe_rate} probe writes/s for {secs} s per row.\n")
print("| mode | subscribers | delivered | send→poke p50 / p99 ms | ack→poke p50 / p99 ms | "
      "send→last subscriber p50 / p99 ms | gateway CPU % | RSS idle-subscribed MiB | KiB per subscriber | peak RSS MiB | threads | load ops/s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    g = r["gateway"]
    n = r["subscribers"]
    kib = (g["rss_kb_idle_subscribed"] - g["rss_kb_before"]) / n if n and g["rss_kb_before"] > 0 else None
    d = lambda k: f"{r[k]['p50']:.2f} / {r[k]['p99']:.2f}" if r[k]["n"] else "—"
    deliv = f"{100 * r['delivery_ratio']:.1f} %" if r["expected_pokes"] else "—"
    print(f"| {r['mode']} | {n} | {deliv} | {d('send_to_poke_ms')} | {d('ack_to_poke_ms')} | "
          f"{d('send_to_last_subscriber_ms')} | {g['cpu_percent']:.1f} | {g['rss_kb_idle_subscribed'] / 1024:.1f} | "
          f"{'—' if kib is None else f'{kib:.0f}'} | {g['rss_kb_peak'] / 1024:.1f} | {g.get('threads_subscribed', '—')} | "
          f"{'—' if r['load_ops'] is None else round(r['load_ops'])} |")
print("\nsend→poke: probe write sent → poke received (includes the write's own latency); ack→poke: write's "
      "response → poke (negative when the poke arrived first); last subscriber: until every subscriber had it. "
      "Gateway CPU includes serving the background load (compare with the 0-subscriber row).")
EOF
