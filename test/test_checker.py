"""docs/architecture.md#invariants invariants 1, 2 and 5 under real concurrency: scripts/check/checker.sh
(test/checker.py) in its short form, once per write mode - the preloaded
project cluster (commit horizon), a throw-away cluster with
eventodb.write_mode = category_lock, and one without preloading (the
fallback). Each run: concurrent writers with aborts and random commit
delays, category pagers (incl. the whole namespace), a LISTEN session; it
fails on any skipped message, duplicate, gap in stream positions, inexact
expected version, poke for an aborted or imported write, or committed write
never poked. Longer runs: scripts/check/checker.sh --seconds 120 --writers 16.
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("mode", ["horizon", "category_lock", "nopreload"])
def test_checker(mode):
    r = subprocess.run([os.path.join(ROOT, "scripts", "check", "checker.sh"), "--mode", mode, "--short"],
                       capture_output=True, text=True, timeout=120)
    print(r.stdout[-4000:], r.stderr[-2000:])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "all checks passed" in r.stdout


def test_checker_with_retention():
    """The same with retention passes and soft deletes in the mix (docs/lifecycle.md):
    no surviving message skipped, versions exact, rules honoured."""
    r = subprocess.run([os.path.join(ROOT, "scripts", "check", "checker.sh"), "--mode", "horizon", "--short",
                        "--retention"], capture_output=True, text=True, timeout=120)
    print(r.stdout[-4000:], r.stderr[-2000:])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "all checks passed" in r.stdout and '"retention"' in r.stdout
