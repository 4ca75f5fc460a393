"""docs/sql-api.md#pokes-and-write-mode, at the SQL level: every successful
write through either face raises a poke on channel eventodb_poke, delivered
only after commit, never for rolled-back or rejected writes, never for
imports; payloads are JSON-escaped and truncated at 8000 bytes.

With the library preloaded (eventodb.write_mode = horizon) the pokes come
from the database's poke worker after commit, in global-position order, and
only once the commit horizon has passed them - so a poke never arrives for
a message a category reader cannot see yet. eventodb.poke_sync() waits for
the worker; with category_lock it returns at once (pokes travel inside the
writer's transaction).
"""
import json
import os
import select
import time

import psycopg2
import pytest

from conftest import connections, pg_connect

CHANNEL = "eventodb_poke"


@pytest.fixture(scope="module")
def pokedb(databases):
    return databases.new("pokes")


class Listener:
    def __init__(self, dbname, channel=CHANNEL):
        self.conn = pg_connect(dbname)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("LISTEN %s" % channel)
            # every namespace's pokes but default's go to the private channel (docs/security.md)
            cur.execute("SELECT eventodb.poke_channel()")
            self.private = cur.fetchone()[0]
            if channel == CHANNEL:
                cur.execute("LISTEN %s" % self.private)

    def drain(self, wait=0.2):
        """Notifications that arrive within `wait` seconds of the last one."""
        got = []
        deadline = time.time() + wait
        while True:
            self.conn.poll()
            while self.conn.notifies:
                n = self.conn.notifies.pop(0)
                got.append((n.channel, n.payload))
                deadline = time.time() + wait
            left = deadline - time.time()
            if left <= 0:
                return got
            select.select([self.conn], [], [], left)

    def payloads(self, wait=0.2):
        return [json.loads(p) for c, p in self.drain(wait) if c in (CHANNEL, self.private)]

    def close(self):
        self.conn.close()


@pytest.fixture
def db(pokedb):
    with connections(pokedb) as connect:
        with connect().cursor() as cur:
            cur.execute("TRUNCATE message_store.messages RESTART IDENTITY")
            cur.execute("SELECT eventodb.namespace_delete(id) FROM eventodb.namespaces WHERE id = 'pk'")
            cur.execute("SELECT eventodb.namespace_create('pk')")
        lis = Listener(pokedb)
        lis.drain(0.05)
        yield connect, lis
        lis.close()


