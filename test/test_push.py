"""/push: deliveries of a persistent subscription as Server-Sent Events
(docs/subscriptions.md#over-http). The bytes a client sees: headers, ': ready', message
frames, heartbeats, the terminating chunk; releases on disconnect."""
import json
import re
import signal
import time
import urllib.parse

import pytest

from conftest import db_url
from harness import SSE, check_error

q = urllib.parse.quote

FRAME_RE = re.compile(rb"event: message\ndata: (\{.*\})", re.S)


@pytest.fixture
def tok(gw):
    return gw.create_ns()[1]


def ok(gw, tok, method, *args):
    return gw.ok("subscription." + method, *args, token=tok)


def write(gw, tok, stream, type_="T", data=None):
    return gw.write(stream, type_, data, token=tok)["globalPosition"]


def push(gw, tok, name="s", consumer="w", extra="", **kw):
    query = "subscription=%s&consumer=%s%s" % (q(name), q(consumer), extra)
    return SSE(gw, query, token=tok, path="/push", **kw)


def deliveries(sse):
    out = []
    for f in sse.events():
        m = FRAME_RE.fullmatch(f)
        assert m, "not a message frame: %r" % f
        out.append(json.loads(m.group(1)))
    return out


def wait_deliveries(sse, n, timeout=5):
    sse.read_until(lambda s: len(deliveries(s)) >= n, timeout)
    return deliveries(sse)


def frames_ok(body):
    """': ready' first, then message frames and ': ping' heartbeats only."""
    frames = body.split(b"\n\n")
    assert frames[-1] == b"", body[-200:]
    assert frames[0] == b": ready", body[:200]
    for f in frames[1:-1]:
        assert f == b": ping" or FRAME_RE.fullmatch(f), f


# ------------------------------------------------------------------ success

def test_headers_ready_and_message_frames(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    g = write(gw, tok, "acct-1", "Opened", {"owner": "kim <&>"})
    with push(gw, tok) as s:
        assert s.status == 200
        assert s.header("Content-Type") == "text/event-stream"
        assert s.header("Cache-Control") == "no-cache"
        assert s.header("Connection").lower() == "keep-alive"
        assert s.header("Access-Control-Allow-Origin") == "*"
        assert s.chunked and s.content_length is None
        [d] = wait_deliveries(s, 1)
        frames_ok(s.body)
        assert s.body.startswith(b": ready\n\nevent: message\ndata: {\"attempt\":1,\"deliveryId\":")
        assert list(d.keys()) == ["attempt", "deliveryId", "message"]
        assert d["message"] == gw.ok("category.get", "acct", token=tok)[0]
        assert d["message"][4] == g
        # the message bytes are category.get's, on one data: line
        cat = gw.rpc("category.get", "acct", token=tok).body.strip()[1:-1]
        assert b'"message":' + cat + b"}\n\n" in s.body
        info = ok(gw, tok, "get", "s")
        assert info["consumers"][0]["consumerId"] == "w" and info["inFlight"] == 1


def test_live_writes_arrive_and_acks_refill_capacity(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"maxInFlight": 2, "strategy": "roundRobin"})
    with push(gw, tok) as s:
        s.wait_ready()
        gs = [write(gw, tok, "acct-%d" % i) for i in range(5)]
        ds = wait_deliveries(s, 2)
        s.quiet(0.6)
        ds = deliveries(s)
        assert [d["message"][4] for d in ds] == gs[:2]  # flow control: maxInFlight
        t0 = time.monotonic()
        ok(gw, tok, "ack", "s", [ds[0]["deliveryId"]])
        ds = wait_deliveries(s, 3, timeout=3)
        assert time.monotonic() - t0 < 1.0
        assert [d["message"][4] for d in ds] == gs[:3]
        ok(gw, tok, "nack", "s", [ds[1]["deliveryId"]], {"action": "skip"})
        ok(gw, tok, "ack", "s", [ds[2]["deliveryId"]])
        ds = wait_deliveries(s, 5, timeout=3)
        assert [d["message"][4] for d in ds] == gs
        frames_ok(s.body)


def test_capacity_freed_over_sql_is_refilled_within_a_second(gw, tok, sql):
    ok(gw, tok, "create", "s", "acct", {"maxInFlight": 1})
    write(gw, tok, "acct-1")
    write(gw, tok, "acct-1")
    with push(gw, tok) as s:
        [d] = wait_deliveries(s, 1)
        # an ack through SQL wakes nobody here: the timer refetches
        cur = sql().cursor()
        cur.execute("SELECT eventodb.subscription_ack(%s, 's', ARRAY[%s])",
                    (ns_of(gw, tok), d["deliveryId"]))
        t0 = time.monotonic()
        ds = wait_deliveries(s, 2, timeout=3)
        assert len(ds) == 2 and time.monotonic() - t0 < 1.2


