"""Tenant isolation matrix (docs/architecture.md#invariants invariant 4, docs/http-api.md#namespace-methods; docs/http-api.md#outcomes, #namespace-methods): for every RPC method, /subscribe and /import, what a token of
namespace A can do to namespace B, what deleted and forged tokens get, and
the secure-by-default administration rules of production mode:
ns.create / ns.list need the default token, ns.info / ns.delete the default
token or the namespace's own. Every refusal is the contract's error and
reveals nothing about the other tenant (not even whether it exists).
"""
import json
import secrets
import time

import pytest

from harness import DEFAULT_TOKEN, check_error, dumps, token_for, unique

SECRET_TYPE = "SecretTypeOfB"
SECRET_DATA = {"ssn": "078-05-1120"}


def forbidden(r, ns):
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace",
                details={"namespace": ns})


def leaks(body):
    return any(s in body for s in (SECRET_TYPE.encode(), b"078-05-1120"))


@pytest.fixture(scope="module")
def tenants(gw):
    """A and B with data; C deleted after use; tokens forged in every way."""
    a, ta = gw.create_ns(unique("isoA"))
    b, tb = gw.create_ns(unique("isoB"))
    for i in range(3):
        gw.ok("stream.write", "secretstream-%d" % i, {"type": SECRET_TYPE, "data": SECRET_DATA,
                                                       "metadata": {"correlationStreamName": "x-1"}},
              token=tb)
    gw.ok("stream.write", "mine-1", {"type": "Mine", "data": {}}, token=ta)
    c, tc = gw.create_ns(unique("isoC"))
    gw.ok("stream.write", "secretstream-0", {"type": SECRET_TYPE, "data": SECRET_DATA}, token=tc)
    gw.ok("stream.get", "secretstream-0", token=tc)        # verified token now cached
    gw.ok("ns.delete", c)
    hexb = tb.rsplit("_", 1)[1]
    flipped = hexb[:-1] + ("0" if hexb[-1] != "0" else "1")
    forged = {
        "deleted": (tc, c),
        "forged-random-hex": (token_for(b, secrets.token_hex(32)), b),
        "forged-one-digit": (tb[:-64] + flipped, b),
        "forged-upper-hex": (tb[:-64] + (hexb.upper() if hexb.upper() != hexb else "A" + hexb[1:]), b),
        "forged-unknown-ns": (token_for(unique("nobody"), secrets.token_hex(32)), None),
        "forged-default": (token_for("default", secrets.token_hex(32)), "default"),
    }
    # unknown namespace: the details name the decoded id
    forged["forged-unknown-ns"] = (forged["forged-unknown-ns"][0],
                                   _decoded(forged["forged-unknown-ns"][0]))
    yield {"a": a, "ta": ta, "b": b, "tb": tb, "c": c, "forged": forged, "b_count": 3}
    for ns in (a, b):
        gw.rpc("ns.delete", ns)


def _decoded(token):
    import base64
    part = token[3:].rsplit("_", 1)[0]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def every_call(target_ns):
    """One valid call of each RPC method (arguments aimed at target_ns where
    the method takes a namespace id)."""
    return [
        ("stream.write", "secretstream-0", {"type": "Evil", "data": {}}),
        ("stream.get", "secretstream-0"),
        ("stream.last", "secretstream-0"),
        ("stream.version", "secretstream-0"),
        ("category.get", "secretstream"),
        ("ns.create", unique("isoNew")),
        ("ns.delete", target_ns),
        ("ns.list",),
        ("ns.info", target_ns),
        ("ns.streams", {}),
        ("ns.categories",),
        ("sys.version",),
        ("sys.health",),
    ]


def b_unchanged(gw, t):
    """B holds exactly what B wrote: nobody else added, removed or changed a message."""
    info = gw.ok("ns.info", t["b"])
    assert info["messageCount"] == t["b_count"], info
    got = gw.ok("category.get", "", {"batchSize": -1}, token=t["tb"])
    assert len(got) == t["b_count"]
    assert all(m[1].startswith("secretstream-") and m[2] == SECRET_TYPE and m[5] == SECRET_DATA
               for m in got), got


@pytest.mark.parametrize("kind", ["deleted", "forged-random-hex", "forged-one-digit",
                                  "forged-upper-hex", "forged-unknown-ns", "forged-default"])
def test_dead_and_forged_tokens_get_403_everywhere(gw, tenants, kind):
    tok, ns = tenants["forged"][kind]
    for call in every_call(tenants["b"]):
        for where in ("header", "query"):
            if where == "header":
                r = gw.rpc(*call, token=tok)
            else:
                r = gw.request("POST", "/rpc?token=" + tok, body=dumps(list(call)))
            forbidden(r, ns)
            assert not leaks(r.body), r.body
    for q in ("all=true", "stream=secretstream-0", "category=secretstream"):
        r = gw.request("GET", "/subscribe?" + q, token=tok, timeout=10)
        forbidden(r, ns)
    for force in (False, True):
        r = gw.import_(b'{"id":"0195b3c2-7d1e-7a80-9c55-1f2e3d4c5b6a","stream":"secretstream-9",'
                       b'"type":"Evil","pos":0,"gpos":999,"data":{},"meta":null,'
                       b'"time":"2025-03-01T09:15:02Z"}\n', token=tok, force=force)
        forbidden(r, ns)
    b_unchanged(gw, tenants)


