"""The /rpc envelope (docs/http-api.md#the-rpc-envelope), error envelope (docs/http-api.md#errors), JSON output style (docs/http-api.md#wire-conventions) and
request decoding rules (docs/http-api.md#wire-conventions)."""
import json
import re

import pytest

from harness import (DEFAULT_TOKEN, MESSAGE_TIME_RE, check_error, dumps,
                     expected_error_bytes, record, ndjson, import_events)

METHODS = ["stream.write", "stream.get", "stream.last", "stream.version", "category.get",
           "ns.create", "ns.delete", "ns.list", "ns.info", "ns.streams", "ns.categories",
           "sys.version", "sys.health"]


# ------------------------------------------------------------------ envelope docs/http-api.md#the-rpc-envelope

@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_non_post_rpc_is_405_invalid_request_after_auth(gw, method):
    r = gw.request(method, "/rpc", token=DEFAULT_TOKEN)
    assert r.status == 405
    assert r.body == expected_error_bytes("INVALID_REQUEST", "Only POST method allowed")


def test_non_post_rpc_without_credentials_is_401_not_405(gw):
    r = gw.request("GET", "/rpc")
    check_error(r, 401, "AUTH_REQUIRED", "Authorization header required")


@pytest.mark.parametrize("body", [b"", b"{}", b'{"method":"sys.version"}', b"garbage", b"[",
                                  b'["sys.version"', b'["sys.version"] x', b'["sys.version"][]',
                                  b'["sys.version"],', b'"sys.version"', b"123", b"true",
                                  b'["sys.version",]', b"[1,2", b"\xff\xfe"])
def test_body_not_one_json_array_is_malformed_json(gw, body):
    r = gw.rpc_raw(body, token=DEFAULT_TOKEN)
    err = check_error(r, 400, "INVALID_REQUEST", "Malformed JSON request")
    assert list(err["details"].keys()) == ["error"]
    assert isinstance(err["details"]["error"], str) and err["details"]["error"]


@pytest.mark.parametrize("body", [b'["sys.version"]   ', b'["sys.version"]\n', b'\r\n\t ["sys.version"] \n\n',
                                  b'["sys.version"]\r\n'])
def test_whitespace_around_the_array_is_fine(gw, body):
    r = gw.rpc_raw(body, token=DEFAULT_TOKEN)
    assert r.status == 200, r


@pytest.mark.parametrize("body", [b"[]", b"null", b" null ", b"[ ]"])
def test_empty_array_or_null_is_missing_method_name(gw, body):
    r = gw.rpc_raw(body, token=DEFAULT_TOKEN)
    assert r.status == 400
    assert r.body == expected_error_bytes("INVALID_REQUEST", "Missing method name")


@pytest.mark.parametrize("body", [b"[1]", b"[null]", b"[{}]", b'[["sys.version"]]', b"[true]"])
def test_method_not_a_string(gw, body):
    r = gw.rpc_raw(body, token=DEFAULT_TOKEN)
    assert r.status == 400
    assert r.body == expected_error_bytes("INVALID_REQUEST", "Method name must be a string")


@pytest.mark.parametrize("name", ["stream.read", "Stream.write", "SYS.VERSION", "", "ns.rotateToken",
                                  "stream.write ", "sys"])
def test_unknown_method_is_404_method_not_found(gw, name):
    r = gw.rpc(name)
    assert r.status == 404
    assert r.body == expected_error_bytes("METHOD_NOT_FOUND", "Unknown method: " + name)


def test_unknown_method_message_is_escaped_go_style(gw):
    r = gw.rpc("<x>&\u2028/y")
    assert r.status == 404
    assert r.body == (b'{"error":{"code":"METHOD_NOT_FOUND","message":"Unknown method: '
                      b'\\u003cx\\u003e\\u0026\\u2028/y"}}\n')


