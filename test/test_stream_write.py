"""stream.write (docs/http-api.md#streamwrite, #stream-names-categories-and-consumer-groups)."""
import threading
import uuid

import pytest

from harness import CANONICAL_UUID_RE, DEFAULT_TOKEN, check_error

W = "stream.write"
MSG = {"type": "T", "data": {}}


# ------------------------------------------------------------------ validation, in order

@pytest.mark.parametrize("args,message", [
    ([], "stream.write requires at least 2 arguments: streamName and message"),
    (["s-1"], "stream.write requires at least 2 arguments: streamName and message"),
    ([None], "stream.write requires at least 2 arguments: streamName and message"),
    (["", MSG], "streamName must be a non-empty string"),
    ([5, MSG], "streamName must be a non-empty string"),
    ([None, MSG], "streamName must be a non-empty string"),
    ([["s-1"], MSG], "streamName must be a non-empty string"),
    (["", []], "streamName must be a non-empty string"),
    (["s-1", []], "message must be an object"),
    (["s-1", None], "message must be an object"),
    (["s-1", "x"], "message must be an object"),
    (["s-1", {}], "message.type must be a non-empty string"),
    (["s-1", {"type": "", "data": {}}], "message.type must be a non-empty string"),
    (["s-1", {"type": 5, "data": {}}], "message.type must be a non-empty string"),
    (["s-1", {"type": None, "data": {}}], "message.type must be a non-empty string"),
    (["s-1", {"type": "", "data": []}], "message.type must be a non-empty string"),
    (["s-1", {"type": "T"}], "message.data must be an object"),
    (["s-1", {"type": "T", "data": []}], "message.data must be an object"),
    (["s-1", {"type": "T", "data": None}], "message.data must be an object"),
    (["s-1", {"type": "T", "data": "x"}], "message.data must be an object"),
    (["s-1", {"type": "T", "data": 1}], "message.data must be an object"),
    (["s-1", {"type": "T", "data": [], "metadata": 5}], "message.data must be an object"),
    (["s-1", {"type": "T", "data": {}, "metadata": 5}], "message.metadata must be an object"),
    (["s-1", {"type": "T", "data": {}, "metadata": []}], "message.metadata must be an object"),
    (["s-1", {"type": "T", "data": {}, "metadata": "x"}], "message.metadata must be an object"),
    (["s-1", {"type": "T", "data": {}, "metadata": []}, None], "message.metadata must be an object"),
    (["s-1", MSG, None], "options must be an object"),
    (["s-1", MSG, []], "options must be an object"),
    (["s-1", MSG, "x"], "options must be an object"),
    (["s-1", MSG, {"id": 5}], "options.id must be a string"),
    (["s-1", MSG, {"id": None}], "options.id must be a string"),
    (["s-1", MSG, {"id": 5, "expectedVersion": "x"}], "options.id must be a string"),
    (["s-1", MSG, {"expectedVersion": "1"}], "options.expectedVersion must be a number"),
    (["s-1", MSG, {"expectedVersion": None}], "options.expectedVersion must be a number"),
    (["s-1", MSG, {"expectedVersion": True}], "options.expectedVersion must be a number"),
])
def test_validation_messages_in_order(gw, args, message):
    check_error(gw.rpc(W, *args), 400, "INVALID_REQUEST", message, has_details=False)


def test_validation_precedes_storage(tgw):
    from harness import token_for
    # a namespace that does not exist: argument errors still win (docs/http-api.md#the-rpc-envelope)
    r = tgw.rpc(W, "s-1", {"type": "T", "data": []}, token=token_for("no-such-ns-xyz"))
    check_error(r, 400, "INVALID_REQUEST", "message.data must be an object")


# ------------------------------------------------------------------ behaviour

def test_success_shape_and_positions(gw):
    ns, tok = gw.create_ns()
    r = gw.rpc(W, "acc-1", MSG, token=tok)
    assert r.body == b'{"globalPosition":1,"position":0}\n'
    assert gw.ok(W, "acc-1", MSG, token=tok) == {"globalPosition": 2, "position": 1}
    assert gw.ok(W, "acc-2", MSG, token=tok) == {"globalPosition": 3, "position": 0}
    assert gw.ok(W, "acc-1", MSG, token=tok) == {"globalPosition": 4, "position": 2}


