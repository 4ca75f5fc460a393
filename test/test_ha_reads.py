"""Reads from hot standbys (docs/scale-out.md#reads-from-standbys) on
scripts/ha.sh's Patroni cluster, the one test_ha.py brings up.

  * Category pagers on the standbys never skip a message, although writers on
    the primary commit their positions out of order (random delays before
    commit, some rollbacks): each pager sees exactly the committed messages
    of its category, in increasing global position.
  * A namespace whose primary never published a read mark reads as empty on
    a standby (rather than with a gap), and reads normally once it has one.
  * A gateway with --read-db-url on a standby: a client that reads right
    after its own acknowledged write through it sees that write
    (read-your-writes), and the standby does serve reads.
"""
import json
import random
import threading
import time
import uuid

import psycopg2

from conftest import start_gateway
from harness import DEFAULT_TOKEN
from test_ha import HA_ENV, HA_USER, cluster, ha, wait_for  # noqa: F401 (the fixture)

WRITERS = 4
PAGERS = 4
WRITE_SECONDS = 10
CATEGORY = "hrcat"


def connect(port):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user=HA_USER, dbname="eventodb",
                            connect_timeout=5)
    conn.autocommit = True
    return conn


def node_ports():
    """(primary port, [standby ports])."""
    primary, standbys = None, []
    for port in HA_ENV["HA_PG_PORTS"].split():
        with connect(port) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            if cur.fetchone()[0]:
                standbys.append(port)
            else:
                primary = port
        conn.close()
    assert primary and len(standbys) == 2, (primary, standbys)
    with connect(primary) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('eventodb.read_horizons') IS NOT NULL")
        # a build without marks is a broken set-up, not a reason to skip
        assert cur.fetchone()[0], ("the cluster's extension publishes no read marks: install this build "
                                   "where the PostgreSQL of `pg_config --bindir` (scripts/ha.sh) looks for it")
    conn.close()
    return primary, standbys


def replayed(primary, standby):
    """Whether the standby has replayed everything the primary wrote so far."""
    p = connect(primary)
    s = connect(standby)
    try:
        with p.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()")
            lsn = cur.fetchone()[0]
        with s.cursor() as cur:
            cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))
            return cur.fetchone()[0]
    finally:
        p.close()
        s.close()


class Writer(threading.Thread):
    """Writes one message per transaction to streams of its category,
    sleeping a random time before commit; ~10 % roll back."""

    def __init__(self, port, n, stop):
        super().__init__(daemon=True)
        self.port, self.n, self.stop = port, n, stop
        self.committed = []
        self.error = None

    def run(self):
        rng = random.Random(self.n)
        conn = connect(self.port)
        conn.autocommit = False
        try:
            while not self.stop.is_set():
                mid = str(uuid.uuid4())
                with conn.cursor() as cur:
                    cur.execute("SELECT message_store.write_message(%s, %s, 'T', '{}')",
                                (mid, "%s-%d" % (CATEGORY, rng.randrange(20))))
                    cur.execute("SELECT global_position FROM message_store.messages WHERE id = %s", (mid,))
                    gpos = cur.fetchone()[0]
                time.sleep(rng.random() * 0.03)
                if rng.random() < 0.1:
                    conn.rollback()
                else:
                    conn.commit()
                    self.committed.append(gpos)
        except Exception as e:     # reported by the test, not lost in a thread
            self.error = e
        finally:
            conn.close()


class Pager(threading.Thread):
    """Pages the category on a standby from the last position seen + 1 with
    random batch sizes, recording every global position returned."""

    def __init__(self, port, n, stop):
        super().__init__(daemon=True)
        self.port, self.n, self.stop = port, n, stop
        self.seen = []
        self.reads = 0
        self.error = None
        self.target = None      # set once the writers stopped: page up to it

    def run(self):
        rng = random.Random(100 + self.n)
        conn = connect(self.port)
        try:
            while True:
                after = self.seen[-1] + 1 if self.seen else 1
                with conn.cursor() as cur:
                    cur.execute("SELECT global_position FROM message_store.get_category_messages(%s, %s, %s)",
                                (CATEGORY, after, rng.randrange(1, 40)))
                    self.seen += [r[0] for r in cur.fetchall()]
                self.reads += 1
                if self.stop.is_set() and self.target is not None and self.seen and self.seen[-1] >= self.target:
                    return
                time.sleep(rng.random() * 0.005)
        except Exception as e:
            self.error = e
        finally:
            conn.close()


