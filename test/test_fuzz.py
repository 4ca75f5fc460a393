"""Seeded random requests (docs/architecture.md#invariants invariant 6: bad input never crashes
anything; every /rpc answer is a JSON value or the docs/http-api.md#errors envelope)."""
import json
import random

import pytest

from harness import check_error

METHODS = ["stream.write", "stream.get", "stream.last", "stream.version", "category.get", "ns.create",
           "ns.delete", "ns.info", "ns.streams", "ns.categories", "sys.version", "sys.health", "ns.list"]
KEYS = ["type", "data", "metadata", "id", "expectedVersion", "position", "globalPosition", "batchSize",
        "correlation", "consumerGroup", "member", "size", "prefix", "cursor", "limit", "description", "token"]
ALLOWED = {200, 400, 403, 404, 409, 500}


def rand_value(rng, depth=0):
    kinds = ["int", "float", "str", "null", "bool", "list", "obj", "big", "neg"]
    if depth > 2:
        kinds = kinds[:5]
    k = rng.choice(kinds)
    if k == "int":
        return rng.randint(-3, 12000)
    if k == "float":
        return rng.uniform(-5, 5)
    if k == "str":
        return rng.choice(["", "a", "a-1", "-", "x y", "日本-1", "<&>", "a\u2028b", "ns_", "%_", "+", "1" * 70])
    if k == "null":
        return None
    if k == "bool":
        return rng.random() < 0.5
    if k == "list":
        return [rand_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if k == "obj":
        return {rng.choice(KEYS): rand_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if k == "big":
        return rng.choice([2 ** 63, -2 ** 63 - 1, 1e300, -1e300, 2 ** 53 + 1])
    return -rng.randint(1, 10 ** 6)


@pytest.mark.parametrize("seed", range(8))
def test_random_rpc_requests(gw, seed):
    rng = random.Random(seed)
    ns, tok = gw.create_ns()
    for _ in range(150):
        method = rng.choice(METHODS)
        if method in ("ns.delete", "ns.create") and rng.random() < 0.9:
            continue   # keep the suite's namespaces alone
        args = [rand_value(rng) for _ in range(rng.randint(0, 3))]
        if method == "ns.delete":
            args = ["fuzz-missing-%d" % rng.randint(0, 10 ** 9)]
        r = gw.rpc(method, *args, token=tok)
        assert r.status in ALLOWED, (method, args, r)
        assert r.header("Content-Type") == "application/json", (method, args, r.headers)
        if r.status == 200:
            json.loads(r.body)
        else:
            check_error(r, r.status, json.loads(r.body)["error"]["code"])
    assert gw.ok("sys.version")


@pytest.mark.parametrize("seed", range(4))
def test_random_bytes_to_rpc(gw, seed):
    rng = random.Random(1000 + seed)
    alphabet = b'[]{}",:0123456789.-eE truefalsnl\\u"\x00\xff\n'
    for _ in range(150):
        body = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.5:
            body = b'["stream.get",' + body
        r = gw.rpc_raw(body, token="ns_ZGVmYXVsdA_" + "0" * 64)
        assert r.status in ALLOWED, (body, r)
        json.loads(r.body)
    assert gw.ok("sys.version")


@pytest.mark.parametrize("seed", range(3))
def test_random_import_lines(gw, seed):
    rng = random.Random(2000 + seed)
    ns, tok = gw.create_ns()
    lines = []
    for i in range(200):
        rec = {k: rand_value(rng) for k in rng.sample(["id", "stream", "type", "pos", "gpos", "data", "meta", "time"],
                                                        rng.randint(0, 8))}
        lines.append(json.dumps(rec).encode())
    r = gw.import_(b"\n".join(lines) + b"\n", token=tok)
    assert r.status == 200
    assert r.body.endswith(b"\n\n")
    last = json.loads(r.body.split(b"\n\n")[-2][len(b"data: "):])
    assert "done" in last or last.get("error") in ("INVALID_JSON", "INVALID_RECORD", "POSITION_EXISTS",
                                                   "IMPORT_FAILED"), last
    assert gw.ok("sys.version")


@pytest.mark.parametrize("seed", range(3))
def test_random_subscribe_queries(gw, seed):
    rng = random.Random(3000 + seed)
    names = ["stream", "category", "all", "position", "consumer", "size", "token", "x"]
    values = ["", "true", "a-1", "a", "0", "-1", "1", "2", "x", "1.5", "99999999999999999999", "%2B", "%zz", "+"]
    for _ in range(60):
        q = "&".join("%s=%s" % (rng.choice(names), rng.choice(values)) for _ in range(rng.randint(0, 4)))
        s = gw.subscribe(q, timeout=10)
        try:
            assert s.status in (200, 400, 401, 403), (q, s.status)
            if s.status == 200:
                s.wait_ready(timeout=10)
        finally:
            s.close()
    assert gw.ok("sys.version")
