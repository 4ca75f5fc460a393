"""Bounds on what one client can make the gateway hold or write
(docs/security.md): echoed client values are capped, a request head must
arrive whole within a time limit, and reads without a batch limit are
answered page by page in bounded memory.

Each test runs against a gateway of its own, so its log and memory can be
measured. Memory is read from /proc/<pid>/status, descriptors from
/proc/<pid>/fd.
"""
import json
import os
import socket
import time

import pytest

from conftest import ROOT, clean_env, db_url, pg_connect
from harness import DEFAULT_TOKEN, check_error, dumps, token_for

ECHO_MAX = 256
BIG = 2 * 1024 * 1024


def capped(value):
    """The gateway's rendering of an echoed client value (gateway/echo.h)."""
    raw = value.encode()
    if len(raw) <= ECHO_MAX:
        return value
    keep = ECHO_MAX
    while keep > 0 and (raw[keep] & 0xC0) == 0x80:
        keep -= 1
    return raw[:keep].decode() + "...(truncated, %d bytes)" % len(raw)


def pg_log_path():
    path = os.environ.get("EVENTODB_PG_LOG") or os.path.join(
        os.environ.get("EVENTODB_CLUSTER_DIR", os.path.join(ROOT, ".pgdata")), "postgres.log")
    return path if os.path.exists(path) else None


def file_size(path):
    return os.path.getsize(path) if path else 0


@pytest.fixture
def egw(spawn, prod_db):
    """A production gateway of this test: its log is only this test's."""
    g = spawn("bounds", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                         "--token=" + DEFAULT_TOKEN])
    g.dbname = prod_db
    return g


# ---- echoed client values ----------------------------------------------------

def test_a_huge_invalid_message_id_is_quoted_capped_and_never_reaches_postgres(egw):
    """A 2 MB invalid options.id used to be quoted whole into the gateway's
    log, PostgreSQL's log and the answer. The gateway refuses ids longer than
    any accepted spelling itself, with the database's words, quoting the
    first 256 bytes."""
    huge = "x" * BIG
    pg_log = pg_log_path()
    log0, pg0 = egw.log_size(), file_size(pg_log)
    for _ in range(2):
        r = egw.rpc("stream.write", "echo-1", {"type": "T", "data": {}}, {"id": huge})
        check_error(r, 500, "BACKEND_ERROR",
                    "Failed to write message: invalid UUID format: " + capped(huge))
        assert len(r.body) < 1024, len(r.body)
    time.sleep(0.2)
    assert egw.log_size() - log0 < 4096, "gateway log grew by %d bytes" % (egw.log_size() - log0)
    if pg_log:
        grown = file_size(pg_log) - pg0
        assert grown < 256 * 1024, "PostgreSQL's log grew by %d bytes" % grown
    # normal-size values keep docs/http-api.md's exact message (the database's)
    for bad in ("not-a-uuid", "urn:uuid:" + "0" * 32, "{" + "a" * 37):
        egw.err(500, "BACKEND_ERROR", "Failed to write message: invalid UUID format: " + bad,
                "stream.write", "echo-1", {"type": "T", "data": {}}, {"id": bad})
    assert egw.write("echo-1", id="{" + "12345678-1234-1234-1234-123456789ABC" + "}")


