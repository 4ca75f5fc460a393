"""High availability (docs/high-availability.md): a gateway on the multi-host
URL of scripts/ha.sh's Patroni cluster (three PostgreSQL nodes, synchronous
replication) survives the loss of the primary's node.

Writers go through HTTP the whole time and record what was acknowledged; the
leader's Patroni and postmaster are killed with SIGKILL; once the synchronous
standby is promoted the test proves: every acknowledged write is present
exactly once at its acknowledged positions, stream positions are dense, writes
resume through the same gateway, a request caught by the failover got a
retryable error (500 BACKEND_ERROR or 503 SERVER_BUSY, nothing else, no hang),
an SSE subscriber opened before the kill was poked for every acknowledged
write (those after the failover included: the poke worker runs on the new
primary), and a persistent subscription created before the kill hands out
every acknowledged write, those after the failover included.

HA_TEST_FAILOVERS=N repeats the kill N times (the long form; default 1);
HA_TEST_FAULT=switchover makes it a planned switchover instead, =postmaster
kills only the leader's postmaster, =standby the synchronous standby's node.
The cluster runs on free ports of its own in .ha-test/<pid>/, so neither a
developer's `scripts/ha.sh up` nor another run of this test is touched.
"""
import http.client
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
import zlib

import psycopg2
import pytest

from conftest import start_gateway
from harness import DEFAULT_TOKEN, dumps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HA = os.path.join(ROOT, "scripts", "ha.sh")
FAILOVERS = int(os.environ.get("HA_TEST_FAILOVERS", "1"))
# "kill": the leader's node is lost (Patroni and postmaster); "switchover": a
# planned one; "postmaster": only the leader's postmaster is killed (Patroni
# restarts it in place); "standby": the synchronous standby's node is lost
FAULT = os.environ.get("HA_TEST_FAULT", "kill")
NEW_LEADER = FAULT in ("kill", "switchover")
WRITERS = 4
CATEGORY = "haacct"
# the server user and the login of the URL (scripts/ha.sh's rule)
HA_USER = (os.environ.get("EVENTODB_PG_USER", "postgres") if os.getuid() == 0
           else pwd.getpwuid(os.getuid()).pw_name)


def free_ports(n):
    """n ports free right now, below the kernel's ephemeral range (where an
    outgoing connection could take one before the server binds it), so that
    several checkouts can run this test at once."""
    rng = random.Random()
    ports = []
    while len(ports) < n:
        p = rng.randrange(20000, 25000)
        if p in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        ports.append(p)
    return [str(p) for p in ports]


def ha_base():
    """.ha-test/ in the project, unless the server user cannot reach it (a
    checkout under a private home, run as root): then under /var/tmp, as
    scripts/ha.sh and cluster.sh do for their own folders."""
    d = os.path.join(ROOT, ".ha-test")
    if os.getuid() == 0 and subprocess.run(["runuser", "-u", HA_USER, "--", "test", "-x", ROOT]).returncode:
        d = "/var/tmp/eventodb-ha-test-%d" % zlib.crc32(ROOT.encode())
    return d


HA_BASE = ha_base()


def remove_stale_clusters():
    """Clusters of runs that died before their teardown: one folder per run,
    named after its pid, so two runs of one checkout never share one."""
    if not os.path.isdir(HA_BASE):
        return
    for name in os.listdir(HA_BASE):
        if name.isdigit() and int(name) != os.getpid() and not os.path.exists("/proc/" + name):
            subprocess.run([HA, "destroy"], env=dict(os.environ, HA_DIR=os.path.join(HA_BASE, name)),
                           capture_output=True, timeout=120)


def ports_env():
    p = free_ports(8)
    return dict(HA_PG_PORTS=" ".join(p[0:3]), HA_REST_PORTS=" ".join(p[3:6]),
                HA_ETCD_PORT=p[6], HA_ETCD_PEER_PORT=p[7])


HA_ENV = dict(os.environ, HA_DIR=os.path.join(HA_BASE, str(os.getpid())), HA_SCOPE="eventodb-ha-test", **ports_env())


