"""Persistent subscriptions over /rpc (docs/subscriptions.md#over-http): every
method, every validation message in docs/subscriptions.md#over-http's order, the 404/409 errors, and the
long poll of subscription.fetch. Each test works in a namespace of its own."""
import json
import socket
import re
import threading
import time

import pytest

from harness import check_error, go_json, token_for, wait_until

NAME_RULE = "name must be 1-100 characters of [A-Za-z0-9._:-]"
CONSUMER_RULE = "consumerId must be 1-100 printable ASCII characters"
IDS_RULE = "deliveryIds must be an array of 1-1000 non-empty strings"
OPTIONS_RULE = "options must be an object"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")
INFO_KEYS = ["ackTimeoutMs", "category", "checkpoint", "consumers", "createdAt", "inFlight", "lag",
             "maxDeliveries", "maxInFlight", "name", "parked", "strategy", "types"]


@pytest.fixture
def tok(gw):
    """A token of a fresh namespace."""
    return gw.create_ns()[1]


def ok(gw, tok, method, *args):
    return gw.ok("subscription." + method, *args, token=tok)


def err(gw, tok, status, code, message, method, *args):
    return gw.err(status, code, message, "subscription." + method, *args, token=tok)


def invalid(gw, tok, message, method, *args):
    return err(gw, tok, 400, "INVALID_REQUEST", message, method, *args)


def write(gw, tok, stream, type_="T", data=None):
    return gw.write(stream, type_, data, token=tok)["globalPosition"]


def fetch(gw, tok, name, consumer, **options):
    return ok(gw, tok, "fetch", name, consumer, options)


def raw_body(gw, tok, method, *args):
    r = gw.rpc("subscription." + method, *args, token=tok)
    assert r.status == 200, r
    return r.body


# ------------------------------------------------------------------ create / info

def test_create_returns_info_with_defaults(gw, tok):
    write(gw, tok, "acct-1")
    write(gw, tok, "other-1")
    body = raw_body(gw, tok, "create", "billing", "acct")
    info = json.loads(body)
    assert list(info.keys()) == INFO_KEYS
    assert body == go_json(info) + b"\n"
    assert TIME_RE.match(info.pop("createdAt"))
    assert info == {"ackTimeoutMs": 30000, "category": "acct", "checkpoint": 1, "consumers": [],
                    "inFlight": 0, "lag": 1, "maxDeliveries": 10, "maxInFlight": 10,
                    "name": "billing", "parked": 0, "strategy": "pinned", "types": []}


def test_create_with_every_option(gw, tok):
    info = ok(gw, tok, "create", "s.1_a:b-c", "", {
        "types": ["b", "a", "b"], "start": 7.9, "maxInFlight": 1000.5, "ackTimeoutMs": 100,
        "maxDeliveries": 1, "strategy": "roundRobin", "unknown": {"x": [1]}})
    assert info["types"] == ["a", "b"]
    assert info["checkpoint"] == 7
    assert (info["maxInFlight"], info["ackTimeoutMs"], info["maxDeliveries"]) == (1000, 100, 1)
    assert info["strategy"] == "roundRobin" and info["category"] == ""


def test_create_start_end_skips_existing_messages(gw, tok):
    write(gw, tok, "acct-1")
    g = write(gw, tok, "acct-2")
    info = ok(gw, tok, "create", "s", "acct", {"start": "end"})
    assert info["checkpoint"] == g + 1 and info["lag"] == 0
    assert fetch(gw, tok, "s", "w") == []
    g3 = write(gw, tok, "acct-3")
    assert [d["message"][4] for d in fetch(gw, tok, "s", "w")] == [g3]