def test_positions_are_dense_per_stream(gw):
    ns, tok = gw.create_ns()
    for i in range(20):
        res = gw.ok(W, "dense-%d" % (i % 3), MSG, token=tok)
        assert res["position"] == i // 3
    for s in range(3):
        got = gw.ok("stream.get", "dense-%d" % s, token=tok)
        assert [m[2] for m in got] == list(range(len(got)))


def test_expected_version_minus_one_on_new_stream(gw):
    ns, tok = gw.create_ns()
    assert gw.ok(W, "ev-1", MSG, {"expectedVersion": -1}, token=tok)["position"] == 0
    r = gw.rpc(W, "ev-1", MSG, {"expectedVersion": -1}, token=tok)
    assert r.status == 409
    assert r.body == (b'{"error":{"code":"STREAM_VERSION_CONFLICT","message":"Expected version -1, '
                      b'stream is at version 0","details":{"actual":0,"expected":-1}}}\n')


def test_expected_version_zero_on_new_stream_is_conflict(gw):
    ns, tok = gw.create_ns()
    r = gw.rpc(W, "ev-2", MSG, {"expectedVersion": 0}, token=tok)
    check_error(r, 409, "STREAM_VERSION_CONFLICT", "Expected version 0, stream is at version -1",
                {"actual": -1, "expected": 0})
    assert "VERSION" in r.json["error"]["code"]
    assert gw.ok("stream.version", "ev-2", token=tok) is None


def test_expected_version_matching_current_succeeds(gw):
    ns, tok = gw.create_ns()
    gw.write("ev-3", token=tok)
    gw.write("ev-3", token=tok)
    assert gw.ok(W, "ev-3", MSG, {"expectedVersion": 1}, token=tok)["position"] == 2
    check_error(gw.rpc(W, "ev-3", MSG, {"expectedVersion": 1}, token=tok), 409,
                "STREAM_VERSION_CONFLICT", "Expected version 1, stream is at version 2",
                {"actual": 2, "expected": 1})


@pytest.mark.parametrize("ev", [-2, -100, 99])
def test_other_expected_versions_never_match(gw, ev):
    ns, tok = gw.create_ns()
    check_error(gw.rpc(W, "ev-4", MSG, {"expectedVersion": ev}, token=tok), 409,
                "STREAM_VERSION_CONFLICT", "Expected version %d, stream is at version -1" % ev,
                {"actual": -1, "expected": ev})


def test_conflicting_write_stores_nothing(gw):
    ns, tok = gw.create_ns()
    gw.write("ev-5", token=tok)
    gw.rpc(W, "ev-5", MSG, {"expectedVersion": 7}, token=tok)
    assert len(gw.ok("stream.get", "ev-5", token=tok)) == 1


