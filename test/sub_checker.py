#!/usr/bin/python3
"""Checker of persistent subscriptions (docs: docs/subscriptions.md#how-messages-are-handed-out).

Runs against the cluster named by PGHOST/PGPORT/PGUSER - a private, throw-away
one (scripts/check/sub-checker.sh makes it), because it kills PostgreSQL:

  writers    processes writing into many streams of three categories of the
             default namespace (message_store.write_message and
             eventodb.stream_write), 1-3 messages per transaction, types A/B
             and C (C is outside the subscriptions' types), ~2 % "poison"
             messages, random delays before commit (positions commit out of
             order), ~10 % rollbacks; some writes go to a second namespace
             that no subscription may ever deliver;
  consumers  several competing consumers on each of two subscriptions -
             'pin' (pinned, the whole namespace, types A and B) and 'rr'
             (roundRobin, category acct) - over SQL (eventodb.subscription_*)
             or, with --http, mostly over the gateway's RPC (subscription.fetch
             with and without waitMs, .ack, .nack). At random they ack, ack in
             batches, nack retry / park / skip, drop deliveries (lease expiry),
             ack late (after the lease) and ack twice; poison messages are
             always nacked retry or dropped, so they must end parked by
             maxDeliveries. Consumers "crash" at random (exit holding
             deliveries, or are killed -9 by the orchestrator) and new
             consumer processes with new ids take over;
  faults     kill -9 of the PostgreSQL postmaster and a restart in the middle;
             with --http also kill -9 of the gateway and a restart.

Every consumer appends each call to its own log before it is made (start time,
what) and after its answer (end time, result), unbuffered, so a killed
consumer's log says exactly which calls have an unknown outcome. After the
load a final consumer drains each subscription (until lag and inFlight are 0).

Proved from the logs and the tables (any violation fails the run):

  content    every delivered message is a committed source message of its
             subscription (its global position exists in the default
             namespace, same id, stream, type, position and data; category and
             type match; never a rolled-back write, never another namespace's)
             and was not delivered before its writer started to commit it;
             delivery ids are never handed out twice;
  G1/G2      every committed source message was delivered, and at the end is
             completed or parked - nothing lost, nothing left pending;
  G8         no message is completed (ack, nack skip, nack park) successfully
             more than once; a message completed with no successful or
             unanswered completing call of ours, or parked by maxDeliveries
             after one, is a violation; an ack that started after the lease
             certainly ended must not succeed; a second ack of one delivery
             must not succeed;
  parking    nack park -> parked with that call's reason; poison messages end
             parked with reason maxDeliveries after exactly maxDeliveries
             attempts; subscription_parked agrees with the table; nothing else
             is parked;
  G3         per message, the attempts seen are strictly increasing in delivery
             order, starting at 1 and without gaps, except where a fetch whose
             answer was lost (fault) could have made the missing deliveries;
  G4         a redelivery is never made before the previous delivery's lease
             certainly ended (delivery start + ackTimeoutMs) unless a nack retry
             of it had been sent; a message completed for certain is never
             delivered again;
  G5         pinned: a delivery of stream S at position p is never made (its
             fetch answered) before every lower source message of S could have
             been completed (earliest completing call start or parked_at);
  drained    after draining, info shows lag 0 and inFlight 0 and the pending
             table is empty.

Exit status 0 when every check passes. Usage:
  sub_checker.py [--seconds N] [--writers N] [--consumers N] [--http --gateway-bin B]
                 [--pg-kills N --cluster-sh S --data-dir D] [--gw-kills N]
                 [--consumer-kills N] [--seed N] [--keep] [--sabotage K,...]

--sabotage (the checker's self-test, any cluster, no kills needed) breaks
guarantees behind the server's back - leases ended early, read_pos moved
ahead, pending rows deleted, the pinned subscription switched to roundRobin,
parked messages replayed - and each must make the run fail with its message.
"""
import argparse
import datetime
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import psycopg2
import psycopg2.extras

DB = "eventodb_subchk_%d" % os.getpid()
TOKEN = "ns_ZGVmYXVsdA_" + "0" * 64
OTHER_NS = "other"
CATEGORIES = ["acct", "ship", "bill"]
STREAMS_PER_CATEGORY = 25
EPS = 0.003                   # seconds: float rounding between the two clocks' readings
SUBS = {
    # name: (category, options)
    "pin": ("", {"strategy": "pinned", "types": ["A", "B"], "maxInFlight": 20}),
    "rr": ("acct", {"strategy": "roundRobin", "maxInFlight": 40}),
}


def connect(autocommit=True):
    c = psycopg2.connect(dbname=DB, connect_timeout=5)
    c.autocommit = autocommit
    return c