CREATE_VALIDATION = [
    ([], "subscription.create requires at least 2 arguments: name and category"),
    (["s"], "subscription.create requires at least 2 arguments: name and category"),
    ([1, 2, "x"], NAME_RULE),
    (["", "acct"], NAME_RULE),
    (["a b", "acct"], NAME_RULE),
    (["a/b", 1], NAME_RULE),
    (["x" * 101, "acct"], NAME_RULE),
    ([None, "acct"], NAME_RULE),
    (["s", 1], "category must be a string"),
    (["s", None, []], "category must be a string"),
    (["s", "a-b", []], "category must not contain '-'"),
    (["s", "acct", []], OPTIONS_RULE),
    (["s", "acct", None], OPTIONS_RULE),
    (["s", "acct", "x"], OPTIONS_RULE),
    (["s", "acct", {"types": "a", "start": -1}], "options.types must be an array of at most 100 non-empty strings"),
    (["s", "acct", {"types": [""]}], "options.types must be an array of at most 100 non-empty strings"),
    (["s", "acct", {"types": [1]}], "options.types must be an array of at most 100 non-empty strings"),
    (["s", "acct", {"types": ["t%d" % i for i in range(101)]}],
     "options.types must be an array of at most 100 non-empty strings"),
    (["s", "acct", {"types": None}], "options.types must be an array of at most 100 non-empty strings"),
    (["s", "acct", {"start": -1, "maxInFlight": 0}], 'options.start must be "beginning", "end" or a global position >= 0'),
    (["s", "acct", {"start": "begin"}], 'options.start must be "beginning", "end" or a global position >= 0'),
    (["s", "acct", {"start": None}], 'options.start must be "beginning", "end" or a global position >= 0'),
    (["s", "acct", {"maxInFlight": "1", "ackTimeoutMs": 1}], "options.maxInFlight must be a number"),
    (["s", "acct", {"maxInFlight": 0.9}], "options.maxInFlight must be between 1 and 1000"),
    (["s", "acct", {"maxInFlight": 1001}], "options.maxInFlight must be between 1 and 1000"),
    (["s", "acct", {"ackTimeoutMs": None}], "options.ackTimeoutMs must be a number"),
    (["s", "acct", {"ackTimeoutMs": 99.9}], "options.ackTimeoutMs must be between 100 and 3600000"),
    (["s", "acct", {"ackTimeoutMs": 3600001}], "options.ackTimeoutMs must be between 100 and 3600000"),
    (["s", "acct", {"maxDeliveries": True}], "options.maxDeliveries must be a number"),
    (["s", "acct", {"maxDeliveries": 0, "strategy": "x"}], "options.maxDeliveries must be between 1 and 1000"),
    (["s", "acct", {"strategy": "RoundRobin"}], 'options.strategy must be "pinned" or "roundRobin"'),
    (["s", "acct", {"strategy": None}], 'options.strategy must be "pinned" or "roundRobin"'),
]


@pytest.mark.parametrize("args,message", CREATE_VALIDATION)
def test_create_validation_in_order(gw, tok, args, message):
    invalid(gw, tok, message, "create", *args)
    assert ok(gw, tok, "list") == []