def ns_of(gw, tok):
    import base64
    part = tok[3:].rsplit("_", 1)[0]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def test_heartbeat_after_silence(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    with push(gw, tok, extra="&heartbeatMs=1000") as s:
        s.wait_ready()
        t0 = time.monotonic()
        s.read_until(lambda x: b": ping\n\n" in x.body, 3)
        took = time.monotonic() - t0
        assert s.body == b": ready\n\n: ping\n\n", s.body
        assert 0.8 <= took < 1.6, took
        s.read_until(lambda x: x.body.count(b": ping") >= 2, 3)
        frames_ok(s.body)


def test_query_token_and_form_decoding(gw, tok):
    ok(gw, tok, "create", "a:b.c_d-e", "acct")
    write(gw, tok, "acct-1")
    s = SSE(gw, "subscription=a%3Ab.c_d-e&consumer=w%2B1&token=" + q(tok), token=None, path="/push")
    with s:
        assert s.status == 200
        [d] = wait_deliveries(s, 1)
        assert [c["consumerId"] for c in ok(gw, tok, "get", "a:b.c_d-e")["consumers"]] == ["w+1"]
    # released on close: the consumer is inactive at once
    deadline = time.monotonic() + 1.0
    while ok(gw, tok, "get", "a:b.c_d-e")["consumers"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ok(gw, tok, "get", "a:b.c_d-e")["consumers"] == []


# ------------------------------------------------------------------ disconnect / end

def test_disconnect_releases_in_flight_deliveries_at_once(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"ackTimeoutMs": 60000})
    g = write(gw, tok, "acct-1")
    s = push(gw, tok, consumer="a")
    [d] = wait_deliveries(s, 1)
    s.close()
    t0 = time.monotonic()
    got = ok(gw, tok, "fetch", "s", "b", {"waitMs": 5000})
    took = time.monotonic() - t0
    assert [(x["message"][4], x["attempt"]) for x in got] == [(g, 2)]
    assert took < 1.5, took
    # the old delivery is over; consumer a is inactive
    r = gw.rpc("subscription.ack", "s", [d["deliveryId"]], token=tok)
    check_error(r, 409, "DELIVERY_EXPIRED")
    assert [c["consumerId"] for c in ok(gw, tok, "get", "s")["consumers"]] == ["b"]


def test_disconnect_keeps_other_streams_of_the_consumer(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"ackTimeoutMs": 60000, "maxInFlight": 2})
    s1 = push(gw, tok, consumer="w")
    s1.wait_ready()
    with push(gw, tok, consumer="w") as s2:
        s2.wait_ready()
        write(gw, tok, "acct-1")
        write(gw, tok, "acct-2")
        time.sleep(0.5)
        s1.pump(0.2)
        s2.pump(0.2)
        n1 = len(deliveries(s1))
        s1.close()
        # s1's deliveries are released and the shared consumer stays active
        total = n1 + len(deliveries(s2))
        assert total == 2
        s2.read_until(lambda x: len(deliveries(x)) == 2, 3)
        assert len(deliveries(s2)) == 2
        time.sleep(0.3)
        assert [c["consumerId"] for c in ok(gw, tok, "get", "s")["consumers"]] == ["w"]