def ha(*args, timeout=150, check=True):
    r = subprocess.run([HA, *args], env=HA_ENV, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("ha.sh %s failed (%d):\n%s\n%s" % (args, r.returncode, r.stdout, r.stderr))
    return r.stdout.strip()


@pytest.fixture(scope="module")
def cluster():
    if not (shutil.which("patroni") and shutil.which("etcd")):
        r = subprocess.run([os.path.join(ROOT, "scripts", "deps.sh"), "--ha"],
                           capture_output=True, text=True, timeout=600)
        if not (shutil.which("patroni") and shutil.which("etcd")):
            pytest.skip("patroni/etcd could not be installed: " + r.stderr[-500:])
    remove_stale_clusters()
    os.makedirs(HA_BASE, exist_ok=True)
    if os.getuid() == 0:
        shutil.chown(HA_BASE, HA_USER)
    try:
        try:
            ha("up")
        except AssertionError as first:
            # Once more on other ports: one may have been taken since it was
            # picked (another test's server, an outgoing connection).
            print("HA cluster did not come up, retrying on other ports:", first)
            ha("destroy")
            HA_ENV.update(ports_env())
            # a slow machine (late in a full suite) may need longer the second time
            ha("up", timeout=300)
        yield
    finally:
        ha("destroy", check=False)


class Writer(threading.Thread):
    """Writes to streams of its own over one keep-alive connection, recording
    (time sent, time answered, stream, id, status, body) for every request."""

    def __init__(self, gw, n, stop):
        super().__init__(daemon=True)
        self.gw, self.n, self.stop = gw, n, stop
        self.records = []
        self.conn = None

    def post(self, body):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.gw.host, self.gw.port, timeout=40)
        try:
            self.conn.request("POST", "/rpc", body=body,
                              headers={"Authorization": "Bearer " + DEFAULT_TOKEN})
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            self.conn = None
            return None, repr(e).encode()

    def run(self):
        i = 0
        while not self.stop.is_set():
            stream = "%s-w%d" % (CATEGORY, self.n)
            mid = str(uuid.uuid4())
            body = dumps(["stream.write", stream, {"type": "T", "data": {"i": i}}, {"id": mid}])
            t0 = time.monotonic()
            status, answer = self.post(body)
            self.records.append((t0, time.monotonic(), stream, mid, status, answer))
            i += 1
            if status != 200:
                time.sleep(0.05)


class Prober(threading.Thread):
    """Polls /health and /ready, recording (time, path, status, body)."""

    def __init__(self, gw, stop):
        super().__init__(daemon=True)
        self.gw, self.stop = gw, stop
        self.seen = []

    def run(self):
        while not self.stop.is_set():
            for path in ("/health", "/ready"):
                try:
                    r = self.gw.request("GET", path, timeout=20)
                    self.seen.append((time.monotonic(), path, r.status, r.body))
                except OSError as e:
                    self.seen.append((time.monotonic(), path, None, repr(e).encode()))
            time.sleep(0.1)


class StandbyPager(threading.Thread):
    """Pages the category on the synchronous standby (message_store's
    get_category_messages, from the last global position + 1), across the
    failover: the standby's reads stay below the primary's published read
    mark, and after its promotion below its own horizon. Reconnects when
    its connection breaks. Pinned to the synchronous standby because an
    asynchronous one may have replayed a commit the new primary never got."""

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.seen = []
        self.reads = 0
        self.target = None

    def run(self):
        conn = None
        while True:
            if self.stop.is_set() and self.target is not None and self.seen and self.seen[-1] >= self.target:
                break
            try:
                if conn is None:
                    conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=HA_USER,
                                            dbname="eventodb", connect_timeout=3)
                    conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT global_position FROM message_store.get_category_messages(%s, %s, %s)",
                                (CATEGORY, self.seen[-1] + 1 if self.seen else 1, random.randrange(1, 50)))
                    self.seen += [r[0] for r in cur.fetchall()]
                self.reads += 1
                time.sleep(0.002)
            except psycopg2.Error:
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.2)
        if conn is not None:
            conn.close()


def acked(records):
    out = []
    for (t0, t1, stream, mid, status, body) in records:
        if status == 200:
            doc = json.loads(body)
            out.append((t0, t1, stream, mid, doc["position"], doc["globalPosition"]))
    return out


