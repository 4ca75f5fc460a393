"""/import (docs/http-api.md#bulk-import-import)."""
import json
import re
import uuid

import pytest

from harness import DEFAULT_TOKEN, check_error, dumps, import_events, ndjson, record

DONE_RE = rb'\{"done":true,"imported":%d,"elapsed":"\d+\.\ds"\}'


def done(n):
    return re.compile(DONE_RE % n)


def error_event(code, message, line=None):
    ev = b'{"error":"%s","message":%s' % (code.encode(), json.dumps(message, ensure_ascii=False).encode())
    if line:
        ev += b',"line":%d' % line
    return ev + b"}"


def test_empty_body_is_done_immediately(gw):
    ns, tok = gw.create_ns()
    r = gw.import_(b"", token=tok)
    assert r.status == 200
    assert r.body == b'data: {"done":true,"imported":0,"elapsed":"0.0s"}\n\n'


def test_response_headers(gw):
    ns, tok = gw.create_ns()
    r = gw.import_(ndjson([record("h-1", 0, 1)]), token=tok)
    assert r.status == 200
    assert r.header("Content-Type") == "text/event-stream"
    assert r.header("Cache-Control") == "no-cache"
    assert (r.header("Connection") or "").lower() == "keep-alive"
    assert r.header("X-Accel-Buffering") == "no"
    assert "access-control-allow-origin" not in r.header_names()


def test_record_fields_preserved(gw):
    ns, tok = gw.create_ns()
    rid = str(uuid.uuid4())
    rec = {"id": rid, "stream": "order-1", "type": "Placed", "pos": 0, "gpos": 100,
           "data": {"n": 1, "b": {"a": [1, 2]}}, "meta": {"correlationStreamName": "wf-1"},
           "time": "2025-01-01T00:00:00.123456Z"}
    r = gw.import_(ndjson([rec]), token=tok)
    events = import_events(r)
    assert len(events) == 1 and done(1).fullmatch(events[0]), r.body
    got = gw.ok("stream.get", "order-1", token=tok)
    assert got == [[rid, "Placed", 0, 100, {"b": {"a": [1, 2]}, "n": 1}, {"correlationStreamName": "wf-1"},
                    "2025-01-01T00:00:00.123456Z"]]
    assert gw.write("order-1", token=tok) == {"globalPosition": 101, "position": 1}


def test_example_from_protocol(gw):
    ns, tok = gw.create_ns()
    body = (b'{"id":"3f0b6a52-9a0e-4f2c-8d0e-0c5a3e9b7d11","stream":"order-1","type":"Placed","pos":0,'
            b'"gpos":100,"data":{"n":1},"meta":null,"time":"2025-01-01T00:00:00Z"}\n')
    r = gw.request("POST", "/import?force=true", body=body, token=tok)
    assert r.status == 200
    assert done(1).fullmatch(import_events(r)[0]), r.body
    assert gw.write("order-2", token=tok)["globalPosition"] == 101


