"""The HTTP loop (docs/architecture.md#the-http-loop): one thread serves every
connection and each request waits for the database as a coroutine. A request
that waits must not hold up the others, and the thread pool it replaced
(EVENTODB_HTTP_MODE=threads) answers with the same bytes."""
import json
import threading

from conftest import clean_env, db_url
from harness import DEFAULT_TOKEN, dumps


def test_a_write_waiting_for_a_lock_does_not_hold_up_others(gw, sql):
    ns, tok = gw.create_ns()
    # An SQL session that wrote to the stream holds its lock until it commits.
    holder = sql(autocommit=False)
    cur = holder.cursor()
    cur.execute("SELECT eventodb.stream_write(%s, 'held-1', 'T', '{}', NULL, NULL, NULL)", (ns,))
    done = {}

    def blocked_write():
        done["r"] = gw.rpc("stream.write", "held-1", {"type": "T", "data": {"n": 2}}, token=tok)

    t = threading.Thread(target=blocked_write)
    t.start()
    try:
        # Whatever the machine's speed, that write cannot finish before the
        # commit below: everything answered meanwhile was served around it.
        for i in range(20):
            assert gw.write("other-%d" % i, token=tok)["position"] == 0
            r = gw.rpc("stream.get", "other-%d" % i, token=tok)
            assert r.status == 200 and len(r.json) == 1
        assert gw.rpc("sys.version").status == 200
        assert t.is_alive() and "r" not in done
    finally:
        holder.commit()
        t.join(60)
    assert done["r"].status == 200, done["r"]
    assert done["r"].json["position"] == 1


def exchange(g, tok):
    """Requests of every kind of answer, as (status, content type, body) each."""
    calls = [
        dumps(["sys.version"]),
        dumps(["stream.write", "same-1", {"type": "T", "data": {"a": [1, "x"]}}, {"id": "{7c9e6679-7425-40de-944b-e07fc1f90ae7}"}]),
        dumps(["stream.write", "same-1", {"type": "T", "data": {}}, {"expectedVersion": 5}]),
        dumps(["stream.version", "same-1"]),
        dumps(["nope"]),
        b"[",
        dumps(["stream.get", ""]),
    ]
    out = []
    for body in calls:
        r = g.rpc_raw(body, token=tok)
        out.append((r.status, r.header("Content-Type"), r.body))
    r = g.request("GET", "/health")
    out.append((r.status, r.header("Content-Type"), r.body))
    return out


def test_threads_mode_answers_the_same_bytes(gw, spawn, prod_db):
    tg = spawn("threads", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                           "--token=" + DEFAULT_TOKEN], env=clean_env(EVENTODB_HTTP_MODE="threads"))
    ns_loop, tok_loop = gw.create_ns()
    ns_threads, tok_threads = gw.create_ns()
    got_loop = exchange(gw, tok_loop)
    got_threads = exchange(tg, tok_threads)
    assert got_loop == got_threads
    # the write's answer went through group commit in both
    assert json.loads(got_loop[1][2]) == {"globalPosition": json.loads(got_loop[1][2])["globalPosition"],
                                          "position": 0}


def test_an_unknown_mode_is_ignored_with_a_warning(spawn, prod_db):
    g = spawn("badmode", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                          "--token=" + DEFAULT_TOKEN], env=clean_env(EVENTODB_HTTP_MODE="fibers"))
    assert g.rpc("sys.version").status == 200
    assert "EVENTODB_HTTP_MODE=fibers ignored (want loop or threads)" in g.log_text()


def test_large_bodies_are_served_off_the_loop_and_answered(gw):
    ns, tok = gw.create_ns()
    big = "x" * (3 * 1024 * 1024)
    r = gw.rpc_raw(dumps(["stream.write", "big-1", {"type": "T", "data": {"s": big}}]), token=tok)
    assert r.status == 200, r
    assert r.json["position"] == 0
    got = gw.rpc("stream.get", "big-1", token=tok)
    assert got.status == 200 and got.json[0][4]["s"] == big
    # a large body that fails validation answers like a small one
    r = gw.rpc_raw(dumps(["stream.write", "big-1", {"type": "", "data": {"s": big}}]), token=tok)
    assert r.status == 400 and b"message.type must be a non-empty string" in r.body


def test_a_client_waiting_at_the_connection_limit_is_served_when_a_slot_frees(prod_db, logdir):
    """docs/http-api.md#limits: at the connection limit (the descriptor limit
    less 256, at least 64) a new client waits in the kernel's queue; when a
    connection closes it is accepted at once - the loop used to leave it
    waiting until its next timer, up to a minute."""
    import socket
    import time
    from conftest import BIN
    from harness import Gateway, free_port
    port = free_port()
    argv = ["prlimit", "--nofile=320:320", "--", BIN, "serve", "--port=%d" % port,
            "--db-url=" + db_url(prod_db), "--token=" + DEFAULT_TOKEN]
    g = Gateway("limit", argv, port, logdir, env=clean_env())
    held = []
    try:
        g.wait_healthy(30)
        request = b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
        for _ in range(64):                # the limit: 320 descriptors leave 64 connections
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(request)
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
            held.append(s)
        waiting = socket.create_connection(("127.0.0.1", port), timeout=10)
        waiting.sendall(request)
        waiting.settimeout(1)
        try:
            got = waiting.recv(4096)
        except socket.timeout:
            got = b""
        assert got == b"", "served beyond the limit: the limit is not 64"
        held.pop().close()
        started = time.monotonic()
        waiting.settimeout(10)
        assert waiting.recv(4096).startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 5
        waiting.close()
    finally:
        for s in held:
            s.close()
        g.stop()


def cpu_seconds(pid):
    import os
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_pooled_connection_the_server_closed_while_idle_does_not_spin_the_loop(databases, spawn):
    """gateway/coro.c: the loop keeps the database connections in its epoll set
    between queries (level-triggered). One that turns readable with no query
    waiting - here the server's goodbye and hang-up after pg_terminate_backend -
    is taken out of the set until its next wait; left in, every round of the
    loop would wake for it and the idle gateway would burn a whole core."""
    import time
    from conftest import pg_connect
    dbname = databases.new("idlespin")
    g = spawn("idlespin", ["serve", "--port={port}", "--db-url=" + db_url(dbname), "--token=" + DEFAULT_TOKEN])
    ns, tok = g.create_ns()
    threads = [threading.Thread(target=lambda i=i: [g.write("s-%d" % i, token=tok) for _ in range(20)])
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    admin = pg_connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()", (dbname,))
        assert cur.fetchone()[0] >= 2
    admin.close()
    time.sleep(0.5)
    before = cpu_seconds(g.proc.pid)
    time.sleep(2)
    used = cpu_seconds(g.proc.pid) - before
    assert used < 0.5, "the idle gateway used %.2f s of CPU in 2 s" % used
    # and the connections are opened again for the next requests
    for i in range(8):
        assert g.write("s-%d" % i, token=tok)["position"] == 20
