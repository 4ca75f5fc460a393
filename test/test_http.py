"""Routing, /health, /version, content types, CORS and robustness
(docs/http-api.md#endpoints, #wire-conventions, #health-readiness-version-metrics-console, #limits; docs/architecture.md#invariants invariant 6)."""
import json
import os
import re
import socket
import threading
import time

import pytest

from harness import DEFAULT_TOKEN, NOT_FOUND_BODY, check_error, dumps, recv_until, recv_until_closed, unique

VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


@pytest.mark.parametrize("path", ["/", "/rpc/", "/RPC", "/Rpc", "/subscribe/stream/x",
                                  "/subscribe/category/x", "/import/", "/health/", "/HEALTH",
                                  "/version/", "/debug/pprof/", "/debug/pprof/heap", "/export",
                                  "/metrics/", "/METRICS", "/rpc%20"])  # /metrics: docs/operations.md
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_path_is_404_exact_bytes_without_newline(gw, path, method):
    r = gw.request(method, path, body=b'["sys.version"]' if method == "POST" else None,
                   token=DEFAULT_TOKEN)
    assert r.status == 404
    assert r.header("Content-Type") == "application/json"
    assert r.body == NOT_FOUND_BODY


def test_unknown_path_needs_no_authentication(gw):
    r = gw.request("GET", "/nope")
    assert (r.status, r.body) == (404, NOT_FOUND_BODY)


def test_query_string_does_not_influence_routing(gw):
    r = gw.request("GET", "/health?x=/rpc")
    assert (r.status, r.body) == (200, b'{"status":"ok"}')
    r = gw.request("GET", "/nope?path=/health")
    assert (r.status, r.body) == (404, NOT_FOUND_BODY)


@pytest.mark.parametrize("path", ["/rpc%00", "/rpc%00/anything", "/version%00.txt", "/health%00x",
                                  "/import%00", "/subscribe%00?all=true", "/metrics%00", "/ready%00",
                                  "/push%00", "/r%70c%00"])
def test_percent_encoded_nul_does_not_cut_the_path_short(gw, path):
    # docs/http-api.md#endpoints: the whole path is matched, not the part before a %00
    r = gw.request("POST", path, body=b'["sys.version"]', token=DEFAULT_TOKEN, timeout=5)
    assert (r.status, r.body) == (404, NOT_FOUND_BODY), r


def test_percent_decoding_of_path_and_query_values(gw):
    # other escapes in the path still decode; query values keep their NUL and length
    r = gw.request("POST", "/r%70c", body=b'["sys.version"]', token=DEFAULT_TOKEN)
    assert r.status == 200, r
    r = gw.request("POST", "/rpc?x=%00&y=a+b", body=b'["sys.version"]', token=DEFAULT_TOKEN)
    assert r.status == 200, r
    r = gw.request("POST", "/rpc?token=" + DEFAULT_TOKEN + "%00", body=b'["sys.version"]')
    check_error(r, 401, "AUTH_INVALID_TOKEN", "Invalid token format",
                {"error": "invalid token format: random part must be 64 hex characters, got 65"})


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
def test_health_any_method_unauthenticated_exact_body(gw, method):
    r = gw.request(method, "/health")
    assert r.status == 200
    assert r.header("Content-Type") == "application/json"
    if method != "HEAD":
        assert r.body == b'{"status":"ok"}'


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_version_any_method_unauthenticated_exact_body(gw, method):
    r = gw.request(method, "/version")
    assert r.status == 200
    assert r.header("Content-Type") == "application/json"
    m = re.fullmatch(rb'\{"version":"([^"]*)"\}', r.body)
    assert m, r.body
    assert VERSION_RE.match(m.group(1).decode())


def test_version_endpoint_equals_sys_version(gw):
    v = gw.ok("sys.version")
    assert VERSION_RE.match(v)
    r = gw.request("GET", "/version")
    assert r.body == b'{"version":"%s"}' % v.encode()


def test_health_and_version_ignore_bad_credentials(gw):
    r = gw.request("GET", "/health", headers={"Authorization": "Basic zzz"})
    assert (r.status, r.body) == (200, b'{"status":"ok"}')
    r = gw.request("GET", "/version?token=garbage")
    assert r.status == 200


def test_rpc_success_content_type_and_single_newline(gw):
    r = gw.rpc("sys.health")
    assert r.status == 200
    assert r.header("Content-Type") == "application/json"
    assert r.body.endswith(b"\n") and not r.body.endswith(b"\n\n")
    assert b" " not in r.body