def test_all_documented_methods_exist(gw):
    for m in METHODS:
        r = gw.rpc(m)
        assert r.status != 404 or json.loads(r.body)["error"]["code"] != "METHOD_NOT_FOUND", (m, r)


def test_request_content_type_is_not_checked(gw):
    for ct in ("text/plain", "application/x-www-form-urlencoded", "image/png"):
        r = gw.rpc_raw(b'["sys.version"]', token=DEFAULT_TOKEN, headers={"Content-Type": ct})
        assert r.status == 200, (ct, r)


def test_surplus_arguments_are_ignored(gw):
    assert gw.ok("sys.version", 1, 2, {"x": 3}) == gw.ok("sys.version")
    assert gw.ok("stream.version", "surplus-1", {}, [], 7) is None


# ------------------------------------------------------------------ error envelope docs/http-api.md#errors

def test_error_envelope_key_order_and_details_placement(gw):
    ns, tok = gw.create_ns()
    gw.write("env-1", token=tok)
    r = gw.rpc("stream.write", "env-1", {"type": "T", "data": {}}, {"expectedVersion": 4}, token=tok)
    assert r.status == 409
    assert r.body == (b'{"error":{"code":"STREAM_VERSION_CONFLICT","message":"Expected version 4, '
                      b'stream is at version 0","details":{"actual":0,"expected":4}}}\n')


def test_error_without_details_has_no_details_key(gw):
    r = gw.rpc("stream.get")
    assert r.body == (b'{"error":{"code":"INVALID_REQUEST","message":'
                      b'"stream.get requires at least 1 argument: streamName"}}\n')


# ------------------------------------------------------------------ JSON output docs/http-api.md#wire-conventions

def _roundtrip(gw, data, metadata=None, stream=None):
    ns, tok = gw.create_ns()
    msg = {"type": "T", "data": data}
    if metadata is not None:
        msg["metadata"] = metadata
    gw.ok("stream.write", stream or "json-1", msg, token=tok)
    r = gw.rpc("stream.get", stream or "json-1", token=tok)
    assert r.status == 200
    return r.body, tok


def test_data_keys_sorted_by_byte_value_at_every_level(gw):
    data = {"b": 1, "aa": {"zz": 1, "B": [{"y": 1, "x": 2}], "a": None}, "a": 2, "B": 4, "é": 5, "Z": 6}
    body, _ = _roundtrip(gw, data, metadata={"m": 1, "correlationStreamName": "x-1", "A": True})
    assert (b'{"B":4,"Z":6,"a":2,"aa":{"B":[{"x":2,"y":1}],"a":null,"zz":1},"b":1,"\xc3\xa9":5}'
            in body), body
    assert b'{"A":true,"correlationStreamName":"x-1","m":1}' in body, body


def test_response_is_compact(gw):
    body, _ = _roundtrip(gw, {"a": [1, 2, {"b": "c d"}], "e": {}})
    text = body.decode()
    assert body.endswith(b"\n")
    # no whitespace outside strings
    stripped = re.sub(r'"(\\.|[^"\\])*"', '""', text[:-1])
    assert not re.search(r"\s", stripped), body
    assert '{"a":[1,2,{"b":"c d"}],"e":{}}' in text


def test_html_characters_are_escaped_go_style(gw):
    body, _ = _roundtrip(gw, {"h": "<a href=\"x\">&amp;</a>"})
    assert b'{"h":"\\u003ca href=\\"x\\"\\u003e\\u0026amp;\\u003c/a\\u003e"}' in body, body


def test_line_and_paragraph_separators_are_escaped(gw):
    body, _ = _roundtrip(gw, {"ls": "a\u2028b\u2029c"})
    assert b'{"ls":"a\\u2028b\\u2029c"}' in body, body


def test_slash_is_not_escaped(gw):
    body, _ = _roundtrip(gw, {"url": "http://x/y"}, stream="json/slash-1")
    assert b'"http://x/y"' in body and b"\\/" not in body, body