def test_delete_ends_the_stream_within_a_second(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    with push(gw, tok) as s:
        s.wait_ready()
        t0 = time.monotonic()
        ok(gw, tok, "delete", "s")
        s.read_until(lambda x: x.ended, 3)
        assert s.ended and time.monotonic() - t0 < 1.0
        assert s.raw.endswith(b"0\r\n\r\n")
        frames_ok(s.body)


def test_delete_over_sql_ends_the_stream_within_a_second(gw, tok, sql):
    ok(gw, tok, "create", "s", "acct")
    with push(gw, tok) as s:
        s.wait_ready()
        cur = sql().cursor()
        t0 = time.monotonic()
        cur.execute("SELECT eventodb.subscription_delete(%s, 's')", (ns_of(gw, tok),))
        s.read_until(lambda x: x.ended, 3)
        assert s.ended and time.monotonic() - t0 < 1.2


def test_namespace_delete_ends_the_stream(gw):
    ns, tok = gw.create_ns()
    ok(gw, tok, "create", "s", "acct")
    with push(gw, tok) as s:
        s.wait_ready()
        gw.ok("ns.delete", ns)
        s.read_until(lambda x: x.ended, 3)
        assert s.ended


def test_sigterm_releases_before_ending(spawn, gw, tok, prod_db):
    ok(gw, tok, "create", "s", "acct", {"ackTimeoutMs": 60000})
    g = write(gw, tok, "acct-1")
    other = spawn("push-sigterm", ["serve", "--port={port}", "--db-url=" + db_url(prod_db)])
    with push(other, tok, consumer="a") as s:
        wait_deliveries(s, 1)
        other.proc.send_signal(signal.SIGTERM)
        s.read_until(lambda x: x.ended, 5)
        assert s.ended
        got = ok(gw, tok, "fetch", "s", "b")
        assert [(x["message"][4], x["attempt"]) for x in got] == [(g, 2)]
    assert other.proc.wait(10) == 0


# ------------------------------------------------------------------ errors (docs/subscriptions.md#over-http)

PARAM_ERRORS = [
    ("", "subscription must be 1-100 characters of [A-Za-z0-9._:-]"),
    ("subscription=&consumer=w", "subscription must be 1-100 characters of [A-Za-z0-9._:-]"),
    ("subscription=a%20b&consumer=w", "subscription must be 1-100 characters of [A-Za-z0-9._:-]"),
    ("subscription=a+b&consumer=", "subscription must be 1-100 characters of [A-Za-z0-9._:-]"),
    ("subscription=%s&consumer=w" % ("x" * 101), "subscription must be 1-100 characters of [A-Za-z0-9._:-]"),
    ("Subscription=s&consumer=w", "subscription must be 1-100 characters of [A-Za-z0-9._:-]"),
    ("subscription=s", "consumer must be 1-100 printable ASCII characters"),
    ("subscription=s&consumer=", "consumer must be 1-100 printable ASCII characters"),
    ("subscription=s&consumer=a+b&heartbeatMs=x", "consumer must be 1-100 printable ASCII characters"),
    ("subscription=s&consumer=%C3%A9", "consumer must be 1-100 printable ASCII characters"),
    ("subscription=s&consumer=a%00b", "consumer must be 1-100 printable ASCII characters"),
    ("subscription=s&consumer=%s" % ("x" * 101), "consumer must be 1-100 printable ASCII characters"),
    ("subscription=s&consumer=w&heartbeatMs=999", "heartbeatMs must be an integer between 1000 and 60000"),
    ("subscription=s&consumer=w&heartbeatMs=60001", "heartbeatMs must be an integer between 1000 and 60000"),
    ("subscription=s&consumer=w&heartbeatMs=1000.0", "heartbeatMs must be an integer between 1000 and 60000"),
    ("subscription=s&consumer=w&heartbeatMs=abc", "heartbeatMs must be an integer between 1000 and 60000"),
    ("subscription=s&consumer=w&heartbeatMs=0x400", "heartbeatMs must be an integer between 1000 and 60000"),
    ("subscription=s&consumer=w&heartbeatMs=%201000", "heartbeatMs must be an integer between 1000 and 60000"),
    ("subscription=s&consumer=w&heartbeatMs=99999999999999999999999",
     "heartbeatMs must be an integer between 1000 and 60000"),
]


@pytest.mark.parametrize("query,message", PARAM_ERRORS)
def test_parameter_errors_in_order(gw, tok, query, message):
    r = gw.request("GET", "/push?" + query, token=tok)
    check_error(r, 400, "INVALID_REQUEST", message)


def test_accepted_heartbeat_spellings_and_empty_parameters(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    for extra in ("&heartbeatMs=%2B1000", "&heartbeatMs=60000", "&heartbeatMs=", "&other=1"):
        with push(gw, tok, extra=extra) as s:
            assert s.status == 200, extra
            s.wait_ready()


def test_method_must_be_get_after_authentication(gw, tok):
    r = gw.request("POST", "/push?subscription=s&consumer=w", token=tok)
    check_error(r, 405, "INVALID_REQUEST", "Only GET method allowed")
    r = gw.request("POST", "/push?subscription=s&consumer=w")
    check_error(r, 401, "AUTH_REQUIRED")


def test_unknown_subscription_is_404(gw, tok):
    r = gw.request("GET", "/push?subscription=nope&consumer=w", token=tok)
    check_error(r, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 'nope' not found")


def test_foreign_namespace_cannot_push(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    other = gw.create_ns()[1]
    r = gw.request("GET", "/push?subscription=s&consumer=w", token=other)
    check_error(r, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 's' not found")


def test_bad_token_is_auth_error(gw):
    r = gw.request("GET", "/push?subscription=s&consumer=w&token=garbage")
    check_error(r, 401, "AUTH_INVALID_TOKEN")


def test_push_path_is_exact(gw, tok):
    r = gw.request("GET", "/push/?subscription=s&consumer=w", token=tok)
    assert r.status == 404 and r.body == b'{"error":{"code":"NOT_FOUND","message":"Endpoint not found"}}'


def test_churn_of_streams_releases_everything(gw, tok):
    """Streams opened and dropped while messages flow: every delivery they
    were given is released, none stays in flight."""
    ok(gw, tok, "create", "s", "acct", {"maxInFlight": 5, "strategy": "roundRobin",
                                        "ackTimeoutMs": 60000})
    for i in range(20):
        write(gw, tok, "acct-%d" % i)
    streams = []
    for i in range(30):
        s = push(gw, tok, consumer="c%d" % (i % 4))
        s.pump(0.05)
        streams.append(s)
        if i % 3 == 0:
            write(gw, tok, "acct-x%d" % i)
        if len(streams) > 5:
            streams.pop(0).close()
    for s in streams:
        s.close()
    deadline = time.monotonic() + 3
    while ok(gw, tok, "get", "s")["inFlight"] and time.monotonic() < deadline:
        time.sleep(0.1)
    info = ok(gw, tok, "get", "s")
    assert info["inFlight"] == 0 and info["consumers"] == [], info
