"""ns.create / ns.delete / ns.list / ns.info / ns.streams / ns.categories
(docs/http-api.md#namespace-methods) and namespace isolation (docs/architecture.md#invariants invariant 4)."""
import re

import pytest

from harness import (DEFAULT_TOKEN, MESSAGE_TIME_RE, SECONDS_TIME_RE, b64url, check_error, ndjson,
                     record, token_for, unique)

TOKEN_RE = re.compile(r"^ns_([A-Za-z0-9_-]+)_([0-9a-f]{64})$")


# ------------------------------------------------------------------ ns.create

@pytest.mark.parametrize("args,message", [
    ([], "ns.create requires at least 1 argument: namespace ID"),
    ([""], "namespace ID must be a non-empty string"),
    ([None], "namespace ID must be a non-empty string"),
    ([5], "namespace ID must be a non-empty string"),
    (["", []], "namespace ID must be a non-empty string"),
    (["x", None], "options must be an object"),
    (["x", []], "options must be an object"),
    (["x", {"description": 5}], "options.description must be a string"),
    (["x", {"description": None}], "options.description must be a string"),
    (["x", {"description": 5, "token": 5}], "options.description must be a string"),
    (["x", {"token": 5}], "options.token must be a string"),
    (["x", {"token": None}], "options.token must be a string"),
    (["x", {"token": 5, "metadata": 5}], "options.token must be a string"),
    (["x", {"token": ""}], "Invalid token format: invalid token format: missing 'ns_' prefix"),
    (["x", {"token": "abc"}], "Invalid token format: invalid token format: missing 'ns_' prefix"),
    (["x", {"token": "ns_eA"}], "Invalid token format: invalid token format: expected 2 parts after prefix, got 1"),
    (["x", {"token": "ns_a_b_c"}], "Invalid token format: invalid token format: expected 2 parts after prefix, got 3"),
    (["x", {"token": "ns_eA_abc"}],
     "Invalid token format: invalid token format: random part must be 64 hex characters, got 3"),
    (["x", {"token": "ns_eA_abc", "metadata": 5}],
     "Invalid token format: invalid token format: random part must be 64 hex characters, got 3"),
    (["x", {"token": "ns__" + "0" * 64}], "Invalid token format: invalid token format: namespace is empty"),
    (["x", {"token": "ns_eQ_" + "0" * 64}], "Token is for namespace 'y', not 'x'"),
    (["x", {"token": "ns_eQ_" + "0" * 64, "metadata": 5}], "Token is for namespace 'y', not 'x'"),
    (["x", {"metadata": 5}], "options.metadata must be an object"),
    (["x", {"metadata": None}], "options.metadata must be an object"),
    (["x", {"metadata": []}], "options.metadata must be an object"),
])
def test_create_validation_messages_in_order(gw, args, message):
    check_error(gw.rpc("ns.create", *args), 400, "INVALID_REQUEST", message, has_details=False)


def test_create_token_not_hex_message_prefix(gw):
    err = check_error(gw.rpc("ns.create", "x", {"token": "ns_eA_" + "g" * 64}), 400, "INVALID_REQUEST")
    assert err["message"].startswith(
        "Invalid token format: invalid token format: random part is not valid hexadecimal: "), err


def test_create_token_bad_base64_message_prefix(gw):
    for bad in ("e", "eA=", "e*A", "eA.B"):
        err = check_error(gw.rpc("ns.create", "x", {"token": "ns_%s_%s" % (bad, "0" * 64)}), 400,
                          "INVALID_REQUEST")
        assert err["message"].startswith(
            "Invalid token format: invalid token format: namespace part is not valid base64url: "), (bad, err)


def test_create_success_shape(gw):
    ns = unique("shape")
    r = gw.rpc("ns.create", ns)
    assert r.status == 200
    assert re.fullmatch(rb'\{"createdAt":"[^"]+","namespace":"' + ns.encode() + rb'","token":"ns_[^"]+"\}\n',
                        r.body), r.body
    doc = r.json
    assert MESSAGE_TIME_RE.match(doc["createdAt"]), doc
    m = TOKEN_RE.match(doc["token"])
    assert m and m.group(1) == b64url(ns), doc
    assert gw.ok("stream.write", "a-1", {"type": "T", "data": {}}, token=doc["token"])


