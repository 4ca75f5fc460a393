#!/usr/bin/python3
"""Flame graphs and top-function tables from `perf script` output, stdlib only.

Debian packages no FlameGraph scripts, so this does what stackcollapse-perf.pl and
flamegraph.pl do, in one file:

    perf script -i perf.data | flamegraph.py - OUT_PREFIX --title "gateway"

writes OUT_PREFIX.folded (one "root;...;leaf count" line per distinct stack),
OUT_PREFIX.svg (open in a browser; hover a frame for its share), OUT_PREFIX.top.txt
and OUT_PREFIX.top.json (self and inclusive sample shares per function).
"""
import argparse
import html
import json
import re
import sys
import zlib
from collections import Counter

FRAME_RE = re.compile(r"^\s*[0-9a-fA-F]+\s+(.*?)\s+\((.*)\)\s*$")


def frame_name(sym, dso):
    if sym.startswith("[unknown]") or not sym:
        base = dso.rsplit("/", 1)[-1] if dso else ""
        return "[unknown]" if base in ("", "[unknown]") else f"[{base}]"
    sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
    if dso.startswith("[kernel"):
        return sym + "_[k]"
    return sym


def collapse(lines, group_by_comm=True, root_names=None):
    """perf script text -> Counter of 'root;...;leaf' stacks (leaf-first input).
    root_names maps a pid/tid to the root frame (e.g. a Postgres backend's role)."""
    root_names = root_names or {}
    stacks = Counter()
    comm = None
    frames = []

    def flush():
        if comm is not None:
            path = list(reversed(frames))
            if group_by_comm:
                path.insert(0, comm)
            if path:
                stacks[";".join(path)] += 1

    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        if not line[0].isspace():
            flush()
            frames = []
            # "comm pid[/tid] [cpu] time: period event:" - comm may contain spaces
            m = re.match(r"^(.*?)\s+(\d+)(?:/(\d+))?\s", line)
            comm = (m.group(1) if m else line.split()[0]).strip() or "?"
            if m and root_names:
                comm = root_names.get(m.group(2), root_names.get(m.group(3) or "", comm))
            continue
        m = FRAME_RE.match(line)
        if m:
            frames.append(frame_name(m.group(1).strip(), m.group(2)).replace(";", ":"))
    flush()
    return stacks


def top_tables(stacks, limit=40):
    total = sum(stacks.values())
    self_c, incl_c = Counter(), Counter()
    for stack, n in stacks.items():
        frames = stack.split(";")
        self_c[frames[-1]] += n
        for f in set(frames):
            incl_c[f] += n
    return total, self_c, incl_c


def write_top(prefix, stacks, title):
    total, self_c, incl_c = top_tables(stacks)
    with open(prefix + ".top.txt", "w") as f:
        f.write(f"{title}: {total} samples\n\nself %   samples  function (leaf: where the CPU was)\n")
        for fn, n in self_c.most_common(40):
            f.write(f"{100.0 * n / total:6.2f} {n:9d}  {fn}\n")
        f.write("\ntotal %  samples  function (on the stack: what it and its callees cost)\n")
        for fn, n in incl_c.most_common(60):
            f.write(f"{100.0 * n / total:6.2f} {n:9d}  {fn}\n")
    with open(prefix + ".top.json", "w") as f:
        json.dump({"title": title, "samples": total,
                   "self": dict(self_c.most_common(300)),
                   "inclusive": dict(incl_c.most_common(300))}, f, indent=1)


class Node:
    __slots__ = ("name", "value", "children")

    def __init__(self, name):
        self.name, self.value, self.children = name, 0, {}


def build_tree(stacks):
    root = Node("all")
    for stack, n in stacks.items():
        root.value += n
        node = root
        for fr in stack.split(";"):
            node = node.children.setdefault(fr, Node(fr))
            node.value += n
    return root


def color(name):
    h = zlib.crc32(name.encode())
    if name.endswith("_[k]"):
        return f"rgb({200 + h % 55},{120 + h % 60},{40 + h % 30})"
    if name.startswith("["):
        return f"rgb({180 + h % 40},{180 + h % 40},{180 + h % 40})"
    return f"rgb({205 + h % 50},{80 + (h >> 8) % 130},{30 + (h >> 16) % 40})"


def write_svg(path, stacks, title, width=1200, row=16):
    root = build_tree(stacks)
    total = root.value or 1

    def depth(n):
        return 1 + max((depth(c) for c in n.children.values()), default=0)

    levels = depth(root)
    pad_top, pad_bottom = 40, 10
    height = pad_top + levels * row + pad_bottom
    scale = (width - 20) / total
    out = [f'<?xml version="1.0" standalone="no"?>\n'
           f'<svg version="1.1" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" '
           f'font-family="Verdana,sans-serif" font-size="11">\n'
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f8f8f8"/>\n'
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{html.escape(title)}</text>\n'
           f'<text x="10" y="34" font-size="10" fill="#555">{total} samples; width = share of CPU samples, '
           f'bottom = outermost caller; hover for details</text>\n']

    def emit(node, x, level):
        w = node.value * scale
        if w < 0.3:
            return
        y = height - pad_bottom - (level + 1) * row
        pct = 100.0 * node.value / total
        label = html.escape(node.name)
        out.append(f'<g><title>{label} ({node.value} samples, {pct:.2f}%)</title>'
                   f'<rect x="{x + 10:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" rx="2" '
                   f'fill="{color(node.name)}"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = node.name if len(node.name) <= chars else node.name[: chars - 2] + ".."
            out.append(f'<text x="{x + 13:.1f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>\n")
        cx = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            emit(child, cx, level + 1)
            cx += child.value * scale

    emit(root, 0.0, 0)
    out.append("</svg>\n")
    with open(path, "w") as f:
        f.writelines(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="perf script output, or - for stdin")
    ap.add_argument("prefix", help="output path prefix")
    ap.add_argument("--title", default="CPU flame graph")
    ap.add_argument("--no-comm", action="store_true", help="do not root stacks at the process name")
    ap.add_argument("--root-map", help='file of "pid name" lines: root frame per process instead of comm')
    args = ap.parse_args()
    roots = {}
    if args.root_map:
        with open(args.root_map) as f:
            for line in f:
                parts = line.split(None, 1)
                if len(parts) == 2:
                    roots[parts[0]] = parts[1].strip()
    src = sys.stdin if args.input == "-" else open(args.input, errors="replace")
    stacks = collapse(src, group_by_comm=not args.no_comm, root_names=roots)
    with open(args.prefix + ".folded", "w") as f:
        for stack, n in sorted(stacks.items()):
            f.write(f"{stack} {n}\n")
    write_top(args.prefix, stacks, args.title)
    write_svg(args.prefix + ".svg", stacks, args.title)
    print(f"{args.prefix}: {sum(stacks.values())} samples, {len(stacks)} distinct stacks", file=sys.stderr)


if __name__ == "__main__":
    main()