def test_deleted_token_refused_immediately_although_cached(gw):
    c, tc = gw.create_ns(unique("isoD"))
    for _ in range(3):
        gw.ok("stream.version", "x-1", token=tc)      # verified and cached
    gw.ok("ns.delete", c)
    forbidden(gw.rpc("stream.version", "x-1", token=tc), c)
    # recreated under the same id: the old token still does not work
    c2, tc2 = gw.create_ns(c)
    assert tc2 != tc
    forbidden(gw.rpc("stream.version", "x-1", token=tc), c)
    assert gw.ok("stream.version", "x-1", token=tc2) is None
    gw.ok("ns.delete", c)


def test_data_methods_only_ever_see_the_tokens_namespace(gw, tenants):
    ta, a = tenants["ta"], tenants["a"]
    # A writes a stream B also has: it lands in A
    res = gw.ok("stream.write", "secretstream-0", {"type": "OfA", "data": {}}, token=ta)
    assert res["position"] == 0
    assert [m[1] for m in gw.ok("stream.get", "secretstream-0", token=ta)] == ["OfA"]
    assert gw.ok("stream.last", "secretstream-0", token=ta)[1] == "OfA"
    assert gw.ok("stream.last", "secretstream-0", {"type": SECRET_TYPE}, token=ta) is None
    assert gw.ok("stream.version", "secretstream-0", token=ta) == 0
    assert gw.ok("stream.version", "secretstream-1", token=ta) is None
    for pos in ({"globalPosition": 0}, {"position": 0}):
        assert gw.ok("stream.get", "secretstream-1", pos, token=ta) == []
    assert [m[2] for m in gw.ok("category.get", "secretstream", {"batchSize": -1}, token=ta)] == ["OfA"]
    everything = gw.ok("category.get", "", {"batchSize": -1, "position": 0}, token=ta)
    assert {m[1] for m in everything} == {"mine-1", "secretstream-0"}
    assert gw.ok("category.get", "secretstream", {"correlation": "x"}, token=ta) == []
    assert gw.ok("category.get", "secretstream", {"consumerGroup": {"member": 0, "size": 1}},
                 token=ta)[0][2] == "OfA"
    assert {s["stream"] for s in gw.ok("ns.streams", {}, token=ta)} == {"mine-1", "secretstream-0"}
    assert {c["category"] for c in gw.ok("ns.categories", token=ta)} == {"mine", "secretstream"}
    b_unchanged(gw, tenants)


def test_admin_rules_of_production_mode(gw, tenants):
    ta, a, b = tenants["ta"], tenants["a"], tenants["b"]
    missing = unique("isoMissing")
    # ns.create and ns.list: the default token only
    forbidden(gw.rpc("ns.create", unique("isoX"), token=ta), a)
    forbidden(gw.rpc("ns.create", a, token=ta), a)          # even an existing id: no 409 leak
    forbidden(gw.rpc("ns.list", token=ta), a)
    # ns.info / ns.delete of another tenant: 403 whether or not it exists
    for method in ("ns.info", "ns.delete"):
        r1 = gw.rpc(method, b, token=ta)
        r2 = gw.rpc(method, missing, token=ta)
        forbidden(r1, a)
        assert r1.body == r2.body, "response differs for an existing and a missing namespace"
        forbidden(gw.rpc(method, "default", token=ta), a)
    # validation still comes first (docs/http-api.md#the-rpc-envelope: arguments before authorization)
    check_error(gw.rpc("ns.info", "", token=ta), 400, "INVALID_REQUEST")
    # its own namespace: allowed
    info = gw.ok("ns.info", a, token=ta)
    assert info["namespace"] == a and not leaks(json.dumps(info).encode())
    # the default token administers everything
    assert gw.ok("ns.info", b)["namespace"] == b
    listed = gw.ok("ns.list")
    assert {a, b} <= {n["namespace"] for n in listed}
    assert all("token" not in n for n in listed)
    # any valid token may ask for the version and health
    assert gw.ok("sys.version", token=ta)
    assert gw.ok("sys.health", token=ta)["status"] == "ok"
    b_unchanged(gw, tenants)