def test_no_token_header_in_any_response(gw, tgw):
    responses = [gw.rpc("sys.version"), gw.rpc("sys.version", token=None),
                 gw.request("GET", "/health"), gw.request("GET", "/nope"),
                 tgw.rpc("sys.version", token=None), tgw.rpc("ns.list", token=None),
                 tgw.rpc("stream.write", "a-1", {"type": "T", "data": {}}, token=None)]
    for r in responses:
        names = r.header_names()
        assert "x-eventodb-token" not in names, r.headers
        assert "x-messagedb-token" not in names, r.headers
        for _, v in r.headers:
            assert "ns_" not in v, r.headers


def test_rpc_responses_carry_no_cors_header(gw):
    for r in (gw.rpc("sys.version"), gw.rpc("sys.version", token=None),
              gw.request("OPTIONS", "/rpc", headers={"Origin": "http://x",
                                                    "Access-Control-Request-Method": "POST"})):
        assert "access-control-allow-origin" not in r.header_names(), r.headers


def test_options_preflight_to_rpc_is_401_in_production(gw):
    r = gw.request("OPTIONS", "/rpc", headers={"Origin": "http://x",
                                              "Access-Control-Request-Method": "POST"})
    assert r.status == 401


# ---------------------------------------------------------------- robustness

def raw_exchange(gw, data, read_timeout=10):
    s = socket.create_connection((gw.host, gw.port), timeout=read_timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, body = out.split(b"\r\n\r\n", 1)
                m = re.search(rb"content-length:\s*(\d+)", head, re.I)
                if m and len(body) >= int(m.group(1)):
                    break
        return out
    finally:
        s.close()


def test_truncated_body_then_disconnect_leaves_server_responsive(gw):
    for _ in range(20):
        s = socket.create_connection((gw.host, gw.port), timeout=5)
        s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + DEFAULT_TOKEN.encode()
                  + b"\r\nContent-Length: 1000\r\n\r\n[\"stream.write\",\"a-1\",")
        s.close()
    for _ in range(5):
        s = socket.create_connection((gw.host, gw.port), timeout=5)
        s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"Authorization: Bearer " + DEFAULT_TOKEN.encode() + b"\r\n\r\n10\r\n[\"sys.")
        s.close()
    for _ in range(5):
        s = socket.create_connection((gw.host, gw.port), timeout=5)
        s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Le")
        s.close()
    assert gw.ok("sys.version")
    assert gw.request("GET", "/health").status == 200


