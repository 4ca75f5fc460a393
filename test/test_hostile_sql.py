"""docs/security.md over real HTTP: what a database login - or a record in an
import - can do to the gateway's tenants.

- Pokes are hints: pokes forged by a login without grants (positions far
  ahead, a "deleted" notice of a live namespace) change nothing any
  subscriber receives; and such a login hears no other tenant's names.

- Positions have an end: a stream at position 2^63-1 refuses the next write
  (single and group-committed) instead of answering a negative position; an
  import of a global position above 2^62 is refused with a clear error and
  leaves the namespace writable.
"""
import json
import select
import threading
import time

import psycopg2
import psycopg2.errors
import pytest

from conftest import PG, clean_env, db_url
from harness import DEFAULT_TOKEN, check_error, dumps, unique

INT64_MAX = 9223372036854775807
IMPORT_MAX_GPOS = 4611686018427387904


def _schema(sql, ns):
    with sql().cursor() as cur:
        cur.execute("SELECT schema_name FROM eventodb.namespaces WHERE id = %s", (ns,))
        return cur.fetchone()[0]


def _put_at_top(sql, ns, stream):
    """A plain INSERT (as an import could do) puts the stream at the highest position."""
    with sql().cursor() as cur:
        cur.execute('INSERT INTO "%s".messages (stream_name, position, type) VALUES (%%s, %%s, %%s)'
                    % _schema(sql, ns), (stream, INT64_MAX, "T"))


def test_a_stream_at_the_highest_position_refuses_the_next_write(gw, sql):
    ns, tok = gw.create_ns()
    _put_at_top(sql, ns, "top-1")
    r = gw.rpc("stream.write", "top-1", {"type": "T", "data": {}}, token=tok)
    err = check_error(r, 500, "BACKEND_ERROR")
    assert "highest position (9223372036854775807)" in err["message"], r
    assert [m[2] for m in gw.ok("stream.get", "top-1", token=tok)] == [INT64_MAX]


def test_group_committed_writes_refuse_the_highest_position_too(gw, sql):
    """Concurrent writes go together through the group commit; the ones to
    the full stream are refused, the others written."""
    ns, tok = gw.create_ns()
    _put_at_top(sql, ns, "top-1")
    answers = {}

    def write(i):
        stream = "top-1" if i % 2 == 0 else "low-%d" % i
        answers[i] = (stream, gw.rpc("stream.write", stream, {"type": "T", "data": {}}, token=tok))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (stream, r) in answers.items():
        if stream == "top-1":
            err = check_error(r, 500, "BACKEND_ERROR")
            assert "highest position" in err["message"], r
        else:
            assert r.status == 200 and r.json["position"] == 0, r
    assert [m[2] for m in gw.ok("stream.get", "top-1", token=tok)] == [INT64_MAX]


def _record(stream, pos, gpos):
    return {"id": "00000000-0000-4000-8000-%012d" % (gpos % 10 ** 12), "stream": stream,
            "type": "Imported", "pos": pos, "gpos": gpos, "data": {}, "meta": None,
            "time": "2025-01-01T00:00:00Z"}


def _events(r):
    return [json.loads(line[6:]) for line in r.body.split(b"\n") if line.startswith(b"data: ")]


def test_an_import_may_not_exhaust_the_global_positions(gw):
    ns, tok = gw.create_ns()
    body = dumps(_record("imp-1", 0, 5)) + b"\n" + dumps(_record("imp-1", 1, INT64_MAX)) + b"\n"
    events = _events(gw.import_(body, token=tok))
    assert events[-1]["error"] == "IMPORT_FAILED", events
    assert events[-1]["message"] == ("global position 9223372036854775807 is above the import "
                                     "limit 4611686018427387904"), events
    assert gw.ok("stream.get", "imp-1", token=tok) == []
    # the namespace keeps writing
    assert gw.write("after-1", token=tok) == {"globalPosition": 1, "position": 0}
    # the limit itself is accepted; writes go on above it
    events = _events(gw.import_(dumps(_record("imp-2", 0, IMPORT_MAX_GPOS)) + b"\n", token=tok))
    assert events[-1].get("done") is True, events
    assert gw.write("after-1", token=tok) == {"globalPosition": IMPORT_MAX_GPOS + 1, "position": 1}


# ------------------------------------------------------------------ locks

def test_writes_held_up_by_a_lock_do_not_starve_other_requests(spawn, prod_db, sql):
    """A message_store login (write rights to the default namespace) writes
    a stream and keeps its transaction open; the gateway's writes to that
    stream wait for its lock. More of them than the gateway has HTTP threads
    must not stall another tenant's reads or writes: writes of one namespace
    may hold only part of the threads, and once those are stuck, more of its
    writes are answered at once (BACKEND_ERROR, retry later) instead of
    queueing for a thread."""
    g = spawn("starve", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                         "--token=" + DEFAULT_TOKEN], env=clean_env(EVENTODB_THREADS="4"))
    other_ns, other_tok = g.create_ns()
    g.write("mine-1", token=other_tok)
    holder = sql(autocommit=False)
    with holder.cursor() as cur:
        cur.execute("SET ROLE message_store")
        cur.execute("SELECT write_message(gen_random_uuid()::text, 'held-1', 'T', '{}')")
    answers = []
    stuck = [threading.Thread(target=lambda: answers.append(
        g.rpc("stream.write", "held-1", {"type": "T", "data": {}}))) for _ in range(8)]
    try:
        for t in stuck:
            t.start()
        time.sleep(3.5)
        t0 = time.monotonic()
        assert len(g.ok("stream.get", "mine-1", token=other_tok)) == 1
        assert g.write("mine-1", token=other_tok)["position"] == 1
        assert time.monotonic() - t0 < 2
    finally:
        holder.commit()
    for t in stuck:
        t.join(30)
    ok = [r for r in answers if r.status == 200]
    refused = [r for r in answers if r.status != 200]
    assert len(ok) + len(refused) == 8
    assert sorted(r.json["position"] for r in ok) == list(range(1, len(ok) + 1))
    for r in refused:
        err = check_error(r, 500, "BACKEND_ERROR")
        assert "retry later" in err["message"], r