def test_create_existing_name_is_409(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    err(gw, tok, 409, "SUBSCRIPTION_EXISTS", "Subscription 's' already exists", "create", "s", "other")
    # validation still comes first
    invalid(gw, tok, "category must not contain '-'", "create", "s", "a-b")


# ------------------------------------------------------------------ update

UPDATE_VALIDATION = [
    ([], "subscription.update requires 2 arguments: name and options"),
    (["s"], "subscription.update requires 2 arguments: name and options"),
    ([5, {}], NAME_RULE),
    (["s", None], OPTIONS_RULE),
    (["s", []], OPTIONS_RULE),
    (["s", {"category": "x", "start": 1}], "options.category cannot be changed"),
    (["s", {"start": 1, "types": 5}], "options.start cannot be changed: use subscription.reset"),
    (["s", {"types": 5, "maxInFlight": 0}], "options.types must be an array of at most 100 non-empty strings"),
    (["s", {"maxInFlight": 0, "ackTimeoutMs": 0}], "options.maxInFlight must be between 1 and 1000"),
    (["s", {"ackTimeoutMs": "x"}], "options.ackTimeoutMs must be a number"),
    (["s", {"maxDeliveries": 1001}], "options.maxDeliveries must be between 1 and 1000"),
    (["s", {"strategy": 1}], 'options.strategy must be "pinned" or "roundRobin"'),
]


@pytest.mark.parametrize("args,message", UPDATE_VALIDATION)
def test_update_validation_in_order(gw, tok, args, message):
    before = ok(gw, tok, "create", "s", "acct")
    invalid(gw, tok, message, "update", *args)
    assert ok(gw, tok, "get", "s") == before


def test_update_replaces_present_settings_only(gw, tok):
    before = ok(gw, tok, "create", "s", "acct", {"maxInFlight": 5})
    assert ok(gw, tok, "update", "s", {}) == before
    after = ok(gw, tok, "update", "s", {"ackTimeoutMs": 1000, "strategy": "roundRobin", "types": ["x"]})
    assert after["maxInFlight"] == 5 and after["ackTimeoutMs"] == 1000
    assert after["strategy"] == "roundRobin" and after["types"] == ["x"]
    assert after["createdAt"] == before["createdAt"]


def test_update_unknown_is_404(gw, tok):
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 'nope' not found", "update", "nope", {})


# ------------------------------------------------------------------ delete / get / list

def test_delete_get_list(gw, tok):
    assert ok(gw, tok, "list") == []
    ok(gw, tok, "create", "b", "acct")
    ok(gw, tok, "create", "B", "acct")
    ok(gw, tok, "create", "a", "")
    assert [i["name"] for i in ok(gw, tok, "list", "ignored", 1)] == ["B", "a", "b"]
    assert ok(gw, tok, "get", "a")["category"] == ""
    r = ok(gw, tok, "delete", "a")
    assert list(r.keys()) == ["deletedAt", "name"] and r["name"] == "a"
    assert TIME_RE.match(r["deletedAt"])
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 'a' not found", "get", "a")
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 'a' not found", "delete", "a")
    assert [i["name"] for i in ok(gw, tok, "list")] == ["B", "b"]


@pytest.mark.parametrize("method,message", [
    ("delete", "subscription.delete requires 1 argument: name"),
    ("get", "subscription.get requires 1 argument: name"),
])
def test_delete_and_get_validation(gw, tok, method, message):
    invalid(gw, tok, message, method)
    invalid(gw, tok, NAME_RULE, method, ["s"])
    invalid(gw, tok, NAME_RULE, method, "s!")


def test_deleted_subscriptions_delivery_ids_are_not_accepted(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    write(gw, tok, "acct-1")
    d = fetch(gw, tok, "s", "w")[0]
    ok(gw, tok, "delete", "s")
    ok(gw, tok, "create", "s", "acct")
    err(gw, tok, 409, "DELIVERY_EXPIRED", "Delivery '%s' is not in flight" % d["deliveryId"],
        "ack", "s", [d["deliveryId"]])
    d2 = fetch(gw, tok, "s", "w")[0]
    assert d2["deliveryId"] != d["deliveryId"] and d2["attempt"] == 1


def test_unknown_subscription_method_is_method_not_found(gw, tok):
    err(gw, tok, 404, "METHOD_NOT_FOUND", "Unknown method: subscription.pull", "pull", "s")


# ------------------------------------------------------------------ fetch / ack / nack

def test_fetch_delivery_shape_matches_category_get(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    write(gw, tok, "acct-1", "Opened", {"owner": "kim <&>"})
    body = raw_body(gw, tok, "fetch", "s", "w1")
    [d] = json.loads(body)
    assert list(d.keys()) == ["attempt", "deliveryId", "message"]
    assert d["attempt"] == 1 and isinstance(d["deliveryId"], str) and 1 <= len(d["deliveryId"]) <= 100
    assert d["message"] == gw.ok("category.get", "acct", token=tok)[0]
    # the message bytes are category.get's (HTML escapes included)
    cat = gw.rpc("category.get", "acct", token=tok).body.strip()[1:-1]
    assert b'"message":' + cat + b"}]\n" in body


FETCH_VALIDATION = [
    ([], "subscription.fetch requires at least 2 arguments: name and consumerId"),
    (["s"], "subscription.fetch requires at least 2 arguments: name and consumerId"),
    (["s s", 1], NAME_RULE),
    (["s", 1, 1], CONSUMER_RULE),
    (["s", ""], CONSUMER_RULE),
    (["s", "a b"], CONSUMER_RULE),
    (["s", "\u00e9"], CONSUMER_RULE),
    (["s", "x" * 101], CONSUMER_RULE),
    (["s", "w", []], OPTIONS_RULE),
    (["s", "w", None], OPTIONS_RULE),
    (["s", "w", {"max": "1", "waitMs": "x"}], "options.max must be a number"),
    (["s", "w", {"max": None}], "options.max must be a number"),
    (["s", "w", {"max": 0.99, "waitMs": "x"}], "options.max must be between 1 and 1000"),
    (["s", "w", {"max": 1001}], "options.max must be between 1 and 1000"),
    (["s", "w", {"max": -1}], "options.max must be between 1 and 1000"),
    (["s", "w", {"waitMs": []}], "options.waitMs must be a number"),
    (["s", "w", {"waitMs": -1}], "options.waitMs must be between 0 and 60000"),
    (["s", "w", {"waitMs": 60001}], "options.waitMs must be between 0 and 60000"),
]


@pytest.mark.parametrize("args,message", FETCH_VALIDATION)
def test_fetch_validation_in_order(gw, tok, args, message):
    ok(gw, tok, "create", "s", "acct")
    write(gw, tok, "acct-1")
    invalid(gw, tok, message, "fetch", *args)
    assert ok(gw, tok, "get", "s")["inFlight"] == 0


def test_fetch_unknown_subscription_is_404(gw, tok):
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 's' not found", "fetch", "s", "w")
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 's' not found", "fetch", "s", "w",
        {"waitMs": 1000})


def test_fetch_max_is_truncated_and_capped_by_max_in_flight(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"maxInFlight": 3, "strategy": "roundRobin"})
    for i in range(5):
        write(gw, tok, "acct-%d" % i)
    assert len(fetch(gw, tok, "s", "w", max=1.9)) == 1
    assert len(fetch(gw, tok, "s", "w", max=10)) == 2
    assert fetch(gw, tok, "s", "w", max=10) == []
    info = ok(gw, tok, "get", "s")
    assert info["inFlight"] == 3
    assert info["consumers"][0]["consumerId"] == "w" and info["consumers"][0]["inFlight"] == 3


def test_ack_and_second_ack_is_delivery_expired(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin"})
    write(gw, tok, "acct-1")
    write(gw, tok, "acct-2")
    d1, d2 = [d["deliveryId"] for d in fetch(gw, tok, "s", "w")]
    assert ok(gw, tok, "ack", "s", [d1, d1]) == {"acked": 1}
    r = gw.rpc("subscription.ack", "s", ["zz", d2, d1], token=tok)
    check_error(r, 409, "DELIVERY_EXPIRED", "Delivery 'zz' is not in flight",
                details={"deliveryIds": ["zz", d1]})
    # nothing was acked by the failed call
    assert ok(gw, tok, "get", "s")["inFlight"] == 1
    assert ok(gw, tok, "ack", "s", [d2]) == {"acked": 1}
    assert ok(gw, tok, "get", "s")["lag"] == 0


def test_delivery_expired_exact_body(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    r = gw.rpc("subscription.ack", "s", ["d1.7.1"], token=tok)
    assert r.status == 409
    assert r.body == (b'{"error":{"code":"DELIVERY_EXPIRED","message":"Delivery \'d1.7.1\' is not in flight",'
                      b'"details":{"deliveryIds":["d1.7.1"]}}}\n')


IDS_CASES = [None, "d", [], [""], [1], ["a", None], ["a", ["b"]], ["x"] * 1001, {"0": "a"}]


@pytest.mark.parametrize("method", ["ack", "nack"])
def test_ack_nack_validation_in_order(gw, tok, method):
    ok(gw, tok, "create", "s", "acct")
    nargs = "2 arguments" if method == "ack" else "at least 2 arguments"
    count = "subscription.%s requires %s: name and deliveryIds" % (method, nargs)
    invalid(gw, tok, count, method)
    invalid(gw, tok, count, method, "s")
    invalid(gw, tok, NAME_RULE, method, 1, None)
    for ids in IDS_CASES:
        invalid(gw, tok, IDS_RULE, method, "s", ids, [])
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 'zz' not found", method, "zz", ["x"] * 1000)


def test_nack_options_validation(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    invalid(gw, tok, OPTIONS_RULE, "nack", "s", ["x"], [])
    invalid(gw, tok, OPTIONS_RULE, "nack", "s", ["x"], None)
    action = 'options.action must be "retry", "park" or "skip"'
    invalid(gw, tok, action, "nack", "s", ["x"], {"action": "drop", "reason": 1})
    invalid(gw, tok, action, "nack", "s", ["x"], {"action": None})
    invalid(gw, tok, action, "nack", "s", ["x"], {"action": "Retry"})
    reason = "options.reason must be a string of at most 1000 bytes"
    invalid(gw, tok, reason, "nack", "s", ["x"], {"reason": 1})
    invalid(gw, tok, reason, "nack", "s", ["x"], {"reason": None})
    invalid(gw, tok, reason, "nack", "s", ["x"], {"reason": "\u00e9" * 501})
    err(gw, tok, 409, "DELIVERY_EXPIRED", "Delivery 'x' is not in flight", "nack", "s", ["x"],
        {"action": "park", "reason": "r" * 1000})


def test_nack_retry_park_skip(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin", "maxDeliveries": 5})
    g1 = write(gw, tok, "acct-1")
    g2 = write(gw, tok, "acct-2")
    g3 = write(gw, tok, "acct-3")
    ds = fetch(gw, tok, "s", "w")
    ids = {d["message"][4]: d["deliveryId"] for d in ds}
    assert ok(gw, tok, "nack", "s", [ids[g1]]) == {"nacked": 1}
    assert ok(gw, tok, "nack", "s", [ids[g2]], {"action": "park", "reason": "bad <data>"}) == {"nacked": 1}
    assert ok(gw, tok, "nack", "s", [ids[g3]], {"action": "skip"}) == {"nacked": 1}
    again = fetch(gw, tok, "s", "w")
    assert [(d["message"][4], d["attempt"]) for d in again] == [(g1, 2)]
    [p] = ok(gw, tok, "parked", "s")
    assert list(p.keys()) == ["attempts", "message", "parkedAt", "reason"]
    assert p["attempts"] == 1 and p["reason"] == "bad <data>" and p["message"][4] == g2
    assert TIME_RE.match(p["parkedAt"])
    info = ok(gw, tok, "get", "s")
    assert info["parked"] == 1 and info["inFlight"] == 1


# ------------------------------------------------------------------ parked / replay / reset

def test_parked_validation_and_paging(gw, tok):
    invalid(gw, tok, "subscription.parked requires at least 1 argument: name", "parked")
    invalid(gw, tok, NAME_RULE, "parked", "")
    invalid(gw, tok, OPTIONS_RULE, "parked", "s", [])
    invalid(gw, tok, "options.position must be a number", "parked", "s", {"position": "1", "batchSize": 0})
    invalid(gw, tok, "options.batchSize must be a number", "parked", "s", {"batchSize": None})
    invalid(gw, tok, "options.batchSize must be between 1 and 1000", "parked", "s", {"batchSize": 0.5})
    invalid(gw, tok, "options.batchSize must be between 1 and 1000", "parked", "s", {"batchSize": 1001})
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 's' not found", "parked", "s")
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin", "maxDeliveries": 1})
    gs = [write(gw, tok, "acct-%d" % i) for i in range(3)]
    ds = fetch(gw, tok, "s", "w")
    ok(gw, tok, "nack", "s", [d["deliveryId"] for d in ds])
    parked = ok(gw, tok, "parked", "s")
    assert [p["message"][4] for p in parked] == gs
    assert all(p["reason"] == "maxDeliveries" for p in parked)
    assert [p["message"][4] for p in ok(gw, tok, "parked", "s", {"position": gs[1], "batchSize": 1.7})] == [gs[1]]
    assert ok(gw, tok, "parked", "s", {"position": gs[2] + 1}) == []


def test_replay_parked(gw, tok):
    invalid(gw, tok, "subscription.replayParked requires at least 1 argument: name", "replayParked")
    invalid(gw, tok, NAME_RULE, "replayParked", 7)
    invalid(gw, tok, OPTIONS_RULE, "replayParked", "s", "all")
    rule = "options.globalPositions must be an array of 1-1000 numbers"
    for bad in (None, 1, [], ["1"], [1, None], list(range(1001))):
        invalid(gw, tok, rule, "replayParked", "s", {"globalPositions": bad})
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 's' not found", "replayParked", "s")
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin", "maxDeliveries": 1})
    gs = [write(gw, tok, "acct-%d" % i) for i in range(3)]
    ok(gw, tok, "nack", "s", [d["deliveryId"] for d in fetch(gw, tok, "s", "w")])
    assert ok(gw, tok, "replayParked", "s", {"globalPositions": [gs[0] + 0.5, 999999]}) == {"replayed": 1}
    assert [(d["message"][4], d["attempt"]) for d in fetch(gw, tok, "s", "w")] == [(gs[0], 1)]
    assert ok(gw, tok, "replayParked", "s") == {"replayed": 2}
    assert ok(gw, tok, "parked", "s") == []


def test_reset(gw, tok):
    invalid(gw, tok, "subscription.reset requires 2 arguments: name and position", "reset")
    invalid(gw, tok, "subscription.reset requires 2 arguments: name and position", "reset", "s")
    invalid(gw, tok, NAME_RULE, "reset", None, "x")
    rule = 'position must be "beginning", "end" or a global position >= 0'
    for bad in ("x", "Beginning", -1, None, [], {}, "5"):
        invalid(gw, tok, rule, "reset", "s", bad)
    err(gw, tok, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 's' not found", "reset", "s", 0)
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin"})
    gs = [write(gw, tok, "acct-%d" % i) for i in range(3)]
    ds = fetch(gw, tok, "s", "w")
    ok(gw, tok, "ack", "s", [ds[0]["deliveryId"]])
    info = ok(gw, tok, "reset", "s", gs[1] + 0.9)
    assert info["checkpoint"] == gs[1] and info["inFlight"] == 0
    err(gw, tok, 409, "DELIVERY_EXPIRED", "Delivery '%s' is not in flight" % ds[1]["deliveryId"],
        "ack", "s", [ds[1]["deliveryId"]])
    assert [(d["message"][4], d["attempt"]) for d in fetch(gw, tok, "s", "w")] == [(gs[1], 1), (gs[2], 1)]
    assert ok(gw, tok, "reset", "s", "beginning")["checkpoint"] == 1
    assert len(fetch(gw, tok, "s", "w")) == 3
    info = ok(gw, tok, "reset", "s", "end")
    assert info["checkpoint"] == gs[2] + 1 and fetch(gw, tok, "s", "w") == []


# ------------------------------------------------------------------ namespaces (docs/subscriptions.md#over-http)

def test_foreign_namespace_sees_nothing(gw, tok):
    other = gw.create_ns()[1]
    ok(gw, tok, "create", "s", "acct")
    write(gw, tok, "acct-1")
    d = fetch(gw, tok, "s", "w")[0]["deliveryId"]
    assert ok(gw, other, "list") == []
    for method, args in [("get", []), ("fetch", ["w"]), ("ack", [[d]]), ("nack", [[d]]),
                         ("parked", []), ("replayParked", []), ("reset", [0]), ("update", [{}]),
                         ("delete", [])]:
        err(gw, other, 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 's' not found", method, "s", *args)
    # a same-named subscription there does not know our delivery
    ok(gw, other, "create", "s", "acct")
    write(gw, other, "acct-1")
    err(gw, other, 409, "DELIVERY_EXPIRED", "Delivery '%s' is not in flight" % d, "ack", "s", [d])
    assert ok(gw, tok, "ack", "s", [d]) == {"acked": 1}


def test_test_mode_missing_namespace_is_backend_error(tgw):
    t = token_for("no-such-ns-xyz")
    for method, args in [("list", []), ("get", ["s"]), ("create", ["s", "acct"]), ("fetch", ["s", "w"])]:
        r = tgw.rpc("subscription." + method, *args, token=t)
        check_error(r, 500, "BACKEND_ERROR")


# ------------------------------------------------------------------ long poll (docs/subscriptions.md#over-http)

def timed(fn, *args, **kw):
    t0 = time.monotonic()
    out = fn(*args, **kw)
    return out, time.monotonic() - t0


def test_fetch_wait_times_out_with_empty_array(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    r, took = timed(lambda: gw.rpc("subscription.fetch", "s", "w", {"waitMs": 1200}, token=tok))
    assert r.status == 200 and r.body == b"[]\n"
    assert 1.15 <= took < 2.5, took


def test_fetch_wait_woken_by_write(gw, tok):
    ok(gw, tok, "create", "s", "acct")
    write(gw, tok, "other-1")
    done = {}

    def waiter():
        done["r"], done["t"] = timed(fetch, gw, tok, "s", "w", waitMs=20000, max=5)
        done["end"] = time.monotonic()

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)
    write(gw, tok, "other-2")  # another category: does not answer the wait
    time.sleep(0.3)
    assert "r" not in done
    t_write = time.monotonic()
    g = write(gw, tok, "acct-1")
    th.join(10)
    assert [d["message"][4] for d in done["r"]] == [g]
    assert done["end"] - t_write < 1.0, done["end"] - t_write


def test_fetch_wait_on_all_categories(gw, tok):
    ok(gw, tok, "create", "s", "")
    done = {}
    th = threading.Thread(target=lambda: done.setdefault("r", fetch(gw, tok, "s", "w", waitMs=10000)))
    th.start()
    time.sleep(0.4)
    g = write(gw, tok, "anything-1")
    th.join(5)
    assert [d["message"][4] for d in done["r"]] == [g]


def test_fetch_wait_woken_by_nack_of_another_consumer(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin"})
    write(gw, tok, "acct-1")
    d = fetch(gw, tok, "s", "w1")[0]
    done = {}

    def waiter():
        done["r"] = fetch(gw, tok, "s", "w2", waitMs=20000)
        done["end"] = time.monotonic()

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    ok(gw, tok, "nack", "s", [d["deliveryId"]])
    th.join(10)
    assert [(x["message"][4], x["attempt"]) for x in done["r"]] == [(d["message"][4], 2)]
    assert done["end"] - t0 < 1.0


def test_fetch_wait_notices_lease_expiry(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin", "ackTimeoutMs": 500})
    write(gw, tok, "acct-1")
    fetch(gw, tok, "s", "w1")
    r, took = timed(fetch, gw, tok, "s", "w2", waitMs=5000)
    assert [d["attempt"] for d in r] == [2]
    assert took < 2.0, took


def test_waiting_fetches_hold_no_http_thread(gw, tok):
    """More waiting fetches than the gateway has HTTP threads; other requests
    are still answered at once."""
    ok(gw, tok, "create", "s", "acct")
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(
        fetch(gw, tok, "s", "c%d" % i, waitMs=6000))) for i in range(40)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while len(ok(gw, tok, "get", "s")["consumers"]) < 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(ok(gw, tok, "get", "s")["consumers"]) == 40  # waiting consumers are active
    r, took = timed(gw.rpc, "sys.version")
    assert r.status == 200 and took < 1.0, took
    g = write(gw, tok, "acct-1")
    for t in threads:
        t.join(10)
    delivered = [d for r in results for d in r]
    assert [d["message"][4] for d in delivered] == [g]


def test_fetch_wait_of_a_client_that_left_takes_nothing(gw, tok):
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin"})
    s = socket.create_connection((gw.host, gw.port))
    body = json.dumps(["subscription.fetch", "s", "gone", {"waitMs": 10000}]).encode()
    s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode() +
              b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    time.sleep(0.3)
    s.close()
    time.sleep(0.4)
    g = write(gw, tok, "acct-1")
    time.sleep(0.5)
    assert [(d["message"][4], d["attempt"]) for d in fetch(gw, tok, "s", "b")] == [(g, 1)]
    info = ok(gw, tok, "get", "s")
    assert [(c["consumerId"], c["inFlight"]) for c in info["consumers"] if c["inFlight"]] == [("b", 1)]


def test_waiting_fetch_keeps_its_consumer_active(gw, tok):
    # The wait lasts three leases; the consumer must stay listed throughout.
    # A lease of 1 s leaves the refetch room for a stalled machine.
    ok(gw, tok, "create", "s", "acct", {"ackTimeoutMs": 1000})
    th = threading.Thread(target=lambda: fetch(gw, tok, "s", "w", waitMs=3000))
    th.start()

    def consumers():
        return [c["consumerId"] for c in ok(gw, tok, "get", "s")["consumers"]]

    try:
        assert wait_until(lambda: consumers() == ["w"], 5)
        for _ in range(10):
            time.sleep(0.25)
            assert consumers() == ["w"]
    finally:
        th.join(10)
    assert wait_until(lambda: consumers() == [], 5)


def test_sigterm_answers_waiting_fetches(spawn, gw, tok, prod_db):
    from conftest import db_url
    ok(gw, tok, "create", "s", "acct")
    other = spawn("longpoll-sigterm", ["serve", "--port={port}", "--db-url=" + db_url(prod_db)])
    done = {}

    def waiter():
        done["r"] = other.rpc("subscription.fetch", "s", "w", {"waitMs": 30000}, token=tok)
        done["end"] = time.monotonic()

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    other.proc.send_signal(15)
    th.join(10)
    assert done["r"].status == 200 and done["r"].body == b"[]\n"
    assert done["end"] - t0 < 3
    assert other.proc.wait(10) == 0


# ------------------------------------------------- leases that ran out, unseen

def ns_of(tok):
    import base64
    part = tok[3:].rsplit("_", 1)[0]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def expired_last_attempt(gw, tok):
    """A message whose one allowed delivery's lease ran out, with no fetch since."""
    g = write(gw, tok, "acct-1")
    ok(gw, tok, "create", "s", "acct", {"ackTimeoutMs": 300, "maxDeliveries": 1})
    [d] = fetch(gw, tok, "s", "w1")
    assert d["attempt"] == 1
    time.sleep(0.6)
    return g


def test_reset_keeps_a_message_parked_whose_last_lease_ran_out(gw, tok):
    g = expired_last_attempt(gw, tok)
    ok(gw, tok, "reset", "s", "beginning")
    assert fetch(gw, tok, "s", "w1") == []
    assert [p["message"][4] for p in ok(gw, tok, "parked", "s")] == [g]


def test_update_keeps_a_message_parked_whose_last_lease_ran_out(gw, tok):
    g = expired_last_attempt(gw, tok)
    ok(gw, tok, "update", "s", {"maxDeliveries": 5})
    assert fetch(gw, tok, "s", "w1") == []
    assert [p["message"][4] for p in ok(gw, tok, "parked", "s")] == [g]


def test_get_and_parked_count_a_lease_that_ran_out(gw, tok):
    g = expired_last_attempt(gw, tok)
    info = ok(gw, tok, "get", "s")
    assert (info["checkpoint"], info["lag"], info["inFlight"], info["parked"]) == (g + 1, 0, 0, 1)
    [p] = ok(gw, tok, "parked", "s")
    assert (p["message"][4], p["attempts"], p["reason"]) == (g, 1, "maxDeliveries")


def test_parked_at_of_an_expired_lease_is_when_it_ran_out(gw, tok):
    expired_last_attempt(gw, tok)
    time.sleep(1.5)
    [p] = ok(gw, tok, "parked", "s")
    from datetime import datetime, timezone
    at = datetime.strptime(p["parkedAt"].rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S") \
        .replace(tzinfo=timezone.utc)
    assert (datetime.now(timezone.utc) - at).total_seconds() > 1.2, p["parkedAt"]


def test_release_does_not_count_a_delivery_whose_lease_ran_out(gw, tok, sql):
    write(gw, tok, "acct-1")
    ok(gw, tok, "create", "s", "acct", {"ackTimeoutMs": 300})
    fetch(gw, tok, "s", "w1")
    time.sleep(0.6)
    cur = sql().cursor()
    cur.execute("SELECT eventodb.subscription_release(%s, 's', 'w1')", (ns_of(tok),))
    assert cur.fetchone()[0] == 0
    [d] = fetch(gw, tok, "s", "w2")
    assert d["attempt"] == 2


def test_delivery_ids_of_a_rolled_back_fetch_are_never_issued_again(gw, tok, sql):
    write(gw, tok, "acct-1", "A")
    write(gw, tok, "acct-2", "B")
    ok(gw, tok, "create", "s", "acct", {"strategy": "roundRobin"})
    ns = ns_of(tok)
    conn = sql()
    conn.autocommit = False
    cur = conn.cursor()
    fetch_sql = "SELECT delivery_id, type FROM eventodb.subscription_fetch(%s, 's', %s, 1)"
    cur.execute(fetch_sql, (ns, "s0"))
    [(first, _)] = cur.fetchall()
    conn.commit()
    cur.execute(fetch_sql, (ns, "s1"))
    [(rolled_back, _)] = cur.fetchall()
    conn.rollback()
    cur.execute("SELECT eventodb.subscription_nack(%s, 's', ARRAY[%s])", (ns, first))
    conn.commit()
    cur.execute("SELECT delivery_id FROM eventodb.subscription_fetch(%s, 's', 's2', 2)", (ns,))
    again = [r[0] for r in cur.fetchall()]
    conn.commit()
    assert len(again) == 2 and rolled_back not in again and first not in again, (first, rolled_back, again)
    # the rolled-back id completes nothing
    import psycopg2
    with pytest.raises(psycopg2.DatabaseError, match="is not in flight"):
        cur.execute("SELECT eventodb.subscription_ack(%s, 's', ARRAY[%s])", (ns, rolled_back))
    conn.rollback()


def test_info_figures_are_of_one_moment_while_a_consumer_fetches_and_acks(gw, tok):
    """docs/subscriptions.md: lag counts the deliveries in flight and the consumers'
    inFlight add up to inFlight - in every answer, also while another consumer fetches
    and acks (each answer is read under one snapshot); with no writes, lag never rises."""
    for b in range(40):
        gw.ok("stream.writeMany", [{"streamName": "g-%d" % (i % 7), "type": "T", "data": {}}
                                   for i in range(500)], token=tok)
    ok(gw, tok, "create", "s", "g", {"strategy": "roundRobin", "maxInFlight": 1000})
    stop = threading.Event()

    def consume():
        while not stop.is_set():
            ds = fetch(gw, tok, "s", "c", max=1000)
            if not ds:
                return
            ok(gw, tok, "ack", "s", [d["deliveryId"] for d in ds])

    t = threading.Thread(target=consume)
    t.start()
    bad, last_lag, answers = [], None, 0
    try:
        deadline = time.monotonic() + 60
        while t.is_alive() and time.monotonic() < deadline:
            info = ok(gw, tok, "get", "s")
            answers += 1
            if info["lag"] < info["inFlight"] or \
                    sum(c["inFlight"] for c in info["consumers"]) != info["inFlight"] or \
                    (last_lag is not None and info["lag"] > last_lag):
                bad.append(info)
            last_lag = info["lag"]
    finally:
        stop.set()
        t.join()
    assert bad == [], (answers, bad[:3])
    assert ok(gw, tok, "get", "s")["lag"] == 0
