"""GET /metrics (docs/operations.md): Prometheus text format 0.0.4 that
promtool accepts (also under load), counters that move with requests,
errors, pokes, event streams, imports and subscriptions, and who may scrape.
Also the structured logs: --log-format=json lines with stable keys, one
request id in every line of a request, and no token in any line.

Each test runs against a gateway of its own, so counts are exact."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import db_url, start_gateway
from harness import DEFAULT_TOKEN, SSE, dumps, ndjson, record, token_for, unique

LINE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def parse(text):
    """{(name, frozenset(labels)): value} of a scrape."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def scrape(g, **kw):
    r = g.request("GET", "/metrics", **kw)
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8", r.headers
    return r.body.decode()


def value(g_or_scrape, name, **labels):
    s = g_or_scrape if isinstance(g_or_scrape, dict) else parse(scrape(g_or_scrape))
    return s.get((name, frozenset(labels.items())), 0.0)


def promtool_check(text):
    tool = shutil.which("promtool")
    assert tool, "promtool missing: scripts/deps.sh installs Debian's prometheus package"
    p = subprocess.run([tool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, (p.stdout + p.stderr).decode() + "\n" + text


@pytest.fixture
def mgw(prod_db, logdir):
    g = start_gateway("metrics", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                                  "--token=" + DEFAULT_TOKEN], logdir)
    yield g
    g.stop()


def wait_for(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


# ------------------------------------------------------------------ format

def test_scrape_is_valid_prometheus_text(mgw):
    mgw.write("fmt-1")
    text = scrape(mgw)
    promtool_check(text)
    for name in ("eventodb_http_requests_total", "eventodb_http_request_duration_seconds",
                 "eventodb_http_requests_in_flight", "eventodb_sse_subscribers", "eventodb_pokes_received_total",
                 "eventodb_pool_connections", "eventodb_group_commit_batch_size",
                 "eventodb_import_records_total", "eventodb_subscription_deliveries_total",
                 "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"):
        assert "# TYPE %s " % name in text, name
    s = parse(text)
    assert value(s, "process_resident_memory_bytes") > 1e6
    assert value(s, "process_open_fds") > 3
    assert abs(value(s, "process_start_time_seconds") - time.time()) < 600


def test_head_and_other_methods(mgw):
    assert mgw.request("HEAD", "/metrics").status == 200
    r = mgw.request("POST", "/metrics", body="x")
    assert r.status == 405


def test_promtool_passes_on_a_scrape_taken_under_load(mgw):
    ns, tok = mgw.create_ns()
    stop = threading.Event()
    errors = []

    def load(i):
        n = 0
        try:
            while not stop.is_set():
                mgw.write("load%d-%d" % (i, n % 5), token=tok)
                mgw.rpc("stream.get", "load%d-0" % i, token=tok)
                mgw.rpc("stream.write", "load%d-0" % i, {"type": "T", "data": {}}, {"expectedVersion": 99999},
                        token=tok)
                n += 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
    with SSE(mgw, "category=load0", token=tok):
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            texts = [scrape(mgw) for _ in range(5)]
        finally:
            stop.set()
            for t in threads:
                t.join(30)
    assert not errors, errors
    for text in texts:
        promtool_check(text)
    s = parse(texts[-1])
    assert value(s, "eventodb_http_requests_total", method="stream.write", code="200") > 8
    assert value(s, "eventodb_group_commit_batch_size_count") > 0


# ------------------------------------------------------------------ counters move

def test_requests_and_errors_are_counted_by_method_and_code(mgw):
    before = parse(scrape(mgw))
    mgw.write("cnt-1")
    mgw.write("cnt-1")
    r = mgw.rpc("stream.write", "cnt-1", {"type": "T", "data": {}}, {"expectedVersion": 7})
    assert r.status == 409
    assert mgw.rpc("stream.get", "cnt-1", token=None).status == 401
    assert mgw.rpc("no.such").status == 404
    assert mgw.request("GET", "/nowhere").status == 404
    mgw.write("cnt-gone")
    mgw.ok("stream.delete", "cnt-gone", {"hard": True})
    assert mgw.rpc("stream.write", "cnt-gone", {"type": "T", "data": {}}).status == 410
    mgw.ok("stream.get", "cnt-1")

    def d(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # a request is counted when the server has finished with it, which may
    # be just after its client has the answer
    deadline = time.monotonic() + 10
    while True:
        after = parse(scrape(mgw))
        if d("eventodb_http_requests_total", method="stream.get", code="200") >= 1 \
                or time.monotonic() > deadline:
            break
        time.sleep(0.05)

    assert d("eventodb_http_requests_total", method="stream.write", code="200") == 3
    assert d("eventodb_http_requests_total", method="stream.write", code="409") == 1
    assert d("eventodb_http_requests_total", method="stream.get", code="200") == 1
    # authentication fails before the method is read
    assert d("eventodb_http_requests_total", method="rpc", code="401") == 1
    assert d("eventodb_http_requests_total", method="rpc", code="404") == 1
    assert d("eventodb_http_requests_total", method="not_found", code="404") == 1
    assert d("eventodb_http_requests_total", method="metrics", code="200") >= 1    # the first scrape
    assert d("eventodb_errors_total", code="STREAM_VERSION_CONFLICT") == 1
    assert d("eventodb_errors_total", code="AUTH_REQUIRED") == 1
    assert d("eventodb_errors_total", code="METHOD_NOT_FOUND") == 1
    assert d("eventodb_errors_total", code="NOT_FOUND") == 1
    assert d("eventodb_http_requests_total", method="stream.write", code="410") == 1
    assert d("eventodb_errors_total", code="STREAM_DELETED") == 1
    assert d("eventodb_http_request_duration_seconds_count", method="stream.write") == 5
    assert d("eventodb_http_request_duration_seconds_bucket", method="stream.write", le="+Inf") == 5
    assert d("eventodb_group_commit_batch_size_count") >= 3
    # the scrape in progress is the only request in flight
    assert value(after, "eventodb_http_requests_in_flight") == 1
    assert value(after, "eventodb_pool_connections", state="busy") == 0
    assert value(after, "eventodb_pool_connections", state="idle") >= 1


def test_sse_subscribers_and_pokes(mgw):
    ns, tok = mgw.create_ns()
    base = parse(scrape(mgw))
    with SSE(mgw, "category=acct", token=tok) as cat, SSE(mgw, "stream=acct-1", token=tok) as one:
        cat.wait_ready()
        one.wait_ready()
        s = parse(scrape(mgw))
        assert value(s, "eventodb_sse_subscribers", kind="category") == value(base, "eventodb_sse_subscribers",
                                                                              kind="category") + 1
        assert value(s, "eventodb_sse_subscribers", kind="stream") == value(base, "eventodb_sse_subscribers",
                                                                            kind="stream") + 1
        assert value(s, "eventodb_sse_connections_total", kind="category") == 1
        for i in range(3):
            mgw.write("acct-1", token=tok)
        cat.wait_pokes(3)
        one.wait_pokes(3)
        assert wait_for(lambda: value(mgw, "eventodb_pokes_received_total") >= 3)
        s = parse(scrape(mgw))
        assert value(s, "eventodb_pokes_received_total") == 3
        assert value(s, "eventodb_pokes_delivered_total") == 6
        assert value(s, "eventodb_pokes_dropped_total") == 0

    def closed():
        # an idle stream notices its client left when it next sends
        mgw.write("acct-1", token=tok)
        return (value(mgw, "eventodb_sse_subscribers", kind="category") == 0 and
                value(mgw, "eventodb_sse_subscribers", kind="stream") == 0)

    assert wait_for(closed)
    s = parse(scrape(mgw))
    assert value(s, "eventodb_http_requests_total", method="subscribe", code="200") == 2


def test_import_records_are_counted(mgw):
    ns, tok = mgw.create_ns()
    r = mgw.import_(ndjson([record("imp-1", 0, 1), record("imp-1", 1, 2), record("imp-2", 0, 3)]), token=tok)
    assert r.status == 200 and b'"done":true' in r.body, r
    assert value(mgw, "eventodb_import_records_total") == 3
    r = mgw.import_(ndjson([record("imp-1", 2, 3)]), token=tok)
    assert b"POSITION_EXISTS" in r.body, r
    s = parse(scrape(mgw))
    assert value(s, "eventodb_import_records_total") == 3
    assert value(s, "eventodb_errors_total", code="POSITION_EXISTS") == 1


def test_subscription_deliveries_acks_nacks_redeliveries_parked(mgw):
    ns, tok = mgw.create_ns()
    for i in range(3):
        mgw.write("job-%d" % i, token=tok)
    mgw.ok("subscription.create", "work", "job", {"strategy": "roundRobin"}, token=tok)
    got = mgw.ok("subscription.fetch", "work", "c1", {"max": 10}, token=tok)
    assert len(got) == 3
    ids = [d["deliveryId"] for d in got]
    mgw.ok("subscription.ack", "work", [ids[0]], token=tok)
    mgw.ok("subscription.nack", "work", [ids[1]], {"action": "retry"}, token=tok)
    mgw.ok("subscription.nack", "work", [ids[2]], {"action": "park"}, token=tok)
    again = mgw.ok("subscription.fetch", "work", "c1", {"max": 10}, token=tok)
    assert [d["attempt"] for d in again] == [2]
    s = parse(scrape(mgw))
    assert value(s, "eventodb_subscription_deliveries_total") == 4
    assert value(s, "eventodb_subscription_redeliveries_total") == 1
    assert value(s, "eventodb_subscription_acks_total") == 1
    assert value(s, "eventodb_subscription_nacks_total", action="retry") == 1
    assert value(s, "eventodb_subscription_nacks_total", action="park") == 1
    assert value(s, "eventodb_subscription_parked_total") == 1


# ------------------------------------------------------------------ who may scrape

def non_loopback_address():
    """An address of this machine other than 127.x, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))    # TEST-NET-1: nothing is sent
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def test_loopback_scrapes_without_a_token(mgw):
    assert mgw.request("GET", "/metrics").status == 200
    assert mgw.request("GET", "/metrics", token="anything").status == 200


def test_other_clients_need_the_metrics_token(prod_db, logdir):
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    secret = "m-" + unique("secret")
    g = start_gateway("metricstoken", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                                       "--token=" + DEFAULT_TOKEN, "--log-level=debug",
                                       "--metrics-token=" + secret], logdir)
    plain = start_gateway("metricsopen", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                                          "--token=" + DEFAULT_TOKEN], logdir)
    try:
        g.host = plain.host = addr
        r = plain.request("GET", "/metrics")
        assert r.status == 403 and json.loads(r.body)["error"]["code"] == "AUTH_UNAUTHORIZED", r
        assert plain.request("GET", "/metrics", token=secret).status == 403
        r = g.request("GET", "/metrics")
        assert r.status == 401 and json.loads(r.body)["error"]["code"] == "AUTH_REQUIRED", r
        assert g.request("GET", "/metrics", token=secret + "x").status == 403
        assert g.request("GET", "/metrics", token=secret[:-1]).status == 403
        assert g.request("GET", "/metrics", headers={"Authorization": "Basic " + secret}).status == 401
        r = g.request("GET", "/metrics", token=secret)
        assert r.status == 200 and b"eventodb_http_requests_total" in r.body
        # the rest of the gateway is unchanged from that address
        assert g.request("GET", "/health").status == 200
    finally:
        g.stop()
        plain.stop()
    assert secret not in gateway_output(g)


def test_metrics_token_from_the_environment(prod_db, logdir):
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTODB_")}
    env["EVENTODB_METRICS_TOKEN"] = "env-secret"
    g = start_gateway("metricsenv", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                                     "--token=" + DEFAULT_TOKEN], logdir, env=env)
    try:
        g.host = addr
        assert g.request("GET", "/metrics").status == 401
        assert g.request("GET", "/metrics", token="env-secret").status == 200
    finally:
        g.stop()


# ------------------------------------------------------------------ structured logs

def gateway_output(g):
    """What the gateway wrote (the harness's first line is its command line)."""
    return "\n".join(x for x in g.log_text().splitlines() if not x.startswith("# "))


def json_lines(g):
    # "# " is the harness's command line; "==<pid>==" lines are a sanitizer
    # build's runtime notes (its swapcontext warning), not the gateway's log
    lines = [x for x in g.log_text().splitlines()
             if x.strip() and not x.startswith("# ") and not re.match(r"^==\d+==", x)]
    out = []
    for line in lines:
        obj = json.loads(line)
        assert list(obj)[:3] == ["ts", "level", "msg"], line
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", obj["ts"]), line
        assert obj["level"] in ("debug", "info", "warn", "error"), line
        out.append(obj)
    return out


def test_json_logs_carry_one_request_id_per_request_and_no_token(prod_db, logdir):
    ns_token = DEFAULT_TOKEN
    bad = token_for("nope")
    g = start_gateway("jsonreq", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                                  "--token=" + ns_token, "--log-format=json", "--log-level=debug",
                                  "--metrics-token=metrics-secret-1"], logdir)
    try:
        g.write("logs-1")
        g.rpc("stream.get", "logs-1", token=bad)
        g.request("GET", "/subscribe?stream=logs-1&token=" + bad)
        g.rpc("stream.get", "logs-1", token="ns_garbage")
        r = g.rpc("stream.write", "logs-1", {"type": "T", "data": {}}, {"expectedVersion": 42})
        assert r.status == 409
        # a database error is logged (warn) inside its request
        g.rpc("ns.info", "x" * 10)
        with SSE(g, "stream=logs-1&token=" + ns_token, token=None) as s:
            s.wait_ready()
    finally:
        g.stop()
    text = gateway_output(g)
    for secret in (ns_token, bad, "ns_garbage", "metrics-secret-1", ns_token[len("ns_ZGVmYXVsdA_"):]):
        assert secret not in text, secret
    lines = json_lines(g)
    done = [x for x in lines if x["msg"].startswith("request done")]
    assert len(done) >= 6
    ids = [x["request_id"] for x in done]
    assert len(set(ids)) == len(ids), ids
    by_id = {}
    for x in lines:
        if "request_id" in x:
            assert x["http_method"] in ("GET", "POST"), x
            by_id.setdefault(x["request_id"], []).append(x)
    # the conflicting write: its rpc line, and its done line, share one id
    conflict = [x for x in done if "status 409" in x["msg"]]
    assert len(conflict) == 1 and conflict[0]["op"] == "stream.write"
    msgs = [x["msg"] for x in by_id[conflict[0]["request_id"]]]
    assert "rpc stream.write" in msgs, msgs
    # lines outside requests (start-up, shutdown) carry no request fields
    assert any("listening" in x["msg"] and "request_id" not in x for x in lines)


def test_console_logs_carry_the_request_id(prod_db, logdir):
    g = start_gateway("consolereq", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                                     "--token=" + DEFAULT_TOKEN, "--log-level=debug"], logdir)
    try:
        g.write("console-1")
    finally:
        g.stop()
    assert re.search(r" DBG \[req [0-9a-f]{8}-[0-9a-f]+\] rpc stream.write\n", g.log_text()), g.log_text()


def test_every_rpc_method_has_its_own_series(mgw):
    """Each name of the dispatch table (gateway/rpc.c) is a method label of its
    own: a call with no arguments (400) is counted under it, never as
    not_found or rpc."""
    from test_docs import dispatched_methods
    methods = dispatched_methods()
    for m in methods:
        assert mgw.rpc(m).status in (200, 400, 404), m
    deadline = time.monotonic() + 10
    while True:
        text = scrape(mgw)
        missing = [m for m in methods
                   if 'eventodb_http_requests_total{method="%s",' % m not in text]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert missing == []