# ------------------------------------------------------------------ pokes

NOBODY = "eventodb_test_nobody"


def _nobody(dbname):
    """A connection as a login with no grants at all."""
    with psycopg2.connect(host=PG["PGHOST"], port=PG["PGPORT"], user=PG["PGUSER"],
                          dbname=dbname) as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (NOBODY,))
            if cur.fetchone() is None:
                cur.execute("CREATE ROLE %s LOGIN" % NOBODY)
    conn = psycopg2.connect(host=PG["PGHOST"], port=PG["PGPORT"], user=NOBODY, dbname=dbname)
    conn.autocommit = True
    return conn


def test_forged_pokes_change_nothing_subscribers_receive(gw):
    """A login without grants NOTIFYs a poke far ahead of a tenant's real
    positions and a "deleted" notice for it: the tenant's stream, category
    and all=true subscribers still get exactly the pokes of its real writes,
    and its streams stay open."""
    ns, tok = gw.create_ns()
    subs = [gw.subscribe(q, token=tok) for q in
            ("stream=vict-1&position=0", "category=vict&position=0", "all=true&position=0")]
    nobody = _nobody(gw.dbname)
    try:
        for s in subs:
            s.wait_ready()
        with nobody.cursor() as cur:
            for payload in ('{"ns":"%s","stream":"vict-1","position":9000000000000000000,'
                            '"globalPosition":9000000000000000000}' % ns,
                            '{"ns":"%s","stream":"vict-2","position":0,"globalPosition":1}' % ns,
                            '{"ns":"%s","deleted":true}' % ns):
                cur.execute("NOTIFY eventodb_poke, %s", (payload,))
        want = []
        for i in range(3):
            r = gw.write("vict-1", token=tok)
            want.append({"stream": "vict-1", "position": i, "globalPosition": r["globalPosition"]})
        for s in subs:
            assert s.wait_pokes(3) == want, s.body
            s.quiet(0.3)
            assert s.pokes() == want and not s.ended, s.body
    finally:
        nobody.close()
        for s in subs:
            s.close()


def _notifications(conn, wait):
    got = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if select.select([conn], [], [], max(0.0, deadline - time.monotonic()))[0]:
            conn.poll()
            while conn.notifies:
                n = conn.notifies.pop(0)
                got.append((n.channel, n.payload))
    return got


def test_a_foreign_login_sees_no_tenant_names_in_pokes(gw, sql):
    """A login without grants LISTENs eventodb_poke: it hears the default
    namespace's pokes in docs/sql-api.md#pokes-and-write-mode's shape (Message DB's face, whose
    clients rely on them), but nothing of another tenant's writes, and it
    cannot learn the private channel those go to."""
    ns, tok = gw.create_ns("secret-tenant-" + unique())
    nobody = _nobody(gw.dbname)
    try:
        with nobody.cursor() as cur:
            cur.execute("LISTEN eventodb_poke")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT eventodb.poke_channel()")
        with sql().cursor() as cur:
            cur.execute("SELECT eventodb.poke_channel()")
            private = cur.fetchone()[0]
            cur.execute("SELECT has_table_privilege(%s, 'eventodb.poke_channel', 'SELECT')", (NOBODY,))
            assert cur.fetchone()[0] is False
        with gw.subscribe("stream=hidden-1&position=0", token=tok) as sub:
            sub.wait_ready()
            w = gw.write("hidden-1", token=tok)
            # the gateway still gets them: its subscriber is poked
            assert sub.wait_pokes(1) == [{"stream": "hidden-1", "position": 0,
                                          "globalPosition": w["globalPosition"]}]
        d = gw.write("open-1")
        got = _notifications(nobody, 1.0)
        assert got == [("eventodb_poke", json.dumps(
            {"ns": "default", "stream": "open-1", "position": d["position"],
             "globalPosition": d["globalPosition"]}, separators=(",", ":")))], got
        assert all(ns not in payload and "hidden" not in payload for _, payload in got)
        assert private.startswith("eventodb_poke_") and len(private) == 46
    finally:
        nobody.close()


# ------------------------------------------------------------------ horizons

def test_an_open_transaction_of_one_namespace_delays_no_other_namespace(gw, sql):
    """A message_store login writes in a transaction and leaves it open
    while another write to the default namespace commits: that namespace's
    pokes wait for the open transaction (its commit horizon). A new
    all=true subscription of another namespace must not wait with them:
    its ': ready' barrier waits only for its own namespace's pokes."""
    ns, tok = gw.create_ns()
    holder = sql(autocommit=False)
    other = sql()
    try:
        with holder.cursor() as cur:
            cur.execute("SET ROLE message_store")
            cur.execute("SELECT write_message(gen_random_uuid()::text, 'held-1', 'T', '{}')")
        with other.cursor() as cur:
            cur.execute("SELECT message_store.write_message(gen_random_uuid()::text, 'held-2', 'T', '{}')")
        t0 = time.monotonic()
        with gw.subscribe("all=true&position=0", token=tok) as sub:
            sub.wait_ready(timeout=8)
            assert time.monotonic() - t0 < 3, "': ready' took %.1f s" % (time.monotonic() - t0)
            w = gw.write("mine-1", token=tok)
            assert sub.wait_pokes(1) == [{"stream": "mine-1", "position": 0,
                                          "globalPosition": w["globalPosition"]}]
    finally:
        holder.commit()
