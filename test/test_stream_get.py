"""stream.get (docs/http-api.md#streamget)."""
import pytest

from harness import MESSAGE_TIME_RE, CANONICAL_UUID_RE, check_error, ndjson, record

G = "stream.get"


@pytest.mark.parametrize("args,message", [
    ([], "stream.get requires at least 1 argument: streamName"),
    ([""], "streamName must be a non-empty string"),
    ([None], "streamName must be a non-empty string"),
    ([3], "streamName must be a non-empty string"),
    (["", None], "streamName must be a non-empty string"),
    (["s-1", None], "options must be an object"),
    (["s-1", []], "options must be an object"),
    (["s-1", 5], "options must be an object"),
    (["s-1", {"position": "0"}], "options.position must be a number"),
    (["s-1", {"position": None}], "options.position must be a number"),
    (["s-1", {"position": "x", "globalPosition": "y", "batchSize": "z"}], "options.position must be a number"),
    (["s-1", {"globalPosition": "1"}], "options.globalPosition must be a number"),
    (["s-1", {"globalPosition": None}], "options.globalPosition must be a number"),
    (["s-1", {"globalPosition": [], "batchSize": "z"}], "options.globalPosition must be a number"),
    (["s-1", {"batchSize": "1"}], "options.batchSize must be a number"),
    (["s-1", {"batchSize": None}], "options.batchSize must be a number"),
    (["s-1", {"batchSize": {}}], "options.batchSize must be a number"),
    (["s-1", {"batchSize": 10001}], "options.batchSize must be <= 10000 or -1 for unlimited"),
    (["s-1", {"batchSize": 20000}], "options.batchSize must be <= 10000 or -1 for unlimited"),
    (["s-1", {"batchSize": 10001.5}], "options.batchSize must be <= 10000 or -1 for unlimited"),
    (["s-1", {"batchSize": 1e9}], "options.batchSize must be <= 10000 or -1 for unlimited"),
])
def test_validation_messages_in_order(gw, args, message):
    check_error(gw.rpc(G, *args), 400, "INVALID_REQUEST", message, has_details=False)


@pytest.fixture
def five(gw):
    ns, tok = gw.create_ns()
    for i in range(5):
        gw.write("five-1", data={"i": i}, token=tok)
    gw.write("five-2", token=tok)
    for i in range(5, 8):
        gw.write("five-1", data={"i": i}, token=tok)
    return tok


def positions(msgs):
    return [m[2] for m in msgs]


def test_success_shape_seven_elements(gw):
    ns, tok = gw.create_ns()
    gw.ok("stream.write", "shape-1", {"type": "Deposited", "data": {"amount": 100},
                                      "metadata": {"m": 1}}, token=tok)
    got = gw.ok(G, "shape-1", token=tok)
    assert len(got) == 1
    m = got[0]
    assert len(m) == 7
    assert CANONICAL_UUID_RE.match(m[0])
    assert m[1:6] == ["Deposited", 0, 1, {"amount": 100}, {"m": 1}]
    assert MESSAGE_TIME_RE.match(m[6])


def test_default_position_zero_batch_1000(gw):
    ns, tok = gw.create_ns()
    recs = [record("many-1", i, i + 1) for i in range(1200)]
    r = gw.import_(ndjson(recs), token=tok)
    assert b'"done":true' in r.body, r.body
    got = gw.ok(G, "many-1", token=tok)
    assert positions(got) == list(range(1000))
    got = gw.ok(G, "many-1", {}, token=tok)
    assert len(got) == 1000
    got = gw.ok(G, "many-1", {"batchSize": -1}, token=tok)
    assert len(got) == 1200
    got = gw.ok(G, "many-1", {"batchSize": 10000}, token=tok)
    assert len(got) == 1200


def test_position_filter_ascending(gw, five):
    got = gw.ok(G, "five-1", {"position": 3}, token=five)
    assert positions(got) == [3, 4, 5, 6, 7]
    assert [m[4]["i"] for m in got] == [3, 4, 5, 6, 7]


def test_batch_size_limits(gw, five):
    assert positions(gw.ok(G, "five-1", {"position": 2, "batchSize": 2}, token=five)) == [2, 3]


def test_batch_size_zero_is_empty(gw, five):
    assert gw.ok(G, "five-1", {"batchSize": 0}, token=five) == []


def test_batch_size_minus_one_unlimited(gw, five):
    assert positions(gw.ok(G, "five-1", {"batchSize": -1}, token=five)) == list(range(8))