def test_pipelined_keepalive_requests_are_answered_in_order(gw):
    body = b'["sys.version"]'
    req = (b"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + DEFAULT_TOKEN.encode()
           + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    s = socket.create_connection((gw.host, gw.port), timeout=10)
    try:
        s.sendall(req + req + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = recv_until_closed(s)
    finally:
        s.close()
    assert out.count(b"HTTP/1.1 200") == 3, out
    assert out.endswith(b'{"status":"ok"}'), out


def _oversized_request(gw, path, chunked):
    """Streams a body of 100 MiB + 1 without building it; returns the response bytes."""
    total = 100 * 1024 * 1024 + 1
    s = socket.create_connection((gw.host, gw.port), timeout=60)
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" % (path, DEFAULT_TOKEN))
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else "Content-Length: %d\r\n\r\n" % total
    got = []
    done = threading.Event()

    def reader():
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            got[:] = [buf]
            if b"\r\n\r\n" in buf:
                break
        done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        s.sendall(head.encode())
        piece = b" " * (1024 * 1024)
        sent = 0
        first = True
        while sent < total and not done.is_set():
            n = min(len(piece), total - sent)
            data = (b"[" + piece[:n - 1]) if first else piece[:n]
            first = False
            if chunked:
                data = b"%x\r\n" % n + data + b"\r\n"
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                break
            sent += n
        if chunked and sent >= total and not done.is_set():
            try:
                s.sendall(b"0\r\n\r\n")
            except OSError:
                pass
        done.wait(60)
        return got[0] if got else b""
    finally:
        s.close()


@pytest.mark.parametrize("path", ["/rpc", "/import"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_100_mib_is_413(gw, path, chunked):
    out = _oversized_request(gw, path, chunked)
    assert out.startswith(b"HTTP/1.1 413"), out[:300]
    assert gw.ok("sys.version")


def test_many_concurrent_requests(gw):
    ns, tok = gw.create_ns()
    errors = []
    results = {}

    def worker(i):
        try:
            for j in range(10):
                r = gw.rpc("stream.write", "conc-%d" % (i % 5), {"type": "T", "data": {"i": i, "j": j}},
                           token=tok)
                if r.status != 200:
                    errors.append(r)
                else:
                    results.setdefault(i % 5, []).append(r.json["position"])
                r = gw.rpc("category.get", "conc", {"batchSize": 5}, token=tok)
                if r.status != 200:
                    errors.append(r)
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    for k, positions in results.items():
        assert sorted(positions) == list(range(80)), (k, sorted(positions))
    got = gw.ok("category.get", "conc", {"batchSize": -1}, token=tok)
    assert len(got) == 400
    gps = [m[4] for m in got]
    assert gps == sorted(gps) and len(set(gps)) == 400


def test_many_idle_connections_do_not_block_service(gw):
    socks = []
    try:
        for _ in range(100):
            s = socket.create_connection((gw.host, gw.port), timeout=5)
            socks.append(s)
        for s in socks[:50]:
            s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\n")   # head never finished
        t0 = time.monotonic()
        assert gw.ok("sys.version")
        assert gw.request("GET", "/health").status == 200
        assert time.monotonic() - t0 < 20
    finally:
        for s in socks:
            s.close()
    assert gw.ok("sys.health")["status"] == "ok"


def test_garbage_request_line_does_not_crash(gw):
    for junk in (b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"POST /rpc HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                 b"POST /rpc HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                 b"POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n"):
        raw_exchange(gw, junk, read_timeout=3)
    assert gw.ok("sys.version")


def test_large_valid_body_is_accepted(gw):
    ns, tok = gw.create_ns()
    big = "x" * (5 * 1024 * 1024)
    r = gw.rpc("stream.write", "big-1", {"type": "T", "data": {"s": big}}, token=tok)
    assert r.status == 200, r
    got = gw.ok("stream.get", "big-1", token=tok)
    assert got[0][4] == {"s": big}


def test_large_request_is_not_misrouted_by_json_content(gw):
    r = gw.rpc_raw(dumps(["sys.version"]) + b" " * 100000, token=DEFAULT_TOKEN)
    assert r.status == 200
    r = gw.rpc_raw(b"[" + b" " * 100000 + b"\"sys.version\"]", token=DEFAULT_TOKEN)
    assert r.status == 200
    assert unique()


def test_expect_100_continue(gw):
    body = b'["sys.version"]'
    s = socket.create_connection((gw.host, gw.port), timeout=10)
    try:
        s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + DEFAULT_TOKEN.encode()
                  + b"\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        first = s.recv(65536)
        if first.startswith(b"HTTP/1.1 100"):
            s.sendall(body)
            out = recv_until(s, lambda buf: b'"\n' in buf)
        else:
            out = first
        assert b"HTTP/1.1 200" in out, out
    finally:
        s.close()


@pytest.mark.parametrize("raw", [
    b'["stream.get","oor-1",{"position":1e300}]',
    b'["stream.get","oor-1",{"position":-1e300,"batchSize":5}]',
    b'["stream.get","oor-1",{"globalPosition":9.3e18}]',
    b'["stream.write","oor-1",{"type":"T","data":{}},{"expectedVersion":1e19}]',
    b'["category.get","oor",{"consumerGroup":{"member":1e300,"size":1e301}}]',
    b'["category.get","oor",{"consumerGroup":{"member":0,"size":9.2e18}}]',
    b'["ns.streams",{"limit":1e300}]',
    b'["stream.get","oor-1",{"batchSize":-1e300}]',
])
def test_numbers_outside_int64_do_not_crash(gw, raw):
    ns, tok = gw.create_ns()
    r = gw.rpc_raw(raw, token=tok)
    assert r.status in (200, 400, 409, 500), r
    assert r.header("Content-Type") == "application/json"
    json.loads(r.body)
    assert gw.ok("sys.version")


def test_invalid_utf8_in_request_comes_back_as_replacement_character(gw):
    r = gw.rpc_raw(b'["a\xffb"]', token=DEFAULT_TOKEN)
    assert r.status in (400, 404), r
    if r.status == 404:
        assert r.body == ('{"error":{"code":"METHOD_NOT_FOUND","message":"Unknown method: a\ufffdb"}}\n'
                          .encode()), r.body
    else:
        check_error(r, 400, "INVALID_REQUEST", "Malformed JSON request")


def test_non_utf8_namespace_in_token_is_rendered_as_replacement_character(gw):
    # base64url "gA" = the single byte 0x80, not UTF-8 (docs/http-api.md#tokens: ids need not be UTF-8)
    r = gw.rpc("sys.version", token="ns_gA_" + "0" * 64)
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {"namespace": "\ufffd"})


def test_created_tokens_are_never_logged(gw):
    ns, tok = gw.create_ns()
    gw.write("log-1", token=tok)
    gw.rpc("stream.get", "log-1", token=tok)
    def wrong(c):   # a token one character off, never the real one
        return tok[:-1] + (c if tok[-1] != c else "0")
    gw.request("GET", "/subscribe?all=true&token=" + wrong("f"))
    gw.rpc("sys.version", token=wrong("e"))
    log = gw.log_text()
    assert tok[-64:] not in log
    assert tok[-64:-1] not in log


def test_backend_connections_killed_server_recovers(databases, spawn, sql):
    """docs/architecture.md#when-postgresql-goes-away: requests fail with BACKEND_ERROR while the database is
    unreachable, never hang or crash; pokes resume after the LISTEN
    connection reconnects (docs/architecture.md#pokes)."""
    from conftest import db_url, pg_connect
    dbname = databases.new("kill")
    g = spawn("killed", ["serve", "--port={port}", "--db-url=" + db_url(dbname), "--token=" + DEFAULT_TOKEN])
    ns, tok = g.create_ns()
    g.write("k-1", token=tok)
    sub = g.subscribe("stream=k-1&position=1", token=tok)
    sub.wait_ready()
    admin = pg_connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,))
    admin.close()
    statuses = []
    deadline = time.monotonic() + 30
    ok = False
    while time.monotonic() < deadline:
        r = g.rpc("stream.write", "k-1", {"type": "T", "data": {}}, token=tok)
        statuses.append(r.status)
        if r.status == 200:
            ok = True
            break
        assert r.status in (403, 500), r
        if r.status == 500:
            check_error(r, 500, "BACKEND_ERROR")
        time.sleep(0.2)
    assert ok, statuses
    assert g.ok("stream.version", "k-1", token=tok) >= 1
    pokes = sub.wait_pokes(1, timeout=30)
    assert pokes and pokes[0]["stream"] == "k-1" and pokes[0]["position"] >= 1, sub.body
    sub.close()
    assert g.alive()


def test_requests_after_backends_are_terminated_succeed_at_once(databases, spawn):
    """gateway/pool.c: a pooled connection the server closed is noticed before
    it is used (the check is skipped only for one given back within the last
    few milliseconds), so once the server side is gone and back, the next
    requests - reads and writes - succeed without a single failure."""
    from conftest import db_url, pg_connect
    dbname = databases.new("term")
    g = spawn("terminated", ["serve", "--port={port}", "--db-url=" + db_url(dbname), "--token=" + DEFAULT_TOKEN])
    ns, tok = g.create_ns()
    for i in range(20):
        g.write("t-1", token=tok)
        assert g.ok("stream.version", "t-1", token=tok) == i
    admin = pg_connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    (dbname,))
        assert cur.fetchone()[0] >= 1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()", (dbname,))
            if cur.fetchone()[0] == 0:
                break
            time.sleep(0.05)
    admin.close()
    time.sleep(0.1)
    for i in range(20, 30):
        r = g.rpc("stream.write", "t-1", {"type": "T", "data": {}}, token=tok)
        assert r.status == 200, r
        r = g.rpc("stream.version", "t-1", token=tok)
        assert r.status == 200 and r.json == i, r
    assert g.alive()