def test_progress_event_per_full_batch(gw):
    ns, tok = gw.create_ns()
    recs = [record("prog-%d" % (i % 3), i // 3, i + 1) for i in range(2500)]
    r = gw.import_(ndjson(recs), token=tok)
    events = import_events(r)
    assert events[:2] == [b'{"imported":1000,"gpos":1000}', b'{"imported":2000,"gpos":2000}'], events
    assert len(events) == 3 and done(2500).fullmatch(events[2]), events
    assert len(gw.ok("category.get", "prog", {"batchSize": -1}, token=tok)) == 2500


def test_exactly_one_batch_has_progress_then_done(gw):
    ns, tok = gw.create_ns()
    recs = [record("one-1", i, 5000 + i) for i in range(1000)]
    events = import_events(gw.import_(ndjson(recs), token=tok))
    assert events[0] == b'{"imported":1000,"gpos":5999}'
    assert done(1000).fullmatch(events[1]) and len(events) == 2


def test_records_need_not_be_sorted_or_contiguous(gw):
    ns, tok = gw.create_ns()
    recs = [record("uns-1", 5, 30), record("uns-1", 0, 10), record("uns", 9, 20), record("uns-1", 2, 5)]
    events = import_events(gw.import_(ndjson(recs), token=tok))
    assert done(4).fullmatch(events[-1]), events
    assert [m[2] for m in gw.ok("stream.get", "uns-1", token=tok)] == [0, 2, 5]
    assert [m[4] for m in gw.ok("category.get", "uns", token=tok)] == [5, 10, 20, 30]
    assert gw.write("uns-1", token=tok) == {"globalPosition": 31, "position": 6}


def test_unknown_keys_ignored_missing_keys_zero_values(gw):
    ns, tok = gw.create_ns()
    line = dumps({"id": str(uuid.uuid4()), "stream": "zv-1", "type": "T", "pos": 3, "gpos": 7,
                  "time": "2025-01-01T00:00:00Z", "extra": [1, 2], "metadata": {"x": 1}}) + b"\n"
    events = import_events(gw.import_(line, token=tok))
    assert done(1).fullmatch(events[-1]), events
    m = gw.ok("stream.get", "zv-1", token=tok)[0]
    assert m[2:6] == [3, 7, None, None]


def test_crlf_and_whitespace_lines(gw):
    ns, tok = gw.create_ns()
    body = (dumps(record("crlf-1", 0, 1)) + b"\r\n" + b"   \r\n" + b"\n" + b"\t\n" +
            dumps(record("crlf-1", 1, 2)) + b"\r\n")
    events = import_events(gw.import_(body, token=tok))
    assert done(2).fullmatch(events[-1]), events
    assert len(gw.ok("stream.get", "crlf-1", token=tok)) == 2


# Go's unicode.IsSpace beyond space, TAB, CR and LF: what bytes.TrimSpace trims in the original
UNICODE_SPACES = ["\x0b", "\x0c", "\u0085", "\u00a0", "\u1680"] + [chr(c) for c in range(0x2000, 0x200B)] + \
    ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]


@pytest.mark.parametrize("space", UNICODE_SPACES)
def test_unicode_whitespace_lines_are_skipped_and_records_trimmed(gw, space):
    ns, tok = gw.create_ns()
    sp = space.encode()
    body = (sp + b"\n" + b" " + sp + b"\t" + sp + b"\r\n" +
            sp + dumps(record("uws-1", 0, 1)) + sp + b"\r\n" +
            b"\t" + sp + dumps(record("uws-1", 1, 2)) + b" " + sp + b"\n" + sp)
    events = import_events(gw.import_(body, token=tok))
    assert len(events) == 1 and done(2).fullmatch(events[0]), events
    assert len(gw.ok("stream.get", "uws-1", token=tok)) == 2


def test_unicode_whitespace_lines_are_counted(gw):
    ns, tok = gw.create_ns()
    body = dumps(record("uwc-1", 0, 1)) + b"\n\xc2\xa0\n\xe2\x80\xa8\n\xe3\x80\x80\r\n{oops\n"
    events, err = _single_error(gw.import_(body, token=tok))
    assert err["error"] == "INVALID_JSON" and err["line"] == 5, err
    assert err["message"].startswith("malformed JSON at line 5: "), err


# not white space for Go: U+200B, U+FEFF, a lone NEL byte, a truncated NBSP, an invalid
# three-byte sequence that starts like U+2000
@pytest.mark.parametrize("junk", [b"\xe2\x80\x8b", b"\xef\xbb\xbf", b"\x85", b"\xc2", b"\xa0\xc2", b"\xe2\x80 "])
def test_other_bytes_around_a_record_are_not_trimmed(gw, junk):
    ns, tok = gw.create_ns()
    for body in (junk + b"\n", junk + dumps(record("nws-1", 0, 1)) + b"\n",
                 dumps(record("nws-1", 0, 1)) + junk + b"\n"):
        events, err = _single_error(gw.import_(body, token=tok))
        assert err["error"] == "INVALID_JSON" and err["line"] == 1, (body, err)


def test_last_line_without_newline(gw):
    ns, tok = gw.create_ns()
    body = dumps(record("nonl-1", 0, 1)) + b"\n" + dumps(record("nonl-1", 1, 2))
    events = import_events(gw.import_(body, token=tok))
    assert done(2).fullmatch(events[-1]), events


def test_data_null_is_accepted(gw):
    ns, tok = gw.create_ns()
    rec = record("dn-1", 0, 1)
    rec["data"] = None
    events = import_events(gw.import_(ndjson([rec]), token=tok))
    assert done(1).fullmatch(events[-1]), events
    assert gw.ok("stream.get", "dn-1", token=tok)[0][4] is None


# ------------------------------------------------------------------ errors

def _single_error(r):
    events = import_events(r)
    assert r.status == 200
    assert not any(e.startswith(b'{"done"') for e in events), events
    err = json.loads(events[-1])
    assert list(err.keys()) in (["error", "message", "line"], ["error", "message"]), events[-1]
    return events, err


@pytest.mark.parametrize("bad", [b"{bad", b'{"pos":"1"}', b'{"gpos":"1"}', b'{"data":[1]}', b'{"meta":[]}',
                                 b'{"data":5}', b"[1]", b"5", b'"x"', b'{"id":5}', b'{"stream":{}}',
                                 b'{"pos":1.5}', b'{"pos":1.0}', b'{"gpos":1e2}', b'{"gpos":9223372036854775808}',
                                 b'{"type":true}', b"{} x"])
def test_invalid_json_with_line_number(gw, bad):
    ns, tok = gw.create_ns()
    body = dumps(record("ij-1", 0, 1)) + b"\n" + bad + b"\n" + dumps(record("ij-1", 1, 2)) + b"\n"
    events, err = _single_error(gw.import_(body, token=tok))
    assert err["error"] == "INVALID_JSON", events
    assert err["message"].startswith("malformed JSON at line 2: "), err
    assert err["line"] == 2
    assert gw.ok("stream.get", "ij-1", token=tok) == []


def test_whitespace_lines_are_counted(gw):
    ns, tok = gw.create_ns()
    body = dumps(record("ws-1", 0, 1)) + b"\n  \n\n\t\r\n{oops\n"
    events, err = _single_error(gw.import_(body, token=tok))
    assert err["error"] == "INVALID_JSON" and err["line"] == 5, err
    assert err["message"].startswith("malformed JSON at line 5: ")


@pytest.mark.parametrize("given,stored", [
    ("0000-06-01T00:00:00Z", "0000-06-01T00:00:00Z"),
    ("0001-01-01T00:00:00+01:00", "0000-12-31T23:00:00Z"),
    ("0000-12-31T23:00:00.5Z", "0000-12-31T23:00:00.5Z"),
    ("0000-03-01T00:30:00.25+01:00", "0000-02-29T23:30:00.25Z"),   # year 0 is a leap year
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
])
def test_times_in_year_0000_are_imported(gw, given, stored):
    # RFC 3339 and Go accept year 0000 (1 BC), which PostgreSQL refuses in ISO form
    ns, tok = gw.create_ns()
    events = import_events(gw.import_(ndjson([record("y0-1", 0, 1, time_=given)]), token=tok))
    assert len(events) == 1 and done(1).fullmatch(events[0]), events
    assert gw.ok("stream.get", "y0-1", token=tok)[0][6] == stored


def test_time_before_year_1_survives_export_and_reimport(gw):
    ns, tok = gw.create_ns()
    events = import_events(gw.import_(ndjson([record("rt-1", 0, 1, time_="0001-01-01T00:00:00.5+01:00")]),
                                      token=tok))
    assert done(1).fullmatch(events[-1]), events
    shown = gw.ok("stream.get", "rt-1", token=tok)[0][6]
    assert shown == "0000-12-31T23:00:00.5Z"
    events = import_events(gw.import_(ndjson([record("rt-2", 0, 2, time_=shown)]), token=tok))
    assert done(1).fullmatch(events[-1]), events
    assert gw.ok("stream.get", "rt-2", token=tok)[0][6] == shown
    # the same instant, not only the same text: no message of either lies after it
    assert gw.ok("category.positionAt", "rt", "0000-12-31T23:00:00.500001Z", token=tok) is None
    assert gw.ok("category.positionAt", "rt", shown, token=tok) == 1


@pytest.mark.parametrize("bad_time", ["yesterday", "", "2025-01-01", "2025-01-01 00:00:00Z",
                                      "2025-13-01T00:00:00Z", "2025-01-01T00:00:00"])
def test_invalid_time_is_invalid_record(gw, bad_time):
    ns, tok = gw.create_ns()
    body = dumps(record("it-1", 0, 1)) + b"\n" + dumps(record("it-1", 1, 2, time_=bad_time)) + b"\n"
    events, err = _single_error(gw.import_(body, token=tok))
    assert err["error"] == "INVALID_RECORD", err
    assert err["message"].startswith("invalid record at line 2: invalid time format: "), err
    assert err["line"] == 2


def test_missing_time_is_invalid_record(gw):
    ns, tok = gw.create_ns()
    rec = record("mt-1", 0, 1)
    del rec["time"]
    events, err = _single_error(gw.import_(ndjson([rec]), token=tok))
    assert err["error"] == "INVALID_RECORD"
    assert err["message"].startswith("invalid record at line 1: invalid time format: ")


def test_duplicate_global_position_with_existing_message(gw):
    ns, tok = gw.create_ns()
    gw.write("pe-1", token=tok)   # gp 1
    body = ndjson([record("pe-2", 0, 5), record("pe-2", 1, 1), record("pe-2", 2, 6)])
    r = gw.import_(body, token=tok)
    events, err = _single_error(r)
    assert events[-1] == error_event("POSITION_EXISTS", "global position already exists: 1", 3)
    assert gw.ok("stream.get", "pe-2", token=tok) == []


def test_duplicate_id_is_position_exists(gw):
    ns, tok = gw.create_ns()
    gw.write("pid-1", token=tok)
    existing = gw.ok("stream.get", "pid-1", token=tok)[0][0]
    r = gw.import_(ndjson([record("pid-2", 0, 7, id_=existing)]), token=tok)
    events, err = _single_error(r)
    assert events[-1] == error_event("POSITION_EXISTS", "global position already exists: 7", 1)


def test_duplicate_stream_position_is_position_exists(gw):
    ns, tok = gw.create_ns()
    gw.write("psp-1", token=tok)
    r = gw.import_(ndjson([record("psp-2", 0, 20), record("psp-1", 0, 21)]), token=tok)
    events, err = _single_error(r)
    assert events[-1] == error_event("POSITION_EXISTS", "global position already exists: 21", 2)


def test_duplicate_within_one_batch(gw):
    ns, tok = gw.create_ns()
    r = gw.import_(ndjson([record("pwb-1", 0, 9), record("pwb-2", 0, 9)]), token=tok)
    events, err = _single_error(r)
    assert events[-1] == error_event("POSITION_EXISTS", "global position already exists: 9", 2)


def test_committed_batches_stay_and_line_is_last_line_read(gw):
    ns, tok = gw.create_ns()
    recs = [record("cb-1", i, i + 1) for i in range(1500)]
    recs[1200]["gpos"] = 1100
    r = gw.import_(ndjson(recs), token=tok)
    events, err = _single_error(r)
    assert events[0] == b'{"imported":1000,"gpos":1000}'
    assert events[-1] == error_event("POSITION_EXISTS", "global position already exists: 1100", 1500)
    assert len(events) == 2
    assert len(gw.ok("stream.get", "cb-1", {"batchSize": -1}, token=tok)) == 1000


def test_error_in_full_second_batch_reports_line_that_completed_it(gw):
    ns, tok = gw.create_ns()
    recs = [record("fb-1", i, i + 1) for i in range(2500)]
    recs[1500]["gpos"] = 5
    events, err = _single_error(gw.import_(ndjson(recs), token=tok))
    assert events[-1] == error_event("POSITION_EXISTS", "global position already exists: 5", 2000)


def test_unparseable_uuid_is_import_failed(gw):
    ns, tok = gw.create_ns()
    r = gw.import_(ndjson([record("uf-1", 0, 1, id_="not-a-uuid")]), token=tok)
    events, err = _single_error(r)
    assert err["error"] == "IMPORT_FAILED" and err["message"], err
    assert gw.ok("stream.get", "uf-1", token=tok) == []


def test_line_over_1_mib_is_read_error(gw):
    ns, tok = gw.create_ns()
    big = record("big-1", 1, 2, data={"s": "x" * (1024 * 1024 + 10)})
    body = dumps(record("big-1", 0, 1)) + b"\n" + dumps(big) + b"\n"
    events, err = _single_error(gw.import_(body, token=tok))
    assert err["error"] == "READ_ERROR", err
    assert err["message"].startswith("error reading input: "), err
    assert err["line"] == 1


def test_line_just_under_1_mib_is_fine(gw):
    ns, tok = gw.create_ns()
    rec = record("near-1", 0, 1, data={"s": "x" * (1024 * 1024 - 400)})
    line = dumps(rec)
    assert len(line) < 1024 * 1024
    events = import_events(gw.import_(line + b"\n", token=tok))
    assert done(1).fullmatch(events[-1]), events[-1][:300]


# ------------------------------------------------------------------ force and the sequence

def test_force_clears_namespace_and_restarts_sequence(gw):
    ns, tok = gw.create_ns()
    for _ in range(5):
        gw.write("fc-1", token=tok)
    r = gw.import_(b"", token=tok, force=True)
    assert r.body == b'data: {"done":true,"imported":0,"elapsed":"0.0s"}\n\n'
    assert gw.ok("stream.get", "fc-1", token=tok) == []
    assert gw.write("fc-2", token=tok) == {"globalPosition": 1, "position": 0}


def test_force_then_import(gw):
    ns, tok = gw.create_ns()
    for _ in range(3):
        gw.write("ft-1", token=tok)
    events = import_events(gw.import_(ndjson([record("ft-9", 0, 100)]), token=tok, force=True))
    assert done(1).fullmatch(events[-1])
    assert gw.ok("category.get", "", token=tok)[0][1] == "ft-9"
    assert len(gw.ok("category.get", "", token=tok)) == 1
    assert gw.write("ft-1", token=tok) == {"globalPosition": 101, "position": 0}


@pytest.mark.parametrize("query", ["force=TRUE", "force=1", "force=yes", "force="])
def test_force_only_exactly_true(gw, query):
    ns, tok = gw.create_ns()
    gw.write("fo-1", token=tok)
    r = gw.request("POST", "/import?" + query, body=b"", token=tok)
    assert r.status == 200
    assert len(gw.ok("stream.get", "fo-1", token=tok)) == 1


def test_force_clear_is_not_undone_on_failure(gw):
    ns, tok = gw.create_ns()
    gw.write("fu-1", token=tok)
    events, err = _single_error(gw.import_(b"{bad\n", token=tok, force=True))
    assert err["error"] == "INVALID_JSON"
    assert gw.ok("stream.get", "fu-1", token=tok) == []


def test_sequence_moves_to_max_of_existing_and_batch(gw):
    ns, tok = gw.create_ns()
    gw.import_(ndjson([record("sq-1", 0, 50)]), token=tok)
    events = import_events(gw.import_(ndjson([record("sq-2", 0, 10)]), token=tok))
    assert done(1).fullmatch(events[-1])
    assert gw.write("sq-3", token=tok)["globalPosition"] == 51


def test_sequence_after_import_below_written_positions(gw):
    ns, tok = gw.create_ns()
    for _ in range(20):
        gw.write("sw-1", token=tok)   # gp 1..20
    gw.import_(ndjson([record("sw-2", 0, 100), record("sw-2", 1, 21)]), token=tok)
    assert gw.write("sw-3", token=tok)["globalPosition"] == 101


# ------------------------------------------------------------------ transport and auth

def test_any_method_and_chunked_body(gw):
    ns, tok = gw.create_ns()
    import http.client
    body = ndjson([record("ch-1", i, i + 1) for i in range(10)])

    def gen():
        for i in range(0, len(body), 100):
            yield body[i:i + 100]

    conn = http.client.HTTPConnection(gw.host, gw.port, timeout=30)
    conn.request("PUT", "/import", body=gen(), headers={"Authorization": "Bearer " + tok,
                                                       "Content-Type": "application/x-ndjson"},
                 encode_chunked=True)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    assert resp.status == 200
    assert done(10).search(data), data
    assert len(gw.ok("stream.get", "ch-1", token=tok)) == 10


def test_import_requires_auth_in_production(gw):
    r = gw.request("POST", "/import", body=ndjson([record("na-1", 0, 1)]))
    check_error(r, 401, "AUTH_REQUIRED", "Authorization header required")


def test_import_targets_the_tokens_namespace(gw):
    a, ta = gw.create_ns()
    b, tb = gw.create_ns()
    gw.import_(ndjson([record("tn-1", 0, 1)]), token=ta)
    assert len(gw.ok("stream.get", "tn-1", token=ta)) == 1
    assert gw.ok("stream.get", "tn-1", token=tb) == []


def test_import_query_token(gw):
    ns, tok = gw.create_ns()
    r = gw.request("POST", "/import?token=" + tok, body=ndjson([record("qt-1", 0, 1)]))
    assert r.status == 200 and done(1).search(r.body)
    assert len(gw.ok("stream.get", "qt-1", token=tok)) == 1
    assert DEFAULT_TOKEN


@pytest.mark.parametrize("escaped,value", [
    (r'"\ud800"', "\ufffd"),                  # a lone high surrogate
    (r'"\udc00x"', "\ufffdx"),                # a lone low surrogate
    (r'"a\ud800\u0041"', "a\ufffdA"),         # a high one followed by no low one
    (r'"\ud83d\ude00"', "\U0001F600"),        # a pair stays a pair
    (r'"\\ud800"', "\\ud800"),                # an escaped backslash, no escape
    (r'"\udbff\udfff\udfff"', "\U0010FFFF\ufffd"),
])
def test_lone_surrogate_escapes_in_payloads_become_replacement_characters(gw, escaped, value):
    """Go's decoder reads a \\u escape of a lone surrogate as U+FFFD; PostgreSQL
    refuses it, which failed the whole batch. data and meta are stored as
    stream.write stores them, and the batch's other records with them."""
    ns, tok = gw.create_ns()
    line = ('{"id":"%s","stream":"sur-1","type":"T","pos":0,"gpos":1,"data":{"v":%s},'
            '"meta":{"m":%s},"time":"2025-01-01T00:00:00Z"}' % (uuid.uuid4(), escaped, escaped)).encode()
    body = line + b"\n" + dumps(record("sur-1", 1, 2)) + b"\n"
    events = import_events(gw.import_(body, token=tok))
    assert events[-1].startswith(b'{"done":true,"imported":2'), events
    [m0, m1] = gw.ok("stream.get", "sur-1", token=tok)
    assert (m0[4], m0[5]) == ({"v": value}, {"m": value})  # [id, type, position, gpos, data, meta, time]
    assert m1[2] == 1