def test_every_echoed_client_value_is_capped(egw):
    log0 = egw.log_size()
    # method names
    name = "m" * BIG
    egw.err(404, "METHOD_NOT_FOUND", "Unknown method: " + capped(name), name)
    egw.err(404, "METHOD_NOT_FOUND", "Unknown method: " + "m" * 200, "m" * 200)
    # namespace ids that cannot exist are answered without the database
    ns = "n" * BIG
    r = egw.rpc("ns.info", ns)
    check_error(r, 404, "NAMESPACE_NOT_FOUND", "Namespace '%s' not found" % capped(ns))
    assert len(r.body) < 1024
    check_error(egw.rpc("ns.delete", ns), 404, "NAMESPACE_NOT_FOUND",
                "Namespace '%s' not found" % capped(ns))
    egw.err(500, "BACKEND_ERROR", "Failed to create namespace: namespace ID is too long",
            "ns.create", "q" * BIG)
    egw.err(404, "NAMESPACE_NOT_FOUND", "Namespace 'nope-%s' not found" % ("é" * 100),
            "ns.info", "nope-" + "é" * 100)
    # a token for another namespace than the id (both quoted); multi-byte
    # characters are never cut in the middle
    other = "é" * 5000
    egw.err(400, "INVALID_REQUEST",
            "Token is for namespace '%s', not '%s'" % (capped(other), capped("z" * 9000)),
            "ns.create", "z" * 9000, {"token": token_for(other)})
    # a number beyond float64 quoted in the parser's message
    num = "1" + "0" * 400000
    r = egw.rpc_raw(('["sys.version",' + num + ']').encode(), token=DEFAULT_TOKEN)
    check_error(r, 400, "INVALID_REQUEST", "Malformed JSON request")
    assert r.json["error"]["details"]["error"] == (
        "json: cannot unmarshal number %s into Go value of type float64" % capped(num))
    # /import: a time string is quoted twice by Go's message
    t = "2025-01-01T00:00:00Z" + "9" * 500000
    rec = {"id": "3f0b6a52-9a0e-4f2c-8d0e-0c5a3e9b7d11", "stream": "imp-1", "type": "T",
           "pos": 0, "gpos": 1, "data": {}, "meta": None, "time": t}
    ns2, tok2 = egw.create_ns()
    r = egw.request("POST", "/import", body=dumps(rec) + b"\n", token=tok2)
    assert r.status == 200 and len(r.body) < 4096, (r.status, len(r.body))
    ev = json.loads(r.body.split(b"data: ", 1)[1])
    assert ev["error"] == "INVALID_RECORD"
    assert "...(truncated, %d bytes)" % len(t) in ev["message"]
    time.sleep(0.2)
    assert egw.log_size() - log0 < 16384, "gateway log grew by %d bytes" % (egw.log_size() - log0)


# ---- request heads must arrive within a bound ----------------------------------

HEAD = ("POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        "Content-Length: 15\r\n\r\n" % DEFAULT_TOKEN).encode()
BODY = b'["sys.version"]'


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def trickle_until_closed(s, data, interval, limit):
    """Sends data one byte per interval; returns the seconds until the server
    closed the connection (or None if it was still open after limit)."""
    t0 = time.monotonic()
    for i in range(len(data)):
        try:
            s.sendall(data[i:i + 1])
        except OSError:
            return time.monotonic() - t0
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if s.recv(4096) == b"":
                    return time.monotonic() - t0
            except socket.timeout:
                pass
            except OSError:
                return time.monotonic() - t0
        if time.monotonic() - t0 > limit:
            return None
    return None


@pytest.fixture
def hgw2(spawn, prod_db):
    """A gateway whose request heads must arrive within 2 s."""
    return spawn("heads", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                           "--token=" + DEFAULT_TOKEN], env=clean_env(EVENTODB_HEAD_TIMEOUT="2"))


def test_a_trickled_request_head_is_cut_off_after_the_head_timeout(hgw2):
    """One header byte a second used to keep a connection forever
    (libmicrohttpd's timeout restarts with every byte)."""
    s = socket.create_connection((hgw2.host, hgw2.port), timeout=5)
    try:
        took = trickle_until_closed(s, HEAD, 1.0, 12)
    finally:
        s.close()
    assert took is not None, "a head trickled for 12 s was still being read"
    assert 1.5 < took < 4.5, "closed after %.1f s (head timeout 2 s)" % took
    # on a kept-alive connection the clock starts with the next head's first byte
    s = socket.create_connection((hgw2.host, hgw2.port), timeout=5)
    try:
        s.sendall(HEAD + BODY)
        first = recv_response(s)
        assert first.startswith(b"HTTP/1.1 200"), first
        time.sleep(3)                       # idle longer than the head timeout
        s.sendall(HEAD[:20])
        time.sleep(1)                       # a head in pieces, within the bound
        s.sendall(HEAD[20:] + BODY)
        second = recv_response(s)
        assert second.startswith(b"HTTP/1.1 200"), second
        took = trickle_until_closed(s, HEAD, 1.0, 12)
        assert took is not None and took < 4.5, took
    finally:
        s.close()