def test_racing_writers_exactly_one_wins(gw):
    ns, tok = gw.create_ns()
    gw.write("race-1", token=tok)
    results = []

    def go():
        results.append(gw.rpc(W, "race-1", MSG, {"expectedVersion": 0}, token=tok))

    threads = [threading.Thread(target=go) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(r.status for r in results)
    assert statuses == [200] + [409] * 11, statuses
    assert gw.ok("stream.version", "race-1", token=tok) == 1


def test_generated_id_is_uuidv7(gw):
    ns, tok = gw.create_ns()
    gw.write("id-1", token=tok)
    gw.ok(W, "id-1", MSG, {"id": ""}, token=tok)
    for m in gw.ok("stream.get", "id-1", token=tok):
        assert CANONICAL_UUID_RE.match(m[0]), m[0]
        assert m[0][14] == "7", m[0]
        assert m[0][19] in "89ab", m[0]


def test_generated_ids_are_unique_and_time_ordered(gw):
    ns, tok = gw.create_ns()
    for _ in range(10):
        gw.write("id-2", token=tok)
    ids = [m[0] for m in gw.ok("stream.get", "id-2", token=tok)]
    assert len(set(ids)) == 10
    stamps = [int(i.replace("-", "")[:12], 16) for i in ids]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("given,stored", [
    ("a11e9022-e741-4450-bf9c-c4cc5ddb6ea4", "a11e9022-e741-4450-bf9c-c4cc5ddb6ea4"),
    ("A11E9022-E741-4450-BF9C-C4CC5DDB6EA4", "a11e9022-e741-4450-bf9c-c4cc5ddb6ea4"),
    ("{A11E9022-E741-4450-BF9C-C4CC5DDB6EA4}", "a11e9022-e741-4450-bf9c-c4cc5ddb6ea4"),
    ("{a11e9022-e741-4450-bf9c-c4cc5ddb6ea4}", "a11e9022-e741-4450-bf9c-c4cc5ddb6ea4"),
    ("a11e9022e7414450bf9cc4cc5ddb6ea5", "a11e9022-e741-4450-bf9c-c4cc5ddb6ea5"),
    ("A11E9022E7414450BF9CC4CC5DDB6EA5", "a11e9022-e741-4450-bf9c-c4cc5ddb6ea5"),
    ("00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"),
    ("ffffffff-ffff-ffff-ffff-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
])
def test_accepted_uuid_spellings_stored_canonical_lowercase(gw, given, stored):
    ns, tok = gw.create_ns()
    gw.ok(W, "uuid-1", MSG, {"id": given}, token=tok)
    assert gw.ok("stream.get", "uuid-1", token=tok)[0][0] == stored
    assert gw.ok("category.get", "uuid", token=tok)[0][0] == stored
    assert gw.ok("stream.last", "uuid-1", token=tok)[0] == stored


@pytest.mark.parametrize("bad", [
    "urn:uuid:a11e9022-e741-4450-bf9c-c4cc5ddb6ea4", "not-a-uuid", "a11e9022-e741-4450-bf9c",
    "a11e9022-e741-4450-bf9c-c4cc5ddb6ea4x", "g11e9022-e741-4450-bf9c-c4cc5ddb6ea4",
    " a11e9022-e741-4450-bf9c-c4cc5ddb6ea4", "{a11e9022-e741-4450-bf9c-c4cc5ddb6ea4",
    "a11e9022e7414450bf9cc4cc5ddb6ea", "<script>",
])
def test_other_id_spellings_are_backend_errors(gw, bad):
    ns, tok = gw.create_ns()
    r = gw.rpc(W, "uuid-2", MSG, {"id": bad}, token=tok)
    err = check_error(r, 500, "BACKEND_ERROR")
    assert err["message"].startswith("Failed to write message: "), err
    assert gw.ok("stream.version", "uuid-2", token=tok) is None


def test_duplicate_id_is_500_backend_error_not_409(gw):
    ns, tok = gw.create_ns()
    i = str(uuid.uuid4())
    gw.ok(W, "dupid-1", MSG, {"id": i}, token=tok)
    r = gw.rpc(W, "dupid-2", MSG, {"id": i.upper()}, token=tok)
    err = check_error(r, 500, "BACKEND_ERROR")
    assert err["message"].startswith("Failed to write message: "), err
    assert gw.ok("stream.version", "dupid-2", token=tok) is None


def test_same_id_in_two_namespaces_is_fine(gw):
    i = str(uuid.uuid4())
    for _ in range(2):
        ns, tok = gw.create_ns()
        gw.ok(W, "dupid-3", MSG, {"id": i}, token=tok)


def test_metadata_null_accepted_as_absent(gw):
    ns, tok = gw.create_ns()
    gw.ok(W, "meta-1", {"type": "T", "data": {"a": 1}, "metadata": None}, token=tok)
    r = gw.rpc("stream.get", "meta-1", token=tok)
    assert b',{"a":1},null,"' in r.body, r.body
    assert r.json[0][5] is None


def test_metadata_object_is_stored(gw):
    ns, tok = gw.create_ns()
    gw.ok(W, "meta-2", {"type": "T", "data": {}, "metadata": {"correlationStreamName": "x-1"}}, token=tok)
    assert gw.ok("stream.get", "meta-2", token=tok)[0][5] == {"correlationStreamName": "x-1"}


def test_id_inside_message_is_ignored(gw):
    ns, tok = gw.create_ns()
    gw.ok(W, "mid-1", {"type": "T", "data": {}, "id": "a11e9022-e741-4450-bf9c-c4cc5ddb6ea4"}, token=tok)
    m = gw.ok("stream.get", "mid-1", token=tok)[0]
    assert m[0] != "a11e9022-e741-4450-bf9c-c4cc5ddb6ea4"
    assert m[0][14] == "7"


def test_empty_data_object_and_nested_payload_round_trip(gw):
    ns, tok = gw.create_ns()
    data = {"list": [1, "two", None, True, False, {"x": []}], "obj": {"n": {"m": {}}}}
    gw.ok(W, "pl-1", {"type": "T", "data": data}, token=tok)
    gw.ok(W, "pl-1", {"type": "T", "data": {}}, token=tok)
    got = gw.ok("stream.get", "pl-1", token=tok)
    assert got[0][4] == data and got[1][4] == {}


@pytest.mark.parametrize("name", ["account", "x", "account-", "-123", "-", "a-b-c", "account-123+retry",
                                  "account:command-123", "x y-z w", "账户-42", "Ümlaut-ñ1", "  ",
                                  "a/b?c#d-1", "+", "account+x-1", "😀-😀"])
def test_stream_names_stored_verbatim(gw, name):
    ns, tok = gw.create_ns()
    gw.ok(W, name, {"type": "Ty pe ü", "data": {}}, token=tok)
    got = gw.ok("stream.get", name, token=tok)
    assert len(got) == 1 and got[0][1] == "Ty pe ü"
    assert gw.ok("stream.version", name, token=tok) == 0
    cat = gw.ok("category.get", "", token=tok)
    assert cat[0][1] == name


def test_names_are_case_sensitive(gw):
    ns, tok = gw.create_ns()
    gw.write("Case-1", token=tok)
    assert gw.ok("stream.version", "case-1", token=tok) is None
    assert gw.ok("category.get", "case", token=tok) == []
    assert len(gw.ok("category.get", "Case", token=tok)) == 1


def test_nul_in_payload_is_backend_error(gw):
    ns, tok = gw.create_ns()
    r = gw.rpc_raw(b'["stream.write","nul-1",{"type":"T","data":{"a":"x\\u0000y"}}]', token=tok)
    check_error(r, 500, "BACKEND_ERROR")
    assert r.json["error"]["message"].startswith("Failed to write message: ")


def test_nul_in_stream_name_or_type_is_backend_error(gw):
    ns, tok = gw.create_ns()
    r = gw.rpc_raw(b'["stream.write","nul\\u0000-1",{"type":"T","data":{}}]', token=tok)
    check_error(r, 500, "BACKEND_ERROR")
    r = gw.rpc_raw(b'["stream.write","nul-2",{"type":"T\\u0000","data":{}}]', token=tok)
    check_error(r, 500, "BACKEND_ERROR")
    assert gw.ok("category.get", "", token=tok) == []


def test_very_long_stream_name_fails_cleanly(gw):
    ns, tok = gw.create_ns()
    import os
    name = "long-" + os.urandom(4000).hex()
    r = gw.rpc(W, name, MSG, token=tok)
    check_error(r, 500, "BACKEND_ERROR")
    assert gw.ok("sys.version")


def test_failed_writes_may_leave_gaps_but_positions_increase(gw):
    ns, tok = gw.create_ns()
    a = gw.write("gap-1", token=tok)["globalPosition"]
    gw.rpc(W, "gap-2", MSG, {"id": "bad"}, token=tok)
    b = gw.write("gap-1", token=tok)["globalPosition"]
    assert b > a


def test_global_positions_start_at_one_in_new_namespace(gw):
    ns, tok = gw.create_ns()
    assert gw.write("gp-1", token=tok)["globalPosition"] == 1


def test_empty_metadata_object_is_kept(gw):
    ns, tok = gw.create_ns()
    gw.ok(W, "em-1", {"type": "T", "data": {}, "metadata": {}}, token=tok)
    r = gw.rpc("stream.get", "em-1", token=tok)
    assert b',{},{},"' in r.body, r.body


def test_namespace_id_with_nul_is_rejected_cleanly(gw):
    r = gw.rpc_raw(b'["ns.create","bad\\u0000id"]', token=DEFAULT_TOKEN)
    assert r.status in (400, 500), r
    check_error(r, r.status, "INVALID_REQUEST" if r.status == 400 else "BACKEND_ERROR")
    assert gw.ok("sys.version")