def test_create_tokens_are_random(gw):
    toks = {gw.create_ns()[1].split("_")[-1] for _ in range(3)}
    assert len(toks) == 3 and "0" * 64 not in toks


def test_create_with_supplied_token(gw):
    ns = unique("sup")
    tok = token_for(ns, "ab" * 32)
    res = gw.ok("ns.create", ns, {"token": tok, "description": "d"})
    assert res["token"] == tok and res["namespace"] == ns
    assert gw.ok("stream.version", "s-1", token=tok) is None


def test_create_with_uppercase_hex_token(gw):
    ns = unique("up")
    tok = token_for(ns, "AB" * 32)
    assert gw.ok("ns.create", ns, {"token": tok})["token"] == tok
    assert gw.ok("stream.version", "s-1", token=tok) is None
    check_error(gw.rpc("stream.version", "s-1", token=token_for(ns, "ab" * 32)), 403,
                "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {"namespace": ns})


def test_create_metadata_object_accepted_and_ignored(gw):
    ns = unique("meta")
    gw.ok("ns.create", ns, {"metadata": {"a": 1}})
    info = gw.ok("ns.info", ns)
    assert "metadata" not in info


def test_create_description_default_and_stored(gw):
    a = gw.create_ns()[0]
    b = gw.create_ns(description="Team <B> & co")[0]
    assert gw.ok("ns.info", a)["description"] == ""
    assert gw.ok("ns.info", b)["description"] == "Team <B> & co"
    r = gw.rpc("ns.info", b)
    assert b'"description":"Team \\u003cB\\u003e \\u0026 co"' in r.body


def test_create_existing_is_409(gw):
    ns, _ = gw.create_ns()
    check_error(gw.rpc("ns.create", ns), 409, "NAMESPACE_EXISTS", "Namespace '%s' already exists" % ns)
    check_error(gw.rpc("ns.create", "default"), 409, "NAMESPACE_EXISTS", "Namespace 'default' already exists")


def parseable_id(base):
    """base + a random suffix whose token can be parsed (no '_' in its base64url, docs/http-api.md#tokens)."""
    while True:
        ns = base + unique("")
        if "_" not in b64url(ns):
            return ns


@pytest.mark.parametrize("base", ["with space", "日本語", "a/b", "ÄÖÜ-ß", "x.y", "a-b", "😀", "-", "_",
                                  "'quoted'", '"dq"', "semi;colon", "pct%s", "Robert'); DROP TABLE x;--",
                                  "x" * 200, "\\back"])
def test_arbitrary_namespace_ids(gw, base):
    ns = parseable_id(base)
    res = gw.rpc("ns.create", ns)
    assert res.status == 200, res
    tok = res.json["token"]
    assert res.json["namespace"] == ns
    assert gw.ok("stream.write", "s-1", {"type": "T", "data": {}}, token=tok)["globalPosition"] == 1
    info = gw.ok("ns.info", ns)
    assert info["namespace"] == ns and info["messageCount"] == 1
    assert gw.ok("ns.delete", ns)["namespace"] == ns


def test_id_whose_token_cannot_parse_is_refused_or_useless(gw):
    ns = "ab?"  # base64url YWI_ contains '_' (docs/http-api.md#tokens hazard)
    res = gw.rpc("ns.create", ns + "ab?")
    if res.status == 400:
        check_error(res, 400, "INVALID_REQUEST")
        return
    assert res.status == 200, res
    check_error(gw.rpc("sys.version", token=res.json["token"]), 401, "AUTH_INVALID_TOKEN",
                "Invalid token format")
    gw.ok("ns.delete", ns + "ab?")


def test_storage_names_never_collide(gw):
    while True:
        suffix = unique("")
        ids = ["a-b" + suffix, "a_b" + suffix, "a.b" + suffix, "日本" + suffix, "__" + suffix,
               "l" * 70 + "1" + suffix, "l" * 70 + "2" + suffix]
        if not any("_" in b64url(i) for i in ids):
            break
    created = []
    for ns in ids:
        r = gw.rpc("ns.create", ns)
        if r.status == 409:
            check_error(r, 409, "NAMESPACE_EXISTS", "Namespace '%s' already exists" % ns)
            continue
        assert r.status == 200, r
        created.append((ns, r.json["token"]))
    for ns, tok in created:
        gw.ok("stream.write", "c-1", {"type": "T", "data": {"owner": ns}}, token=tok)
    for ns, tok in created:
        got = gw.ok("stream.get", "c-1", token=tok)
        assert [m[4] for m in got] == [{"owner": ns}], ns
        assert gw.ok("ns.info", ns)["messageCount"] == 1


def test_created_at_formats(gw):
    ns = unique("times")
    created = gw.ok("ns.create", ns)["createdAt"]
    assert MESSAGE_TIME_RE.match(created)
    listed = [x for x in gw.ok("ns.list") if x["namespace"] == ns][0]["createdAt"]
    info = gw.ok("ns.info", ns)["createdAt"]
    assert SECONDS_TIME_RE.match(listed), listed
    assert listed == info
    from datetime import datetime
    parse = lambda t: datetime.fromisoformat(t.rstrip("Z").split(".")[0])  # noqa: E731
    assert abs((parse(created) - parse(listed)).total_seconds()) <= 2


# ------------------------------------------------------------------ ns.delete

@pytest.mark.parametrize("args,message", [
    ([], "ns.delete requires 1 argument: namespace ID"),
    ([""], "namespace ID must be a non-empty string"),
    ([None], "namespace ID must be a non-empty string"),
    ([7], "namespace ID must be a non-empty string"),
])
def test_delete_validation_messages(gw, args, message):
    check_error(gw.rpc("ns.delete", *args), 400, "INVALID_REQUEST", message, has_details=False)


def test_delete_unknown_is_404(gw):
    ns = unique("gone")
    check_error(gw.rpc("ns.delete", ns), 404, "NAMESPACE_NOT_FOUND", "Namespace '%s' not found" % ns)


def test_delete_success_shape_and_effects(gw):
    ns, tok = gw.create_ns()
    gw.write("d-1", token=tok)
    gw.write("d-2", token=tok)
    r = gw.rpc("ns.delete", ns)
    assert r.status == 200
    assert re.fullmatch(rb'\{"deletedAt":"[^"]+","messagesDeleted":(0|2),"namespace":"' + ns.encode()
                        + rb'"\}\n', r.body), r.body
    assert MESSAGE_TIME_RE.match(r.json["deletedAt"])
    check_error(gw.rpc("stream.get", "d-1", token=tok), 403, "AUTH_UNAUTHORIZED",
                "Token not authorized for namespace", {"namespace": ns})
    check_error(gw.rpc("ns.info", ns), 404, "NAMESPACE_NOT_FOUND", "Namespace '%s' not found" % ns)
    assert ns not in [x["namespace"] for x in gw.ok("ns.list")]
    check_error(gw.rpc("ns.delete", ns), 404, "NAMESPACE_NOT_FOUND", "Namespace '%s' not found" % ns)


def test_delete_then_recreate_starts_empty(gw):
    ns, tok = gw.create_ns()
    gw.write("r-1", token=tok)
    gw.write("r-1", token=tok)
    gw.ok("ns.delete", ns)
    ns2, tok2 = gw.create_ns(ns)
    assert tok2 != tok
    assert gw.ok("stream.version", "r-1", token=tok2) is None
    assert gw.write("r-1", token=tok2) == {"globalPosition": 1, "position": 0}
    check_error(gw.rpc("stream.get", "r-1", token=tok), 403, "AUTH_UNAUTHORIZED")


def test_delete_with_own_token(gw):
    ns, tok = gw.create_ns()
    assert gw.ok("ns.delete", ns, token=tok)["namespace"] == ns
    check_error(gw.rpc("sys.version", token=tok), 403, "AUTH_UNAUTHORIZED")


# ------------------------------------------------------------------ ns.list / ns.info

def test_list_shape_contains_default_and_no_tokens(gw):
    ns, tok = gw.create_ns(description="listed")
    r = gw.rpc("ns.list")
    assert r.status == 200
    items = r.json
    assert isinstance(items, list)
    names = [x["namespace"] for x in items]
    assert "default" in names and ns in names
    for x in items:
        assert list(x.keys()) == ["createdAt", "description", "messageCount", "namespace"], x
        assert SECONDS_TIME_RE.match(x["createdAt"]), x
        assert isinstance(x["messageCount"], int)
    assert tok.encode() not in r.body and b"token" not in r.body.lower()
    default = [x for x in items if x["namespace"] == "default"][0]
    assert default["description"] == "Default namespace"
    assert [x for x in items if x["namespace"] == ns][0]["description"] == "listed"


def test_list_newest_first(gw):
    times = [x["createdAt"] for x in gw.ok("ns.list")]
    assert times == sorted(times, reverse=True)


def test_list_ignores_arguments(gw):
    assert len(gw.ok("ns.list", "x", {"limit": 1})) == len(gw.ok("ns.list"))


def test_list_message_count_zero_or_real(gw):
    ns, tok = gw.create_ns()
    gw.write("lc-1", token=tok)
    gw.write("lc-1", token=tok)
    entry = [x for x in gw.ok("ns.list") if x["namespace"] == ns][0]
    assert entry["messageCount"] in (0, 2)


@pytest.mark.parametrize("args,message", [
    ([], "ns.info requires 1 argument: namespace ID"),
    ([""], "namespace ID must be a non-empty string"),
    ([None], "namespace ID must be a non-empty string"),
    ([[]], "namespace ID must be a non-empty string"),
])
def test_info_validation_messages(gw, args, message):
    check_error(gw.rpc("ns.info", *args), 400, "INVALID_REQUEST", message, has_details=False)


def test_info_unknown_is_404(gw):
    ns = unique("nope")
    check_error(gw.rpc("ns.info", ns), 404, "NAMESPACE_NOT_FOUND", "Namespace '%s' not found" % ns)


def test_info_shape_and_real_message_count(gw):
    ns, tok = gw.create_ns(description="info me")
    info = gw.ok("ns.info", ns)
    assert list(info.keys()) == ["createdAt", "description", "lastActivity", "messageCount",
                                 "namespace", "streamCount"]
    assert info["messageCount"] == 0 and info["description"] == "info me" and info["namespace"] == ns
    assert info["lastActivity"] is None
    assert info["streamCount"] == 0
    for s in ("i-1", "i-2", "i-1", "j", "i-1"):
        gw.write(s, token=tok)
    info = gw.ok("ns.info", ns)
    assert info["messageCount"] == 5
    assert info["streamCount"] in (0, 3)
    assert info["lastActivity"] is None or MESSAGE_TIME_RE.match(info["lastActivity"])
    assert SECONDS_TIME_RE.match(info["createdAt"])


# ------------------------------------------------------------------ ns.streams

@pytest.mark.parametrize("args,message", [
    ([None], "options must be an object"),
    ([[]], "options must be an object"),
    (["x"], "options must be an object"),
    ([{"prefix": 5}], "prefix must be a string"),
    ([{"prefix": None}], "prefix must be a string"),
    ([{"prefix": 5, "cursor": 5}], "prefix must be a string"),
    ([{"cursor": 5}], "cursor must be a string"),
    ([{"cursor": None, "limit": "x"}], "cursor must be a string"),
    ([{"limit": "5"}], "limit must be a number"),
    ([{"limit": None}], "limit must be a number"),
    ([{"limit": 0}], "limit must be between 1 and 1000"),
    ([{"limit": 0.5}], "limit must be between 1 and 1000"),
    ([{"limit": -1}], "limit must be between 1 and 1000"),
    ([{"limit": 1001}], "limit must be between 1 and 1000"),
])
def test_streams_validation_messages_in_order(gw, args, message):
    check_error(gw.rpc("ns.streams", *args), 400, "INVALID_REQUEST", message, has_details=False)


def test_streams_empty_namespace(gw):
    ns, tok = gw.create_ns()
    assert gw.rpc("ns.streams", token=tok).body == b"[]\n"
    assert gw.ok("ns.streams", {}, token=tok) == []


def test_streams_shape_and_version(gw):
    ns, tok = gw.create_ns()
    gw.import_(ndjson([record("acc-1", 0, 1, time_="2025-03-01T09:15:02.7Z"),
                       record("acc-1", 1, 2, time_="2025-03-01T09:15:04.2Z"),
                       record("acc-2", 0, 3, time_="2025-03-01T09:15:03Z")]), token=tok)
    r = gw.rpc("ns.streams", token=tok)
    assert r.body == (b'[{"lastActivity":"2025-03-01T09:15:04Z","stream":"acc-1","version":1},'
                      b'{"lastActivity":"2025-03-01T09:15:03Z","stream":"acc-2","version":0}]\n')


def test_streams_written_last_activity_seconds_format(gw):
    ns, tok = gw.create_ns()
    gw.write("w-1", token=tok)
    (entry,) = gw.ok("ns.streams", {}, token=tok)
    assert SECONDS_TIME_RE.match(entry["lastActivity"]), entry


def _streams(gw, tok, **opts):
    return [x["stream"] for x in gw.ok("ns.streams", opts, token=tok)]


def test_streams_prefix_is_literal(gw):
    ns, tok = gw.create_ns()
    for s in ["a%b-1", "axb-1", "a_c-1", "abc-1", "a\\d-1", "a\\\\d-1", "A%b-2", "a%"]:
        gw.write(s, token=tok)
    assert _streams(gw, tok, prefix="a%") == ["a%", "a%b-1"]
    assert _streams(gw, tok, prefix="a_") == ["a_c-1"]
    assert _streams(gw, tok, prefix="a\\") == ["a\\\\d-1", "a\\d-1"]
    assert _streams(gw, tok, prefix="a\\d") == ["a\\d-1"]
    assert _streams(gw, tok, prefix="%") == []
    assert _streams(gw, tok, prefix="_") == []
    assert _streams(gw, tok, prefix="") == sorted(
        ["a%b-1", "axb-1", "a_c-1", "abc-1", "a\\d-1", "a\\\\d-1", "A%b-2", "a%"],
        key=lambda s: s.encode())


def test_streams_byte_order_and_cursor_paging(gw):
    ns, tok = gw.create_ns()
    names = ["b-1", "B-1", "a-1", "_x", "Ä-1", "z-1", "a-10", "a-2", "é", "1-1", "~", "a b", "a-1+x", "日本-1"]
    for s in names:
        gw.write(s, token=tok)
    expected = sorted(names, key=lambda s: s.encode())
    assert _streams(gw, tok) == expected
    paged, cursor = [], ""
    while True:
        page = _streams(gw, tok, limit=3, cursor=cursor)
        assert len(page) <= 3
        if not page:
            break
        paged += page
        cursor = page[-1]
    assert paged == expected
    assert _streams(gw, tok, cursor="a-1") == expected[expected.index("a-1") + 1:]
    assert _streams(gw, tok, cursor="a") == [s for s in expected if s.encode() > b"a"]
    assert _streams(gw, tok, prefix="a", cursor="a-10") == [s for s in expected if s.startswith("a")
                                                            and s.encode() > b"a-10"]


def test_streams_default_limit_100_and_max_1000(gw):
    ns, tok = gw.create_ns()
    recs = [record("lim-%04d" % i, 0, i + 1) for i in range(1005)]
    gw.import_(ndjson(recs), token=tok)
    assert len(_streams(gw, tok)) == 100
    assert _streams(gw, tok)[0] == "lim-0000"
    assert len(_streams(gw, tok, limit=1000)) == 1000
    assert len(_streams(gw, tok, limit=1.9)) == 1
    assert len(_streams(gw, tok, limit=1000, cursor="lim-0999")) == 5


def test_streams_options_argument_is_first(gw):
    ns, tok = gw.create_ns()
    gw.write("opt-1", token=tok)
    gw.write("x-1", token=tok)
    assert [x["stream"] for x in gw.ok("ns.streams", {"prefix": "x"}, "ignored", token=tok)] == ["x-1"]


# ------------------------------------------------------------------ ns.categories

def test_categories_shape_and_byte_order(gw):
    ns, tok = gw.create_ns()
    for s in ["acct-1", "acct-1", "acct-2", "acct", "Zed-1", "-9", "日本-1", "a:b-1", "acct+x-1"]:
        gw.write(s, token=tok)
    r = gw.rpc("ns.categories", token=tok)
    expected = [
        {"category": "", "messageCount": 1, "streamCount": 1},
        {"category": "Zed", "messageCount": 1, "streamCount": 1},
        {"category": "a:b", "messageCount": 1, "streamCount": 1},
        {"category": "acct", "messageCount": 4, "streamCount": 3},
        {"category": "acct+x", "messageCount": 1, "streamCount": 1},
        {"category": "日本", "messageCount": 1, "streamCount": 1},
    ]
    assert r.json == expected
    assert r.body.startswith(b'[{"category":"","messageCount":1,"streamCount":1},')


def test_categories_empty_namespace_and_ignored_arguments(gw):
    ns, tok = gw.create_ns()
    assert gw.rpc("ns.categories", token=tok).body == b"[]\n"
    assert gw.ok("ns.categories", {"x": 1}, 5, token=tok) == []


# ------------------------------------------------------------------ isolation

def test_isolation_between_namespaces(gw):
    a, ta = gw.create_ns()
    b, tb = gw.create_ns()
    assert gw.write("shared-1", token=ta) == {"globalPosition": 1, "position": 0}
    assert gw.write("shared-1", token=ta) == {"globalPosition": 2, "position": 1}
    assert gw.write("shared-1", token=tb) == {"globalPosition": 1, "position": 0}
    gw.write("onlya-1", token=ta)
    assert gw.ok("stream.version", "shared-1", token=ta) == 1
    assert gw.ok("stream.version", "shared-1", token=tb) == 0
    assert gw.ok("stream.version", "onlya-1", token=tb) is None
    assert len(gw.ok("stream.get", "shared-1", token=tb)) == 1
    assert len(gw.ok("category.get", "shared", token=ta)) == 2
    assert len(gw.ok("category.get", "", token=tb)) == 1
    assert gw.ok("stream.last", "onlya-1", token=tb) is None
    assert [x["stream"] for x in gw.ok("ns.streams", {}, token=tb)] == ["shared-1"]
    assert [x["category"] for x in gw.ok("ns.categories", token=tb)] == ["shared"]
    assert gw.ok("ns.info", a)["messageCount"] == 3
    assert gw.ok("ns.info", b)["messageCount"] == 1
    r = gw.rpc("stream.write", "shared-1", {"type": "T", "data": {}}, {"expectedVersion": 0}, token=tb)
    assert r.status == 200


def test_isolation_of_ids_and_consumer_groups(gw):
    a, ta = gw.create_ns()
    b, tb = gw.create_ns()
    for i in range(1, 7):
        gw.write("grp-%d" % i, token=ta)
    gw.write("grp-1", token=tb)
    for m in range(2):
        got_b = gw.ok("category.get", "grp", {"consumerGroup": {"member": m, "size": 2}}, token=tb)
        assert all(x[1] == "grp-1" for x in got_b)


def test_isolation_from_default_namespace(gw):
    ns, tok = gw.create_ns()
    s = unique("iso") + "-1"
    gw.write(s, token=DEFAULT_TOKEN)
    assert gw.ok("stream.version", s, token=tok) is None
    assert gw.ok("category.get", s.split("-")[0], token=tok) == []


def test_namespace_token_cannot_use_other_namespace(gw):
    a, ta = gw.create_ns()
    b, tb = gw.create_ns()
    # a token with A's random part but B's name is a different token
    forged = token_for(b, ta.split("_")[-1])
    check_error(gw.rpc("stream.get", "x-1", token=forged), 403, "AUTH_UNAUTHORIZED",
                "Token not authorized for namespace", {"namespace": b})