def test_a_tenant_may_delete_itself_but_nobody_else(gw):
    x, tx = gw.create_ns(unique("isoSelf"))
    y, ty = gw.create_ns(unique("isoOther"))
    forbidden(gw.rpc("ns.delete", y, token=tx), x)
    assert gw.ok("ns.info", y)["namespace"] == y
    assert gw.ok("ns.delete", x, token=tx)["namespace"] == x
    forbidden(gw.rpc("ns.info", x, token=tx), x)            # its token died with it
    gw.ok("ns.delete", y)


def test_subscriptions_never_see_another_tenant(gw, tenants):
    ta, tb = tenants["ta"], tenants["tb"]
    subs = [gw.subscribe(q, token=ta) for q in
            ("all=true", "stream=secretstream-2", "category=secretstream",
             "category=secretstream&consumer=0&size=1", "stream=secretstream-2&position=0")]
    try:
        for s in subs:
            s.wait_ready()
        for i in range(5):
            gw.ok("stream.write", "secretstream-2", {"type": SECRET_TYPE, "data": SECRET_DATA}, token=tb)
        tenants["b_count"] += 5
        time.sleep(0.5)
        for s in subs:
            s.quiet(0.3)
            # catch-up of A's own earlier writes is fine; nothing of B's
            assert [p for p in s.pokes() if p["stream"] == "secretstream-2"] == [], s.body
            assert not leaks(s.body)
        # and they do see their own tenant's write
        gw.ok("stream.write", "secretstream-2", {"type": "OfA", "data": {}}, token=ta)
        for s in subs:
            s.read_until(lambda x: any(p["stream"] == "secretstream-2" for p in x.pokes()), 10)
            mine = [p for p in s.pokes() if p["stream"] == "secretstream-2"]
            assert len(mine) == 1 and mine[0]["position"] == 0, s.body
    finally:
        for s in subs:
            s.close()


def test_subscription_of_a_deleted_namespace_hears_nothing_of_its_successor(gw):
    c, tc = gw.create_ns(unique("isoSub"))
    sub = gw.subscribe("all=true", token=tc)
    try:
        sub.wait_ready()
        gw.ok("ns.delete", c)
        c2, tc2 = gw.create_ns(c)
        gw.ok("stream.write", "after-1", {"type": SECRET_TYPE, "data": SECRET_DATA}, token=tc2)
        sub.quiet(1.0)
        assert sub.pokes() == [], "a subscription outlived its namespace: %r" % sub.body
        gw.ok("ns.delete", c)
    finally:
        sub.close()


def test_import_only_touches_the_tokens_namespace(gw, tenants):
    ta, a = tenants["ta"], tenants["a"]
    before = gw.ok("ns.info", tenants["b"])["messageCount"]
    rec = {"id": "0195b3c2-7d1e-7a80-9c55-0000000000aa", "stream": "secretstream-0", "type": "Imported",
           "pos": 5, "gpos": 100, "data": {}, "meta": None, "time": "2025-03-01T09:15:02Z"}
    r = gw.import_(json.dumps(rec).encode() + b"\n", token=ta)
    assert r.status == 200 and b'"done":true' in r.body, r.body
    assert gw.ok("stream.last", "secretstream-0", token=ta)[1] == "Imported"
    # a global position B already uses is free in A (positions are per namespace)
    rec2 = dict(rec, id="0195b3c2-7d1e-7a80-9c55-0000000000ab", gpos=1, pos=6)
    r = gw.import_(json.dumps(rec2).encode() + b"\n", token=ta)
    assert b'"done":true' in r.body or b"POSITION_EXISTS" in r.body, r.body
    assert not leaks(r.body)
    # force=true clears A only
    r = gw.import_(b"", token=ta, force=True)
    assert r.status == 200 and b'"done":true' in r.body, r.body
    assert gw.ok("category.get", "", {"batchSize": -1}, token=ta) == []
    assert gw.ok("ns.info", tenants["b"])["messageCount"] == before
    b_unchanged(gw, tenants)


def test_token_cached_by_another_gateway_is_refused_once_its_namespace_is_deleted(gw, spawn):
    """The deletion reaches a second gateway through its LISTEN connection,
    also while nothing there subscribes (the pokes are then only skimmed for
    deletions), and drops the verdict that gateway had cached - the one it
    keeps per thread for a token sent request after request too."""
    from conftest import db_url
    other = spawn("second-auth", ["serve", "--port={port}", "--db-url=" + db_url(gw.dbname),
                                  "--token=" + DEFAULT_TOKEN])
    c, tc = gw.create_ns(unique("isoX"))
    for _ in range(3):
        assert other.ok("stream.version", "x-1", token=tc) is None   # cached there
    gw.ok("stream.write", "x-1", {"type": "T", "data": {}}, token=tc)   # a poke to skim past
    gw.ok("ns.delete", c)
    # until the notice arrives the token still passes there, and the read
    # finds no namespace (500); it must turn into a refusal
    deadline = time.monotonic() + 10
    while True:
        r = other.rpc("stream.version", "x-1", token=tc)
        if r.status == 403 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    forbidden(r, c)
