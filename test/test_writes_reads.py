"""Write guarantees and richer reads (docs/writes-and-reads.md): idempotent
stream.write, stream.writeMany, backward stream reads, type-filtered category
reads and the time lookup - one test per rule and per bad input."""
import threading
import uuid

import pytest

from harness import check_error

ID = "0195b3c2-7d1e-7a80-9c55-1f2e3d4c5b6a"


def msg(type_="T", data=None, **extra):
    m = {"type": type_, "data": {} if data is None else data}
    m.update(extra)
    return m


def many(stream, type_="T", data=None, **extra):
    m = {"streamName": stream}
    m.update(msg(type_, data, **extra))
    return m


@pytest.fixture
def tok(gw):
    return gw.create_ns()[1]


# ------------------------------------------------------------ idempotent writes

def test_idempotent_repeat_answers_the_stored_positions(gw, tok):
    gw.write("idem-0", token=tok)
    first = gw.write("idem-1", data={"a": 1}, token=tok, id=ID, idempotent=True)
    gw.write("idem-1", token=tok)
    again = gw.write("idem-1", data={"a": 1}, token=tok, id=ID, idempotent=True)
    assert again == first == {"globalPosition": 2, "position": 0}
    assert gw.ok("stream.version", "idem-1", token=tok) == 1


def test_idempotent_repeat_wins_over_expected_version(gw, tok):
    first = gw.write("idem-1", token=tok, id=ID, expectedVersion=-1, idempotent=True)
    again = gw.write("idem-1", token=tok, id=ID, expectedVersion=-1, idempotent=True)
    assert again == first


def test_idempotent_new_message_still_checks_expected_version(gw, tok):
    gw.write("idem-1", token=tok)
    r = gw.rpc("stream.write", "idem-1", msg(), {"id": ID, "expectedVersion": 5, "idempotent": True},
               token=tok)
    check_error(r, 409, "STREAM_VERSION_CONFLICT", "Expected version 5, stream is at version 0",
                details={"actual": 0, "expected": 5})


def test_idempotent_id_key_order_of_data_does_not_matter(gw, tok):
    first = gw.write("idem-1", data={"a": 1, "b": [1, 2]}, token=tok, id=ID, idempotent=True)
    again = gw.write("idem-1", data={"b": [1, 2], "a": 1}, token=tok, id=ID.upper(), idempotent=True)
    assert again == first


@pytest.mark.parametrize("stream,type_,data", [
    ("idem-2", "T", {"a": 1}),      # another stream
    ("idem-1", "U", {"a": 1}),      # another type
    ("idem-1", "T", {"a": 2}),      # other data
])
def test_idempotent_other_message_under_the_id_is_a_conflict(gw, tok, stream, type_, data):
    gw.write("idem-1", type_="T", data={"a": 1}, token=tok, id=ID)
    r = gw.rpc("stream.write", stream, msg(type_, data), {"id": ID, "idempotent": True}, token=tok)
    err = check_error(r, 409, "MESSAGE_ID_CONFLICT")
    assert err["message"] == ("Message id \"%s\" is already used by a message with another "
                              "stream, type or data" % ID)
    assert err["details"] == {"globalPosition": 1, "id": ID, "position": 0, "streamName": "idem-1"}
    assert gw.ok("stream.version", "idem-1", token=tok) == 0


def test_without_the_option_a_repeat_is_the_old_duplicate_error(gw, tok):
    gw.write("idem-1", token=tok, id=ID)
    for opts in ({"id": ID}, {"id": ID, "idempotent": False}):
        r = gw.rpc("stream.write", "idem-1", msg(), opts, token=tok)
        err = check_error(r, 500, "BACKEND_ERROR")
        assert err["message"].startswith("Failed to write message: ")
        assert "duplicate key" in err["message"]


def test_idempotent_without_id_writes_a_new_message(gw, tok):
    a = gw.write("idem-1", token=tok, idempotent=True)
    b = gw.write("idem-1", token=tok, idempotent=True, id="")
    assert (a["position"], b["position"]) == (0, 1)