def q(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


def write(conn, stream, expected=None, msg_id=None):
    return q(conn, "SELECT message_store.write_message(COALESCE(%s, gen_random_uuid()::text), %s, 'T', '{}'::jsonb, NULL, %s)",
             msg_id or None, stream, expected)[0][0]


def sync(conn):
    assert q(conn, "SELECT eventodb.poke_sync(10000)")[0][0] is True


def msgdb_poke(stream, pos, gpos):
    return {"ns": "default", "stream": stream, "position": pos, "globalPosition": gpos}


def test_poked_after_commit_in_order(db):
    connect, lis = db
    w = connect(autocommit=False)
    write(w, "poke-1")
    write(w, "poke-1")
    assert lis.payloads(0.1) == []
    w.commit()
    sync(w)
    assert lis.payloads() == [msgdb_poke("poke-1", 0, 1), msgdb_poke("poke-1", 1, 2)]


def test_never_for_rolled_back_or_rejected_writes(db):
    connect, lis = db
    w = connect(autocommit=False)
    write(w, "poke-1")
    w.rollback()
    with pytest.raises(psycopg2.Error):
        write(w, "poke-1", expected=99)
    w.rollback()
    w.autocommit = True
    write(w, "poke-2")
    sync(w)
    assert lis.payloads() == [msgdb_poke("poke-2", 0, 2)]


def test_rolled_back_savepoint_is_not_poked(db):
    connect, lis = db
    w = connect(autocommit=False)
    write(w, "sp-1")
    q(w, "SAVEPOINT s")
    write(w, "sp-2")
    q(w, "ROLLBACK TO SAVEPOINT s")
    write(w, "sp-3")
    w.commit()
    sync(w)
    assert lis.payloads() == [msgdb_poke("sp-1", 0, 1), msgdb_poke("sp-3", 0, 3)]


def test_escaping_and_the_8000_byte_limit(db):
    connect, lis = db
    w = connect()
    write(w, "edge-" + "y" * 7934)     # payload of 7999 bytes: sent whole
    write(w, "edge-" + "y" * 7935)     # 8000 bytes: truncated form
    write(w, 'po"ke-\\1\n')
    write(w, "long-" + "x" * 8000)
    sync(w)
    got = lis.payloads()
    assert got[0] == msgdb_poke("edge-" + "y" * 7934, 0, 1)
    assert got[1] == {"ns": "default", "globalPosition": 2, "truncated": True}
    assert got[2] == msgdb_poke('po"ke-\\1\n', 0, 3)
    assert got[3] == {"ns": "default", "globalPosition": 4, "truncated": True}
    assert len(got) == 4


def test_gateway_writes_carry_the_namespace_and_imports_never_poke(db):
    connect, lis = db
    w = connect()
    q(w, "SELECT eventodb.stream_write('pk', 'poke-1', 'T', '{}', NULL, NULL, NULL)")
    q(w, "SELECT eventodb.import_batch('pk', %s)", json.dumps([{
        "id": "94000000-0000-4000-8000-000000000001", "stream": "imp-1", "type": "T",
        "pos": 0, "gpos": 7, "data": {}, "meta": None, "time": "2025-01-01T00:00:00Z"}]))
    q(w, "SELECT eventodb.stream_write('pk', 'poke-1', 'T', '{}', NULL, NULL, NULL)")
    sync(w)
    assert lis.payloads() == [
        {"ns": "pk", "stream": "poke-1", "position": 0, "globalPosition": 1},
        {"ns": "pk", "stream": "poke-1", "position": 1, "globalPosition": 8},
    ]


def test_namespace_delete_is_announced_after_commit(db):
    connect, lis = db
    w = connect(autocommit=False)
    q(w, "SELECT eventodb.namespace_delete('pk')")
    assert lis.payloads(0.1) == []
    w.commit()
    assert lis.payloads() == [{"ns": "pk", "deleted": True}]


def horizon_mode(conn):
    return q(conn, "SELECT eventodb.write_mode()")[0][0] == "horizon"


def require_horizon(conn):
    """The suite's cluster preloads the library (scripts/cluster.sh), so the
    commit-horizon path must be in effect; the category-lock fallback is
    covered by test_checker.py's category_lock and nopreload runs."""
    assert horizon_mode(conn), "eventodb.write_mode() is not 'horizon' on the test cluster"


def test_pokes_wait_for_the_horizon_and_keep_global_order(db):
    """A later-drawn position committing first is poked only after the
    earlier one commits, and after it."""
    connect, lis = db
    w1, w2 = connect(autocommit=False), connect(autocommit=False)
    require_horizon(w1)
    write(w1, "order-1")            # global position 1, in flight
    write(w2, "order-2")            # global position 2
    w2.commit()
    assert lis.payloads(0.3) == []  # held back: position 1 may still commit
    w1.commit()
    sync(w1)
    assert lis.payloads() == [msgdb_poke("order-1", 0, 1), msgdb_poke("order-2", 0, 2)]


def test_an_aborted_writer_releases_the_pokes_behind_it(db):
    connect, lis = db
    w1, w2 = connect(autocommit=False), connect(autocommit=False)
    require_horizon(w1)
    write(w1, "order-1")
    write(w2, "order-2")
    w2.commit()
    w1.rollback()
    sync(w1)
    assert lis.payloads() == [msgdb_poke("order-2", 0, 2)]


def test_barrier_follows_the_pokes_of_earlier_commits(db, pokedb):
    connect, lis = db
    w = connect()
    bar = Listener(pokedb, "poke_barrier_test")
    try:
        with bar.conn.cursor() as cur:
            cur.execute("LISTEN %s" % CHANNEL)
        write(w, "bar-1")
        q(w, "SELECT eventodb.poke_barrier('poke_barrier_test', 'b1')")
        got = bar.drain(0.5)
        assert got == [(CHANNEL, json.dumps(msgdb_poke("bar-1", 0, 1), separators=(",", ":"))),
                       ("poke_barrier_test", "b1")]
    finally:
        bar.close()


def test_prepared_transactions_with_writes_are_refused(db):
    connect, lis = db
    w = connect(autocommit=False)
    require_horizon(w)
    write(w, "prep-1")
    with pytest.raises(psycopg2.Error) as e:
        q(w, "PREPARE TRANSACTION 'eventodb_poke_test'")
    assert "PREPARE" in str(e.value)
    w.rollback()


def test_a_namespace_locked_by_ddl_does_not_hold_up_the_others(db):
    connect, lis = db
    w = connect(autocommit=False)
    require_horizon(w)
    schema = q(w, "SELECT schema_name FROM eventodb.namespaces WHERE id = 'pk'")[0][0]
    locker = connect(autocommit=False)
    q(w, "SELECT eventodb.stream_write('pk', 'lk-1', 'T', '{}', NULL, NULL, NULL)")
    # Queued behind the writer, it holds the table as soon as the writer commits.
    with locker.cursor() as cur:
        cur.execute("SET lock_timeout = '5s'")
        locker_thread = __import__("threading").Thread(
            target=cur.execute, args=('LOCK TABLE "%s".messages IN ACCESS EXCLUSIVE MODE' % schema,))
        locker_thread.start()
        time.sleep(0.2)
        w.commit()
        locker_thread.join()
    w.autocommit = True
    write(w, "free-1")
    got = lis.payloads(0.5)
    assert msgdb_poke("free-1", 0, 1) in got
    locker.rollback()
    sync(w)
    got += lis.payloads()
    assert {"ns": "pk", "stream": "lk-1", "position": 0, "globalPosition": 1} in got


def test_database_ddl_is_not_blocked_by_the_poke_worker(pokedb):
    """The worker is a session of its database: DROP / RENAME / CREATE ...
    TEMPLATE would refuse to run while it is connected, so they send it away
    first; the next write starts a new one."""
    admin = pg_connect("postgres")
    admin.autocommit = True
    names = ["eventodb_bb_ddl_%d_%s" % (os.getpid(), s) for s in ("a", "b", "c")]
    try:
        for n in names:
            q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % n)
        q(admin, 'CREATE DATABASE "%s"' % names[0])
        c = pg_connect(names[0])
        c.autocommit = True
        q(c, "CREATE EXTENSION eventodb")
        write(c, "ddl-1")
        sync(c)
        c.close()
        q(admin, 'CREATE DATABASE "%s" TEMPLATE "%s"' % (names[1], names[0]))
        q(admin, 'ALTER DATABASE "%s" RENAME TO "%s"' % (names[0], names[2]))
        c = pg_connect(names[2])
        c.autocommit = True
        lis = Listener(names[2])
        write(c, "ddl-1")
        sync(c)
        assert lis.payloads() == [msgdb_poke("ddl-1", 1, 2)]
        lis.close()
        c.close()
        q(admin, 'DROP DATABASE "%s"' % names[2])
    finally:
        for n in names:
            q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % n)
        admin.close()