def test_control_characters_are_escaped(gw):
    body, _ = _roundtrip(gw, {"c": "a\nb\tc\r\"\\\u0001\u001f"})
    assert b'{"c":"a\\nb\\tc\\r\\"\\\\\\u0001\\u001f"}' in body, body


def test_non_ascii_is_written_as_utf8_not_escaped(gw):
    body, _ = _roundtrip(gw, {"u": "日本語 é 😀"})
    assert '{"u":"日本語 é 😀"}'.encode() in body, body


def test_escapes_apply_to_stream_name_and_type(gw):
    ns, tok = gw.create_ns()
    gw.ok("stream.write", "a<b>-1", {"type": "T&U", "data": {}}, token=tok)
    r = gw.rpc("category.get", "a<b>", token=tok)
    assert b'"a\\u003cb\\u003e-1","T\\u0026U"' in r.body, r.body


def test_number_3_14159_comes_back_verbatim(gw):
    body, _ = _roundtrip(gw, {"pi": 3.14159, "neg": -2.5, "small": 0.1, "x": 123456.789, "y": 0.00001})
    assert b'"pi":3.14159' in body, body
    assert b'"neg":-2.5' in body and b'"small":0.1' in body, body
    assert b'"x":123456.789' in body and b'"y":0.00001' in body, body


@pytest.mark.parametrize("text,expected", [
    ("12345678901234567890", 12345678901234567890.0),
    ("9007199254740993", 9007199254740992.0),
    ("1.0", 1.0), ("1e21", 1e21), ("1e-7", 1e-7), ("1E+2", 100.0), ("-0.0", -0.0),
    ("123456.789", 123456.789), ("0.000001", 1e-06), ("1e300", 1e300),
])
def test_numbers_parse_to_the_same_double(gw, text, expected):
    ns, tok = gw.create_ns()
    raw = b'["stream.write","num-1",{"type":"T","data":{"n":' + text.encode() + b'}}]'
    r = gw.rpc_raw(raw, token=tok)
    assert r.status == 200, r
    body = gw.rpc("stream.get", "num-1", token=tok).body
    m = re.search(rb'\{"n":([^}]*)\}', body)
    assert m, body
    out = m.group(1).decode()
    assert re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", out), out
    assert float(out) == expected, (text, out)


def test_result_objects_have_sorted_keys(gw):
    ns, tok = gw.create_ns()
    r = gw.rpc("stream.write", "k-1", {"type": "T", "data": {}}, token=tok)
    assert re.fullmatch(rb'\{"globalPosition":1,"position":0\}\n', r.body), r.body
    r = gw.rpc("sys.health", token=tok)
    assert re.fullmatch(rb'\{"backend":"[^"]*","connections":\d+,"status":"ok"\}\n', r.body), r.body
    r = gw.rpc("ns.info", ns)
    assert re.fullmatch(rb'\{"createdAt":"[^"]+","description":"","lastActivity":(null|"[^"]+"),'
                        rb'"messageCount":1,"namespace":"' + ns.encode() + rb'","streamCount":\d+\}\n',
                        r.body), r.body


# ------------------------------------------------------------------ times docs/http-api.md#wire-conventions

@pytest.mark.parametrize("given,shown", [
    ("2025-03-01T09:15:02.123456Z", "2025-03-01T09:15:02.123456Z"),
    ("2025-03-01T09:15:02.5Z", "2025-03-01T09:15:02.5Z"),
    ("2025-03-01T09:15:02.500000Z", "2025-03-01T09:15:02.5Z"),
    ("2025-03-01T09:15:02.000Z", "2025-03-01T09:15:02Z"),
    ("2025-03-01T09:15:02Z", "2025-03-01T09:15:02Z"),
    ("2025-03-01T11:15:02.12+02:00", "2025-03-01T09:15:02.12Z"),
    ("2025-03-01T04:15:02-05:00", "2025-03-01T09:15:02Z"),
])
def test_message_time_format(gw, given, shown):
    ns, tok = gw.create_ns()
    r = gw.import_(ndjson([record("tm-1", 0, 1, time_=given)]), token=tok)
    assert r.status == 200 and b'"done":true' in r.body, r.body
    for m in gw.ok("stream.get", "tm-1", token=tok):
        assert m[6] == shown
    for m in gw.ok("category.get", "tm", token=tok):
        assert m[7] == shown
    assert gw.ok("stream.last", "tm-1", token=tok)[6] == shown