def recv_response(s):
    buf = b""
    s.settimeout(10)
    while not (b"\r\n\r\n" in buf and buf.endswith(b"\n")):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def test_two_thousand_trickled_heads_are_released(hgw2):
    """2000 connections trickling their heads held 140 MB and 2000
    descriptors indefinitely; now they are closed once the head timeout
    passed, and other clients are served meanwhile."""
    pid = hgw2.proc.pid
    fds0, rss0 = fd_count(pid), rss_kb(pid)
    socks = []
    try:
        for _ in range(2000):
            s = socket.create_connection((hgw2.host, hgw2.port), timeout=5)
            s.setblocking(False)
            socks.append(s)
        t0 = time.monotonic()
        peak_fds, peak_rss = 0, 0
        step = 0
        while time.monotonic() - t0 < 5:
            for s in socks:
                try:
                    s.send(HEAD[step:step + 1])
                except OSError:
                    pass
            step += 1
            peak_fds = max(peak_fds, fd_count(pid) - fds0)
            peak_rss = max(peak_rss, rss_kb(pid) - rss0)
            assert hgw2.ok("sys.version")
            time.sleep(0.5)
        after_fds = fd_count(pid) - fds0
        print("\n2000 trickled heads: peak +%d fds, +%d KiB RSS; after %.1f s: +%d fds, +%d KiB RSS"
              % (peak_fds, peak_rss, time.monotonic() - t0, after_fds, rss_kb(pid) - rss0))
        assert peak_fds >= 1000, "the trickling connections were never open (%d)" % peak_fds
        assert after_fds <= 10, "%d descriptors still held after the head timeout" % after_fds
    finally:
        for s in socks:
            s.close()


# ---- reads without a limit are answered page by page -------------------------

def sql_value(dbname, query, args):
    conn = pg_connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_reads_beyond_one_page_are_the_single_calls_bytes(egw):
    """batchSize -1 (and above 1000) reads go to the database a page at a
    time; the body is byte for byte the one call's answer, for every path:
    stream by position and by global position, category with a consumer
    group and a correlation, limits that end inside a page, and pages that
    shrink because their messages are large."""
    ns, tok = egw.create_ns()
    conn = pg_connect(egw.dbname)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT eventodb.stream_write(%s, 'page-' || (i %% 7), 'T', "
                    "jsonb_build_object('i', i, 'pad', repeat('x', i %% 50)), "
                    "CASE WHEN i %% 3 = 0 THEN jsonb_build_object('correlationStreamName', 'corr-1') END, "
                    "NULL, NULL) FROM generate_series(1, 2600) i", (ns,))
        # large messages: a page of 1000 would be 300 MB, so pages shrink
        cur.execute("SELECT eventodb.stream_write(%s, 'fat-1', 'T', jsonb_build_object('i', i, "
                    "'pad', repeat('y', 300000)), NULL, NULL, NULL) FROM generate_series(1, 12) i", (ns,))
        cur.execute("SELECT eventodb.stream_write(%s, 'long-1', 'T', jsonb_build_object('i', i), "
                    "NULL, NULL, NULL) FROM generate_series(1, 2100) i", (ns,))
    conn.close()

    def same(method, name, opts, sql, args):
        r = egw.rpc(method, name, opts, token=tok)
        assert r.status == 200, r
        assert r.header("Content-Type") == "application/json"
        want = sql_value(egw.dbname, sql, args)
        assert r.body == want.encode() + b"\n", (method, name, opts, len(r.body), len(want))
        return json.loads(r.body)

    cat = "SELECT eventodb.category_get(%s, %s, %s, %s, %s, %s, %s)"
    st = "SELECT eventodb.stream_get(%s, %s, %s, %s, %s)"
    assert len(same("category.get", "", {"batchSize": -1}, cat, (ns, "", 1, -1, None, None, None))) == 4712
    assert len(same("category.get", "page", {"batchSize": 2500, "position": 7}, cat,
                    (ns, "page", 7, 2500, None, None, None))) == 2500
    same("category.get", "page", {"batchSize": -1, "consumerGroup": {"member": 1, "size": 3}}, cat,
         (ns, "page", 1, -1, None, 1, 3))
    same("category.get", "page", {"batchSize": -1, "correlation": "corr"}, cat,
         (ns, "page", 1, -1, "corr", None, None))
    same("category.get", "fat", {"batchSize": -1}, cat, (ns, "fat", 1, -1, None, None, None))
    assert len(same("stream.get", "long-1", {"batchSize": -1}, st, (ns, "long-1", 0, None, -1))) == 2100
    assert len(same("stream.get", "long-1", {"batchSize": 1500, "position": 300}, st,
                    (ns, "long-1", 300, None, 1500))) == 1500
    for opts in ({"globalPosition": 3000, "batchSize": 0}, {"globalPosition": 3000, "batchSize": -7},
                 {"globalPosition": 0, "batchSize": 1200}, {"globalPosition": 3000}):
        same("stream.get", "long-1", opts, st, (ns, "long-1", 0, opts["globalPosition"],
                                                opts.get("batchSize", 1000)))
    same("stream.get", "fat-1", {"batchSize": -1}, st, (ns, "fat-1", 0, None, -1))
    # an answer that fits one page keeps its Content-Length, as before
    r = egw.rpc("stream.get", "page-1", {"batchSize": -1}, token=tok)
    assert r.header("Content-Length") == str(len(r.body))
    r = egw.rpc("category.get", "", {"batchSize": -1}, token=tok)
    assert r.header("Transfer-Encoding") == "chunked"
    # errors of the first page are the single call's
    check_error(egw.rpc("stream.get", "x-1", {"batchSize": -2}, token=tok), 500, "BACKEND_ERROR")
    bad = token_for("no-such-ns-" + ns)
    check_error(egw.rpc("category.get", "", {"batchSize": -1}, token=bad), 403, "AUTH_UNAUTHORIZED")


