"""Crash safety, short run (docs/architecture.md#invariants invariant 3): acknowledged writes
survive SIGKILL of PostgreSQL (postmaster alone, then with every backend)
and of the gateway; positions stay dense; the gateway serves again by itself
once PostgreSQL is back. scripts/check/crash-test.sh does the work on a private
cluster of its own; the long version is that script with --count/--duration.
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "check", "crash-test.sh")


def test_acknowledged_writes_survive_kills():
    env = dict(os.environ)
    if "EVENTODB_BIN" in env:
        env["EVENTODB_BIN"] = os.path.abspath(env["EVENTODB_BIN"])
    r = subprocess.run([SCRIPT, "--count", "2", "--gateway-kills", "1", "--duration", "20",
                        "--workers", "4", "--seed", "7"],
                       capture_output=True, text=True, timeout=170, env=env)
    print(r.stdout[-6000:])
    print(r.stderr[-4000:])
    assert r.returncode == 0, "crash test failed:\n" + r.stdout[-6000:] + r.stderr[-3000:]
    assert "crash-test: PASS" in r.stdout
    assert '"violations": 0' in r.stdout
