"""Fuzz smoke run (fuzz/README.md): builds the libFuzzer harnesses, replays
the committed corpora (every former crash included) and fuzzes each parser
that sees outside bytes for a few seconds, two at a time. A harness that
finds a crash fails its test with the input's location. Skipped, with the
reason, only when clang's libFuzzer runtime is missing.

Crash inputs whose fix is pending are listed in fuzz/open-findings.txt: each
is an expected failure here (and its harness's smoke run too), so the suite
stays green for everyone while the finding stays visible; once fixed, the
line goes and the input becomes an ordinary regression test.

EVENTODB_FUZZ_SMOKE_SECONDS sets the seconds per harness (default 6).
"""
import concurrent.futures
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "fuzz")
SECONDS = int(os.environ.get("EVENTODB_FUZZ_SMOKE_SECONDS", "6"))


def _harnesses():
    text = open(os.path.join(FUZZ, "Makefile")).read()
    m = re.search(r"^HARNESSES := (.*?)(?<!\\)\n", text, re.S | re.M)
    return m.group(1).replace("\\\n", " ").split()


def _open_findings():
    out = {}
    path = os.path.join(FUZZ, "open-findings.txt")
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, why = line.partition(" ")
                out[name] = why.strip()
    return out


HARNESSES = _harnesses()
OPEN = _open_findings()


def _make(*targets, timeout=900, **env):
    e = dict(os.environ)
    e.update(env)
    return subprocess.run(["make", "-C", FUZZ, "--no-print-directory"] + list(targets),
                          capture_output=True, text=True, timeout=timeout, env=e)


@pytest.fixture(scope="module")
def built():
    probe = _make("check-clang", timeout=120)
    # scripts/deps.sh installs clang-14 and libclang-rt-14-dev: a missing
    # libFuzzer is a broken set-up, not a reason to skip.
    assert probe.returncode == 0, ("libFuzzer unavailable (clang-14 with libclang-rt-14-dev needed): "
                                   + (probe.stdout + probe.stderr).strip()[-300:])
    r = _make("-j2", "all")
    assert r.returncode == 0, "fuzz harnesses do not build:\n" + (r.stdout + r.stderr)[-4000:]
    return True


@pytest.fixture(scope="module")
def smoke_results(built):
    def one(h):
        return h, _make("smoke-" + h, timeout=SECONDS + 120, SMOKE_SECONDS=str(SECONDS))

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, HARNESSES))


def test_committed_corpora_replay_cleanly(built):
    r = _make("regress")
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]


def test_open_findings_are_tracked(built):
    """Every open finding names a committed input; one that still crashes is
    an expected failure until fixed, one that no longer crashes must be
    removed from the list (then `make regress` replays it as a regression)."""
    still = []
    for name in sorted(OPEN):
        path = os.path.join(FUZZ, "corpus", name)
        assert os.path.isfile(path), "open finding without its input: %s" % name
        r = subprocess.run([os.path.join(FUZZ, "build", name.split("/")[0]), path],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0, "%s no longer crashes: delete it from fuzz/open-findings.txt" % name
        still.append("%s: %s" % (name, OPEN[name]))
    if still:
        pytest.xfail("open findings: " + "; ".join(still))


@pytest.mark.parametrize("harness", HARNESSES)
def test_fuzz_smoke(smoke_results, harness):
    r = smoke_results[harness]
    out = r.stdout + r.stderr
    print(out[-600:])
    pending = [k for k in OPEN if k.startswith(harness + "/")]
    if r.returncode != 0 and pending:
        pytest.xfail("%s has open findings (%s): %s" % (harness, ", ".join(pending), out[-300:]))
    assert r.returncode == 0, "harness %s found a problem:\n%s" % (harness, out[-5000:])
    m = re.search(r"execs=(\d+)", out)
    assert m and int(m.group(1)) > 0, out[-1000:]