def _held_poke_and_ddl(db, pokedb, ddl, role=None):
    """A writer left open holds back the poke of a later committed write;
    meanwhile ddl runs against the pokes database (as role, when given) and
    fails. Returns the pokes seen once the open writer commits."""
    connect, lis = db
    w1, w2 = connect(autocommit=False), connect(autocommit=False)
    require_horizon(w1)
    write(w1, "held-1")             # global position 1, in flight
    write(w2, "held-2")             # global position 2, committed, its poke held back
    w2.commit()
    admin = pg_connect("postgres")
    admin.autocommit = True
    try:
        if role:
            q(admin, "DROP ROLE IF EXISTS %s" % role)
            q(admin, "CREATE ROLE %s" % role)
            q(admin, "SET ROLE %s" % role)
        with pytest.raises(psycopg2.Error):
            q(admin, ddl % pokedb)
    finally:
        if role:
            q(admin, "RESET ROLE")
            q(admin, "DROP ROLE IF EXISTS %s" % role)
        admin.close()
    w1.commit()                      # the commit keeps its place in the poke queue
    sync(w1)
    return lis.payloads()


@pytest.mark.parametrize("ddl", ['DROP DATABASE "%s"', 'ALTER DATABASE "%s" RENAME TO eventodb_bb_stolen',
                                 'CREATE DATABASE eventodb_bb_copy TEMPLATE "%s"'])
def test_database_ddl_without_the_right_leaves_the_worker_and_its_pokes(db, pokedb, ddl):
    """docs/security.md#pokes: a login that may not drop, rename or copy the
    database cannot send its poke worker away; before, it cost open writers
    their commit and committed writes their pokes."""
    assert _held_poke_and_ddl(db, pokedb, ddl, role="eventodb_bb_nobody") == \
        [msgdb_poke("held-1", 0, 1), msgdb_poke("held-2", 0, 2)]


def test_database_ddl_that_fails_keeps_the_pokes_the_worker_held(db, pokedb):
    """The owner's RENAME sends the worker away and then fails (sessions are
    connected): the pokes the worker held go back to the queue and the next
    worker sends them."""
    assert _held_poke_and_ddl(db, pokedb, 'ALTER DATABASE "%s" RENAME TO eventodb_bb_renamed') == \
        [msgdb_poke("held-1", 0, 1), msgdb_poke("held-2", 0, 2)]


def test_create_database_template_default_still_works(pokedb):
    """The guard reads TEMPLATE = DEFAULT as template1, as PostgreSQL does."""
    admin = pg_connect("postgres")
    admin.autocommit = True
    name = "eventodb_bb_tdef_%d" % os.getpid()
    try:
        q(admin, 'CREATE DATABASE "%s" TEMPLATE = DEFAULT' % name)
    finally:
        q(admin, 'DROP DATABASE IF EXISTS "%s"' % name)
        admin.close()