def test_written_message_time_is_utc_rfc3339(gw):
    ns, tok = gw.create_ns()
    gw.write("tw-1", token=tok)
    m = gw.ok("stream.get", "tw-1", token=tok)[0]
    assert MESSAGE_TIME_RE.match(m[6]), m


def test_ns_streams_last_activity_truncated_to_seconds(gw):
    ns, tok = gw.create_ns()
    gw.import_(ndjson([record("la-1", 0, 1, time_="2025-03-01T09:15:02.999999Z")]), token=tok)
    got = gw.ok("ns.streams", {}, token=tok)
    assert got == [{"lastActivity": "2025-03-01T09:15:02Z", "stream": "la-1", "version": 0}]


# ------------------------------------------------------------------ decoding docs/http-api.md#wire-conventions

def test_numbers_truncated_toward_zero(gw):
    ns, tok = gw.create_ns()
    for _ in range(4):
        gw.write("tr-1", token=tok)
    got = gw.ok("stream.get", "tr-1", {"position": 1.9, "batchSize": 2.9}, token=tok)
    assert [m[2] for m in got] == [1, 2]
    got = gw.ok("stream.get", "tr-1", {"position": -1.5, "batchSize": -1.2}, token=tok)
    assert [m[2] for m in got] == [0, 1, 2, 3]
    got = gw.ok("stream.get", "tr-1", {"batchSize": 10000.7}, token=tok)
    assert len(got) == 4
    r = gw.rpc("stream.write", "tr-1", {"type": "T", "data": {}}, {"expectedVersion": 3.9}, token=tok)
    assert r.status == 200, r
    r = gw.rpc("stream.write", "tr-1", {"type": "T", "data": {}}, {"expectedVersion": -0.5}, token=tok)
    check_error(r, 409, "STREAM_VERSION_CONFLICT", "Expected version 0, stream is at version 4",
                {"actual": 4, "expected": 0})


def test_null_is_present_with_the_wrong_type(gw):
    check_error(gw.rpc("stream.write", "n-1", {"type": "T", "data": {}}, {"expectedVersion": None}),
                400, "INVALID_REQUEST", "options.expectedVersion must be a number")
    check_error(gw.rpc("stream.get", "n-1", None), 400, "INVALID_REQUEST", "options must be an object")
    check_error(gw.rpc("stream.get", "n-1", {"batchSize": None}), 400, "INVALID_REQUEST",
                "options.batchSize must be a number")
    check_error(gw.rpc("stream.write", None, {"type": "T", "data": {}}), 400, "INVALID_REQUEST",
                "streamName must be a non-empty string")


def test_duplicate_keys_last_one_wins(gw):
    ns, tok = gw.create_ns()
    for _ in range(3):
        gw.write("dup-1", token=tok)
    r = gw.rpc_raw(b'["stream.get","dup-1",{"batchSize":1,"batchSize":2}]', token=tok)
    assert [m[2] for m in r.json] == [0, 1]
    r = gw.rpc_raw(b'["stream.get","dup-1",{"batchSize":"x","batchSize":3}]', token=tok)
    assert r.status == 200 and len(r.json) == 3
    r = gw.rpc_raw(b'["stream.write","dup-2",{"type":"A","data":{"k":1,"k":2},"type":"B"}]', token=tok)
    assert r.status == 200, r
    m = gw.ok("stream.get", "dup-2", token=tok)[0]
    assert m[1] == "B" and m[4] == {"k": 2}