def switchover(leader):
    """A planned switchover through Patroni's REST API (the leader's node)."""
    names = ["node%d" % (i + 1) for i in range(3)]
    port = HA_ENV["HA_REST_PORTS"].split()[names.index(leader)]
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    conn.request("POST", "/switchover", body=json.dumps({"leader": leader}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 200, (r.status, body)


def kill_leader():
    leader = ha("leader")
    assert leader, "no leader before the kill"
    if FAULT == "switchover":
        t = time.monotonic()
        switchover(leader)
        return leader, t
    victim = leader
    if FAULT == "standby":
        victim = sync_standby()
    pids = {line.split()[0]: line.split()[1:] for line in ha("pids").splitlines()}
    patroni_pid, postmaster_pid = (int(p) for p in pids[victim][:2])
    if FAULT != "postmaster":
        # The whole node goes: Patroni first, so it cannot restart its postmaster.
        os.kill(patroni_pid, signal.SIGKILL)
    os.kill(postmaster_pid, signal.SIGKILL)
    return leader, time.monotonic()


def sync_standby():
    out = ha("status")
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[3] == "Sync Standby":
            return cells[1]
    raise AssertionError("no synchronous standby:\n" + out)


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def test_failover_loses_no_acknowledged_write(cluster, logdir):
    url = ha("url")
    gw = start_gateway("ha", ["serve", "--port={port}", "--db-url=" + url,
                              "--token=" + DEFAULT_TOKEN], logdir)
    try:
        run_failovers(gw)
    finally:
        gw.stop()


def run_failovers(gw):
    gw.ok("subscription.create", "ha-sub", CATEGORY, {"strategy": "roundRobin", "maxInFlight": 1000})
    probe_standbys()
    probed = time.monotonic()
    sse = gw.subscribe("category=%s&position=0" % CATEGORY, timeout=10)
    sse.wait_ready()
    stop = threading.Event()
    writers = [Writer(gw, n, stop) for n in range(WRITERS)]
    for w in writers:
        w.start()
    prober = Prober(gw, stop)
    prober.start()
    # A standby reader across one failover (its node must survive it).
    pager = None
    if FAILOVERS == 1 and FAULT != "standby":
        names = ["node%d" % (i + 1) for i in range(3)]
        pager = StandbyPager(HA_ENV["HA_PG_PORTS"].split()[names.index(sync_standby())], stop)
        pager.start()
    recoveries = []
    try:
        wait_for(lambda: sum(len(acked(w.records)) for w in writers) >= 50, 30, "writes before the kill")
        for _ in range(FAILOVERS):
            # a second probe past the poke queue's 10 s start timeout
            wait_for(lambda: time.monotonic() > probed + 10.5, 20, "the probe interval")
            probe_standbys()
            probed = time.monotonic()
            old, t_kill = kill_leader()
            new = wait_for(lambda: (lambda l: l if l and (l != old or not NEW_LEADER) else None)(
                ha("leader", check=False)), 60, "a leader")
            # Writes resume on the new primary: every writer gets 20 in a row.
            wait_for(lambda: all(len(w.records) >= 20 and w.records[-1][0] > t_kill and
                                 all(r[4] == 200 for r in w.records[-20:]) for w in writers),
                     60, "writes to succeed again")
            failed = [r[1] for w in writers for r in w.records if r[0] > t_kill and r[4] != 200]
            last_fail = max(failed, default=t_kill)
            first_ok = min(r[1] for w in writers for r in w.records if r[0] > last_fail and r[4] == 200)
            recoveries.append(first_ok - t_kill)
            print("failover %s -> %s: %d writes failed, writes served again %.2f s after the kill"
                  % (old, new, len(failed), first_ok - t_kill))
            # the lost node comes back as a replica, so the next kill has a sync standby
            if FAILOVERS > 1:
                ha("up")
    finally:
        stop.set()
        for w in writers:
            w.join(60)
        prober.join(60)
    records = [r for w in writers for r in w.records]
    ok = acked(records)
    after = [a for a in ok if a[0] > t_kill]
    print("writes: %d acknowledged, %d failed, %d after the last kill; recovery %s s"
          % (len(ok), len(records) - len(ok), len(after), ["%.2f" % r for r in recoveries]))

    check_errors(records)
    check_health_and_ready(prober.seen, t_kill)
    check_poke_workers()
    check_acknowledged_writes(gw, ok)
    check_sse_pokes(sse, ok)
    sse.close()
    check_subscription_fetch(gw, ok, after)
    if pager is not None:
        check_standby_pager(pager)


def check_errors(records):
    """A write caught by the failover failed with a retryable error, in time."""
    for (t0, t1, stream, mid, status, body) in records:
        assert t1 - t0 < 35, "a request took %.1f s" % (t1 - t0)
        if status == 200:
            continue
        assert status in (500, 503), (status, body)
        code = json.loads(body)["error"]["code"]
        assert (status, code) in ((500, "BACKEND_ERROR"), (503, "SERVER_BUSY")), body


def check_health_and_ready(seen, t_kill):
    """/health is docs/http-api.md#health-readiness-version-metrics-console's liveness answer throughout; /ready said
    the database was out of reach during the failover and is back after."""
    health = [s for s in seen if s[1] == "/health"]
    ready = [s for s in seen if s[1] == "/ready"]
    assert health and all(s[2] == 200 and s[3] == b'{"status":"ok"}' for s in health), health[:5]
    down = [s for s in ready if s[2] != 200]
    assert all(s[2] == 503 and json.loads(s[3])["database"] == "unreachable" for s in down), down[:5]
    if FAULT != "standby":
        assert any(s[0] > t_kill for s in down), "/ready never reported the failover"
    assert ready[-1][2] == 200 and json.loads(ready[-1][3]) == {"status": "ok", "database": "reachable"}


def node_connections():
    """(port, connection) of every node that answers."""
    for port in HA_ENV["HA_PG_PORTS"].split():
        try:
            conn = psycopg2.connect(host="127.0.0.1", port=port, user=HA_USER, dbname="eventodb",
                                    connect_timeout=3)
        except psycopg2.OperationalError:
            continue            # the killed node
        conn.autocommit = True
        yield port, conn
        conn.close()


def probe_standbys():
    """eventodb.write_mode() on every standby, as a monitoring probe would.
    It once registered a poke worker there that started at the promotion,
    one more per call 10 s apart, beside the one of the first write."""
    for port, conn in node_connections():
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery(), eventodb.write_mode()")
            assert cur.fetchone()[1] == "horizon"


def check_poke_workers():
    """The poke worker runs on the new primary (started by its first write
    after the promotion) and on no standby."""
    primaries = 0
    for port, conn in node_connections():
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery(), count(*) FILTER (WHERE backend_type = "
                        "'eventodb poke worker') FROM pg_stat_activity")
            standby, workers = cur.fetchone()
        if standby:
            assert workers == 0, "a poke worker runs on the standby on port %s" % port
        else:
            primaries += 1
            assert workers == 1, "no poke worker on the primary on port %s" % port
    assert primaries == 1


def check_acknowledged_writes(gw, ok):
    by_stream = {}
    for a in ok:
        by_stream.setdefault(a[2], []).append(a)
    for stream, writes in by_stream.items():
        msgs = gw.ok("stream.get", stream, {"batchSize": -1})
        positions = [m[2] for m in msgs]
        assert positions == list(range(len(msgs))), "positions of %s not dense" % stream
        by_id = {}
        for m in msgs:
            by_id.setdefault(m[0], []).append(m)
        for (_, _, _, mid, pos, gpos) in writes:
            assert mid in by_id, "acknowledged write %s (%s@%d) lost" % (mid, stream, pos)
            [m] = by_id[mid]
            assert (m[2], m[3]) == (pos, gpos), "write %s moved: %r vs %r" % (mid, m, (pos, gpos))
        assert all(len(v) == 1 for v in by_id.values()), "duplicated message in %s" % stream


def check_standby_pager(pager):
    """The reader that started on the standby saw exactly the category's
    committed messages, in order: nothing skipped before, during or after
    the failover."""
    for port, conn in node_connections():
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            if cur.fetchone()[0]:
                continue
            cur.execute("SELECT global_position FROM message_store.messages"
                        " WHERE message_store.category(stream_name) = %s ORDER BY 1", (CATEGORY,))
            final = [r[0] for r in cur.fetchall()]
    pager.target = final[-1]
    pager.join(60)
    assert not pager.is_alive(), "the standby reader never reached the last message (%s of %s)" % (
        pager.seen[-1] if pager.seen else None, final[-1])
    missing = sorted(set(final) - set(pager.seen))
    assert not missing, "the standby reader skipped %d messages, first %s" % (len(missing), missing[:10])
    assert pager.seen == final, "the standby reader read out of order, twice or rolled-back rows"
    print("standby reader: %d reads, %d messages, none skipped" % (pager.reads, len(final)))


def check_sse_pokes(sse, ok):
    want = {a[5] for a in ok}

    def got_all(s):
        return want <= {p["globalPosition"] for p in s.pokes()}

    assert sse.read_until(got_all, timeout=30), \
        "SSE subscriber missed %d of %d acknowledged writes (ended=%s)" % (
            len(want - {p["globalPosition"] for p in sse.pokes()}), len(want), sse.ended)


def check_subscription_fetch(gw, ok, after):
    """The subscription created before the kill hands out every acknowledged
    write, those after the failover included."""
    assert after
    want = {a[5] for a in ok}
    seen = set()
    deadline = time.monotonic() + 60
    while not want <= seen and time.monotonic() < deadline:
        ds = gw.ok("subscription.fetch", "ha-sub", "c1", {"max": 1000})
        if not ds:
            time.sleep(0.1)
            continue
        seen |= {d["message"][4] for d in ds}
        gw.ok("subscription.ack", "ha-sub", [d["deliveryId"] for d in ds])
    assert want <= seen, "persistent subscription missed %d acknowledged writes (%d after the failover)" % (
        len(want - seen), len({a[5] for a in after} - seen))