def test_acknowledged_writes_survive_gateway_kill(databases, spawn):
    from conftest import db_url
    import signal as _signal
    dbname = databases.new("durable")
    args = ["serve", "--port={port}", "--db-url=" + db_url(dbname), "--token=" + DEFAULT_TOKEN]
    g = spawn("durable1", args)
    acked = []
    for i in range(50):
        acked.append(g.write("dur-%d" % (i % 5), data={"i": i})["globalPosition"])
    g.proc.send_signal(_signal.SIGKILL)
    g.proc.wait(10)
    g2 = spawn("durable2", args)
    got = [m[4] for m in g2.ok("category.get", "dur", {"batchSize": -1})]
    assert got == sorted(acked)


@pytest.mark.parametrize("size", [8 * 1024, 24 * 1024])
def test_large_request_headers_are_accepted(gw, size):
    """Request heads far beyond any real client's are served. (Go accepts
    ~1 MiB; the gateway's per-connection pool is 64 KiB so that 1000 idle
    SSE subscribers stay under 64 MB - a documented trade-off.)"""
    r = gw.request("POST", "/rpc", body=b'["sys.version"]', token=DEFAULT_TOKEN, headers={"X-Pad": "a" * size})
    assert r.status == 200, r


def test_oversized_request_head_is_refused_and_server_keeps_serving(gw):
    # The server answers 431 and closes while the client may still be sending
    # the rest of the head: the client then sees a reset, sometimes before it
    # could read the answer (TCP drops it). Any answer it reads must be 431.
    statuses = []
    for _ in range(5):
        try:
            r = gw.request("POST", "/rpc", body=b'["sys.version"]', token=DEFAULT_TOKEN,
                           headers={"X-Pad": "a" * (900 * 1024)})
        except (BrokenPipeError, ConnectionResetError):
            continue
        statuses.append(r.status)
    assert statuses and set(statuses) == {431}, statuses
    r = gw.request("POST", "/rpc", body=b'["sys.version"]', token=DEFAULT_TOKEN)
    assert r.status == 200, r