def test_idempotent_metadata_is_not_compared(gw, tok):
    first = gw.ok("stream.write", "idem-1", msg(metadata={"try": 1}), {"id": ID, "idempotent": True},
                  token=tok)
    again = gw.ok("stream.write", "idem-1", msg(metadata={"try": 2}), {"id": ID, "idempotent": True},
                  token=tok)
    assert again == first
    assert gw.ok("stream.get", "idem-1", token=tok)[0][5] == {"try": 1}


def test_idempotent_racing_retries_write_once(gw, tok):
    results = []

    def go():
        results.append(gw.write("idem-race", data={"x": 1}, token=tok, id=ID, idempotent=True))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r == results[0] for r in results)
    assert gw.ok("stream.version", "idem-race", token=tok) == 0


@pytest.mark.parametrize("value", [None, 1, "true", [], {}])
def test_idempotent_must_be_a_boolean(gw, tok, value):
    r = gw.rpc("stream.write", "idem-1", msg(), {"idempotent": value}, token=tok)
    check_error(r, 400, "INVALID_REQUEST", "options.idempotent must be a boolean", has_details=False)


def test_idempotent_validation_comes_after_expected_version(gw, tok):
    r = gw.rpc("stream.write", "idem-1", msg(), {"expectedVersion": "x", "idempotent": 1}, token=tok)
    check_error(r, 400, "INVALID_REQUEST", "options.expectedVersion must be a number")


def test_idempotent_bad_id_is_the_usual_backend_error(gw, tok):
    r = gw.rpc("stream.write", "idem-1", msg(), {"id": "nope", "idempotent": True}, token=tok)
    check_error(r, 500, "BACKEND_ERROR", "Failed to write message: invalid UUID format: nope")


# ------------------------------------------------------------ stream.writeMany

def test_write_many_answers_each_message_in_order(gw, tok):
    gw.write("wm-1", token=tok)
    res = gw.ok("stream.writeMany", [many("wm-1"), many("other-7", data={"k": 1}),
                                     many("wm-1", metadata={"m": 1})], token=tok)
    assert res == [{"globalPosition": 2, "position": 1}, {"globalPosition": 3, "position": 0},
                   {"globalPosition": 4, "position": 2}]
    got = gw.ok("category.get", "", token=tok)
    assert [(m[1], m[3], m[4], m[5], m[6]) for m in got] == [
        ("wm-1", 0, 1, {}, None), ("wm-1", 1, 2, {}, None), ("other-7", 0, 3, {"k": 1}, None),
        ("wm-1", 2, 4, {}, {"m": 1})]


def test_write_many_shares_one_transaction_time(gw, tok):
    gw.ok("stream.writeMany", [many("wm-1"), many("wm-2")], token=tok)
    a = gw.ok("stream.get", "wm-1", token=tok)[0][6]
    b = gw.ok("stream.get", "wm-2", token=tok)[0][6]
    assert a == b


def test_write_many_expected_versions(gw, tok):
    gw.write("wm-1", token=tok)
    res = gw.ok("stream.writeMany", [many("wm-1", expectedVersion=0), many("wm-2", expectedVersion=-1),
                                     many("wm-1", expectedVersion=1)], token=tok)
    assert [r["position"] for r in res] == [1, 0, 2]


def test_write_many_conflict_writes_nothing(gw, tok):
    gw.write("wm-1", token=tok)
    r = gw.rpc("stream.writeMany", [many("wm-2"), many("wm-1", expectedVersion=3)], token=tok)
    check_error(r, 409, "STREAM_VERSION_CONFLICT", "Expected version 3, stream is at version 0",
                details={"actual": 0, "expected": 3, "index": 1, "streamName": "wm-1"})
    assert gw.ok("stream.version", "wm-2", token=tok) is None
    assert gw.ok("stream.version", "wm-1", token=tok) == 0


def test_write_many_expected_version_counts_earlier_messages_of_the_call(gw, tok):
    r = gw.rpc("stream.writeMany", [many("wm-1"), many("wm-1", expectedVersion=-1)], token=tok)
    check_error(r, 409, "STREAM_VERSION_CONFLICT", "Expected version -1, stream is at version 0")


def test_write_many_duplicate_id_fails_everything(gw, tok):
    gw.write("wm-1", token=tok, id=ID)
    r = gw.rpc("stream.writeMany", [many("wm-2"), many("wm-3", id=ID)], token=tok)
    err = check_error(r, 500, "BACKEND_ERROR")
    assert err["message"].startswith("Failed to write messages: ") and "duplicate key" in err["message"]
    assert gw.ok("stream.version", "wm-2", token=tok) is None


