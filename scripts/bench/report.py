#!/usr/bin/python3
"""Turns bench.sh's raw runs (CSV) into the markdown table of medians and ratios."""
import csv
import statistics
import sys
from collections import OrderedDict

SECTIONS = [("read", "Reads (Message DB face)"), ("gateway", "Reads (gateway entry points)"),
            ("write", "Writes")]


def median(values):
    nums = [float(v) for v in values if v not in ("", "err")]
    return statistics.median(nums) if nums else None


def spread(values):
    nums = [float(v) for v in values if v not in ("", "err")]
    if len(nums) < 2:
        return None
    m = statistics.median(nums)
    return 100.0 * (max(nums) - min(nums)) / m if m else None


def fmt_tps(v):
    return "—" if v is None else f"{v:,.0f}"


def ratio(a, b):
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def main(path):
    cells = OrderedDict()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            key = (row["section"], row["id"], row["what"], int(row["clients"]))
            cells.setdefault(key, {}).setdefault(row["impl"], []).append(row["tps"])
    for section, title in SECTIONS:
        rows = [(k, v) for k, v in cells.items() if k[0] == section]
        if not rows:
            continue
        print(f"### {title}\n")
        print("| workload | clients | ours tps | limit tps | Message DB tps | ours/limit | MDB/limit | ours/MDB | spread |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (_, _, what, clients), impls in rows:
            ours, limit, mdb = (median(impls.get(i, [])) for i in ("ours", "limit", "messagedb"))
            spreads = [s for s in (spread(impls.get(i, [])) for i in impls) if s is not None]
            sp = f"±{max(spreads) / 2:.0f}%" if spreads else "—"
            errs = sum(v.count("err") for v in impls.values())
            note = f" ({errs} failed)" if errs else ""
            print(f"| {what}{note} | {clients} | {fmt_tps(ours)} | {fmt_tps(limit)} | {fmt_tps(mdb)} | "
                  f"{ratio(ours, limit)} | {ratio(mdb, limit)} | {ratio(ours, mdb)} | {sp} |")
        print()
    print("spread = half the widest (max − min) / median over the runs of any column of the row.")


if __name__ == "__main__":
    main(sys.argv[1])