@pytest.mark.parametrize("bs", [-2, -5, -1000])
def test_batch_size_below_minus_one_is_backend_error(gw, five, bs):
    err = check_error(gw.rpc(G, "five-1", {"batchSize": bs}, token=five), 500, "BACKEND_ERROR")
    assert err["message"].startswith("Failed to get messages: "), err


def test_negative_position_reads_from_start(gw, five):
    assert positions(gw.ok(G, "five-1", {"position": -10}, token=five)) == list(range(8))


def test_position_past_end_is_empty(gw, five):
    assert gw.ok(G, "five-1", {"position": 8}, token=five) == []


def test_unknown_stream_is_empty(gw, five):
    assert gw.ok(G, "five-999", token=five) == []
    r = gw.rpc(G, "five-999", token=five)
    assert r.body == b"[]\n"


def test_global_position_path(gw, five):
    # five-1: gp 1..5 (pos 0..4), five-2: gp 6, five-1: gp 7..9 (pos 5..7)
    got = gw.ok(G, "five-1", {"globalPosition": 5}, token=five)
    assert positions(got) == [4, 5, 6, 7]
    assert [m[3] for m in got] == [5, 7, 8, 9]


def test_global_position_ignores_position(gw, five):
    got = gw.ok(G, "five-1", {"globalPosition": 7, "position": 0}, token=five)
    assert positions(got) == [5, 6, 7]
    got = gw.ok(G, "five-1", {"globalPosition": 1, "position": 6}, token=five)
    assert positions(got) == list(range(8))


@pytest.mark.parametrize("bs", [0, -1, -5])
def test_global_position_batch_size_non_positive_is_unlimited(gw, five, bs):
    got = gw.ok(G, "five-1", {"globalPosition": 2, "batchSize": bs}, token=five)
    assert positions(got) == [1, 2, 3, 4, 5, 6, 7]


def test_global_position_positive_batch_limits(gw, five):
    got = gw.ok(G, "five-1", {"globalPosition": 2, "batchSize": 3}, token=five)
    assert positions(got) == [1, 2, 3]


def test_global_position_zero_and_negative(gw, five):
    assert len(gw.ok(G, "five-1", {"globalPosition": 0}, token=five)) == 8
    assert len(gw.ok(G, "five-1", {"globalPosition": -3}, token=five)) == 8


def test_global_position_batch_range_still_validated(gw, five):
    check_error(gw.rpc(G, "five-1", {"globalPosition": 1, "batchSize": 10001}, token=five), 400,
                "INVALID_REQUEST", "options.batchSize must be <= 10000 or -1 for unlimited")


def test_global_position_path_ordered_by_position(gw):
    ns, tok = gw.create_ns()
    recs = [record("ord-1", 0, 30), record("ord-1", 1, 10), record("ord-1", 2, 20)]
    gw.import_(ndjson(recs), token=tok)
    got = gw.ok(G, "ord-1", {"globalPosition": 15}, token=tok)
    assert positions(got) == [0, 2]


def test_names_without_dash_are_ordinary_streams(gw):
    ns, tok = gw.create_ns()
    gw.write("account", token=tok)
    gw.write("account", token=tok)
    gw.write("account-1", token=tok)
    assert positions(gw.ok(G, "account", token=tok)) == [0, 1]
    assert len(gw.ok(G, "account", {"globalPosition": 1}, token=tok)) == 2


def test_exact_stream_match_only(gw):
    ns, tok = gw.create_ns()
    gw.write("ex-1", token=tok)
    gw.write("ex-1+retry", token=tok)
    gw.write("ex-10", token=tok)
    gw.write("EX-1", token=tok)
    assert len(gw.ok(G, "ex-1", token=tok)) == 1


def test_non_object_payload_written_through_sql_passes_through(gw, sql):
    import uuid
    c = sql()
    name = "sqlraw-" + uuid.uuid4().hex[:8]
    with c.cursor() as cur:
        cur.execute("SET search_path = message_store, public")
        cur.execute("SELECT write_message(%s, %s, 'T', '[1,2]'::jsonb, '\"m\"'::jsonb)",
                    (str(uuid.uuid4()), name))
    r = gw.rpc(G, name)
    assert r.status == 200, r
    assert b',[1,2],"m","' in r.body, r.body


def test_data_null_written_through_sql_is_null(gw, sql):
    import uuid
    c = sql()
    name = "sqlnull-" + uuid.uuid4().hex[:8]
    with c.cursor() as cur:
        cur.execute("SET search_path = message_store, public")
        cur.execute("SELECT write_message(%s, %s, 'T', NULL)", (str(uuid.uuid4()), name))
    r = gw.rpc(G, name)
    assert r.status == 200, r
    assert r.json[0][4] is None and r.json[0][5] is None