def test_write_many_idempotent_retry_answers_the_same(gw, tok):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    call = [many("wm-1", id=ids[0], expectedVersion=-1), many("wm-2", id=ids[1]),
            many("wm-1", id=ids[2], data={"n": 2})]
    first = gw.ok("stream.writeMany", call, {"idempotent": True}, token=tok)
    again = gw.ok("stream.writeMany", call, {"idempotent": True}, token=tok)
    assert again == first
    assert gw.ok("stream.version", "wm-1", token=tok) == 1
    r = gw.rpc("stream.writeMany", call, token=tok)
    check_error(r, 409, "STREAM_VERSION_CONFLICT")


def test_write_many_idempotent_other_payload_is_a_conflict(gw, tok):
    gw.ok("stream.writeMany", [many("wm-1", id=ID)], {"idempotent": True}, token=tok)
    r = gw.rpc("stream.writeMany", [many("wm-2"), many("wm-1", id=ID, data={"x": 1})],
               {"idempotent": True}, token=tok)
    check_error(r, 409, "MESSAGE_ID_CONFLICT")
    assert gw.ok("stream.version", "wm-2", token=tok) is None


def test_write_many_reads_back_ids_and_payloads(gw, tok):
    gw.ok("stream.writeMany", [many("wm-1", "Big", {"n": 12345678901234567890, "s": "<&>"}, id=ID,
                                    metadata=None)], token=tok)
    m = gw.ok("stream.get", "wm-1", token=tok)[0]
    assert m[0] == ID and m[1] == "Big" and m[5] is None
    assert m[4]["s"] == "<&>"


def test_write_many_pokes_subscribers(gw, tok):
    with gw.subscribe("category=wmp", token=tok) as sub:
        sub.wait_ready()
        gw.ok("stream.writeMany", [many("wmp-1"), many("wmp-2"), many("zzz-1")], token=tok)
        pokes = sub.wait_pokes(2)
    assert sorted(p["stream"] for p in pokes[:2]) == ["wmp-1", "wmp-2"]


def test_write_many_opposite_orders_do_not_deadlock(gw, tok):
    errors = []

    def go(streams):
        try:
            for _ in range(20):
                gw.ok("stream.writeMany", [many(s) for s in streams], token=tok)
        except AssertionError as e:     # pragma: no cover - reported below
            errors.append(e)

    a = threading.Thread(target=go, args=(["dl-1", "other-2", "dl-3"],))
    b = threading.Thread(target=go, args=(["dl-3", "other-2", "dl-1"],))
    c = threading.Thread(target=lambda: [gw.write("dl-1", token=tok) for _ in range(20)])
    for t in (a, b, c):
        t.start()
    for t in (a, b, c):
        t.join()
    assert not errors
    assert gw.ok("stream.version", "dl-1", token=tok) == 59
    assert gw.ok("stream.version", "dl-3", token=tok) == 39
    got = gw.ok("stream.get", "dl-1", {"batchSize": -1}, token=tok)
    assert [m[2] for m in got] == list(range(60))


LONG = "x" * 39


