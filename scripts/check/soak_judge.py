#!/usr/bin/python3
"""Judges a soak run's samples (CSV: elapsed_s,rss_kb,fds,threads,pg_conns)
for sustained growth and prints the table plus a verdict; exit 1 on growth.

Growth means: after a warm-up (the first 20 % of samples, at least 3), the
smallest value of the last third exceeds the largest value of the first
third by more than a tolerance (RSS: max(16 MiB, 10 %); descriptors: 20;
PostgreSQL connections: 2). A leak keeps every late sample above every
early one; load noise does not. The least-squares slope is reported too.
The baseline sample (idle=2, before any load) and the sample taken after
the load stopped (idle=1) must show the connections gone: descriptors back within 8 of the first sample
(plus the pool's lazily opened database connections).

usage: soak_judge.py samples.csv [--max-pg-conns N]
"""
import csv
import sys


def slope(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def main():
    path = sys.argv[1]
    max_pg = None
    if "--max-pg-conns" in sys.argv:
        max_pg = int(sys.argv[sys.argv.index("--max-pg-conns") + 1])
    rows = list(csv.DictReader(open(path)))
    base = [r for r in rows if r.get("idle", "0") == "2"]
    load = [r for r in rows if r.get("idle", "0") == "0"]
    idle = [r for r in rows if r.get("idle", "0") == "1"]
    print("%8s %10s %6s %8s %9s %s" % ("t(s)", "RSS(MiB)", "fds", "threads", "pg_conns", ""))
    for r in rows:
        print("%8s %10.1f %6s %8s %9s %s" % (r["elapsed_s"], int(r["rss_kb"]) / 1024, r["fds"],
                                             r["threads"], r["pg_conns"],
                                             {"1": "idle", "2": "baseline"}.get(r.get("idle"), "")))
    failures = []
    warm = max(3, len(load) // 5)
    body = load[warm:]
    if len(body) < 6:
        print("judge: only %d samples after warm-up: too short for a growth verdict" % len(body))
    else:
        third = len(body) // 3
        first, last = body[:third], body[-third:]
        for key, tol_abs, tol_rel, unit in (("rss_kb", 16 * 1024, 0.10, "KiB"), ("fds", 20, 0, ""),
                                            ("pg_conns", 2, 0, "")):
            fmax = max(int(r[key]) for r in first)
            lmin = min(int(r[key]) for r in last)
            tol = max(tol_abs, fmax * tol_rel)
            sl = slope([float(r["elapsed_s"]) for r in body], [int(r[key]) for r in body]) * 60
            grew = lmin > fmax + tol
            print("judge: %-8s early max %d, late min %d, slope %+.1f%s/min -> %s"
                  % (key, fmax, lmin, sl, unit and " " + unit, "SUSTAINED GROWTH" if grew else "flat"))
            if grew:
                failures.append(key)
    if max_pg is not None:
        peak = max(int(r["pg_conns"]) for r in rows)
        print("judge: peak PostgreSQL connections %d (limit %d)" % (peak, max_pg))
        if peak > max_pg:
            failures.append("pg_conns above the pool size")
    if idle and (base or load):
        # the pool opens its connections lazily: those are not left-overs
        ref = (base or load)[0]
        f0, fi = int(ref["fds"]), int(idle[-1]["fds"])
        pool = max(0, int(idle[-1]["pg_conns"]) - int(ref["pg_conns"]))
        print("judge: descriptors first %d, after the load stopped %d (%d more pooled database "
              "connections)" % (f0, fi, pool))
        if fi > f0 + pool + 8:
            failures.append("descriptors not released after the load")
    if failures:
        print("judge: FAIL (%s)" % ", ".join(failures))
        sys.exit(1)
    print("judge: PASS")


if __name__ == "__main__":
    main()