def q(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


def category_of(stream):
    return stream.split("-", 1)[0]


def is_connection_error(e):
    return isinstance(e, (psycopg2.OperationalError, psycopg2.InterfaceError)) or \
        (isinstance(e, psycopg2.Error) and e.pgcode is not None and e.pgcode[:2] in ("57", "08"))


# ---------------------------------------------------------------- writers

def writer(idx, deadline, seed, out):
    rnd = random.Random(seed * 1000 + idx)
    conn = None
    log = []
    errors = []
    k = 0
    while time.time() < deadline:
        if conn is None:
            try:
                conn = connect(autocommit=False)
            except psycopg2.Error:
                time.sleep(0.1)
                continue
        txn = []
        try:
            for _ in range(rnd.choice([1, 1, 1, 2, 3])):
                k += 1
                ns = OTHER_NS if rnd.random() < 0.08 else "default"
                stream = "%s-%d" % (rnd.choice(CATEGORIES), rnd.randrange(STREAMS_PER_CATEGORY))
                typ = rnd.choice("AAAABBBBC")
                data = {"w": idx, "k": k}
                if rnd.random() < 0.02:
                    data["poison"] = True
                mid = str(uuid.uuid4())
                if ns == "default" and rnd.random() < 0.5:
                    q(conn, "SELECT message_store.write_message(%s, %s, %s, %s::jsonb)",
                      mid, stream, typ, json.dumps(data))
                else:
                    q(conn, "SELECT eventodb.stream_write(%s, %s, %s, %s::jsonb, NULL, %s, NULL)",
                      ns, stream, typ, json.dumps(data), mid)
                txn.append({"id": mid, "ns": ns, "stream": stream})
            r = rnd.random()
            time.sleep(0.05 if r < 0.03 else rnd.random() * 0.008)
            if rnd.random() < 0.1:
                conn.rollback()
                continue
            t0 = time.time()
            for rec in txn:
                rec["t0"] = t0
            log.extend(txn)
            conn.commit()
        except psycopg2.Error as e:
            if not is_connection_error(e):
                errors.append("%s %s" % (e.pgcode, (e.pgerror or str(e)).strip()))
            try:
                conn.close()
            except psycopg2.Error:
                pass
            conn = None
            time.sleep(0.05)
    if conn is not None:
        conn.close()
    with open(out, "w") as f:
        json.dump({"log": log, "errors": errors}, f)


# ---------------------------------------------------------------- consumers

class Unknown(Exception):
    """The call's outcome is unknown (connection lost, gateway or server down)."""


class Expired(Exception):
    def __init__(self, ids):
        Exception.__init__(self, "expired %s" % ids)
        self.ids = ids


class SqlFace:
    def __init__(self):
        self.conn = None

    def _c(self):
        if self.conn is None:
            try:
                self.conn = connect()
            except psycopg2.Error as e:
                raise Unknown(str(e))
        return self.conn

    def _run(self, sql, *args):
        c = self._c()
        try:
            return q(c, sql, *args)
        except psycopg2.Error as e:
            if e.pgcode == "EV012":
                detail = json.loads(e.diag.message_detail or "{}")
                raise Expired(detail.get("deliveryIds", []))
            try:
                c.close()
            except psycopg2.Error:
                pass
            self.conn = None
            if is_connection_error(e):
                raise Unknown("%s %s" % (e.pgcode, str(e).strip()[:200]))
            raise

    def fetch(self, sub, consumer, n, wait_ms):
        rows = self._run("SELECT delivery_id, attempt, id, stream_name, type, position, global_position,"
                         " data FROM eventodb.subscription_fetch('default', %s, %s, %s)", sub, consumer, n)
        return [{"d": r[0], "a": r[1], "id": r[2], "s": r[3], "ty": r[4], "p": r[5], "g": r[6],
                 "data": r[7]} for r in rows]

    def settle(self, sub, kind, ids, reason):
        if kind == "ack":
            return self._run("SELECT eventodb.subscription_ack('default', %s, %s)", sub, ids)[0][0]
        return self._run("SELECT eventodb.subscription_nack('default', %s, %s, %s, %s)",
                         sub, ids, kind, reason)[0][0]

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass


class HttpFace:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def _rpc(self, body, timeout):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        self.conn.timeout = timeout
        try:
            if self.conn.sock is not None:
                self.conn.sock.settimeout(timeout)
            self.conn.request("POST", "/rpc", body=json.dumps(body),
                              headers={"Authorization": "Bearer " + TOKEN,
                                       "Content-Type": "application/json"})
            r = self.conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            self.conn = None
            raise Unknown("http: %r" % e)
        if r.status == 200:
            return json.loads(data)
        try:
            err = json.loads(data)["error"]
        except (ValueError, KeyError, TypeError):
            err = {"code": "?", "message": data[:200]}
        if r.status == 409 and err.get("code") == "DELIVERY_EXPIRED":
            raise Expired(err["details"]["deliveryIds"])
        if r.status >= 500:
            raise Unknown("http %d %s" % (r.status, err))
        raise RuntimeError("http %d %s" % (r.status, err))

    def fetch(self, sub, consumer, n, wait_ms):
        out = self._rpc(["subscription.fetch", sub, consumer, {"max": n, "waitMs": wait_ms}],
                        timeout=wait_ms / 1000 + 10)
        res = []
        for d in out:
            m = d["message"]
            res.append({"d": d["deliveryId"], "a": d["attempt"], "id": m[0], "s": m[1], "ty": m[2],
                        "p": m[3], "g": m[4], "data": m[5]})
        return res

    def settle(self, sub, kind, ids, reason):
        if kind == "ack":
            return self._rpc(["subscription.ack", sub, ids], 10)["acked"]
        opts = {"action": kind}
        if reason is not None:
            opts["reason"] = reason
        return self._rpc(["subscription.nack", sub, ids, opts], 10)["nacked"]

    def close(self):
        if self.conn is not None:
            self.conn.close()


class Log:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.n = 0

    def call(self, **rec):
        """Logs a call before it is made; returns its number."""
        self.n += 1
        rec["c"] = self.n
        rec["t"] = time.time()
        os.write(self.fd, (json.dumps(rec, separators=(",", ":")) + "\n").encode())
        return self.n

    def put(self, **rec):
        rec["t"] = time.time()
        os.write(self.fd, (json.dumps(rec, separators=(",", ":")) + "\n").encode())


def consumer(sub, cid, face_kind, port, seed, path, stop, ack_timeout, drain=False, drain_limit=60):
    """One consumer process (or the final drain, in the orchestrator). Returns
    True when a drain finished."""
    rnd = random.Random(seed)
    face = HttpFace(port) if face_kind == "http" else SqlFace()
    log = Log(path)
    log.put(e="start", sub=sub, cid=cid, face=face_kind, drain=drain)
    T = ack_timeout / 1000.0
    held = []          # [delivery, due time, kind]  (kind: ack / late / double)
    batch = []         # deliveries to ack together
    batch_due = 0.0
    batch_max = 100
    crash_at = None if drain else (time.time() + rnd.uniform(1.0, 15.0) if rnd.random() < 0.5 else None)
    end = time.time() + drain_limit if drain else None
    idle = 0
    parent = os.getppid()

    def settle(kind, ds, reason=None):
        ids = [d["d"] for d in ds]
        c = log.call(e="s0", k=kind, ids=ids, reason=reason)
        try:
            n = face.settle(sub, kind, ids, reason)
            log.put(e="s1", c=c, n=n)
            return True, []
        except Expired as x:
            log.put(e="sx", c=c, bad=x.ids)
            return False, x.ids
        except Unknown as x:
            log.put(e="su", c=c, err=str(x)[:200])
            time.sleep(0.05)
            return None, []
        except Exception as x:   # noqa: BLE001 - logged as a failure
            log.put(e="serr", c=c, err=repr(x)[:300])
            return None, []

    def flush_batch():
        nonlocal batch
        if not batch:
            return
        ok, bad = settle("ack", batch)
        if ok is False:
            rest = [d for d in batch if d["d"] not in bad]
            if rest:
                settle("ack", rest)
        batch = []

    while True:
        now = time.time()
        if drain:
            if now > end:
                log.put(e="drain_timeout")
                face.close()
                return False
        elif stop.is_set():
            break
        elif os.getppid() != parent:
            os._exit(1)             # the orchestrator died
        if crash_at is not None and now > crash_at:
            log.put(e="crash", held=len(held), batch=len(batch))
            os._exit(0)
        # What is due: late acks, double acks, the batch.
        for h in [h for h in held if h[1] <= now]:
            held.remove(h)
            d, _, kind = h
            ok, _ = settle("ack", [d])
            if kind == "double" and ok:
                settle("ack", [d])
        if batch and (len(batch) >= batch_max or now >= batch_due):
            flush_batch()
        n = rnd.choice([1, 5, 10, 20, 50]) if not drain else 100
        wait = rnd.choice([0, 0, 100, 300]) if face_kind == "http" and not drain else 0
        c = log.call(e="f0", n=n, w=wait)
        try:
            got = face.fetch(sub, cid, n, wait)
        except Unknown as x:
            log.put(e="fu", c=c, err=str(x)[:200])
            time.sleep(0.1)
            continue
        except Exception as x:   # noqa: BLE001
            log.put(e="ferr", c=c, err=repr(x)[:300])
            time.sleep(0.1)
            continue
        log.put(e="f1", c=c, d=got)
        if not got:
            if drain:
                flush_batch()
                idle += 1
                if idle % 5 == 0:
                    try:
                        info = json.loads(q(connect_once(), "SELECT eventodb.subscription_get('default', %s)",
                                            sub)[0][0])
                    except psycopg2.Error:
                        info = None
                    if info and info["lag"] == 0 and info["inFlight"] == 0:
                        log.put(e="drained", info=info)
                        face.close()
                        return True
            time.sleep(0.02 if wait == 0 else 0)
            continue
        idle = 0
        for d in got:
            poison = isinstance(d["data"], dict) and d["data"].get("poison")
            if drain:
                if poison:
                    settle("retry", [d])
                else:
                    if not batch:
                        batch_due = time.time() + 0.05
                    batch.append(d)
                    batch_max = 100
                continue
            r = rnd.random()
            if poison:
                if r < 0.7:
                    settle("retry", [d])
                # else dropped: its lease expires
            elif r < 0.35:
                settle("ack", [d])
            elif r < 0.70:
                if not batch:
                    batch_due = time.time() + rnd.uniform(0.0, 0.2)
                    batch_max = rnd.choice([2, 5, 20, 100])
                batch.append(d)
            elif r < 0.75:
                settle("retry", [d])
            elif r < 0.79:
                settle("park", [d], "chk:" + d["d"])
            elif r < 0.83:
                settle("skip", [d])
            elif r < 0.89:
                pass                                   # dropped: the lease expires
            elif r < 0.92:
                held.append([d, time.time() + T + rnd.uniform(0.05, 0.2), "late"])
            elif r < 0.95:
                held.append([d, time.time() + rnd.uniform(0, T / 3), "double"])
            else:
                held.append([d, time.time() + rnd.uniform(0, T / 3), "ack"])
    # Stopped: what is in hand is left to expire (like a crash), except the
    # batch, which is acked as a well-behaved consumer would.
    flush_batch()
    log.put(e="stop", held=len(held))
    face.close()
    return True


_once = None


def connect_once():
    global _once
    if _once is None or _once.closed:
        _once = connect()
    return _once


def consumer_proc(*a):
    try:
        consumer(*a)
    except KeyboardInterrupt:
        pass
    os._exit(0)


# ---------------------------------------------------------------- faults

def library_digest():
    """The installed eventodb.so (other work on the machine may reinstall it
    between two starts of the server): a short digest and its mtime."""
    import hashlib
    try:
        d = subprocess.run(["pg_config", "--pkglibdir"], capture_output=True, text=True).stdout.strip()
        path = os.path.join(d, "eventodb.so")
        return "%s@%s" % (hashlib.md5(open(path, "rb").read()).hexdigest()[:10],
                          time.strftime("%H:%M:%S", time.gmtime(os.path.getmtime(path))))
    except OSError:
        return "?"


def preloaded():
    c = connect()
    try:
        return "eventodb" in q(c, "SHOW shared_preload_libraries")[0][0]
    finally:
        c.close()


class Cluster:
    def __init__(self, cluster_sh, data_dir):
        self.sh = cluster_sh
        self.data = data_dir

    def kill(self):
        pm = int(open(os.path.join(self.data, "postmaster.pid")).readline())
        os.kill(pm, signal.SIGKILL)
        while True:
            try:
                os.kill(pm, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)

    def start(self):
        deadline = time.time() + 90
        self.tries = 0
        so = os.path.join(subprocess.run(["pg_config", "--pkglibdir"], capture_output=True,
                                         text=True).stdout.strip(), "eventodb.so")
        while True:
            # cluster.sh starts without preloading when the library is missing
            # (another session's make install in progress): wait for it.
            while not os.path.exists(so) and time.time() < deadline:
                time.sleep(0.2)
            self.tries += 1
            r = subprocess.run([self.sh, "start"], capture_output=True, text=True)
            if r.returncode == 0:
                return
            if time.time() > deadline:
                raise RuntimeError("PostgreSQL did not restart: " + r.stderr[-2000:])
            time.sleep(0.2)


class Gateway:
    def __init__(self, binary, logdir):
        self.bin = binary
        self.port = free_port()
        self.log = os.path.join(logdir, "gateway.log")
        self.proc = None

    def start(self):
        url = "postgresql://%s@/%s?host=%s&port=%s" % (os.environ.get("PGUSER", ""), DB,
                                                       os.environ["PGHOST"], os.environ["PGPORT"])
        self.proc = subprocess.Popen([self.bin, "serve", "--port=%d" % self.port, "--db-url=" + url,
                                      "--token=" + TOKEN, "--log-level=warn"],
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("gateway exited: " + open(self.log).read()[-2000:])
            time.sleep(0.1)
        raise RuntimeError("gateway not healthy")

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---------------------------------------------------------------- sabotage

# The checker's self-test: each breaks one guarantee behind the server's back
# (or through an API the checker does not expect consumers to use), and the
# run must then fail with a message matching the regex. test/test_sub_checker.py runs it.
SABOTAGE = {
    "lease": "G4:",                                         # leases end early
    "skip": r"was never delivered \(lost\)",                # read_pos jumps ahead
    "complete": "completed without any completing call",    # pending rows vanish
    "order": "G5:",                                         # pinned becomes roundRobin
    "replay": "attempt 1 after|two deliveries with attempt 1|park nack succeeded but it is not parked",
}


def sabotage(conn, kinds, rnd, progress):
    """One round of the chosen sabotages on the state tables (autocommit off)."""
    S = "eventodb_default"

    def locked(name):
        return q(conn, "SELECT id FROM %s.subscriptions WHERE name = %%s FOR UPDATE" % S, name)[0][0]
    try:
        if "lease" in kinds:
            for name in ("pin", "rr"):
                sid = locked(name)
                q(conn, "UPDATE %s.subscription_messages SET lease_until = clock_timestamp()"
                        " WHERE subscription_id = %%s AND delivery_id IS NOT NULL"
                        " AND mod(global_position, 5) = 0" % S, sid)
                conn.commit()
        if "skip" in kinds:
            sid = locked("rr")
            q(conn, "UPDATE %s.subscriptions SET read_pos = read_pos + 3 WHERE id = %%s" % S, sid)
            conn.commit()
        if "complete" in kinds:
            sid = locked("rr")
            gone = q(conn, "DELETE FROM %s.subscription_messages WHERE subscription_id = %%s"
                           " AND global_position IN (SELECT global_position FROM %s.subscription_messages"
                           "  WHERE subscription_id = %%s ORDER BY global_position LIMIT 2)"
                           " RETURNING delivery_id IS NOT NULL" % (S, S), sid, sid)
            q(conn, "UPDATE %s.subscriptions SET pending = pending - %%s, in_flight = in_flight - %%s"
                    " WHERE id = %%s" % S, len(gone), sum(1 for r in gone if r[0]), sid)
            conn.commit()
        if "order" in kinds and progress > 0.3 and not getattr(sabotage, "ordered", False):
            q(conn, "SELECT eventodb.subscription_update('default', 'pin', '{\"strategy\":\"roundRobin\"}')")
            conn.commit()
            sabotage.ordered = True
        if "order" in kinds and getattr(sabotage, "ordered", False):
            # A burst into one stream, so that it has several messages deliverable at once.
            stream = "acct-%d" % rnd.randrange(STREAMS_PER_CATEGORY)
            recs = [{"id": str(uuid.uuid4()), "ns": "default", "stream": stream} for _ in range(8)]
            for r in recs:
                q(conn, "SELECT message_store.write_message(%s, %s, 'A', '{}'::jsonb)", r["id"], stream)
            t0 = time.time()
            for r in recs:
                r["t0"] = t0
            sabotage.log.extend(recs)
            conn.commit()
        if "replay" in kinds:
            for name in ("pin", "rr"):
                q(conn, "SELECT eventodb.subscription_replay_parked('default', %s)", name)
            conn.commit()
    except psycopg2.Error:
        conn.rollback()


sabotage.log = []          # what the sabotage wrote, like a writer's log


# ---------------------------------------------------------------- verification

def load_logs(paths):
    """Per subscription: deliveries, settle calls, fetches with unknown outcome."""
    subs = {}
    problems = []
    for path in paths:
        calls = {}
        sub = None
        cid = None
        with open(path) as f:
            lines = f.read().split("\n")
        for i, line in enumerate(lines):
            if not line:
                continue
            try:
                r = json.loads(line)
            except ValueError:
                if i == len(lines) - 1 or all(not x for x in lines[i + 1:]):
                    continue        # torn last line of a killed consumer
                raise
            e = r["e"]
            if e == "start":
                sub, cid, face = r["sub"], r["cid"], r["face"]
                S = subs.setdefault(sub, {"deliveries": {}, "settles": [], "lost_fetches": [],
                                          "fetches": 0, "errors": [], "drained": None,
                                          "consumers": set(), "by_face": {}})
                S["consumers"].add(cid)
                continue
            if e in ("f0", "s0"):
                r["cid"] = cid
                calls[r["c"]] = r
                continue
            if e == "drained":
                S["drained"] = True
                continue
            if e == "drain_timeout":
                S["drained"] = False
                continue
            if e in ("crash", "stop"):
                continue
            call = calls.pop(r["c"])
            if e == "f1":
                S["fetches"] += 1
                bf = S["by_face"].setdefault(face, {"fetches": 0, "deliveries": 0})
                bf["fetches"] += 1
                bf["deliveries"] += len(r["d"])
                for d in r["d"]:
                    if d["d"] in S["deliveries"]:
                        problems.append("%s: delivery id %s handed out twice" % (sub, d["d"]))
                    d.update(fs=call["t"], fe=r["t"], cid=cid)
                    S["deliveries"][d["d"]] = d
            elif e in ("fu", "ferr"):
                S["lost_fetches"].append((call["t"], float("inf")))
                if e == "ferr":
                    S["errors"].append("fetch failed: %s" % r["err"])
            elif e == "s1":
                S["settles"].append(dict(call, out="ok", t1=r["t"], n=r["n"]))
            elif e == "sx":
                S["settles"].append(dict(call, out="expired", t1=r["t"], bad=r["bad"]))
            elif e in ("su", "serr"):
                S["settles"].append(dict(call, out="unknown", t1=float("inf")))
                if e == "serr":
                    S["errors"].append("settle failed: %s" % r["err"])
        # Calls without an answer: the consumer was killed during them.
        for c in calls.values():
            if c["e"] == "f0":
                S["lost_fetches"].append((c["t"], float("inf")))
            else:
                S["settles"].append(dict(c, out="unknown", t1=float("inf")))
    return subs, problems


def verify(subs_logs, wlogs, ack_timeout, max_deliveries):
    failures = []
    T = ack_timeout / 1000.0
    conn = connect()
    rows = {}
    for mid, stream, typ, pos, gpos, data in q(conn, "SELECT id::text, stream_name, type, position,"
                                                     " global_position, data FROM message_store.messages"):
        rows[gpos] = {"id": mid, "s": stream, "ty": typ, "p": pos, "g": gpos, "data": data}
    other_schema = q(conn, "SELECT schema_name FROM eventodb.namespaces WHERE id = %s", OTHER_NS)[0][0]
    other_ids = {r[0] for r in q(conn, "SELECT id::text FROM %s.messages"
                                 % psycopg2.extensions.quote_ident(other_schema, conn))}
    commit_start = {}
    werrors = []
    for w in wlogs:
        werrors.extend(w["errors"])
        for rec in w["log"]:
            commit_start[rec["id"]] = rec["t0"]
    if werrors:
        failures.append("writers: unexpected errors (%d): %s" % (len(werrors), werrors[:3]))
    ids_in_table = {r["id"]: g for g, r in rows.items()}
    unwritten = [i for i in ids_in_table if i not in commit_start]
    if unwritten:
        failures.append("rows no writer committed: %d" % len(unwritten))

    stats = {"messages": len(rows), "other_namespace": len(other_ids)}
    for name, (category, opts) in SUBS.items():
        S = subs_logs.get(name)
        if S is None:
            failures.append("%s: no consumer log" % name)
            continue
        fail = lambda msg: failures.append("%s: %s" % (name, msg))   # noqa: E731
        types = set(opts.get("types", []))
        pinned = opts.get("strategy") == "pinned"

        def is_source(r):
            return (category == "" or category_of(r["s"]) == category) and (not types or r["ty"] in types)
        source = {g: r for g, r in rows.items() if is_source(r)}
        parked = {g: {"attempts": a, "reason": rs, "at": at.replace(tzinfo=datetime.timezone.utc).timestamp()}
                  for g, a, rs, at in q(conn, "SELECT p.global_position, p.attempts, p.reason, p.parked_at"
                                              " FROM eventodb_default.subscription_parked p"
                                              " JOIN eventodb_default.subscriptions s ON s.id = p.subscription_id"
                                              " WHERE s.name = %s", name)}
        pending = q(conn, "SELECT m.global_position FROM eventodb_default.subscription_messages m"
                          " JOIN eventodb_default.subscriptions s ON s.id = m.subscription_id"
                          " WHERE s.name = %s", name)
        info = json.loads(q(conn, "SELECT eventodb.subscription_get('default', %s)", name)[0][0])
        fn_parked = {}
        pos = 0
        while True:
            got = q(conn, "SELECT global_position, attempts, reason, stream_name FROM"
                          " eventodb.subscription_parked('default', %s, %s, 1000)", name, pos)
            for g, a, rs, s in got:
                fn_parked[g] = (a, rs, s)
            if len(got) < 1000:
                break
            pos = got[-1][0] + 1

        if S["errors"]:
            fail("unexpected errors (%d): %s" % (len(S["errors"]), S["errors"][:3]))
        if S["drained"] is not True:
            fail("the final consumer did not drain the subscription (%s)" % S["drained"])
        if info["lag"] != 0 or info["inFlight"] != 0 or pending:
            fail("not drained: lag %d, inFlight %d, %d pending rows" % (info["lag"], info["inFlight"], len(pending)))
        if info["parked"] != len(parked):
            fail("info says %d parked, the table holds %d" % (info["parked"], len(parked)))
        if set(fn_parked) != set(parked) or any(fn_parked[g][:2] != (parked[g]["attempts"], parked[g]["reason"])
                                                for g in parked):
            fail("subscription_parked differs from the parked table")

        # Deliveries per message.
        deliveries = S["deliveries"]
        by_msg = {}
        for d in deliveries.values():
            g = d["g"]
            r = rows.get(g)
            if r is None:
                fail("delivered global position %d is not a committed message (id %s%s)"
                     % (g, d["id"], ", another namespace's" if d["id"] in other_ids else ""))
                continue
            if (d["id"], d["s"], d["ty"], d["p"], d["data"]) != (r["id"], r["s"], r["ty"], r["p"], r["data"]):
                fail("delivery %s differs from the table: %s vs %s" % (d["d"], d, r))
            if g not in source:
                fail("delivered %d which is not a source message (%s %s)" % (g, r["s"], r["ty"]))
            t0 = commit_start.get(r["id"])
            if t0 is not None and d["fe"] < t0 - EPS:
                fail("message %d delivered (%.4f) before its writer committed (%.4f)" % (g, d["fe"], t0))
            by_msg.setdefault(g, []).append(d)

        # Settle calls per delivery id.
        by_did = {}
        for s in S["settles"]:
            for i in s["ids"]:
                by_did.setdefault(i, []).append(s)
                if i not in deliveries:
                    fail("settled a delivery id never received: %s" % i)
        for s in S["settles"]:
            if s["out"] == "expired":
                bad = set(s["bad"])
                if not bad or not bad <= set(s["ids"]):
                    fail("409 details %s not a subset of the ids %s" % (s["bad"], s["ids"]))
            if s["out"] == "ok":
                if s["n"] != len(set(s["ids"])):
                    fail("%s of %d ids answered %d" % (s["k"], len(set(s["ids"])), s["n"]))
                for i in s["ids"]:
                    d = deliveries.get(i)
                    if d and s["t"] > d["fe"] + T + EPS:
                        fail("%s of %s succeeded %.3f s after its lease certainly ended"
                             % (s["k"], i, s["t"] - d["fe"] - T))

        lost = sorted(S["lost_fetches"])

        def lost_fetch_between(a, b):
            return any(t < b and a < end for t, end in lost)

        earliest_completion = {}
        counts = {"completed": 0, "parked_nack": 0, "parked_max": 0, "skipped": 0, "acked": 0}
        for g, r in source.items():
            ds = sorted(by_msg.get(g, []), key=lambda d: d["a"])
            ok_calls = []      # (kind, call) successful completing calls
            maybe = []         # unknown completing calls
            retry_starts = {}  # did -> earliest start of a retry nack
            for d in ds:
                for s in by_did.get(d["d"], []):
                    if s["k"] == "retry":
                        if s["out"] in ("ok", "unknown"):
                            retry_starts[d["d"]] = min(retry_starts.get(d["d"], 1e30), s["t"])
                        continue
                    if s["out"] == "ok":
                        ok_calls.append((s["k"], s, d))
                    elif s["out"] == "unknown":
                        maybe.append((s["k"], s, d))
            # G8: at most one successful completion.
            if len(ok_calls) > 1:
                fail("message %d completed %d times: %s" % (g, len(ok_calls),
                     [(k, s["ids"], s["t"]) for k, s, _ in ok_calls]))
            # Final state.
            p = parked.get(g)
            if not ds and not (p and p["reason"] == "maxDeliveries"):
                fail("message %d (%s/%d) was never delivered (lost)" % (g, r["s"], r["p"]))
                earliest_completion[g] = 1e30
                continue
            elif not ds and not lost:
                fail("message %d parked without a delivery (and no fetch answer was lost)" % g)
            if p is not None:
                if p["reason"] == "maxDeliveries":
                    counts["parked_max"] += 1
                    if ok_calls:
                        fail("message %d parked by maxDeliveries after a successful %s" % (g, ok_calls[0][0]))
                    if p["attempts"] != max_deliveries:
                        fail("message %d parked by maxDeliveries after %d attempts" % (g, p["attempts"]))
                    if ds and ds[-1]["a"] > max_deliveries:
                        fail("message %d delivered with attempt %d > maxDeliveries" % (g, ds[-1]["a"]))
                else:
                    counts["parked_nack"] += 1
                    who = [x for x in ok_calls + maybe if x[0] == "park" and "chk:" + x[2]["d"] == p["reason"]]
                    if not who:
                        fail("message %d parked with reason %r by no park nack of ours" % (g, p["reason"]))
                    others = [x for x in ok_calls if x[0] != "park"]
                    if others:
                        fail("message %d parked and also completed by %s" % (g, others[0][0]))
                    if p["attempts"] != (ds[-1]["a"] if ds else 0) and not lost:
                        fail("message %d parked with attempts %d, last delivery attempt %d"
                             % (g, p["attempts"], ds[-1]["a"] if ds else 0))
            else:
                counts["completed"] += 1
                if not ok_calls and not maybe:
                    fail("message %d completed without any completing call of ours (G1)" % g)
                if any(k == "park" for k, _, _ in ok_calls):
                    fail("message %d: a park nack succeeded but it is not parked" % g)
                if ok_calls:
                    counts["acked" if ok_calls[0][0] == "ack" else "skipped"] += 1
            if r["data"].get("poison") and (p is None or p["reason"] != "maxDeliveries"):
                fail("poison message %d not parked by maxDeliveries (%s)" % (g, p))
            # Earliest time it could have been completed.
            ec = min([s["t"] for _, s, _ in ok_calls + maybe] + ([p["at"]] if p else []) + [1e30])
            earliest_completion[g] = ec
            # G3 / G4 across consecutive deliveries.
            prev = None
            for d in ds:
                if prev is None:
                    if d["a"] != 1 and not lost_fetch_between(0, d["fe"]):
                        fail("message %d: first delivery has attempt %d" % (g, d["a"]))
                else:
                    if d["a"] == prev["a"]:
                        fail("message %d: two deliveries with attempt %d" % (g, d["a"]))
                    elif d["a"] != prev["a"] + 1 and not lost_fetch_between(prev["fs"], d["fe"]):
                        fail("message %d: attempt %d after %d" % (g, d["a"], prev["a"]))
                    if d["fe"] < prev["fs"] - EPS:
                        fail("message %d: attempt %d delivered before attempt %d" % (g, d["a"], prev["a"]))
                    lease_end = prev["fs"] + T
                    allowed = min(lease_end, retry_starts.get(prev["d"], 1e30))
                    if d["fe"] < allowed - EPS:
                        fail("G4: message %d redelivered (attempt %d, by %.4f) while attempt %d's lease ran"
                             " (from %.4f, no nack)" % (g, d["a"], d["fe"], prev["a"], prev["fs"]))
                    done = [s for k, s, dd in ok_calls if dd["a"] < d["a"]]
                    if done and min(s["t1"] for s in done) < d["fs"] - EPS:
                        fail("message %d delivered again (attempt %d) after it was completed" % (g, d["a"]))
                prev = d
        # G5: per-stream order under pinned.
        g5 = 0
        if pinned:
            by_stream = {}
            for g, r in source.items():
                by_stream.setdefault(r["s"], []).append(g)
            for stream, gs in by_stream.items():
                gs.sort()
                done_by = -1e30        # the latest of the earliest completions below
                for g in gs:
                    for d in by_msg.get(g, []):
                        g5 += 1
                        if d["fe"] < done_by - EPS:
                            fail("G5: %s position %d delivered (by %.4f) before a lower message was"
                                 " completed (not before %.4f)" % (stream, d["p"], d["fe"], done_by))
                    done_by = max(done_by, earliest_completion[g])
        # Nothing parked that is not a source message.
        for g in parked:
            if g not in source:
                fail("parked %d is not a source message" % g)
        stats[name] = dict(counts, source=len(source), deliveries=len(deliveries),
                           redeliveries=len(deliveries) - len(by_msg), fetches=S["fetches"],
                           lost_fetches=len(lost), consumers=len(S["consumers"]),
                           settle_calls=len(S["settles"]),
                           expired_409=sum(1 for s in S["settles"] if s["out"] == "expired"),
                           unknown_settles=sum(1 for s in S["settles"] if s["out"] == "unknown"),
                           pinned_order_checks=g5, by_face=S["by_face"])
    conn.close()
    return failures, stats


# ---------------------------------------------------------------- main

GATEWAYS = []


def main():
    try:
        return run()
    finally:
        for p in mp.active_children():
            p.kill()
        for g in GATEWAYS:
            g.stop()


def run():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--consumers", type=int, default=3, help="competing consumers per subscription")
    ap.add_argument("--ack-timeout-ms", type=int, default=500)
    ap.add_argument("--max-deliveries", type=int, default=4)
    ap.add_argument("--http", action="store_true", help="consumers mostly over the gateway (needs --gateway-bin)")
    ap.add_argument("--gateway-bin")
    ap.add_argument("--cluster-sh", help="scripts/cluster.sh of the private cluster (PostgreSQL kills)")
    ap.add_argument("--data-dir", help="its data directory")
    ap.add_argument("--pg-kills", type=int, default=1)
    ap.add_argument("--gw-kills", type=int, default=1)
    ap.add_argument("--consumer-kills", type=int, default=2)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true", help="keep the logs")
    ap.add_argument("--sabotage", default="",
                    help="self-test: comma-separated subset of %s; the run must then FAIL" % ",".join(SABOTAGE))
    args = ap.parse_args()
    if args.pg_kills and not (args.cluster_sh and args.data_dir):
        ap.error("--pg-kills needs --cluster-sh and --data-dir (a private cluster: scripts/check/sub-checker.sh)")
    if args.http and not args.gateway_bin:
        ap.error("--http needs --gateway-bin")
    rnd = random.Random(args.seed)
    kinds = [k for k in args.sabotage.split(",") if k]
    for k in kinds:
        if k not in SABOTAGE:
            ap.error("unknown sabotage %s" % k)

    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % DB)
    q(admin, 'CREATE DATABASE "%s"' % DB)
    admin.close()
    conn = connect()
    q(conn, "CREATE EXTENSION eventodb")
    q(conn, "SELECT eventodb.namespace_create('default', '', %s)", TOKEN)
    q(conn, "SELECT eventodb.namespace_create(%s)", OTHER_NS)
    opts_common = {"ackTimeoutMs": args.ack_timeout_ms, "maxDeliveries": args.max_deliveries}
    for name, (category, opts) in SUBS.items():
        q(conn, "SELECT eventodb.subscription_create('default', %s, %s, %s::jsonb)",
          name, category, json.dumps(dict(opts, **opts_common)))
    conn.close()

    tmp = tempfile.mkdtemp(prefix="eventodb-subchk-")
    gw = None
    if args.http:
        gw = Gateway(args.gateway_bin, tmp)
        GATEWAYS.append(gw)
        gw.start()
    cluster = Cluster(args.cluster_sh, args.data_dir) if args.pg_kills else None
    print("sub-checker: seed %d, %d s, %d writers, %d consumers per subscription, %s consumers,"
          " ackTimeoutMs %d, maxDeliveries %d, %d PostgreSQL kills, %d gateway kills, logs in %s"
          % (args.seed, args.seconds, args.writers, args.consumers, "HTTP+SQL" if args.http else "SQL",
             args.ack_timeout_ms, args.max_deliveries, args.pg_kills, args.gw_kills if gw else 0, tmp),
          flush=True)

    env_failures = []
    if not preloaded():
        print("sub-checker: the library is NOT preloaded (no commit horizon)", flush=True)
    lib0 = library_digest()
    print("sub-checker: library %s" % lib0, flush=True)
    ctx = mp.get_context("fork")
    stop = ctx.Event()
    start = time.time()
    deadline = start + args.seconds
    writers = []
    for i in range(args.writers):
        w = ctx.Process(target=writer, args=(i, deadline, args.seed, os.path.join(tmp, "writer%d.json" % i)))
        w.start()
        writers.append(w)

    logs = []
    seq = [0]
    live = {}          # (sub, slot) -> Process

    def spawn(sub, slot):
        seq[0] += 1
        cid = "%s-c%d" % (sub, seq[0])
        kind = "http" if gw and slot % 3 != 2 else "sql"
        path = os.path.join(tmp, "%s.ndjson" % cid)
        logs.append(path)
        p = ctx.Process(target=consumer_proc,
                        args=(sub, cid, kind, gw.port if gw else 0, args.seed * 7919 + seq[0], path,
                              stop, args.ack_timeout_ms))
        p.start()
        live[(sub, slot)] = p

    for name in SUBS:
        for slot in range(args.consumers):
            spawn(name, slot)

    # The fault schedule, spread over the middle of the run.
    events = ["pg"] * args.pg_kills + (["gw"] * args.gw_kills if gw else []) + ["consumer"] * args.consumer_kills
    rnd.shuffle(events)
    span = args.seconds * 0.7
    times = sorted(start + args.seconds * 0.15 + span * (i + rnd.uniform(0.1, 0.9)) / max(1, len(events))
                   for i in range(len(events)))
    schedule = list(zip(times, events))
    happened = []
    sab_conn = connect(autocommit=False) if kinds else None
    next_sab = start + args.seconds * 0.1
    while time.time() < deadline:
        if kinds and time.time() >= next_sab and time.time() < start + args.seconds * 0.95:
            sabotage(sab_conn, kinds, rnd, (time.time() - start) / args.seconds)
            next_sab = time.time() + 0.3
        for key, p in list(live.items()):
            if not p.is_alive():
                p.join()
                spawn(*key)          # a crashed consumer: a new process takes over
        if schedule and time.time() >= schedule[0][0]:
            _, ev = schedule.pop(0)
            t = time.time() - start
            if ev == "pg":
                cluster.kill()
                t_dead = time.time() - start
                time.sleep(rnd.uniform(0.2, 1.0))
                cluster.start()
                lib = library_digest()
                if not preloaded():
                    env_failures.append("PostgreSQL restarted at %.1fs WITHOUT the preloaded library (another session's"
                                        " make install removed eventodb.so at that moment?): the rest of the run"
                                        " tests the fallback, not the preloaded server; see --nopreload" % t)
                happened.append("%.1fs PostgreSQL postmaster kill -9 (gone after %.1fs), restarted after %.1fs"
                                " (%d start attempts, library %s%s)"
                                % (t, t_dead - t, time.time() - start - t, cluster.tries, lib,
                                   "" if lib == lib0 else ": CHANGED since the start"))
            elif ev == "gw":
                gw.kill()
                time.sleep(rnd.uniform(0.1, 0.5))
                gw.start()
                happened.append("%.1fs gateway kill -9 + restart" % t)
            else:
                key = rnd.choice(sorted(live))
                os.kill(live[key].pid, signal.SIGKILL)
                happened.append("%.1fs consumer %s killed -9" % (t, key))
        time.sleep(0.02)
    for w in writers:
        w.join()
    stop.set()
    for p in live.values():
        p.join(30)
        if p.is_alive():
            p.kill()
            p.join()
    for h in happened:
        print("sub-checker: " + h, flush=True)
    if not any("PostgreSQL" in h for h in happened) and args.pg_kills:
        print("sub-checker: FAIL: the PostgreSQL kill did not happen", flush=True)
        return 1

    if "replay" in kinds:
        # Once more before the drain, so that a quiet run has replayed messages too.
        sabotage(sab_conn, ["replay"], rnd, 1.0)

    # The final consumers drain each subscription.
    t_drain = time.time()
    for name in SUBS:
        path = os.path.join(tmp, "%s-drain.ndjson" % name)
        logs.append(path)
        consumer(name, name + "-drain", "sql", 0, args.seed, path, stop, args.ack_timeout_ms, drain=True,
                 drain_limit=15 if kinds else 60)
    drain_s = time.time() - t_drain

    subs_logs, problems = load_logs(logs)
    wlogs = [json.load(open(os.path.join(tmp, "writer%d.json" % i))) for i in range(args.writers)]
    wlogs.append({"log": sabotage.log, "errors": []})
    failures, stats = verify(subs_logs, wlogs, args.ack_timeout_ms, args.max_deliveries)
    failures = env_failures + problems + failures
    stats["drain_s"] = round(drain_s, 1)
    if gw:
        gw.stop()
        stats["gateway_port"] = gw.port
    print("sub-checker: " + json.dumps(stats, sort_keys=True), flush=True)
    if kinds:
        print("sub-checker: sabotaged (%s): the run must fail" % ",".join(kinds))
    # The first three of each kind of failure (kind = the text without numbers).
    kinds_seen = {}
    for f in failures:
        k = re.sub(r"[0-9.]+", "N", f)[:60]
        kinds_seen[k] = kinds_seen.get(k, 0) + 1
        if kinds_seen[k] <= 3:
            print("FAIL: " + f[:600])
    for k, n in sorted(kinds_seen.items(), key=lambda x: -x[1]):
        print("sub-checker: %5d x %s" % (n, k))
    # A failure keeps the logs and the database for a post-mortem, except in a
    # sabotage run (failing is its purpose; the self-test runs in make test).
    keep = args.keep or (failures and not kinds)
    if not keep:
        for p in os.listdir(tmp):
            os.unlink(os.path.join(tmp, p))
        os.rmdir(tmp)
        admin = psycopg2.connect(dbname="postgres")
        admin.autocommit = True
        q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % DB)
        admin.close()
    if failures:
        if keep:
            with open(os.path.join(tmp, "failures.txt"), "w") as f:
                f.write("\n".join(failures) + "\n")
            print("sub-checker: %d failed checks (seed %d); logs and failures.txt kept in %s, database %s"
                  % (len(failures), args.seed, tmp, DB))
        else:
            print("sub-checker: %d failed checks (seed %d)" % (len(failures), args.seed))
        return 1
    print("sub-checker: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