@pytest.mark.parametrize("args,message", [
    ([], "stream.writeMany requires at least 1 argument: messages"),
    ([None], "messages must be a non-empty array"),
    ([{}], "messages must be a non-empty array"),
    ([[]], "messages must be a non-empty array"),
    (["x"], "messages must be a non-empty array"),
    ([[None]], "messages[0] must be an object"),
    ([[many("a-1"), 5]], "messages[1] must be an object"),
    ([[{"type": "T", "data": {}}]], "messages[0].streamName must be a non-empty string"),
    ([[many("")]], "messages[0].streamName must be a non-empty string"),
    ([[{"streamName": 1, "type": "T", "data": {}}]], "messages[0].streamName must be a non-empty string"),
    ([[{"streamName": "a-1", "data": {}}]], "messages[0].type must be a non-empty string"),
    ([[many("a-1", "")]], "messages[0].type must be a non-empty string"),
    ([[{"streamName": "a-1", "type": "T"}]], "messages[0].data must be an object"),
    ([[{"streamName": "a-1", "type": "T", "data": None}]], "messages[0].data must be an object"),
    ([[{"streamName": "a-1", "type": "T", "data": []}]], "messages[0].data must be an object"),
    ([[many("a-1", metadata=[])]], "messages[0].metadata must be an object"),
    ([[many("a-1", metadata="m")]], "messages[0].metadata must be an object"),
    ([[many("a-1", id=5)]], "messages[0].id must be a string"),
    ([[many("a-1", id=None)]], "messages[0].id must be a string"),
    ([[many("a-1", expectedVersion="1")]], "messages[0].expectedVersion must be a number"),
    ([[many("a-1", expectedVersion=None)]], "messages[0].expectedVersion must be a number"),
    ([[many("a-1")], None], "options must be an object"),
    ([[many("a-1")], []], "options must be an object"),
    ([[many("a-1")], {"idempotent": "yes"}], "options.idempotent must be a boolean"),
    ([[many("a-1")], {"idempotent": None}], "options.idempotent must be a boolean"),
])
def test_write_many_validation_messages(gw, tok, args, message):
    r = gw.rpc("stream.writeMany", *args, token=tok)
    check_error(r, 400, "INVALID_REQUEST", message, has_details=False)


def test_write_many_at_most_1000_messages(gw, tok):
    r = gw.rpc("stream.writeMany", [many("a-1")] * 1001, token=tok)
    check_error(r, 400, "INVALID_REQUEST", "messages must hold at most 1000 messages")
    res = gw.ok("stream.writeMany", [many("big-%d" % (i % 7)) for i in range(1000)], token=tok)
    assert len(res) == 1000 and res[-1]["globalPosition"] == 1000


def test_write_many_bad_ids_are_backend_errors(gw, tok):
    r = gw.rpc("stream.writeMany", [many("a-1"), many("a-1", id="nope")], token=tok)
    check_error(r, 500, "BACKEND_ERROR", "Failed to write messages: messages[1]: invalid UUID format: nope")
    r = gw.rpc("stream.writeMany", [many("a-1", id=LONG)], token=tok)
    check_error(r, 500, "BACKEND_ERROR", "Failed to write messages: messages[0]: invalid UUID format: " + LONG)
    r = gw.rpc("stream.writeMany", [many("a-\u0000")], token=tok)
    err = check_error(r, 500, "BACKEND_ERROR")
    assert "0x00" in err["message"]
    assert gw.ok("stream.version", "a-1", token=tok) is None


def test_write_many_needs_a_token(gw):
    r = gw.rpc("stream.writeMany", [many("a-1")], token=None)
    check_error(r, 401, "AUTH_REQUIRED")


def test_write_many_in_test_mode_unknown_namespace(tgw):
    from harness import token_for
    r = tgw.rpc("stream.writeMany", [many("a-1")], token=token_for("nope-" + uuid.uuid4().hex))
    check_error(r, 500, "BACKEND_ERROR")


# ------------------------------------------------------------ backward stream reads

@pytest.fixture
def five(gw, tok):
    for i in range(5):
        gw.write("back-1", data={"i": i}, token=tok)
    gw.write("back-2", token=tok)
    return tok


def test_backward_reads_from_the_end(gw, five):
    got = gw.ok("stream.get", "back-1", {"direction": "backward"}, token=five)
    assert [m[2] for m in got] == [4, 3, 2, 1, 0]
    assert [m[4]["i"] for m in got] == [4, 3, 2, 1, 0]
    assert len(got[0]) == 7
    forward = gw.ok("stream.get", "back-1", token=five)
    assert got == forward[::-1]


def test_backward_from_a_position_with_a_batch(gw, five):
    got = gw.ok("stream.get", "back-1", {"direction": "backward", "position": 3, "batchSize": 2},
                token=five)
    assert [m[2] for m in got] == [3, 2]
    got = gw.ok("stream.get", "back-1", {"direction": "backward", "position": 99, "batchSize": 1.9},
                token=five)
    assert [m[2] for m in got] == [4]


def test_backward_edges(gw, five):
    assert gw.ok("stream.get", "back-1", {"direction": "backward", "position": -1}, token=five) == []
    assert gw.ok("stream.get", "back-1", {"direction": "backward", "batchSize": 0}, token=five) == []
    assert gw.ok("stream.get", "nope-1", {"direction": "backward"}, token=five) == []
    assert [m[2] for m in gw.ok("stream.get", "back-1", {"direction": "backward", "position": 0},
                                  token=five)] == [0]


