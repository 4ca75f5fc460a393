"""The retention worker (docs/lifecycle.md): on a private cluster whose
eventodb.retention_database names the database, a category maxAge rule is
applied during a write load without any retention_run call - messages are
removed while the load runs, and none older than maxAge + 2 naptimes is left
at its end. Runs scripts/bench/retention-overhead.sh in its shortest form."""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_worker_applies_rules_during_load():
    r = subprocess.run([os.path.join(ROOT, "scripts", "bench", "retention-overhead.sh"), "--runs", "1",
                        "--seconds", "4", "--max-age", "2"],
                       capture_output=True, text=True, timeout=240)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    on = re.search(r"retention=on: [\d.]+ ops/s, (\d+) messages removed during the run.*?, (\d+) older", out)
    off = re.search(r"retention=off: [\d.]+ ops/s, (\d+) messages removed", out)
    assert on and off, out[-4000:]
    assert int(on.group(1)) > 0, out[-4000:]
    assert int(on.group(2)) == 0, out[-4000:]
    assert int(off.group(1)) == 0, out[-4000:]
