"""stream.last (docs/http-api.md#streamlast) and stream.version (docs/http-api.md#streamversion)."""
import pytest

from harness import check_error, MESSAGE_TIME_RE


@pytest.mark.parametrize("args,message", [
    ([], "stream.last requires at least 1 argument: streamName"),
    ([""], "streamName must be a non-empty string"),
    ([None], "streamName must be a non-empty string"),
    ([1], "streamName must be a non-empty string"),
    (["", []], "streamName must be a non-empty string"),
    (["s-1", None], "options must be an object"),
    (["s-1", []], "options must be an object"),
    (["s-1", {"type": 1}], "options.type must be a string"),
    (["s-1", {"type": None}], "options.type must be a string"),
    (["s-1", {"type": []}], "options.type must be a string"),
])
def test_last_validation_messages_in_order(gw, args, message):
    check_error(gw.rpc("stream.last", *args), 400, "INVALID_REQUEST", message, has_details=False)


@pytest.fixture
def typed(gw):
    ns, tok = gw.create_ns()
    for t in ["Opened", "Deposited", "Deposited", "Withdrawn", "deposited"]:
        gw.write("last-1", type_=t, data={"t": t}, token=tok)
    return tok


def test_last_returns_highest_position(gw, typed):
    m = gw.ok("stream.last", "last-1", token=typed)
    assert len(m) == 7
    assert m[1:6] == ["deposited", 4, 5, {"t": "deposited"}, None]
    assert MESSAGE_TIME_RE.match(m[6])


def test_last_with_type_exact_and_case_sensitive(gw, typed):
    m = gw.ok("stream.last", "last-1", {"type": "Deposited"}, token=typed)
    assert (m[1], m[2]) == ("Deposited", 2)
    m = gw.ok("stream.last", "last-1", {"type": "Opened"}, token=typed)
    assert m[2] == 0


def test_last_with_unknown_type_is_null(gw, typed):
    r = gw.rpc("stream.last", "last-1", {"type": "Closed"}, token=typed)
    assert r.body == b"null\n"
    r = gw.rpc("stream.last", "last-1", {"type": "DEPOSITED"}, token=typed)
    assert r.body == b"null\n"


def test_last_with_empty_type_matches_nothing(gw, typed):
    assert gw.rpc("stream.last", "last-1", {"type": ""}, token=typed).body == b"null\n"


def test_last_with_empty_options_is_any_type(gw, typed):
    assert gw.ok("stream.last", "last-1", {}, token=typed)[2] == 4


def test_last_of_missing_stream_is_null(gw, typed):
    r = gw.rpc("stream.last", "last-404", token=typed)
    assert r.status == 200
    assert r.body == b"null\n"


def test_last_on_category_like_name(gw):
    ns, tok = gw.create_ns()
    gw.write("lastcat", token=tok)
    gw.write("lastcat-1", token=tok)
    assert gw.ok("stream.last", "lastcat", token=tok)[3] == 1


# ------------------------------------------------------------------ stream.version

@pytest.mark.parametrize("args,message", [
    ([], "stream.version requires 1 argument: streamName"),
    ([""], "streamName must be a non-empty string"),
    ([None], "streamName must be a non-empty string"),
    ([{}], "streamName must be a non-empty string"),
])
def test_version_validation_messages(gw, args, message):
    check_error(gw.rpc("stream.version", *args), 400, "INVALID_REQUEST", message, has_details=False)


def test_version_null_for_new_stream(gw):
    ns, tok = gw.create_ns()
    r = gw.rpc("stream.version", "ver-1", token=tok)
    assert r.status == 200 and r.body == b"null\n"


def test_version_is_highest_position(gw):
    ns, tok = gw.create_ns()
    gw.write("ver-2", token=tok)
    assert gw.rpc("stream.version", "ver-2", token=tok).body == b"0\n"
    gw.write("ver-2", token=tok)
    gw.write("ver-2", token=tok)
    assert gw.ok("stream.version", "ver-2", token=tok) == 2


def test_version_further_arguments_ignored(gw):
    ns, tok = gw.create_ns()
    gw.write("ver-3", token=tok)
    assert gw.ok("stream.version", "ver-3", "x", None, 5, token=tok) == 0


def test_version_of_category_like_name(gw):
    ns, tok = gw.create_ns()
    gw.write("vercat-1", token=tok)
    assert gw.ok("stream.version", "vercat", token=tok) is None
    gw.write("vercat", token=tok)
    assert gw.ok("stream.version", "vercat", token=tok) == 0


def test_version_after_import_reflects_imported_positions(gw):
    from harness import ndjson, record
    ns, tok = gw.create_ns()
    gw.import_(ndjson([record("verimp-1", 0, 1), record("verimp-1", 1, 2), record("verimp-1", 7, 3)]),
               token=tok)
    assert gw.ok("stream.version", "verimp-1", token=tok) == 7