def test_forward_direction_is_the_default_read(gw, five):
    a = gw.rpc("stream.get", "back-1", {"direction": "forward", "position": 2}, token=five)
    b = gw.rpc("stream.get", "back-1", {"position": 2}, token=five)
    assert a.status == 200 and a.body == b.body


@pytest.mark.parametrize("opts,message", [
    ({"direction": None}, 'options.direction must be "forward" or "backward"'),
    ({"direction": 1}, 'options.direction must be "forward" or "backward"'),
    ({"direction": "Backward"}, 'options.direction must be "forward" or "backward"'),
    ({"direction": ""}, 'options.direction must be "forward" or "backward"'),
    ({"direction": "backward", "globalPosition": 1},
     "options.globalPosition cannot be used with direction backward"),
    ({"direction": "backward", "batchSize": -1},
     "options.batchSize must be between 0 and 10000 with direction backward"),
    ({"direction": "backward", "batchSize": -2},
     "options.batchSize must be between 0 and 10000 with direction backward"),
    ({"direction": "backward", "batchSize": 10001}, "options.batchSize must be <= 10000 or -1 for unlimited"),
    # the older options are checked first, in docs/http-api.md#streamget's order
    ({"direction": "x", "position": "a"}, "options.position must be a number"),
])
def test_backward_validation(gw, five, opts, message):
    r = gw.rpc("stream.get", "back-1", opts, token=five)
    check_error(r, 400, "INVALID_REQUEST", message, has_details=False)


# ------------------------------------------------------------ category.positionAt

def _time_of(gw, tok, stream, position):
    return gw.ok("stream.get", stream, {"position": position, "batchSize": 1}, token=tok)[0][6]


def test_position_at_finds_the_first_message_at_or_after(gw, tok):
    import time as _t
    gw.write("at-1", token=tok)                 # 1
    _t.sleep(0.02)
    gw.write("other-1", token=tok)              # 2
    gw.write("at-2", token=tok)                 # 3
    t2 = _time_of(gw, tok, "other-1", 0)
    t3 = _time_of(gw, tok, "at-2", 0)
    assert gw.ok("category.positionAt", "", t2, token=tok) == 2
    assert gw.ok("category.positionAt", "at", t2, token=tok) == 3
    assert gw.ok("category.positionAt", "at", t3, token=tok) == 3
    assert gw.ok("category.positionAt", "", "2000-01-01T00:00:00Z", token=tok) == 1
    assert gw.ok("category.positionAt", "at", "2000-01-01T00:00:00+02:00", token=tok) == 1


