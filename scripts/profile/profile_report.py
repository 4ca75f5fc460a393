#!/usr/bin/python3
"""Summarises one profiles/<timestamp>/ directory: summary.json (read by
profile-compare) and README.md (for people)."""
import json
import os
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")
ROLE_ORDER = ["gateway", "backend", "walwriter", "checkpointer", "bgwriter", "autovacuum",
              "replication", "pg-other", "postmaster"]


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_snapshot(path):
    snap = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    snap[parts[0]] = (parts[1], int(parts[2]))
    except OSError:
        pass
    return snap


def cpu_by_role(out, ops, elapsed):
    before, after = read_snapshot(f"{out}/cpu-before.txt"), read_snapshot(f"{out}/cpu-after.txt")
    roles = {}
    for pid, (role, ticks) in after.items():
        delta = ticks - before.get(pid, (role, 0))[1]  # processes born during the run start at 0
        r = roles.setdefault(role, {"ticks": 0, "processes": 0})
        r["ticks"] += delta
        r["processes"] += 1
    result = {}
    pg_total = 0
    for role, r in roles.items():
        cpu_s = r["ticks"] / CLK_TCK
        if role != "gateway":
            pg_total += cpu_s
        result[role] = {"cpu_s": round(cpu_s, 3), "processes": r["processes"]}
    result["postgres (all)"] = {"cpu_s": round(pg_total, 3),
                                "processes": sum(r["processes"] for k, r in roles.items() if k != "gateway")}
    for r in result.values():
        r["percent_of_one_core"] = round(100.0 * r["cpu_s"] / elapsed, 1) if elapsed else None
        r["us_per_op"] = round(1e6 * r["cpu_s"] / ops, 2) if ops else None
    return result


def read_mem(out):
    mem = {}
    try:
        with open(f"{out}/gateway-mem.txt") as f:
            for line in f:
                k, _, v = line.partition(" ")
                if v.strip().isdigit():
                    mem[k] = int(v)
    except OSError:
        pass
    return mem


def top(out, name, n=15):
    t = read_json(f"{out}/{name}.top.json")
    if not t or not t.get("samples"):
        return None
    total = t["samples"]
    pick = lambda d: [[fn, round(100.0 * c / total, 2)] for fn, c in list(d.items())[:n]]
    return {"samples": total, "self": pick(t["self"]), "inclusive": pick(t["inclusive"])}


def lat_row(label, lat):
    if not lat:
        return f"| {label} | — | — | — | — | — | — |"
    return (f"| {label} | {lat['avg']:.3f} | {lat['p50']:.3f} | {lat['p90']:.3f} | {lat['p99']:.3f} | "
            f"{lat['p999']:.3f} | {lat['max']:.3f} |")


def main(out):
    load = read_json(f"{out}/load.json") or {}
    ops, elapsed = load.get("ops", 0), load.get("elapsed_s", 0)
    env = {}
    try:
        with open(f"{out}/env.txt") as f:
            for line in f:
                k, _, v = line.partition(": ")
                env[k] = v.strip()
    except OSError:
        pass
    summary = {
        "env": env,
        "load": {k: load.get(k) for k in ("ops", "elapsed_s", "ops_per_sec", "writes", "writes_per_sec", "reads",
                                         "reads_per_sec", "errors", "latency_ms", "write_latency_ms",
                                         "read_latency_ms", "client_cpu", "config")},
        "load_under_perf": {k: (read_json(f"{out}/load-perf.json") or {}).get(k) for k in ("ops_per_sec", "errors")},
        "cpu": cpu_by_role(out, ops, elapsed),
        "gateway_mem_kb": read_mem(out),
        "top": {name: top(out, name) for name in ("gateway", "postgres")},
    }
    with open(f"{out}/summary.json", "w") as f:
        json.dump(summary, f, indent=1)

    L = []
    L.append(f"# Profile {os.path.basename(os.path.abspath(out))}\n")
    for k, v in env.items():
        L.append(f"- {k}: {v}")
    L.append("\n## Load (measured run, no profiler attached)\n")
    if load:
        L.append(f"{load.get('ops_per_sec', 0):.0f} ops/s ({load.get('writes_per_sec', 0):.0f} writes/s, "
                 f"{load.get('reads_per_sec', 0):.0f} reads/s) over {elapsed:.1f} s, {load.get('errors')} errors; "
                 f"load generator CPU {load.get('client_cpu', {}).get('percent_of_one_core')} % of one core.\n")
        L.append("| latency ms | avg | p50 | p90 | p99 | p99.9 | max |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        L.append(lat_row("all", load.get("latency_ms")))
        L.append(lat_row("stream.write", load.get("write_latency_ms")))
        L.append(lat_row("stream.get", load.get("read_latency_ms")))
    else:
        L.append("No load results (load.json missing): see load.txt and gateway.log.")
    L.append("\n## CPU per operation (measured run)\n")
    L.append("| process | processes | CPU s | % of one core | µs CPU per op |")
    L.append("|---|---:|---:|---:|---:|")
    cpu = summary["cpu"]
    for role in ROLE_ORDER + ["postgres (all)"]:
        if role in cpu:
            r = cpu[role]
            L.append(f"| {role} | {r['processes']} | {r['cpu_s']:.2f} | {r['percent_of_one_core']} | {r['us_per_op']} |")
    mem = summary["gateway_mem_kb"]
    if mem:
        L.append(f"\nGateway memory after the measured run: RSS {mem.get('rss_kb', 0) / 1024:.1f} MiB, "
                 f"peak (VmHWM) {mem.get('hwm_kb', 0) / 1024:.1f} MiB, {mem.get('threads')} threads.")
    L.append("\n## Where the CPU goes (profiled run)\n")
    if os.path.exists(f"{out}/perf-unavailable.txt"):
        L.append("perf was unavailable or not permitted; no profiles were recorded.")
    lp = summary["load_under_perf"]
    if lp.get("ops_per_sec"):
        L.append(f"Under perf the load ran at {lp['ops_per_sec']:.0f} ops/s (profiling costs throughput; "
                 f"quote the measured run above).\n")
    for name, title in (("gateway", "Gateway"), ("postgres", "PostgreSQL")):
        t = summary["top"][name]
        if not t:
            continue
        L.append(f"### {title}: [{name}.svg]({name}.svg), {t['samples']} samples "
                 f"(full tables: {name}.top.txt)\n")
        L.append("| self % | function | | total % | function |")
        L.append("|---:|---|---|---:|---|")
        for i in range(max(len(t["self"]), len(t["inclusive"]))):
            s = t["self"][i] if i < len(t["self"]) else ["", ""]
            c = t["inclusive"][i] if i < len(t["inclusive"]) else ["", ""]
            L.append(f"| {s[1]} | `{s[0]}` | | {c[1]} | `{c[0]}` |")
        L.append("")
    L.append("Self % = samples where the function itself was running; total % = samples with the function "
             "anywhere on the stack. `[postgres]` = a static function of the stripped server binary.")
    with open(f"{out}/README.md", "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