def _percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def read_flood(g, token, readers, other_token, duration_reads=1):
    """`readers` concurrent unlimited reads of the whole namespace while
    another tenant calls stream.version in a loop; returns (peak RSS growth
    KiB, the other tenant's latencies, body sizes)."""
    import http.client
    import threading
    pid = g.proc.pid
    rss0 = rss_kb(pid)
    peak = [0]
    sizes = []
    lat = []
    stop = threading.Event()
    body = dumps(["category.get", "", {"batchSize": -1}])

    def reader():
        for _ in range(duration_reads):
            c = http.client.HTTPConnection(g.host, g.port, timeout=300)
            c.request("POST", "/rpc", body=body, headers={"Authorization": "Bearer " + token})
            r = c.getresponse()
            n = 0
            while True:
                chunk = r.read(1 << 16)
                if not chunk:
                    break
                n += len(chunk)
            sizes.append((r.status, n))
            c.close()

    def sampler():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(pid) - rss0)
            time.sleep(0.01)

    def other():
        while not stop.is_set():
            t0 = time.monotonic()
            r = g.rpc("stream.version", "other-1", token=other_token)
            lat.append(time.monotonic() - t0)
            assert r.status == 200, r
            time.sleep(0.02)

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    side = [threading.Thread(target=sampler), threading.Thread(target=other)]
    for t in side + threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in side:
        t.join()
    return peak[0], lat, sizes


@pytest.fixture
def big_store(databases):
    """A database whose default namespace holds 100,000 messages (about
    19 MB as one category.get answer), inserted directly."""
    name = databases.new("bigread")
    conn = pg_connect(name)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO message_store.messages (id, stream_name, type, position, data) "
                    "SELECT gen_random_uuid(), 'big-' || (i % 100), 'Happened', i / 100, "
                    "jsonb_build_object('n', i, 'text', 'some payload of a usual size') "
                    "FROM generate_series(0, 99999) i")
    conn.close()
    return name


def test_sixteen_unlimited_reads_stay_within_bounded_memory(spawn, big_store):
    """16 concurrent batchSize -1 reads of the whole namespace used to hold
    three copies of the answer each (libpq's, the reply buffer,
    libmicrohttpd's) and every worker thread; now each holds about a page,
    and another tenant's calls keep being answered."""
    name = big_store
    # the sanitizer build keeps freed memory in a quarantine (256 MB by
    # default), which would count as held here
    asan_options = (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8").lstrip(":")
    g = spawn("bigread", ["serve", "--port={port}", "--db-url=" + db_url(name),
                          "--token=" + DEFAULT_TOKEN], env=clean_env(ASAN_OPTIONS=asan_options))
    size = sql_value(name, "SELECT octet_length(eventodb.category_get('default', '', 1, -1, "
                     "NULL, NULL, NULL))", ())
    other_ns, other_tok = g.create_ns()
    g.write("other-1", token=other_tok)
    t0 = time.monotonic()
    peak, lat, sizes = read_flood(g, DEFAULT_TOKEN, 16, other_tok)
    took = time.monotonic() - t0
    p99 = _percentile(lat, 0.99)
    print("\n16 unlimited reads of %.1f MB in %.1f s: peak RSS +%.1f MiB; other tenant: %d calls, "
          "p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (size / 1e6, took, peak / 1024.0, len(lat),
                                        _percentile(lat, 0.5) * 1000, p99 * 1000, max(lat) * 1000))
    assert sizes == [(200, size + 1)] * 16, sizes[:3]
    asan = "libasan" in open("/proc/%d/maps" % g.proc.pid).read()
    # one copy of the answer would be 19 MB; 16 readers held 3 copies each
    assert peak < 64 * 1024 * (3 if asan else 1), "peak RSS grew by %d KiB" % peak
    assert p99 < (3.0 if asan else 1.0), "another tenant's p99 was %.2f s" % p99