def test_position_at_takes_years_before_1(gw, tok):
    # RFC 3339 year 0000 is 1 BC for PostgreSQL, which refuses it in ISO form
    gw.write("at-1", token=tok)
    for t in ("0000-06-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "0000-01-01T00:00:00.5+23:59"):
        assert gw.ok("category.positionAt", "at", t, token=tok) == 1, t


def test_position_at_none_yet_is_null(gw, tok):
    gw.write("at-1", token=tok)
    for cat in ("", "at", "nope", "at-1"):
        r = gw.rpc("category.positionAt", cat, "2999-01-01T00:00:00Z", token=tok)
        assert r.status == 200 and r.body == b"null\n"
    r = gw.rpc("category.positionAt", "at-1", "2000-01-01T00:00:00Z", token=tok)
    assert r.body == b"null\n"      # a name with '-' is no category


def test_position_at_rounds_nanoseconds_up(gw, tok):
    gw.write("at-1", token=tok)
    t = _time_of(gw, tok, "at-1", 0)
    base = t[:-1]
    if "." not in base:
        base += "."
    frac = base.split(".")[1]
    later = base + "0" * (6 - len(frac)) + "001Z"     # one nanosecond after the message
    r = gw.rpc("category.positionAt", "at", later, token=tok)
    assert r.body == b"null\n"
    assert gw.ok("category.positionAt", "at", t, token=tok) == 1


@pytest.mark.parametrize("args,message", [
    ([], "category.positionAt requires 2 arguments: categoryName and time"),
    (["at"], "category.positionAt requires 2 arguments: categoryName and time"),
    ([None, "2025-01-01T00:00:00Z"], "categoryName must be a string"),
    ([1, "2025-01-01T00:00:00Z"], "categoryName must be a string"),
    (["at", None], "time must be an RFC 3339 timestamp"),
    (["at", 1700000000], "time must be an RFC 3339 timestamp"),
    (["at", "2025-01-01"], "time must be an RFC 3339 timestamp"),
    (["at", "2025-01-01 00:00:00Z"], "time must be an RFC 3339 timestamp"),
    (["at", "yesterday"], "time must be an RFC 3339 timestamp"),
])
def test_position_at_validation(gw, tok, args, message):
    r = gw.rpc("category.positionAt", *args, token=tok)
    check_error(r, 400, "INVALID_REQUEST", message, has_details=False)


# ------------------------------------------------------------ type-filtered category reads

@pytest.fixture
def typed_ns(gw, sql):
    ns, tok = gw.create_ns()
    types = ["Common", "Rare", "Common", "Other", "Rare", "Common", 'Q"\\x']
    gw.ok("stream.writeMany", [many("ty-%d" % (i % 3), t, {"i": i}) for i, t in enumerate(types)],
          token=tok)
    gw.write("zz-1", "Rare", token=tok)
    return ns, tok


def q(sql, query, *args):
    with sql().cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall() if cur.description else None


def _gpos(msgs):
    return [m[4] for m in msgs]


@pytest.mark.parametrize("indexed", [False, True])
def test_types_filter_category_reads(gw, sql, typed_ns, indexed):
    ns, tok = typed_ns
    if indexed:
        q(sql, "SELECT eventodb.type_index_create(%s)", ns)
    assert _gpos(gw.ok("category.get", "ty", {"types": ["Rare"]}, token=tok)) == [2, 5]
    assert _gpos(gw.ok("category.get", "ty", {"types": ["Rare", "Other", "Rare"]}, token=tok)) == [2, 4, 5]
    assert _gpos(gw.ok("category.get", "ty", {"types": ["Rare", "Other"], "batchSize": 2},
                       token=tok)) == [2, 4]
    assert _gpos(gw.ok("category.get", "ty", {"types": ["Rare"], "position": 3}, token=tok)) == [5]
    assert _gpos(gw.ok("category.get", "", {"types": ["Rare"]}, token=tok)) == [2, 5, 8]
    assert _gpos(gw.ok("category.get", "ty", {"types": ['Q"\\x']}, token=tok)) == [7]
    assert gw.ok("category.get", "ty", {"types": ["rare"]}, token=tok) == []
    assert gw.ok("category.get", "ty-1", {"types": ["Rare"]}, token=tok) == []


def test_types_empty_list_is_no_filter(gw, typed_ns):
    ns, tok = typed_ns
    a = gw.rpc("category.get", "ty", {"types": []}, token=tok)
    b = gw.rpc("category.get", "ty", token=tok)
    assert a.body == b.body


def test_types_rows_are_category_get_rows(gw, typed_ns):
    ns, tok = typed_ns
    every = gw.ok("category.get", "ty", token=tok)
    rare = gw.ok("category.get", "ty", {"types": ["Rare"]}, token=tok)
    assert rare == [m for m in every if m[2] == "Rare"]


def test_types_with_consumer_group_and_unlimited_paging(gw, typed_ns):
    ns, tok = typed_ns
    got = gw.ok("category.get", "ty", {"types": ["Common"], "batchSize": -1,
                                        "consumerGroup": {"member": 0, "size": 1}}, token=tok)
    assert _gpos(got) == [1, 3, 6]
    many_tok = gw.create_ns()[1]
    gw.ok("stream.writeMany", [many("pg-%d" % i, "A" if i % 2 else "B") for i in range(1000)],
          token=many_tok)
    gw.ok("stream.writeMany", [many("pg-%d" % i, "A" if i % 2 else "B") for i in range(1000)],
          token=many_tok)
    got = gw.ok("category.get", "pg", {"types": ["A"], "batchSize": -1}, token=many_tok)
    assert len(got) == 1000 and _gpos(got) == list(range(2, 2001, 2))
    got = gw.ok("category.get", "pg", {"types": ["A"], "batchSize": 1500}, token=many_tok)
    assert len(got) == 1000


@pytest.mark.parametrize("types", [None, "Rare", {}, [1], [""], [None], [["Rare"]], ["x"] * 101])
def test_types_validation(gw, tok, types):
    r = gw.rpc("category.get", "ty", {"types": types}, token=tok)
    check_error(r, 400, "INVALID_REQUEST",
                "options.types must be an array of at most 100 non-empty strings", has_details=False)


def test_types_validation_comes_after_consumer_group(gw, tok):
    r = gw.rpc("category.get", "ty", {"types": 1, "consumerGroup": {"member": 0}}, token=tok)
    check_error(r, 400, "INVALID_REQUEST", "options.consumerGroup requires both member and size")


def test_type_index_is_used(gw, sql, typed_ns):
    ns, tok = typed_ns
    q(sql, "SELECT eventodb.type_index_create(%s)", ns)
    schema = q(sql, "SELECT schema_name FROM eventodb.namespaces WHERE id = %s", ns)[0][0]
    idx = q(sql, "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'messages_category_type'",
              schema)
    assert idx and "type, global_position" in idx[0][0]
    q(sql, "SELECT eventodb.type_index_drop(%s)", ns)
    assert _gpos(gw.ok("category.get", "ty", {"types": ["Rare"]}, token=tok)) == [2, 5]


@pytest.mark.parametrize("indexed", [False, True])
def test_subscription_with_types_uses_the_same_rules(gw, sql, indexed):
    """A persistent subscription with types reads its source through the
    type index when the namespace has it: same deliveries either way."""
    ns, tok = gw.create_ns()
    if indexed:
        q(sql, "SELECT eventodb.type_index_create(%s)", ns)
    gw.ok("subscription.create", "s", "sub", {"types": ["Rare", "Odd"], "strategy": "roundRobin"},
          token=tok)
    types = ["Common", "Rare", "Odd", "Common", "Rare", "Other"] * 5
    gw.ok("stream.writeMany", [many("sub-%d" % (i % 4), t) for i, t in enumerate(types)], token=tok)
    gw.write("zzz-1", "Rare", token=tok)
    got = []
    for _ in range(10):
        batch = gw.ok("subscription.fetch", "s", "c1", {"max": 7}, token=tok)
        if not batch:
            break
        got.extend(batch)
        gw.ok("subscription.ack", "s", [d["deliveryId"] for d in batch], token=tok)
    gpos = [d["message"][4] for d in got]
    assert gpos == [i + 1 for i, t in enumerate(types) if t in ("Rare", "Odd")]


# ------------------------------------------------------------ NUL bytes and unknown namespaces

def test_nul_bytes_are_the_usual_backend_errors(gw, tok):
    cases = [
        ("stream.get", ["a-\u0000", {"direction": "backward"}], "Failed to get messages: "),
        ("category.get", ["a", {"types": ["T\u0000"]}], "Failed to get category messages: "),
        ("category.positionAt", ["a\u0000", "2025-01-01T00:00:00Z"], "Failed to find position: "),
        ("stream.write", ["a-1", msg(), {"id": "a\u0000", "idempotent": True}], "Failed to write message: "),
    ]
    for method, args, prefix in cases:
        err = check_error(gw.rpc(method, *args, token=tok), 500, "BACKEND_ERROR")
        assert err["message"] == prefix + 'invalid byte sequence for encoding "UTF8": 0x00', err


@pytest.mark.parametrize("method,args,prefix", [
    ("stream.writeMany", [[many("a-1")]], "Failed to write messages: "),
    ("stream.write", ["a-1", msg(), {"idempotent": True}], "Failed to write message: "),
    ("stream.get", ["a-1", {"direction": "backward"}], "Failed to get messages: "),
    ("category.get", ["a", {"types": ["T"]}], "Failed to get category messages: "),
    ("category.positionAt", ["a", "2025-01-01T00:00:00Z"], "Failed to find position: "),
])
def test_unknown_namespace_in_test_mode(tgw, method, args, prefix):
    from harness import token_for
    r = tgw.rpc(method, *args, token=token_for("nope-" + uuid.uuid4().hex))
    err = check_error(r, 500, "BACKEND_ERROR")
    assert err["message"].startswith(prefix) and "namespace not found" in err["message"], err