def test_sse_connections_pin_neither_threads_nor_database_connections(gw):
    """docs/architecture.md#pokes: thousands of idle subscribers cost memory, not threads."""
    from conftest import pg_connect
    ns, tok = gw.create_ns()

    def counts():
        threads = len(os.listdir("/proc/%d/task" % gw.proc.pid))
        c = pg_connect("postgres")
        try:
            with c.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (gw.dbname,))
                conns = cur.fetchone()[0]
        finally:
            c.close()
        return threads, conns

    t0, c0 = counts()
    subs = []
    try:
        for i in range(300):
            subs.append(gw.subscribe(["stream=p-%d" % i, "category=p", "all=true"][i % 3], token=tok, timeout=30))
        for s in subs:
            s.wait_ready(timeout=30)
        t1, c1 = counts()
        assert t1 - t0 < 100, (t0, t1)
        assert c1 - c0 < 100, (c0, c1)
        gw.write("p-3", token=tok)
        assert subs[3].wait_pokes(1)[0]["stream"] == "p-3"
    finally:
        for s in subs:
            s.close()


def _raw_response(gw, data):
    s = socket.create_connection((gw.host, gw.port), timeout=10)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            head, _, body = out.partition(b"\r\n\r\n")
            m = re.search(rb"content-length:\s*(\d+)", head, re.I)
            if m and len(body) >= int(m.group(1)):
                break
        return out
    finally:
        s.close()


def test_http_1_0_request_without_host(gw):
    body = b'["sys.version"]'
    out = _raw_response(gw, b"POST /rpc HTTP/1.0\r\nAuthorization: Bearer " + DEFAULT_TOKEN.encode()
                        + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert re.match(rb"HTTP/1\.[01] 200", out), out
    assert out.endswith(b'"\n'), out


def test_header_names_are_case_insensitive(gw):
    body = b'["sys.version"]'
    out = _raw_response(gw, b"POST /rpc HTTP/1.1\r\nHost: x\r\nauthorization: Bearer " + DEFAULT_TOKEN.encode()
                        + b"\r\ncontent-length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    assert out.startswith(b"HTTP/1.1 200"), out


def test_query_parameter_names_are_case_sensitive(gw):
    r = gw.request("POST", "/rpc?TOKEN=" + DEFAULT_TOKEN, body=b'["sys.version"]')
    check_error(r, 401, "AUTH_REQUIRED", "Authorization header required")


def test_chunked_rpc_request(gw):
    body = b'["stream.version","chunked-rpc-1"]'
    out = _raw_response(gw, b"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + DEFAULT_TOKEN.encode()
                        + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                        + b"%x\r\n%s\r\n" % (10, body[:10]) + b"%x\r\n%s\r\n" % (len(body) - 10, body[10:])
                        + b"0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out
    assert out.endswith(b"null\n"), out


def test_subscribe_parameter_names_are_case_sensitive(gw):
    r = gw.request("GET", "/subscribe?STREAM=a-1", token=DEFAULT_TOKEN, timeout=5)
    assert r.status == 400 and r.body.startswith(b"Either 'stream', 'category', or 'all=true'"), r
    r = gw.request("GET", "/subscribe?All=true", token=DEFAULT_TOKEN, timeout=5)
    assert r.status == 400 and r.body.startswith(b"Either 'stream', 'category', or 'all=true'"), r


def test_import_force_parameter_name_is_case_sensitive(gw):
    ns, tok = gw.create_ns()
    gw.write("keep-1", token=tok)
    r = gw.request("POST", "/import?FORCE=true", body=b"", token=tok)
    assert r.status == 200
    assert len(gw.ok("stream.get", "keep-1", token=tok)) == 1, "FORCE=true cleared the namespace"
