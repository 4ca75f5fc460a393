"""/subscribe Server-Sent Events (docs/http-api.md#live-pokes-subscribe, docs/architecture.md#invariants invariant 5)."""
import json
import threading
import time
import urllib.parse
import uuid

import pytest

from harness import (DEFAULT_TOKEN, check_error, member_of, ndjson, record, sse_frames_ok, unique)

q = urllib.parse.quote


def poke_bytes(stream, position, gpos):
    return (b"event: poke\ndata: " +
            json.dumps({"stream": stream, "position": position, "globalPosition": gpos},
                       separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n")


def streams_of(pokes):
    return [p["stream"] for p in pokes]


# ------------------------------------------------------------------ docs/http-api.md#validation validation

VALIDATION = [
    ("", "Either 'stream', 'category', or 'all=true' parameter required"),
    ("position=0", "Either 'stream', 'category', or 'all=true' parameter required"),
    ("all=TRUE", "Either 'stream', 'category', or 'all=true' parameter required"),
    ("all=1", "Either 'stream', 'category', or 'all=true' parameter required"),
    ("all=yes", "Either 'stream', 'category', or 'all=true' parameter required"),
    ("all=", "Either 'stream', 'category', or 'all=true' parameter required"),
    ("stream=&category=", "Either 'stream', 'category', or 'all=true' parameter required"),
    ("consumerGroupMember=0&consumerGroupSize=2", "Either 'stream', 'category', or 'all=true' parameter required"),
    ("all=true&stream=a-1", "Cannot combine 'all' with 'stream' or 'category'"),
    ("all=true&category=a", "Cannot combine 'all' with 'stream' or 'category'"),
    ("all=true&stream=a-1&category=a&position=x", "Cannot combine 'all' with 'stream' or 'category'"),
    ("stream=a-1&category=a", "Cannot specify both 'stream' and 'category'"),
    ("stream=a-1&category=a&position=x", "Cannot specify both 'stream' and 'category'"),
    ("stream=a-1&position=x", "Invalid position parameter"),
    ("stream=a-1&position=1.5", "Invalid position parameter"),
    ("stream=a-1&position=0x10", "Invalid position parameter"),
    ("stream=a-1&position=%201", "Invalid position parameter"),
    ("stream=a-1&position=1%20", "Invalid position parameter"),
    ("stream=a-1&position=1e3", "Invalid position parameter"),
    ("stream=a-1&position=--1", "Invalid position parameter"),
    ("stream=a-1&position=99999999999999999999", "Invalid position parameter"),
    ("all=true&position=abc", "Invalid position parameter"),
    ("category=a&position=x&consumer=y", "Invalid position parameter"),
    ("category=a&consumer=x", "Invalid consumer parameter"),
    ("category=a&consumer=1.0&size=2", "Invalid consumer parameter"),
    ("category=a&consumer=x&size=y", "Invalid consumer parameter"),
    ("category=a&size=x", "Invalid size parameter"),
    ("category=a&consumer=0&size=2.5", "Invalid size parameter"),
    ("category=a&consumer=1", "Invalid consumer group: member must be < size"),
    ("category=a&consumer=2&size=2", "Invalid consumer group: member must be < size"),
    ("category=a&consumer=5&size=0", "Invalid consumer group: member must be < size"),
    ("category=a&consumer=3&size=-1", "Invalid consumer group: member must be < size"),
]


@pytest.mark.parametrize("query,text", VALIDATION)
def test_parameter_errors_are_plain_text_400_in_order(gw, query, text):
    r = gw.request("GET", "/subscribe?" + query, token=DEFAULT_TOKEN)
    assert r.status == 400, r
    assert r.header("Content-Type") == "text/plain; charset=utf-8", r.headers
    # the table gives the text; Go's http.Error would append one newline
    assert r.body in (text.encode(), text.encode() + b"\n"), r.body


@pytest.mark.parametrize("query", ["stream=a-1&consumer=x&size=y", "all=true&consumer=x", "category=a&size=2",
                                   "category=a&consumer=0&size=-1", "category=a&size=0", "category=a&consumer=-1&size=2",
                                   "stream=a-1&position=-5", "stream=a-1&position=%2B5", "all=true&position=-1",
                                   "stream=&all=true", "category=&stream=a-1", "stream=a-1&all=TRUE",
                                   "category=a&consumer=&size="])
def test_accepted_parameter_combinations(gw, query):
    with gw.subscribe(query) as s:
        assert s.status == 200, s.body
        s.wait_ready()


# ------------------------------------------------------------------ docs/http-api.md#frames response and framing

@pytest.mark.parametrize("mode", ["stream=idle-1", "category=idle", "all=true"])
def test_headers_and_ready_sent_immediately(gw, mode):
    ns, tok = gw.create_ns()
    with gw.subscribe(mode + "&position=0", token=tok, timeout=5) as s:
        assert s.status_line.startswith("HTTP/1.1 200"), s.status_line
        assert s.header("Content-Type") == "text/event-stream"
        assert s.header("Cache-Control") == "no-cache"
        assert s.header("Connection").lower() == "keep-alive"
        assert s.header("Access-Control-Allow-Origin") == "*"
        assert s.chunked
        assert s.header("Content-Length") is None
        s.wait_ready(timeout=5)
        assert s.body.startswith(b": ready\n\n")
        for name in ("X-EventoDB-Token", "X-MessageDB-Token"):
            assert s.header(name) is None


def test_poke_exact_bytes(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("stream=exact-42&position=0", token=tok) as s:
        s.wait_ready()
        gw.write("exact-42", token=tok)
        gw.write("exact-42", token=tok)
        s.wait_pokes(2)
        events = s.events()
        assert events[0] + b"\n\n" == poke_bytes("exact-42", 0, 1)
        assert events[1] + b"\n\n" == poke_bytes("exact-42", 1, 2)
        assert b"\r" not in s.body and b"id:" not in s.body and b"retry:" not in s.body
        sse_frames_ok(s.body)


def test_poke_json_escaping(gw):
    ns, tok = gw.create_ns()
    name = 'we<i>rd&"x"-1'
    with gw.subscribe("stream=" + q(name), token=tok) as s:
        s.wait_ready()
        gw.write(name, token=tok)
        s.wait_pokes(1)
        assert s.events()[0] == (b'event: poke\ndata: {"stream":"we\\u003ci\\u003erd\\u0026\\"x\\"-1",'
                                 b'"position":0,"globalPosition":1}')


def test_query_token_works_for_subscribe(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("all=true&token=" + q(tok), token=None) as s:
        assert s.status == 200
        s.wait_ready()
        gw.write("qt-1", token=tok)
        assert streams_of(s.wait_pokes(1)) == ["qt-1"]


def test_auth_failure_on_subscribe_is_json(gw):
    r = gw.request("GET", "/subscribe?all=true", token="ns_ZGVmYXVsdA_" + "3" * 64)
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {"namespace": "default"})


# ------------------------------------------------------------------ docs/http-api.md#modes stream mode

def test_stream_mode_catch_up_then_live(gw):
    ns, tok = gw.create_ns()
    for _ in range(3):
        gw.write("cu-1", token=tok)
    gw.write("cu-2", token=tok)
    with gw.subscribe("stream=cu-1&position=1", token=tok) as s:
        s.wait_ready()
        pokes = s.wait_pokes(2)
        assert pokes == [{"stream": "cu-1", "position": 1, "globalPosition": 2},
                         {"stream": "cu-1", "position": 2, "globalPosition": 3}]
        gw.write("cu-2", token=tok)
        gw.write("cu-1", token=tok)
        pokes = s.wait_pokes(3)
        assert pokes[2] == {"stream": "cu-1", "position": 3, "globalPosition": 6}
        sse_frames_ok(s.body)


def test_stream_mode_default_position_zero(gw):
    ns, tok = gw.create_ns()
    gw.write("dp-1", token=tok)
    with gw.subscribe("stream=dp-1", token=tok) as s:
        assert [p["position"] for p in s.wait_pokes(1)] == [0]


def test_stream_mode_negative_position_reads_from_start(gw):
    ns, tok = gw.create_ns()
    gw.write("neg-1", token=tok)
    gw.write("neg-1", token=tok)
    with gw.subscribe("stream=neg-1&position=-5", token=tok) as s:
        assert [p["position"] for p in s.wait_pokes(2)] == [0, 1]


def test_stream_mode_tracker_skips_positions_below_start(gw):
    ns, tok = gw.create_ns()
    gw.write("trk-1", token=tok)
    gw.write("trk-1", token=tok)
    with gw.subscribe("stream=trk-1&position=5", token=tok) as s:
        s.wait_ready()
        for _ in range(4):
            gw.write("trk-1", token=tok)   # positions 2..5
        pokes = s.wait_pokes(1)
        assert pokes[0]["position"] == 5
        gw.write("trk-1", token=tok)
        pokes = s.wait_pokes(2)
        assert [p["position"] for p in pokes] == [5, 6]


def test_stream_mode_exact_stream_only(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("stream=only-1", token=tok) as s:
        s.wait_ready()
        for other in ("only-1+x", "only-10", "only", "Only-1", "only-1 ", "x-only-1"):
            gw.write(other, token=tok)
        gw.write("only-1", token=tok)
        pokes = s.wait_pokes(1)
        assert streams_of(pokes) == ["only-1"]
        s.quiet(0.3)
        assert streams_of(s.pokes()) == ["only-1"]


def test_stream_names_are_form_decoded(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("stream=plus-1%2Bretry", token=tok) as enc, \
            gw.subscribe("stream=plus-1+retry", token=tok) as raw:
        enc.wait_ready()
        raw.wait_ready()
        gw.write("plus-1+retry", token=tok)
        gw.write("plus-1 retry", token=tok)
        assert streams_of(enc.wait_pokes(1)) == ["plus-1+retry"]
        assert streams_of(raw.wait_pokes(1)) == ["plus-1 retry"]
        enc.quiet(0.3)
        assert len(enc.pokes()) == 1 and len(raw.pokes()) == 1


def test_unicode_stream_subscription(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("stream=" + q("账户-42"), token=tok) as s:
        s.wait_ready()
        gw.write("账户-42", token=tok)
        s.wait_pokes(1)
        assert s.events()[0] == 'event: poke\ndata: {"stream":"账户-42","position":0,"globalPosition":1}'.encode()


# ------------------------------------------------------------------ category mode

def test_category_mode_catch_up_then_live(gw):
    ns, tok = gw.create_ns()
    gw.write("cat-1", token=tok)    # 1
    gw.write("other-1", token=tok)  # 2
    gw.write("cat-2", token=tok)    # 3
    gw.write("cat", token=tok)      # 4
    with gw.subscribe("category=cat&position=2", token=tok) as s:
        s.wait_ready()
        pokes = s.wait_pokes(2)
        assert pokes == [{"stream": "cat-2", "position": 0, "globalPosition": 3},
                         {"stream": "cat", "position": 0, "globalPosition": 4}]
        for other in ("catx-1", "other-2", "ca-1", "-cat"):
            gw.write(other, token=tok)
        gw.write("cat-1+z", token=tok)
        pokes = s.wait_pokes(3)
        assert streams_of(pokes) == ["cat-2", "cat", "cat-1+z"]
        assert pokes[2]["globalPosition"] == 9
        sse_frames_ok(s.body)


def test_category_mode_default_position_catches_up_everything(gw):
    ns, tok = gw.create_ns()
    gw.write("cdp-1", token=tok)
    gw.write("cdp-2", token=tok)
    with gw.subscribe("category=cdp", token=tok) as s:
        assert [p["globalPosition"] for p in s.wait_pokes(2)] == [1, 2]


def test_category_mode_live_tracker_uses_global_position(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("category=gtr&position=4", token=tok) as s:
        s.wait_ready()
        gw.write("x-1", token=tok)      # 1
        gw.write("gtr-1", token=tok)    # 2 < 4: not poked
        gw.write("x-1", token=tok)      # 3
        gw.write("gtr-2", token=tok)    # 4: poked
        assert s.wait_pokes(1) == [{"stream": "gtr-2", "position": 0, "globalPosition": 4}]


# ------------------------------------------------------------------ all mode

def test_all_mode_has_no_catch_up_and_pokes_every_write(gw):
    ns, tok = gw.create_ns()
    gw.write("before-1", token=tok)
    time.sleep(0.3)   # let its notification settle: the race is the next test's subject
    with gw.subscribe("all=true&position=0", token=tok) as s:
        s.wait_ready()
        gw.write("a-1", token=tok)
        gw.write("b", token=tok)
        gw.write("-c", token=tok)
        pokes = s.wait_pokes(3)
        assert pokes == [{"stream": "a-1", "position": 0, "globalPosition": 2},
                         {"stream": "b", "position": 0, "globalPosition": 3},
                         {"stream": "-c", "position": 0, "globalPosition": 4}]
        sse_frames_ok(s.body)


def test_all_mode_position_filters_global_position(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("all=true&position=1000", token=tok) as s:
        s.wait_ready()
        gw.write("low-1", token=tok)                                     # gp 1
        gw.import_(ndjson([record("imp-1", 0, 998)]), token=tok)         # no poke, sequence -> 998
        gw.write("low-1", token=tok)                                     # gp 999
        gw.write("high-1", token=tok)                                    # gp 1000
        pokes = s.wait_pokes(1)
        assert pokes[0] == {"stream": "high-1", "position": 0, "globalPosition": 1000}


def test_subscriptions_are_isolated_per_namespace(gw):
    a, ta = gw.create_ns()
    b, tb = gw.create_ns()
    with gw.subscribe("all=true", token=ta) as sa, gw.subscribe("stream=iso-1", token=ta) as ss, \
            gw.subscribe("category=iso", token=ta) as sc:
        for s in (sa, ss, sc):
            s.wait_ready()
        gw.write("iso-1", token=tb)
        gw.write("iso-1", token=DEFAULT_TOKEN)
        gw.write("iso-1", token=ta)
        for s in (sa, ss, sc):
            pokes = s.wait_pokes(1)
            assert pokes[0] == {"stream": "iso-1", "position": 0, "globalPosition": 1}
        for s in (sa, ss, sc):
            s.quiet(0.2)
            assert len(s.pokes()) == 1


# ------------------------------------------------------------------ docs/http-api.md#modes no duplicates

@pytest.mark.parametrize("mode", ["stream", "category"])
def test_no_duplicates_or_losses_when_writes_race_the_subscription(gw, mode):
    ns, tok = gw.create_ns()
    n = 120
    for _ in range(20):
        gw.write("race-1", token=tok)
    started = threading.Event()

    def writer():
        started.set()
        for _ in range(n - 20):
            gw.write("race-1", token=tok)

    t = threading.Thread(target=writer)
    t.start()
    started.wait()
    query = "stream=race-1&position=0" if mode == "stream" else "category=race&position=0"
    with gw.subscribe(query, token=tok) as s:
        t.join(60)
        s.read_until(lambda x: any(p["position"] == n - 1 for p in x.pokes()), 30)
        s.quiet(0.3)
        positions = [p["position"] for p in s.pokes()]
        assert len(positions) == len(set(positions)), "duplicate pokes: %s" % positions
        assert positions == list(range(n)), positions
        sse_frames_ok(s.body)


def test_catch_up_capped_at_1000_stream_mode(gw):
    ns, tok = gw.create_ns()
    r = gw.import_(ndjson([record("cap-1", i, i + 1) for i in range(1200)]), token=tok)
    assert b'"done":true' in r.body
    with gw.subscribe("stream=cap-1&position=0", token=tok) as s:
        pokes = s.wait_pokes(1000, timeout=30)
        assert [p["position"] for p in pokes] == list(range(1000))
        s.quiet(0.5)
        assert len(s.pokes()) == 1000
        gw.write("cap-1", token=tok)
        pokes = s.wait_pokes(1001)
        assert pokes[1000] == {"stream": "cap-1", "position": 1200, "globalPosition": 1201}
        assert len(pokes) == 1001


def test_catch_up_capped_at_1000_category_mode(gw):
    ns, tok = gw.create_ns()
    r = gw.import_(ndjson([record("capc-%d" % (i % 10), i // 10, i + 1) for i in range(1200)]), token=tok)
    assert b'"done":true' in r.body
    with gw.subscribe("category=capc&position=0", token=tok) as s:
        pokes = s.wait_pokes(1000, timeout=30)
        assert [p["globalPosition"] for p in pokes] == list(range(1, 1001))
        s.quiet(0.5)
        assert len(s.pokes()) == 1000
        gw.write("capc-3", token=tok)
        pokes = s.wait_pokes(1001)
        assert pokes[1000] == {"stream": "capc-3", "position": 120, "globalPosition": 1201}


# ------------------------------------------------------------------ consumer groups

VECTOR_IDS = ["1", "2", "3", "123", "123+retry", "abc", "a5eb2a97-84d9-4ccf-8a56-7160338b11e2",
              "ñ1", "", "42", "user@example.com"]
SIZE3 = {0: {"1", "ñ1", "42"},
         1: {"2", "123", "123+retry", "a5eb2a97-84d9-4ccf-8a56-7160338b11e2"},
         2: {"3", "abc", "", "user@example.com"}}
SENTINEL = {0: "1+end", 1: "2+end", 2: "3+end"}


def test_consumer_group_live_pokes_use_message_db_assignment(gw):
    ns, tok = gw.create_ns()
    subs = {m: gw.subscribe("category=account&consumer=%d&size=3" % m, token=tok) for m in range(3)}
    plain = gw.subscribe("category=account", token=tok)
    try:
        for s in list(subs.values()) + [plain]:
            s.wait_ready()
        for ident in VECTOR_IDS:
            gw.write("account-" + ident, token=tok)
        gw.write("account", token=tok)
        for m in range(3):
            gw.write("account-" + SENTINEL[m], token=tok)
        for m, s in subs.items():
            assert s.read_until(lambda x: "account-" + SENTINEL[m] in streams_of(x.pokes()), 15), s.body
            got = [st[len("account-"):] for st in streams_of(s.pokes())]
            assert got[-1] == SENTINEL[m]
            assert set(got[:-1]) == SIZE3[m], (m, got)
            assert len(got) == len(set(got))
        plain.read_until(lambda x: len(x.pokes()) == len(VECTOR_IDS) + 4, 15)
        assert "account" in streams_of(plain.pokes())
    finally:
        for s in list(subs.values()) + [plain]:
            s.close()


def test_consumer_group_catch_up_matches_category_get(gw):
    ns, tok = gw.create_ns()
    for ident in VECTOR_IDS:
        gw.write("account-" + ident, token=tok)
    gw.write("account", token=tok)
    for m in range(3):
        expected = [x[1] for x in gw.ok("category.get", "account",
                                        {"consumerGroup": {"member": m, "size": 3}}, token=tok)]
        with gw.subscribe("category=account&position=0&consumer=%d&size=3" % m, token=tok) as s:
            s.read_until(lambda x: len(x.pokes()) >= len(expected), 15)
            s.quiet(0.3)
            assert streams_of(s.pokes()) == expected
            assert {st[len("account-"):] for st in expected} == SIZE3[m]


def test_size_alone_means_member_zero(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("category=sz&size=2", token=tok) as s:
        s.wait_ready()
        idents = [str(i) for i in range(1, 9)]
        for i in idents:
            gw.write("sz-" + i, token=tok)
        zero = [i for i in idents if member_of("sz-" + i, 2) == 0]
        s.read_until(lambda x: len(x.pokes()) >= len(zero), 15)
        s.quiet(0.3)
        assert streams_of(s.pokes()) == ["sz-" + i for i in zero]


@pytest.mark.parametrize("params", ["consumer=0&size=0", "consumer=-1&size=-1", "size=-3", "consumer=0"])
def test_non_positive_size_disables_grouping(gw, params):
    ns, tok = gw.create_ns()
    with gw.subscribe("category=ng&" + params, token=tok) as s:
        s.wait_ready()
        for i in range(1, 5):
            gw.write("ng-%d" % i, token=tok)
        gw.write("ng", token=tok)
        assert len(s.wait_pokes(5)) == 5


def test_negative_consumer_with_size_never_pokes(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("category=neg&consumer=-1&size=2", token=tok) as s, \
            gw.subscribe("category=neg", token=tok) as control:
        s.wait_ready()
        control.wait_ready()
        for i in range(1, 7):
            gw.write("neg-%d" % i, token=tok)
        control.wait_pokes(6)
        s.quiet(0.3)
        assert s.pokes() == []


def test_group_parameters_ignored_outside_category_mode(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("stream=ign-1&consumer=7&size=2", token=tok) as s, \
            gw.subscribe("all=true&consumer=x&size=y", token=tok) as a:
        s.wait_ready()
        a.wait_ready()
        gw.write("ign-1", token=tok)
        assert len(s.wait_pokes(1)) == 1
        assert len(a.wait_pokes(1)) == 1


def test_unknown_group_parameter_names_are_ignored(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("category=unk&consumerGroupMember=1&consumerGroupSize=2", token=tok) as s:
        s.wait_ready()
        for i in range(1, 5):
            gw.write("unk-%d" % i, token=tok)
        assert len(s.wait_pokes(4)) == 4


# ------------------------------------------------------------------ docs/http-api.md#modes committed writes only

def test_pokes_only_for_committed_sql_writes(gw, sql):
    stream = unique("sqlpoke") + "-1"
    with gw.subscribe("stream=" + stream, token=DEFAULT_TOKEN) as s, \
            gw.subscribe("all=true", token=DEFAULT_TOKEN) as a:
        s.wait_ready()
        a.wait_ready()
        c = sql(autocommit=False)
        with c.cursor() as cur:
            cur.execute("SET search_path = message_store, public")
            cur.execute("SELECT write_message(%s, %s, 'Rolled', '{}')", (str(uuid.uuid4()), stream))
        c.rollback()
        with c.cursor() as cur:
            cur.execute("SET search_path = message_store, public")
            cur.execute("SELECT write_message(%s, %s, 'Pending', '{}')", (str(uuid.uuid4()), stream))
            s.quiet(0.5)
            assert s.pokes() == [], "poke before commit: %r" % s.body
            c.commit()
        pokes = s.wait_pokes(1)
        assert len(pokes) == 1 and pokes[0]["stream"] == stream and pokes[0]["position"] == 0
        msgs = gw.ok("stream.get", stream)
        assert [m[1] for m in msgs] == ["Pending"]
        assert pokes[0]["globalPosition"] == msgs[0][3]
        ap = a.read_until(lambda x: stream in streams_of(x.pokes()), 10)
        assert ap
        assert [p for p in a.pokes() if p["stream"] == stream] == pokes


def test_pokes_for_writes_through_another_gateway_instance(gw, spawn):
    from conftest import db_url
    other = spawn("second", ["serve", "--port={port}", "--db-url=" + db_url(gw.dbname),
                             "--token=" + DEFAULT_TOKEN])
    ns, tok = gw.create_ns()
    with gw.subscribe("stream=multi-1", token=tok) as s:
        s.wait_ready()
        other.write("multi-1", token=tok)
        assert s.wait_pokes(1) == [{"stream": "multi-1", "position": 0, "globalPosition": 1}]


def test_no_pokes_for_imports(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("all=true", token=tok) as a, gw.subscribe("stream=imp-1", token=tok) as s, \
            gw.subscribe("category=imp", token=tok) as c:
        for x in (a, s, c):
            x.wait_ready()
        r = gw.import_(ndjson([record("imp-1", 0, 1), record("imp-1", 1, 2)]), token=tok)
        assert b'"done":true' in r.body
        gw.write("imp-1", token=tok)
        for x in (a, s, c):
            pokes = x.wait_pokes(1)
            assert pokes[0] == {"stream": "imp-1", "position": 2, "globalPosition": 3}, x.body


# ------------------------------------------------------------------ termination

def test_subscription_of_deleted_namespace_ends(gw):
    ns, tok = gw.create_ns()
    with gw.subscribe("all=true", token=tok) as a, gw.subscribe("stream=end-1", token=tok) as s:
        a.wait_ready()
        s.wait_ready()
        gw.ok("ns.delete", ns)
        for x in (a, s):
            x.read_until(lambda y: y.ended, 20)
            assert x.ended, "subscription still open after ns.delete: %r" % x.body[-200:]


def test_other_subscriptions_survive_a_deletion(gw):
    a, ta = gw.create_ns()
    b, tb = gw.create_ns()
    with gw.subscribe("all=true", token=ta) as sa, gw.subscribe("all=true", token=tb) as sb:
        sa.wait_ready()
        sb.wait_ready()
        gw.ok("ns.delete", b)
        gw.write("live-1", token=ta)
        assert len(sa.wait_pokes(1)) == 1


# ------------------------------------------------------------------ robustness

def test_client_that_never_reads_does_not_block_the_server(gw):
    ns, tok = gw.create_ns()
    longname = "slow-" + "x" * 2000
    recs = [record(longname + str(i), 0, i + 1) for i in range(1000)]
    r = gw.import_(ndjson(recs), token=tok)
    assert b'"done":true' in r.body
    stuck = [gw.subscribe("category=slow&position=0", token=tok, rcvbuf=4096) for _ in range(4)]
    stuck += [gw.subscribe("all=true", token=tok, rcvbuf=4096) for _ in range(2)]
    try:
        with gw.subscribe("stream=fast-1", token=tok) as fast:
            fast.wait_ready()
            t0 = time.monotonic()
            for i in range(100):
                gw.write(longname + "w%d" % i, token=tok)
            gw.write("fast-1", token=tok)
            assert fast.wait_pokes(1)[0]["stream"] == "fast-1"
            assert gw.ok("sys.version")
            assert gw.request("GET", "/health").status == 200
            assert time.monotonic() - t0 < 60
    finally:
        for s in stuck:
            s.close()
    assert gw.ok("sys.health")["status"] == "ok"


def test_many_idle_subscriptions(gw):
    ns, tok = gw.create_ns()
    subs = []
    try:
        for i in range(200):
            subs.append(gw.subscribe("stream=idle-%d" % (i % 10), token=tok, timeout=20))
        for s in subs:
            s.wait_ready(timeout=20)
        assert gw.ok("sys.version")
        gw.write("idle-3", token=tok)
        for s in subs[3::10]:
            assert s.wait_pokes(1)[0]["stream"] == "idle-3"
    finally:
        for s in subs:
            s.close()


def test_subscriber_disconnects_are_cleaned_up(gw):
    ns, tok = gw.create_ns()
    for _ in range(50):
        s = gw.subscribe("all=true", token=tok)
        s.wait_ready()
        s.close()
    with gw.subscribe("all=true", token=tok) as s:
        s.wait_ready()
        gw.write("after-1", token=tok)
        assert s.wait_pokes(1)[0]["stream"] == "after-1"


def test_all_mode_never_pokes_writes_acknowledged_before_subscribing(gw):
    """'No catch-up' (docs/http-api.md#modes): a write answered 200 before the subscription was
    requested must not be poked, even while its notification is in flight."""
    ns, tok = gw.create_ns()
    leaked = []
    for i in range(100):
        gw.write("pre-%d" % i, token=tok)
        with gw.subscribe("all=true&position=0", token=tok) as s:
            s.wait_ready()
            gw.write("marker-%d" % i, token=tok)
            pokes = s.wait_pokes(1)
            if pokes[0]["stream"] != "marker-%d" % i:
                leaked.append(pokes[0])
    assert not leaked, "pokes for writes made before the subscription: %s" % leaked


def test_a_heartbeat_never_precedes_ready_while_all_mode_waits_for_its_barrier(databases, spawn):
    """docs/http-api.md#frames: ': ready' is the first frame. An all-mode subscription says it
    only once its barrier has come back on the LISTEN connection; while that connection is
    down (its reconnect held off with a lock on the table it reads its channel from), a
    heartbeat - every 20 s - used to go out first."""
    from conftest import db_url, pg_connect
    dbname = databases.new("hbready")
    g = spawn("hbready", ["serve", "--port={port}", "--db-url=" + db_url(dbname), "--token=" + DEFAULT_TOKEN])
    holder = pg_connect(dbname)
    admin = pg_connect(dbname)
    admin.autocommit = True
    try:
        holder.cursor().execute("LOCK TABLE eventodb.poke_channel IN ACCESS EXCLUSIVE MODE")
        with admin.cursor() as cur:
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name = 'eventodb-listen'", (dbname,))
            assert cur.fetchone()[0] == 1
        with g.subscribe("all=true") as s:
            s.quiet(21)                    # past one heartbeat, wherever its period stands
            assert s.status == 200 and s.frames() == [], s.body
            holder.commit()                # the LISTEN connection comes back, the barrier passes
            s.wait_ready(30)
            g.write("after-1")
            assert [p["stream"] for p in s.wait_pokes(1)] == ["after-1"]
    finally:
        holder.close()
        admin.close()


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT"])
def test_subscribe_accepts_any_method(gw, method):
    ns, tok = gw.create_ns()
    with gw.subscribe("stream=m-1", token=tok, method=method) as s:
        assert s.status == 200
        s.wait_ready()
        gw.write("m-1", token=tok)
        assert s.wait_pokes(1)[0]["stream"] == "m-1"


def test_poke_for_stream_name_too_long_for_notify_payload(gw):
    """docs/sql-api.md#pokes-and-write-mode: a truncated notification must still yield a full poke."""
    ns, tok = gw.create_ns()
    name = "trunc-" + "a" * 7990
    with gw.subscribe("stream=" + name, token=tok) as s, gw.subscribe("category=trunc", token=tok) as c, \
            gw.subscribe("all=true", token=tok) as a:
        for x in (s, c, a):
            x.wait_ready()
        assert gw.write(name, token=tok) == {"globalPosition": 1, "position": 0}
        for x in (s, c, a):
            assert x.wait_pokes(1) == [{"stream": name, "position": 0, "globalPosition": 1}]


# ------------------------------------------- docs/high-availability.md: missed nothing after a reconnect

def test_after_a_listen_reconnect_catch_up_reads_everything_missed(databases, spawn):
    """Messages committed while the LISTEN connection is down are poked by the
    catch-up that follows its reconnect - all of them, page after page, not
    only the first 1000 that a new subscription's catch-up reads. The
    reconnect is held off with a lock on the table it reads its channel from."""
    from conftest import db_url, pg_connect
    dbname = databases.new("gap")
    g = spawn("gap", ["serve", "--port={port}", "--db-url=" + db_url(dbname), "--token=" + DEFAULT_TOKEN])
    by_stream = g.subscribe("stream=gapd-1&position=0").wait_ready()
    by_category = g.subscribe("category=gapd&position=1").wait_ready()
    holder = pg_connect(dbname)
    writer = pg_connect(dbname)
    writer.autocommit = True
    try:
        hcur = holder.cursor()
        hcur.execute("LOCK TABLE eventodb.poke_channel IN ACCESS EXCLUSIVE MODE")
        with writer.cursor() as cur:
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name = 'eventodb-listen'", (dbname,))
            assert cur.fetchone()[0] == 1
            cur.execute("SELECT count(message_store.write_message(gen_random_uuid()::text, 'gapd-1', 'T', '{}'))"
                        " FROM generate_series(1, 1500)")
        time.sleep(0.5)  # the writes' pokes went out to nobody
        holder.commit()  # the LISTEN connection comes back
    finally:
        holder.close()
        writer.close()
    g.write("gapd-1")
    for sub, first in ((by_stream, 0), (by_category, 1)):
        pokes = sub.wait_pokes(1501, timeout=30)
        key = "position" if first == 0 else "globalPosition"
        assert [p[key] for p in pokes] == list(range(first, first + 1501)), [p[key] for p in pokes][990:1010]
        sub.close()


def test_a_poke_whose_check_fails_still_reaches_the_subscriber(databases, spawn):
    """Every poke is checked against the store before it is sent on
    (docs/security.md#pokes); when that read fails, the poke is not dropped:
    the read is tried once more, and failing that every subscription catches
    up from its tracker, as after a lost LISTEN connection. The check's
    function is renamed away for the duration, so it fails every time."""
    from conftest import db_url, pg_connect
    dbname = databases.new("pchk")
    g = spawn("pchk", ["serve", "--port={port}", "--db-url=" + db_url(dbname), "--token=" + DEFAULT_TOKEN])
    sub = g.subscribe("stream=pchk-1&position=0").wait_ready()
    admin = pg_connect(dbname)
    admin.autocommit = True
    signature = "eventodb.%s(text, text, bigint, bigint, text, bigint, bigint)"
    try:
        with admin.cursor() as cur:
            cur.execute("ALTER FUNCTION %s RENAME TO category_get_away" % (signature % "category_get"))
            cur.execute("SELECT message_store.write_message(gen_random_uuid()::text, 'pchk-1', 'T', '{}')")
            assert sub.wait_pokes(1, timeout=10) == [{"stream": "pchk-1", "position": 0, "globalPosition": 1}]
    finally:
        with admin.cursor() as cur:
            cur.execute("ALTER FUNCTION %s RENAME TO category_get" % (signature % "category_get_away"))
        admin.close()
    assert "some pokes could not be checked" in g.log_text()
    sub.close()