def test_standby_category_pagers_never_skip(cluster):
    primary, standbys = node_ports()
    stop = threading.Event()
    writers = [Writer(primary, n, stop) for n in range(WRITERS)]
    pagers = [Pager(standbys[n % 2], n, stop) for n in range(PAGERS)]
    for t in writers + pagers:
        t.start()
    time.sleep(WRITE_SECONDS)
    stop.set()
    for w in writers:
        w.join(30)
        assert w.error is None, w.error
    committed = sorted(g for w in writers for g in w.committed)
    assert len(committed) > 100, "too few writes to prove anything: %d" % len(committed)
    for p in pagers:
        p.target = committed[-1]
    for p in pagers:
        p.join(30)
        assert not p.is_alive(), "pager %d never reached the last commit (saw up to %s of %d)" % (
            p.n, p.seen[-1] if p.seen else None, committed[-1])
        assert p.error is None, p.error
        assert p.seen == sorted(set(p.seen)), "pager %d read out of order or twice" % p.n
        missing = sorted(set(committed) - set(p.seen))
        extra = sorted(set(p.seen) - set(committed))
        assert not missing, "pager %d on a standby skipped %d messages, first %s" % (p.n, len(missing), missing[:10])
        assert not extra, "pager %d read rolled-back positions %s" % (p.n, extra[:10])
    print("%d committed, %d standby reads by %d pagers" % (len(committed), sum(p.reads for p in pagers), PAGERS))


def test_standby_reads_nothing_without_a_mark(cluster):
    primary, standbys = node_ports()
    p = connect(primary)
    with p.cursor() as cur:
        cur.execute("SELECT eventodb.namespace_create('nomark', '', 'ns_bm9tYXJr_' || repeat('0', 64))")
        cur.execute("SELECT schema_name FROM eventodb.namespaces WHERE id = 'nomark'")
        schema = cur.fetchone()[0]
        # Written around the write path: never poked, so no mark is published.
        cur.execute("INSERT INTO %s.messages (id, stream_name, type, position, data)"
                    " VALUES (gen_random_uuid(), 'nm-1', 'T', 0, '{}')" % schema)
        cur.execute("SELECT count(*) FROM eventodb.read_horizons WHERE schema_name = %s", (schema,))
        assert cur.fetchone()[0] == 0
    for standby in standbys:
        wait_for(lambda: replayed(primary, standby), 20, "the standby to replay")
        with connect(standby) as s, s.cursor() as cur:
            cur.execute("SELECT count(*) FROM %s.messages" % schema)
            assert cur.fetchone()[0] == 1          # the row is there ...
            cur.execute("SELECT eventodb.category_get('nomark', 'nm', 1, 100, NULL, NULL, NULL)")
            assert cur.fetchone()[0] == "[]"       # ... but not readable below no mark
    # A write through the write path publishes the mark: both rows show.
    with p.cursor() as cur:
        cur.execute("SELECT eventodb.stream_write('nomark', 'nm-1', 'T', '{}', NULL, NULL, NULL)")
    p.close()

    def both_rows():
        with connect(standbys[0]) as s, s.cursor() as cur:
            cur.execute("SELECT eventodb.category_get('nomark', 'nm', 1, 100, NULL, NULL, NULL)")
            doc = cur.fetchone()[0]
        return len(json.loads(doc)) == 2
    wait_for(both_rows, 20, "the mark to reach the standby")


def test_gateway_reads_its_own_writes_through_a_standby(cluster, logdir):
    primary, standbys = node_ports()
    read_url = "postgresql://%s@127.0.0.1:%s/eventodb" % (HA_USER, standbys[0])
    gw = start_gateway("ha-reads", ["serve", "--port={port}", "--db-url=" + ha("url"),
                                    "--read-db-url=" + read_url, "--token=" + DEFAULT_TOKEN], logdir)
    try:
        for i in range(200):
            stream = "ryw-%d" % (i % 7)
            mid = str(uuid.uuid4())
            gw.ok("stream.write", stream, {"type": "T", "data": {"i": i}}, {"id": mid})
            if i % 2 == 0:
                got = gw.ok("stream.get", stream, {"position": 0, "batchSize": 1000})
            else:
                got = gw.ok("category.get", "ryw", {"position": 1, "batchSize": -1})
            assert mid in [m[0] for m in got], "write %d not read back right after it (%s)" % (i, stream)
        # Once the standby has replayed, reads are served there.
        wait_for(lambda: replayed(primary, standbys[0]), 20, "the standby to replay")
        with connect(standbys[0]) as s, s.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'eventodb'")
            assert cur.fetchone()[0] >= 1, "the gateway holds no connection to the standby"
        before = standby_reads(standbys[0])
        for _ in range(20):
            gw.ok("stream.get", "ryw-0", {"position": 0, "batchSize": 10})
        # the counters are flushed about once a second
        wait_for(lambda: standby_reads(standbys[0]) >= before + 20, 10, "reads counted on the standby")
    finally:
        gw.stop()


def standby_reads(port):
    """Transactions committed in database eventodb on a standby: read-only
    statements there are the gateway's reads."""
    with connect(port) as c, c.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = 'eventodb'")
        return cur.fetchone()[0]