def test_unknown_option_keys_are_ignored(gw):
    ns, tok = gw.create_ns()
    gw.write("unk-1", token=tok)
    got = gw.ok("stream.get", "unk-1", {"condition": "1=0", "whatever": [1]}, token=tok)
    assert len(got) == 1


def test_trailing_garbage_after_array_is_malformed(gw):
    r = gw.rpc_raw(b'["sys.version"]garbage', token=DEFAULT_TOKEN)
    check_error(r, 400, "INVALID_REQUEST", "Malformed JSON request")
    r = gw.rpc_raw(b'["sys.version"] ["sys.version"]', token=DEFAULT_TOKEN)
    check_error(r, 400, "INVALID_REQUEST", "Malformed JSON request")


def test_truncated_json_is_malformed(gw):
    full = dumps(["stream.write", "t-1", {"type": "T", "data": {"a": [1, 2, 3]}}])
    for cut in range(1, len(full), 7):
        r = gw.rpc_raw(full[:cut], token=DEFAULT_TOKEN)
        check_error(r, 400, "INVALID_REQUEST", "Malformed JSON request")


def test_deeply_nested_json_does_not_crash(gw):
    ns, tok = gw.create_ns()
    deep = b"[" * 100000 + b"]" * 100000
    r = gw.rpc_raw(deep, token=tok)
    assert r.status in (200, 400, 404, 500), r
    body = b'["stream.write","deep-1",{"type":"T","data":{"a":' + b"[" * 5000 + b"]" * 5000 + b"}}]"
    r = gw.rpc_raw(body, token=tok)
    assert r.status in (200, 400, 500), r
    assert gw.ok("sys.version")


def test_import_events_helper_sanity(gw):
    ns, tok = gw.create_ns()
    r = gw.import_(b"", token=tok)
    assert import_events(r) == [b'{"done":true,"imported":0,"elapsed":"0.0s"}']


# ------------------------------------------------------------------ sys.* docs/http-api.md#system-methods

def test_sys_version_is_major_minor_patch_string(gw):
    r = gw.rpc("sys.version")
    assert r.status == 200
    assert re.fullmatch(rb'"\d+\.\d+\.\d+"\n', r.body), r.body


def test_sys_health_shape(gw):
    r = gw.rpc("sys.health", "ignored")
    assert r.status == 200
    doc = r.json
    assert list(doc.keys()) == ["backend", "connections", "status"]
    assert isinstance(doc["backend"], str) and doc["backend"] in ("unknown", "postgres")
    assert isinstance(doc["connections"], int) and not isinstance(doc["connections"], bool)
    assert doc["connections"] >= 0
    assert doc["status"] == "ok"


def test_lone_surrogate_escape_becomes_replacement_character(gw):
    """The original's decoder turns an unpaired \\ud800 into U+FFFD (docs/http-api.md#wire-conventions)."""
    ns, tok = gw.create_ns()
    r = gw.rpc_raw(b'["stream.write","sur-1",{"type":"T","data":{"s":"a\\ud800b","p":"\\ud83d\\ude00"}}]',
                   token=tok)
    assert r.status == 200, r
    body = gw.rpc("stream.get", "sur-1", token=tok).body
    assert '{"p":"😀","s":"a\ufffdb"}'.encode() in body, body


def test_number_beyond_double_range_is_malformed(gw):
    """Numbers are read as doubles (docs/http-api.md#wire-conventions); 1e400 has none."""
    ns, tok = gw.create_ns()
    r = gw.rpc_raw(b'["stream.write","inf-1",{"type":"T","data":{"n":1e400}}]', token=tok)
    check_error(r, 400, "INVALID_REQUEST", "Malformed JSON request")
    assert gw.ok("stream.version", "inf-1", token=tok) is None
