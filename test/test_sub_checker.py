"""Persistent subscriptions under faults (docs/subscriptions.md#how-messages-are-handed-out, issue 10):
scripts/check/sub-checker.sh (test/sub_checker.py) in its short form, on a private
throw-away cluster - writers with random commit delays, competing consumers
on a pinned and a roundRobin subscription that ack, batch-ack, nack
(retry/park/skip), drop, ack late or twice, crash and are killed -9, and a
kill -9 of the PostgreSQL postmaster in the middle; the HTTP variant puts two
of three consumers on the gateway (fetch with and without waitMs) and also
kills the gateway. Each run fails on any lost, doubly completed, wrongly
parked, out-of-order (pinned), early-redelivered or uncommitted delivery.

The self-test sabotages a run behind the server's back (leases cut short,
read_pos moved ahead, pending rows deleted, pinned switched to roundRobin,
parked messages replayed) and requires the checker to report each one.

Longer: scripts/check/sub-checker.sh --seconds 300 --pg-kills 4 --consumer-kills 10 [--http --gw-kills 4]
"""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test"))
import sub_checker  # noqa: E402


def run(args, timeout=180):
    env = dict(os.environ)
    if "EVENTODB_BIN" in env:
        env["EVENTODB_BIN"] = os.path.abspath(env["EVENTODB_BIN"])
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    print(r.stdout[-6000:], r.stderr[-3000:])
    return r


@pytest.mark.parametrize("face", ["sql", "http", "nopreload"])
def test_sub_checker(face):
    """nopreload: the server without shared_preload_libraries (no commit
    horizon); whole-namespace sources must not skip there either."""
    args = [os.path.join(ROOT, "scripts", "check", "sub-checker.sh"), "--short"]
    if face == "http":
        args.append("--http")
    if face == "nopreload":
        args.append("--nopreload")
    r = run(args)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "all checks passed" in r.stdout
    if face == "nopreload":
        assert "NOT preloaded" in r.stdout
        return
    assert "PostgreSQL postmaster kill -9" in r.stdout
    if face == "http":
        assert "gateway kill -9 + restart" in r.stdout
        assert '"http": {"deliveries"' in r.stdout


def test_sub_checker_detects_sabotage():
    """The checker can fail: every sabotage is reported by its own check."""
    kinds = ",".join(sub_checker.SABOTAGE)
    r = run(["/usr/bin/python3", os.path.join(ROOT, "test", "sub_checker.py"), "--seconds", "6",
             "--pg-kills", "0", "--consumer-kills", "0", "--sabotage", kinds])
    assert r.returncode == 1, r.stdout[-6000:] + r.stderr[-3000:]
    assert "all checks passed" not in r.stdout
    for kind, pattern in sub_checker.SABOTAGE.items():
        assert re.search(pattern, r.stdout), "sabotage %s went unnoticed:\n%s" % (kind, r.stdout[-6000:])
