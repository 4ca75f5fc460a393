"""Group commit of stream.write (gateway/group_commit.h): writes that reach the
database together get exactly the answers they would get alone, and a group
that fails as a whole is replayed write by write without writing anything twice.

The gateway here allows one write in flight (EVENTODB_WRITE_LEADERS=1), so a
burst of concurrent writes forms groups; its shutdown log shows that they did.
"""
import re
import threading
import time
import uuid

import pytest

from psycopg2 import sql as pgsql

from conftest import clean_env, db_url, pg_connect
from harness import DEFAULT_TOKEN, check_error, unique

W = "stream.write"


@pytest.fixture
def ggw(spawn, prod_db):
    g = spawn("group", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                        "--token=" + DEFAULT_TOKEN], env=clean_env(EVENTODB_WRITE_LEADERS="1"))
    g.dbname = prod_db
    return g


SLOW = """
CREATE OR REPLACE FUNCTION public.group_commit_test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.type = 'Slow' THEN PERFORM pg_sleep(0.5); END IF;
  RETURN NEW;
END $$;
"""


def burst(g, ns, tok, calls):
    """Runs every call at once (one thread each) and returns their results in
    order. A write of type Slow to stream slow-1 of the namespace goes first and
    takes half a second in the database (a test trigger), holding the one slot,
    so the calls queue up behind it and go in groups however slow the threads
    are; returns (results, the slow write's globalPosition)."""
    results = [None] * len(calls)
    conn = pg_connect(g.dbname)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(SLOW)
        cur.execute("SELECT schema_name FROM eventodb.namespaces WHERE id = %s", (ns,))
        cur.execute(pgsql.SQL("CREATE OR REPLACE TRIGGER group_commit_test_slow BEFORE INSERT ON {}.messages"
                              " FOR EACH ROW EXECUTE FUNCTION public.group_commit_test_slow()").format(
            pgsql.Identifier(cur.fetchone()[0])))
    conn.close()
    slow = []

    def run(i):
        results[i] = calls[i]()

    first = threading.Thread(target=lambda: slow.append(
        g.rpc(W, "slow-1", {"type": "Slow", "data": {}}, token=tok)))
    first.start()
    time.sleep(0.1)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads + [first]:
        t.join(60)
    assert slow[0].status == 200, slow[0].body
    return results, slow[0].json["globalPosition"]


def groups_formed(g, replays=False):
    """Stops the gateway and returns (writes, groups[, groups replayed]) from its log."""
    g.stop()
    m = re.search(r"group commit: (\d+) writes in (\d+) groups \([0-9.]+ per group\), "
                  r"(\d+) groups replayed", g.log_text())
    assert m, g.log_text()[-2000:]
    n = tuple(int(x) for x in m.groups())
    return n if replays else n[:2]


def test_concurrent_writes_are_grouped_and_each_answered(ggw):
    ns, tok = ggw.create_ns()
    streams = ["acct-%d" % i for i in range(8)]
    calls = [lambda i=i: ggw.rpc(W, streams[i % 8], {"type": "T", "data": {"n": i, "s": "é\u2028"},
                                                     "metadata": {"i": i}}, token=tok)
             for i in range(48)]
    results, slow_gpos = burst(ggw, ns, tok, calls)
    assert [r.status for r in results] == [200] * 48, [r.body for r in results if r.status != 200]
    gpos = [r.json["globalPosition"] for r in results]
    assert sorted(gpos + [slow_gpos]) == list(range(1, 50))
    for s in streams:
        msgs = ggw.ok("stream.get", s, token=tok)
        assert [m[2] for m in msgs] == list(range(6))
        for m in msgs:
            i = m[4]["n"]
            assert m[4] == {"n": i, "s": "é\u2028"} and m[5] == {"i": i} and streams[i % 8] == s
            assert results[i].json == {"globalPosition": m[3], "position": m[2]}
    writes, groups = groups_formed(ggw)
    assert writes >= 48 and groups < writes, (writes, groups)


def test_expected_version_race_has_one_winner_and_exact_conflicts(ggw):
    ns, tok = ggw.create_ns()
    calls = [lambda: ggw.rpc(W, "race-1", {"type": "T", "data": {}}, {"expectedVersion": -1},
                             token=tok) for _ in range(30)]
    results, slow_gpos = burst(ggw, ns, tok, calls)
    assert sorted(r.status for r in results) == [200] + [409] * 29
    for r in results:
        if r.status == 409:
            check_error(r, 409, "STREAM_VERSION_CONFLICT",
                        "Expected version -1, stream is at version 0",
                        details={"actual": 0, "expected": -1})
    assert ggw.ok("stream.version", "race-1", token=tok) == 0
    writes, groups = groups_formed(ggw)
    assert groups < writes, (writes, groups)


def test_a_bad_id_fails_alone(ggw):
    ns, tok = ggw.create_ns()
    calls = [lambda i=i: ggw.rpc(W, "id-%d" % (i % 3), {"type": "T", "data": {}},
                                 {"id": "not-a-uuid" if i == 7 else str(uuid.uuid4())}, token=tok)
             for i in range(24)]
    results, slow_gpos = burst(ggw, ns, tok, calls)
    for i, r in enumerate(results):
        if i == 7:
            check_error(r, 500, "BACKEND_ERROR", "Failed to write message: invalid UUID format: not-a-uuid")
        else:
            assert r.status == 200, r.body
    assert sum(len(ggw.ok("stream.get", "id-%d" % k, token=tok)) for k in range(3)) == 23


