#!/usr/bin/python3
"""Side-by-side comparison of two profiles/<timestamp>/ directories (see profile-compare.sh)."""
import json
import os
import sys


def load(d):
    path = os.path.join(d, "summary.json")
    if not os.path.exists(path):
        sys.exit(f"profile-compare: {path} missing (not a profile-baseline directory?)")
    with open(path) as f:
        return json.load(f)


def top_json(d, name):
    try:
        with open(os.path.join(d, f"{name}.top.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def change(a, b, lower_is_better=False):
    if a is None or b is None:
        return "—"
    if a == 0:
        return "—" if b == 0 else "new"
    pct = 100.0 * (b - a) / a
    better = (pct < 0) if lower_is_better else (pct > 0)
    mark = "" if abs(pct) < 2 else (" better" if better else " worse")
    return f"{pct:+.1f}%{mark}"


def fmt(v, nd=1):
    if v is None:
        return "—"
    return f"{v:,.{nd}f}" if isinstance(v, (int, float)) else str(v)


def row(label, a, b, lower=False, nd=1):
    print(f"| {label} | {fmt(a, nd)} | {fmt(b, nd)} | {change(a, b, lower)} |")


def get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def functions(da, db, name, kind, n=12):
    ta, tb = top_json(da, name), top_json(db, name)
    if not ta or not tb or not ta.get("samples") or not tb.get("samples"):
        return
    pa = {f: 100.0 * c / ta["samples"] for f, c in ta[kind].items()}
    pb = {f: 100.0 * c / tb["samples"] for f, c in tb[kind].items()}
    deltas = sorted(((pb.get(f, 0.0) - pa.get(f, 0.0), f) for f in set(pa) | set(pb)), key=lambda x: x[0])
    label = "self" if kind == "self" else "total (inclusive)"
    print(f"\n#### {name}: {label} % of samples, biggest moves\n")
    print("| function | baseline % | optimized % | Δ points |")
    print("|---|---:|---:|---:|")
    shown = [d for d in deltas[:n] if d[0] < -0.2] + [d for d in reversed(deltas[-n:]) if d[0] > 0.2]
    for delta, f in shown:
        print(f"| `{f}` | {pa.get(f, 0.0):.2f} | {pb.get(f, 0.0):.2f} | {delta:+.2f} |")


def main(da, db):
    a, b = load(da), load(db)
    print(f"## Profile comparison\n\nbaseline:  {da} ({get(a, 'env', 'commit')})\n"
          f"optimized: {db} ({get(b, 'env', 'commit')})\n")
    if get(a, "env", "load") != get(b, "env", "load") or get(a, "env", "machine") != get(b, "env", "machine"):
        print("**Warning: the two runs differ in workload or machine; the comparison may not mean much.**\n")
    print("| metric | baseline | optimized | change |")
    print("|---|---:|---:|---:|")
    row("ops/s", get(a, "load", "ops_per_sec"), get(b, "load", "ops_per_sec"))
    row("writes/s", get(a, "load", "writes_per_sec"), get(b, "load", "writes_per_sec"))
    row("reads/s", get(a, "load", "reads_per_sec"), get(b, "load", "reads_per_sec"))
    row("errors", get(a, "load", "errors"), get(b, "load", "errors"), lower=True, nd=0)
    for kind, label in (("latency_ms", "all"), ("write_latency_ms", "write"), ("read_latency_ms", "read")):
        for p in ("avg", "p50", "p90", "p99", "max"):
            row(f"{label} latency {p} (ms)", get(a, "load", kind, p), get(b, "load", kind, p), lower=True, nd=3)
    roles = [r for r in ("gateway", "backend", "walwriter", "checkpointer", "bgwriter", "autovacuum",
                         "pg-other", "postgres (all)")
             if get(a, "cpu", r, "us_per_op") or get(b, "cpu", r, "us_per_op")]
    for r in roles:
        row(f"CPU µs/op: {r}", get(a, "cpu", r, "us_per_op"), get(b, "cpu", r, "us_per_op"), lower=True, nd=2)
    ga = get(a, "cpu", "gateway", "us_per_op") or 0
    gb = get(b, "cpu", "gateway", "us_per_op") or 0
    pa_ = get(a, "cpu", "postgres (all)", "us_per_op") or 0
    pb_ = get(b, "cpu", "postgres (all)", "us_per_op") or 0
    row("CPU µs/op: gateway + postgres", ga + pa_, gb + pb_, lower=True, nd=2)
    hwm_a, hwm_b = get(a, "gateway_mem_kb", "hwm_kb"), get(b, "gateway_mem_kb", "hwm_kb")
    row("gateway peak RSS (MiB)", hwm_a / 1024 if hwm_a else None, hwm_b / 1024 if hwm_b else None, lower=True)
    row("load generator CPU % of a core", get(a, "load", "client_cpu", "percent_of_one_core"),
        get(b, "load", "client_cpu", "percent_of_one_core"), lower=True)
    for name in ("gateway", "postgres"):
        functions(da, db, name, "self")
        functions(da, db, name, "inclusive")
    print("\nOne run each: differences of a few percent are noise (see scripts/README.md, \"Why single runs lie\").")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: profile_compare.py BASELINE_DIR OPTIMIZED_DIR")
    main(sys.argv[1], sys.argv[2])
