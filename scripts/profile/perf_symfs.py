#!/usr/bin/python3
"""Keeps perf able to name functions of libraries replaced during a profile.

When a shared library is reinstalled while a process has it mapped (another
`make install` of the extension, say), the process keeps the old file, the path
now reads "... (deleted)" and `perf script` shows its frames as
[eventodb.so (deleted)]. While the process lives, /proc/<pid>/map_files still
opens the old file. This copies every such file into a directory that mirrors /
(symlinks everywhere else) under the name perf looks for, for
`perf script --symfs DIR`. Prints DIR, or nothing when no mapping is deleted.

    perf_symfs.py DIR PID...
"""
import os
import shutil
import sys

SUFFIX = " (deleted)"


def deleted_mappings(pid):
    """path -> address range of one of its mappings (any opens the whole file)."""
    found = {}
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                parts = line.rstrip("\n").split(None, 5)
                if len(parts) == 6 and parts[5].endswith(SUFFIX) and parts[5].startswith("/"):
                    found.setdefault(parts[5], parts[0])
    except OSError:
        pass
    return found


def real_dir(root, rel_dir):
    """Make root/rel_dir a real directory whose other entries link to the real ones."""
    cur_real, cur_mirror = "/", root
    os.makedirs(root, exist_ok=True)
    populate(cur_mirror, cur_real)
    for comp in [c for c in rel_dir.split("/") if c]:
        cur_real = os.path.join(cur_real, comp)
        cur_mirror = os.path.join(cur_mirror, comp)
        if os.path.islink(cur_mirror):
            os.unlink(cur_mirror)
        if not os.path.isdir(cur_mirror):
            os.mkdir(cur_mirror)
            populate(cur_mirror, cur_real)
    return cur_mirror


def populate(mirror, real):
    try:
        entries = os.listdir(real)
    except OSError:
        return
    for e in entries:
        target = os.path.join(mirror, e)
        if not os.path.lexists(target):
            os.symlink(os.path.join(real, e), target)


def main():
    root, pids = sys.argv[1], sys.argv[2:]
    done = set()
    for pid in pids:
        for path, rng in deleted_mappings(pid).items():
            if path in done:
                continue
            d = real_dir(root, os.path.dirname(path))
            try:
                shutil.copyfile(f"/proc/{pid}/map_files/{rng}", os.path.join(d, os.path.basename(path)))
                done.add(path)
            except OSError as e:
                print(f"perf_symfs: cannot recover {path}: {e}", file=sys.stderr)
    if done:
        print(root)


if __name__ == "__main__":
    main()