def test_a_failing_group_is_replayed_without_double_writes(ggw):
    ns, tok = ggw.create_ns()
    dups = [str(uuid.uuid4()) for _ in range(6)]
    # six pairs of writes sharing an id: whichever of a pair comes second fails,
    # in a group or alone, and takes none of the others down with it
    def opts(i):
        return {"id": dups[i // 8]} if i % 8 in (1, 6) else {}
    calls = [lambda i=i: ggw.rpc(W, "dup-%d" % (i % 4), {"type": "T", "data": {"i": i}},
                                 opts(i), token=tok) for i in range(48)]
    results, slow_gpos = burst(ggw, ns, tok, calls)
    failed = [i for i, r in enumerate(results) if r.status != 200]
    assert sorted(i // 8 for i in failed) == list(range(6)), [(i, results[i].body) for i in failed]
    for i in failed:
        assert i % 8 in (1, 6)
        err = check_error(results[i], 500, "BACKEND_ERROR")
        assert err["message"].startswith("Failed to write message: duplicate key value"), err
    stored = [m for k in range(4) for m in ggw.ok("stream.get", "dup-%d" % k, token=tok)]
    assert sorted(m[4]["i"] for m in stored) == sorted(set(range(48)) - set(failed))
    for k in range(4):
        positions = [m[2] for m in ggw.ok("stream.get", "dup-%d" % k, token=tok)]
        assert positions == list(range(len(positions)))
    writes, groups, replayed = groups_formed(ggw, replays=True)
    assert replayed >= 1 and groups < writes, (writes, groups, replayed)


def test_groups_span_namespaces(ggw):
    tenants = [ggw.create_ns() for _ in range(3)]
    ns, tok = tenants[0]
    calls = [lambda i=i: ggw.rpc(W, "t-1", {"type": "T", "data": {"i": i}},
                                 token=tenants[i % 3][1]) for i in range(30)]
    results, slow_gpos = burst(ggw, ns, tok, calls)
    assert all(r.status == 200 for r in results), [r.body for r in results]
    for k, (_, tok) in enumerate(tenants):
        msgs = ggw.ok("stream.get", "t-1", token=tok)
        own = list(range(1, 12 if k == 0 else 11))        # each tenant's own global positions
        if k == 0:
            own.remove(slow_gpos)
        assert [m[3] for m in msgs] == own
        assert [m[2] for m in msgs] == list(range(10))


def test_a_refused_write_does_not_disturb_the_group(ggw):
    # (a namespace deleted between authentication and the write makes the whole
    # group fail and replay: sql/gw_write_batch.sql covers that statement)
    ns, tok = ggw.create_ns()
    gone, gone_tok = ggw.create_ns()
    ggw.ok("ns.delete", gone)
    calls = [lambda i=i: ggw.rpc(W, "g-1", {"type": "T", "data": {}},
                                 token=gone_tok if i == 3 else tok) for i in range(16)]
    results, slow_gpos = burst(ggw, ns, tok, calls)
    for i, r in enumerate(results):
        if i == 3:
            check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace",
                        details={"namespace": gone})
        else:
            assert r.status == 200, r.body
    assert len(ggw.ok("stream.get", "g-1", token=tok)) == 15


def test_a_held_stream_lock_holds_up_only_its_own_writes(ggw):
    """An open SQL transaction that wrote a stream holds its lock; gateway
    writes to that stream wait for it, and must not take every other writer
    of the gateway down with them (one slot here: they would, without the
    queue's escape and the batch's refusal to wait for locks)."""
    ns, tok = ggw.create_ns()
    other_ns, other_tok = ggw.create_ns()
    conn = pg_connect(ggw.dbname)
    with conn.cursor() as cur:
        cur.execute("SELECT eventodb.stream_write(%s, 'held-1', 'T', '{}', NULL, NULL, NULL)", (ns,))
    held = []
    blocked = [threading.Thread(target=lambda: held.append(
        ggw.rpc(W, "held-1", {"type": "T", "data": {}}, token=tok))) for _ in range(3)]
    try:
        for t in blocked:
            t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        free = [lambda i=i: ggw.rpc(W, "free-%d" % (i % 3), {"type": "T", "data": {}},
                                    token=tok if i % 2 else other_tok) for i in range(20)]
        results = [None] * len(free)
        threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, free[i]()))
                   for i in range(len(free))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert all(r.status == 200 for r in results), [r.body for r in results]
        assert time.monotonic() - t0 < 5
        assert held == []                       # still waiting for the lock
    finally:
        conn.commit()
        conn.close()
    for t in blocked:
        t.join(30)
    assert sorted(r.json["position"] for r in held) == [1, 2, 3]


def test_large_writes_in_a_burst(ggw):
    """Groups are cut at 16 MiB of payload: ten 4 MiB writes that queue up
    together go in several groups, each written whole."""
    ns, tok = ggw.create_ns()
    big = "x" * (4 * 1024 * 1024)
    calls = [lambda i=i: ggw.rpc(W, "big-%d" % (i % 2), {"type": "T", "data": {"i": i, "b": big}},
                                 token=tok) for i in range(10)]
    results, _ = burst(ggw, ns, tok, calls)
    assert [r.status for r in results] == [200] * 10, [r.body[:200] for r in results]
    for k in range(2):
        msgs = ggw.ok("stream.get", "big-%d" % k, token=tok)
        assert sorted(m[4]["i"] for m in msgs) == list(range(k, 10, 2))
        assert all(m[4]["b"] == big for m in msgs)
    # 40 MiB never fit in fewer than 3 groups; whether any two of these went
    # together depends on how fast the client uploads 4 MiB bodies (a loaded
    # machine may send them further apart than a write waits for a slot), so
    # grouping itself is asserted by the tests with small writes
    writes, groups = groups_formed(ggw)
    assert groups >= 3 and groups <= writes, (writes, groups)
