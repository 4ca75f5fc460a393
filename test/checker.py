#!/usr/bin/python3
"""Concurrency checker of the write path (docs/architecture.md#invariants, invariants 1, 2, 5).

Runs, against one fresh database of the cluster named by PGHOST/PGPORT/PGUSER:

  writers   many processes writing through both faces (message_store.write_message
            and eventodb.stream_write, the gateway's group commit
            eventodb.stream_write_batch, and multi-stream writes
            eventodb.stream_write_many) into two namespaces, first to a few
            categories then to many, 1-3 messages per transaction, some with
            expected versions (some deliberately stale), random delays before
            commit, ~10 % rollbacks, rolled-back savepoints;
  importer  import_batch into a third namespace (never poked), with rollbacks;
  pagers    category readers paging by global position from last + 1 with
            random batch sizes - categories and the whole namespace (''),
            through both faces;
  listener  LISTEN eventodb_poke;
  retainer  (--retention) retention passes over namespace chk with random
            batch sizes, some inside transactions that wait or roll back,
            and soft deletes of some of its streams (docs/lifecycle.md);
            a statement trigger records every row removed.

Then proves, from the writers' own logs, the tables, the pagers' reads and
the pokes received:

  * no pager ever skipped a committed message (it saw exactly the committed
    rows of its category, in increasing order, no duplicates);
  * every acknowledged commit is in the table, nothing rolled back is;
  * stream positions are dense 0..n-1; every write with an expected version
    that succeeded got position expected + 1; no error other than version
    conflicts;
  * every committed write-path message was poked exactly once, nothing
    rolled back or imported was; pokes carry the row's stream and position;
    pokes of a namespace arrive in global-position order (horizon mode) or
    per category (category-lock modes);
  * commit-to-poke latency (reported: p50, p99, max);
  * with --retention: the checks above hold for the rows written (surviving
    or removed); no pager skipped a surviving message; every stream's
    version is exactly its highest position ever written; after a final
    pass each ruled stream keeps exactly its newest rows; nothing was
    removed from a stream without a rule or a delete.

Exit status 0 when every check passes. Usage:
  checker.py [--seconds N] [--writers N] [--pagers N] [--seed N]
             [--max-delay-ms N] [--slow-fraction F] [--retention] [--keep]
"""
import argparse
import json
import multiprocessing as mp
import os
import random
import select
import struct
import sys
import tempfile
import time
import uuid

import psycopg2
import psycopg2.extras

NAMESPACES = ["default", "chk"]     # written by the write path
IMPORT_NS = "imp"                   # written by imports only (and read)
FEW = ["few0", "few1"]
MANY = ["many%d" % i for i in range(40)]
STREAMS_PER_CATEGORY = 6
CONFLICT_STATES = {"P0001", "EV001"}
# --retention (namespace chk): category max counts, a truncate-before, and
# streams soft-deleted now and then.
RET_NS = "chk"
RET_MAX_COUNT = {"few0": 3, "many0": 2, "many1": 2}
RET_TRUNCATE = {"few1-0": 5, "many3-0": 10 ** 9}   # the second is emptied at every pass
RET_SOFT_DELETE = ["few1-1", "many2-0"]


def connect(db, autocommit=True):
    c = psycopg2.connect(dbname=db)
    c.autocommit = autocommit
    return c


def q(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


# ---------------------------------------------------------------- writers

def stream_version(conn, ns, stream, face):
    if face == "msgdb":
        v = q(conn, "SELECT message_store.stream_version(%s)", stream)[0][0]
    else:
        v = q(conn, "SELECT eventodb.stream_version(%s, %s)", ns, stream)[0][0]
    return -1 if v is None else v


def write_one(conn, ns, stream, face, expected, msg_id):
    data = json.dumps({"w": msg_id[:8]})
    if face == "msgdb":
        return q(conn, "SELECT message_store.write_message(%s, %s, 'T', %s::jsonb, NULL, %s)",
                 msg_id, stream, data, expected)[0][0]
    r = q(conn, "SELECT eventodb.stream_write(%s, %s, 'T', %s::jsonb, NULL, %s, %s)",
          ns, stream, data, msg_id, expected)[0][0]
    return json.loads(r)["position"]


def batch_item(ns, stream, msg_id, expected):
    """One item of eventodb.stream_write_batch (common/write_batch.h)."""
    def field(v):
        if v is None:
            return struct.pack(">i", -1)
        b = v.encode()
        return struct.pack(">i", len(b)) + b
    data = json.dumps({"w": msg_id[:8]})
    return (field(ns) + field(stream) + field("T") + field(data) + field(None) + field(msg_id)
            + struct.pack(">?q", expected is not None, expected or 0))


def write_batch(conn, recs):
    """The gateway's group commit: every record in one call. Written ones get
    their position; a conflict or a busy lock leaves a record unwritten
    (its "pos" stays None), the others go on."""
    arg = struct.pack(">I", len(recs)) + b"".join(
        batch_item(r["ns"], r["stream"], r["id"], r["expected"]) for r in recs)
    rows = q(conn, "SELECT result, sqlstate FROM eventodb.stream_write_batch(%s)",
             psycopg2.Binary(arg))
    odd = []
    for r, (result, state) in zip(recs, rows):
        if result is not None:
            r["pos"] = json.loads(result)["position"]
        elif state is not None and state != "EV001":
            odd.append("batch item failed with %s: %s" % (state, r))
    return odd


def write_many(conn, recs):
    """One eventodb.stream_write_many call for every record (one namespace):
    all are written or the call raises (a conflict fails the whole call)."""
    msgs = [{"streamName": r["stream"], "type": "T", "data": {"w": r["id"][:8]}, "id": r["id"]}
            for r in recs]
    for m, r in zip(msgs, recs):
        if r["expected"] is not None:
            m["expectedVersion"] = r["expected"]
    res = json.loads(q(conn, "SELECT eventodb.stream_write_many(%s, %s::jsonb)",
                       recs[0]["ns"], json.dumps(msgs))[0][0])
    for r, got in zip(recs, res):
        r["pos"] = got["position"]


def writer(idx, db, deadline, half, seed, delays, out):
    max_delay, slow_fraction = delays
    rnd = random.Random(seed * 1000 + idx)
    conn = connect(db, autocommit=False)
    log = []            # one record per attempted message
    errors = []
    while time.time() < deadline:
        cats = FEW if time.time() < half else MANY
        n = rnd.choice([1, 1, 1, 2, 3])
        # multi-stream writes: one call, several streams of one namespace
        many = rnd.random() < 0.15
        if many:
            n = rnd.choice([2, 3, 5])
            many_ns = rnd.choice(NAMESPACES)
        targets = set()
        for _ in range(n):
            ns = many_ns if many else rnd.choice(NAMESPACES)
            targets.add((ns, "%s-%d" % (rnd.choice(cats), rnd.randrange(STREAMS_PER_CATEGORY))))
        # One lock order for all (category locks first, then streams): two
        # writers of the same categories or streams never deadlock.
        targets = sorted(targets, key=lambda t: (category_of(t[1]), t))
        txn = []
        batch = not many and rnd.random() < 0.25
        try:
            for ns, stream in targets:
                if many:
                    rec = {"id": str(uuid.uuid4()), "ns": ns, "stream": stream, "face": "many",
                           "expected": None, "pos": None, "committed": False}
                    if rnd.random() < 0.3:
                        v = stream_version(conn, ns, stream, "gw")
                        rec["expected"] = v - 1 if rnd.random() < 0.2 else v
                    txn.append(rec)
                    continue
                if batch:
                    rec = {"id": str(uuid.uuid4()), "ns": ns, "stream": stream, "face": "batch",
                           "expected": None, "pos": None, "committed": False}
                    if rnd.random() < 0.3:
                        v = stream_version(conn, ns, stream, "gw")
                        rec["expected"] = v - 1 if rnd.random() < 0.2 else v
                    txn.append(rec)
                    continue
                face = "msgdb" if ns == "default" and rnd.random() < 0.5 else "gw"
                rec = {"id": str(uuid.uuid4()), "ns": ns, "stream": stream, "face": face,
                       "expected": None, "pos": None, "committed": False}
                if rnd.random() < 0.3:
                    v = stream_version(conn, ns, stream, face)
                    rec["expected"] = v - 1 if rnd.random() < 0.2 else v
                savepoint = rnd.random() < 0.05
                if savepoint:
                    q(conn, "SAVEPOINT sp")
                rec["pos"] = write_one(conn, ns, stream, face, rec["expected"], rec["id"])
                if savepoint:
                    q(conn, "ROLLBACK TO SAVEPOINT sp")
                    rec["savepoint_rolled_back"] = True
                txn.append(rec)
            if many:
                write_many(conn, txn)
            if batch:
                errors.extend(write_batch(conn, txn))
                txn = [rec for rec in txn if rec["pos"] is not None]
            r = rnd.random()
            time.sleep(0.05 if r < slow_fraction else rnd.random() * max_delay)
            if rnd.random() < 0.1:
                conn.rollback()
            else:
                conn.commit()
                t = time.time()
                for rec in txn:
                    if not rec.get("savepoint_rolled_back"):
                        rec["committed"] = True
                        rec["t_commit"] = t
        except psycopg2.Error as e:
            conn.rollback()
            if e.pgcode not in CONFLICT_STATES:
                errors.append("%s %s" % (e.pgcode, (e.pgerror or "").strip()))
            else:
                txn.append({"conflict": True})
        log.extend(r for r in txn if "id" in r)
    conn.close()
    with open(out, "w") as f:
        json.dump({"log": log, "errors": errors}, f)


def importer(db, deadline, seed, out):
    rnd = random.Random(seed)
    conn = connect(db, autocommit=False)
    log = []
    base = 1_000_000
    n = 0
    while time.time() < deadline:
        recs = []
        for _ in range(rnd.randint(1, 5)):
            n += 1
            recs.append({"id": str(uuid.uuid4()), "stream": "imp-%d" % n, "type": "T", "pos": 0,
                         "gpos": base + n * 10, "data": {}, "meta": None,
                         "time": "2025-01-01T00:00:00Z"})
        try:
            q(conn, "SELECT eventodb.import_batch(%s, %s)", IMPORT_NS, json.dumps(recs))
            time.sleep(rnd.random() * 0.005)
            if rnd.random() < 0.2:
                conn.rollback()
                committed = False
            else:
                conn.commit()
                committed = True
        except psycopg2.Error as e:
            conn.rollback()
            committed = False
            log.append({"error": "%s %s" % (e.pgcode, e.pgerror)})
        for r in recs:
            log.append({"id": r["id"], "gpos": r["gpos"], "committed": committed})
        time.sleep(0.01)
    conn.close()
    with open(out, "w") as f:
        json.dump(log, f)


# ---------------------------------------------------------------- readers

def read_page(conn, ns, cat, face, after, batch):
    if face == "raw":
        # The control: plain SQL without the horizon (see --control).
        return [r[0] for r in q(conn, "SELECT global_position FROM message_store.messages"
                                " WHERE (%s = '' OR message_store.category(stream_name) = %s)"
                                " AND global_position > %s ORDER BY global_position LIMIT %s",
                                cat, cat, after, batch)]
    if face == "msgdb":
        rows = q(conn, "SELECT global_position, stream_name FROM message_store.get_category_messages(%s, %s, %s)",
                 cat, after + 1, batch)
        return [r[0] for r in rows]
    text = q(conn, "SELECT eventodb.category_get(%s, %s, %s, %s, NULL, NULL, NULL)",
             ns, cat, after + 1, batch)[0][0]
    return [m[4] for m in json.loads(text)]


def pager(idx, db, targets, stop, drain_now, seed, out):
    rnd = random.Random(seed * 7 + idx)
    conn = connect(db)
    state = {t: {"last": 0, "seen": []} for t in targets}

    def page(t):
        ns, cat, face = t
        s = state[t]
        got = read_page(conn, ns, cat, face, s["last"], rnd.randint(1, 25))
        s["seen"].extend(got)
        if got:
            s["last"] = max(s["last"], got[-1])
        return len(got)

    while not stop.is_set():
        page(rnd.choice(targets))
    drain_now.wait()
    for t in targets:
        while page(t) > 0:
            pass
    conn.close()
    with open(out, "w") as f:
        json.dump([{"target": list(t), "seen": s["seen"]} for t, s in state.items()], f)


def retainer(db, deadline, seed, out):
    rnd = random.Random(seed * 13)
    conn = connect(db, autocommit=False)
    errors = []
    passes = deletes = 0
    while time.time() < deadline:
        try:
            if rnd.random() < 0.85:
                q(conn, "SELECT eventodb.retention_run(%s, %s)", RET_NS, rnd.randint(1, 50))
                passes += 1
            else:
                q(conn, "SELECT eventodb.stream_delete(%s, %s)", RET_NS, rnd.choice(RET_SOFT_DELETE))
                deletes += 1
            time.sleep(rnd.random() * 0.01)
            if rnd.random() < 0.1:
                conn.rollback()
            else:
                conn.commit()
        except psycopg2.Error as e:
            conn.rollback()
            errors.append("retainer: %s %s" % (e.pgcode, (e.pgerror or "").strip()))
        time.sleep(rnd.random() * 0.02)
    conn.close()
    with open(out, "w") as f:
        json.dump({"errors": errors, "passes": passes, "deletes": deletes}, f)


def setup_retention(conn):
    """Rules on chk, and a trigger that keeps every removed row (test only)."""
    schema = psycopg2.extensions.quote_ident(
        q(conn, "SELECT schema_name FROM eventodb.namespaces WHERE id = %s", RET_NS)[0][0], conn)
    q(conn, "CREATE TABLE public.removed AS SELECT * FROM %s.messages WITH NO DATA" % schema)
    q(conn, "CREATE FUNCTION public.note_removed() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN INSERT INTO public.removed SELECT * FROM gone; RETURN NULL; END$$")
    q(conn, "CREATE TRIGGER note_removed AFTER DELETE ON %s.messages REFERENCING OLD TABLE AS gone"
            " FOR EACH STATEMENT EXECUTE FUNCTION public.note_removed()" % schema)
    for cat, n in RET_MAX_COUNT.items():
        q(conn, "SELECT eventodb.category_set_retention(%s, %s, NULL, %s)", RET_NS, cat, n)
    for stream, tb in RET_TRUNCATE.items():
        q(conn, "SELECT eventodb.stream_set_retention(%s, %s, NULL, NULL, %s)", RET_NS, stream, tb)


def retention_drain(db):
    conn = connect(db)
    while q(conn, "SELECT eventodb.retention_run(%s, 100000)", RET_NS)[0][0] > 0:
        pass
    conn.close()


def listener(db, ready, stop, out):
    conn = connect(db)
    q(conn, "LISTEN eventodb_poke")
    # every namespace's pokes but default's go to the private channel (docs/security.md)
    q(conn, "LISTEN %s" % q(conn, "SELECT eventodb.poke_channel()")[0][0])
    ready.set()
    got = []
    while True:
        if stop.is_set():
            # Drain what is already on the wire.
            end = time.time() + 0.5
            while time.time() < end:
                if select.select([conn], [], [], 0.1)[0]:
                    conn.poll()
                    while conn.notifies:
                        n = conn.notifies.pop(0)
                        got.append([time.time(), n.payload])
            break
        if select.select([conn], [], [], 0.1)[0]:
            conn.poll()
            t = time.time()
            while conn.notifies:
                got.append([t, conn.notifies.pop(0).payload])
    conn.close()
    with open(out, "w") as f:
        json.dump(got, f)


# ---------------------------------------------------------------- checks

def category_of(stream):
    return stream.split("-", 1)[0]


def verify(db, wdata, imports, pages, pokes, mode, whole_gap_free, retention=None):
    failures = []
    conn = connect(db)
    schemas = dict(q(conn, "SELECT id, schema_name FROM eventodb.namespaces"))
    rows = {}           # id -> (ns, stream, position, gpos): every row written, surviving or removed
    for ns in NAMESPACES + [IMPORT_NS]:
        for mid, stream, pos, gpos in q(conn, "SELECT id::text, stream_name, position, global_position FROM %s.messages"
                                        % psycopg2.extensions.quote_ident(schemas[ns], conn)):
            rows[mid] = (ns, stream, pos, gpos)
    removed = {}
    if retention is not None:
        failures.extend(retention["errors"])
        for mid, stream, pos, gpos in q(conn, "SELECT id::text, stream_name, position, global_position"
                                        " FROM public.removed"):
            if mid in rows or mid in removed:
                failures.append("row removed twice or still present: %s" % mid)
            removed[mid] = (RET_NS, stream, pos, gpos)
        failures.extend(verify_retention(conn, rows, removed))
        rows.update(removed)
    conn.close()

    # Writers' own view vs the table.
    log = [r for w in wdata for r in w["log"]]
    errors = [e for w in wdata for e in w["errors"]]
    if errors:
        failures.append("unexpected errors (%d): %s" % (len(errors), errors[:5]))
    write_ids = set()
    committed_writes = 0
    for r in log:
        write_ids.add(r["id"])
        if r["committed"]:
            committed_writes += 1
            if r["id"] not in rows:
                failures.append("acknowledged commit missing: %s" % r)
                continue
            ns, stream, pos, gpos = rows[r["id"]]
            if (ns, stream, pos) != (r["ns"], r["stream"], r["pos"]):
                failures.append("row differs from what the writer was told: %s vs %s" % (rows[r["id"]], r))
            if r["expected"] is not None and pos != r["expected"] + 1:
                failures.append("expected version %d but position %d: %s" % (r["expected"], pos, r))
        elif r["id"] in rows:
            failures.append("rolled-back write is in the table: %s" % r)
    imported = {r["id"]: r for r in imports if "id" in r}
    for mid, r in imported.items():
        if r["committed"] != (mid in rows):
            failures.append("import outcome differs from the table: %s" % r)
    unknown = [m for m in rows if m not in write_ids and m not in imported]
    if unknown:
        failures.append("rows nobody wrote: %d" % len(unknown))

    # Dense stream positions.
    by_stream = {}
    for ns, stream, pos, gpos in rows.values():
        by_stream.setdefault((ns, stream), []).append(pos)
    for key, ps in by_stream.items():
        if sorted(ps) != list(range(len(ps))):
            failures.append("positions of %s not dense: %s" % (key, sorted(ps)[:20]))

    # Pagers: exactly the committed rows, increasing, none skipped (of the
    # removed rows, a pager may or may not have seen each).
    gpos_of = {}
    for mid, (ns, stream, pos, gpos) in rows.items():
        if mid not in removed:
            gpos_of.setdefault(ns, {})[gpos] = stream
    removed_gpos = {(ns, g) for ns, s, p, g in removed.values()}
    reads = 0
    control = {}
    for p in pages:
        for t in p:
            ns, cat, face = t["target"]
            seen = t["seen"]
            reads += len(seen)
            if any(b <= a for a, b in zip(seen, seen[1:])):
                failures.append("pager %s read out of order or twice" % (t["target"],))
            want = {g for g, s in gpos_of.get(ns, {}).items() if cat == "" or category_of(s) == cat}
            missing = sorted(want - set(seen))
            extra = sorted(g for g in set(seen) - want if (ns, g) not in removed_gpos)
            if face == "raw":
                control["%s/%s" % (ns, cat)] = len(missing)
                continue
            if cat == "" and not whole_gap_free:
                continue
            if missing:
                failures.append("pager %s SKIPPED %d committed messages, e.g. %s" % (t["target"], len(missing), missing[:10]))
            if extra:
                failures.append("pager %s read %d messages that are not committed: %s" % (t["target"], len(extra), extra[:10]))

    # Pokes.
    write_rows = {}
    for r in log:
        if r["committed"] and r["id"] in rows:
            ns, stream, pos, gpos = rows[r["id"]]
            write_rows[(ns, gpos)] = (stream, pos, r.get("t_commit"))
    poked = {}
    order = {}
    for t, payload in pokes:
        p = json.loads(payload)
        if p.get("deleted"):
            continue
        key = (p["ns"], p["globalPosition"])
        if key in poked:
            failures.append("poked twice: %s" % payload)
        poked[key] = t
        if key not in write_rows:
            failures.append("poke for no committed write (rolled back or imported): %s" % payload)
            continue
        stream, pos, _ = write_rows[key]
        if not p.get("truncated") and (p["stream"], p["position"]) != (stream, pos):
            failures.append("poke payload differs from the row: %s vs %s" % (payload, (stream, pos)))
        group = p["ns"] if mode == "horizon" else (p["ns"], category_of(stream))
        order.setdefault(group, []).append(p["globalPosition"])
    # A row removed before the poke worker reached it is never poked: its
    # readers would not find it either.
    not_poked = sorted(set(write_rows) - set(poked) - removed_gpos)
    if not_poked:
        failures.append("%d committed writes never poked, e.g. %s" % (len(not_poked), not_poked[:10]))
    for group, gs in order.items():
        if any(b <= a for a, b in zip(gs, gs[1:])):
            bad = next(i for i in range(1, len(gs)) if gs[i] <= gs[i - 1])
            failures.append("pokes of %s out of global-position order at %s" % (group, gs[max(0, bad - 3):bad + 2]))

    lat = sorted((poked[k] - c) * 1000 for k, (s, p, c) in write_rows.items() if k in poked and c)
    stats = {
        "committed_writes": committed_writes,
        "committed_multi_stream_writes": sum(1 for r in log if r["committed"] and r.get("face") == "many"),
        "attempted_writes": len(log),
        "imported_rows": sum(1 for r in imported.values() if r["committed"]),
        "pager_reads": reads,
        "pokes": len(pokes),
    }
    if control:
        stats["control_pager_skips"] = control
    if lat:
        stats["commit_to_poke_ms"] = {
            "p50": round(lat[len(lat) // 2], 2),
            "p99": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
            "max": round(lat[-1], 2),
        }
    if retention is not None:
        stats["retention"] = {"removed": len(removed), "passes": retention["passes"],
                              "soft_deletes": retention["deletes"]}
    return failures, stats


def verify_retention(conn, rows, removed):
    """Versions exact, rules honoured after the final pass, removals only
    where a rule or a delete allows them."""
    failures = []
    surviving, written = {}, {}
    for mid, (ns, stream, pos, gpos) in list(rows.items()) + list(removed.items()):
        if ns != RET_NS:
            continue
        written.setdefault(stream, []).append(pos)
        if mid not in removed:
            surviving.setdefault(stream, []).append(pos)
    for stream, ps in written.items():
        v = q(conn, "SELECT eventodb.stream_version(%s, %s)", RET_NS, stream)[0][0]
        if v != max(ps):
            failures.append("version of %s is %s, highest position written %d" % (stream, v, max(ps)))
        left = sorted(surviving.get(stream, []))
        cat = category_of(stream)
        if cat in RET_MAX_COUNT:
            want = sorted(ps)[-RET_MAX_COUNT[cat]:]
            if left != want:
                failures.append("%s keeps %s after the final pass, its rule keeps %s" % (stream, left, want))
        elif stream in RET_TRUNCATE:
            want = sorted(p for p in ps if p >= RET_TRUNCATE[stream])
            if left != want:
                failures.append("%s keeps %s, truncate-before keeps %s" % (stream, left, want))
        elif stream not in RET_SOFT_DELETE and len(left) != len(ps):
            failures.append("%s lost messages without a rule or a delete" % stream)
    return failures


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--pagers", type=int, default=3)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--max-delay-ms", type=float, default=4,
                    help="random delay before each commit, up to this")
    ap.add_argument("--slow-fraction", type=float, default=0.03,
                    help="fraction of transactions that wait 50 ms before committing")
    ap.add_argument("--control", action="store_true",
                    help="add pagers that read with plain SQL, without the horizon: their skips "
                    "(reported, not failed) show that the checker sees what it checks")
    ap.add_argument("--retention", action="store_true",
                    help="retention passes and soft deletes on namespace chk during the run")
    ap.add_argument("--keep", action="store_true", help="keep the database")
    args = ap.parse_args()

    db = "eventodb_checker_%d" % os.getpid()
    admin = connect("postgres")
    q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
    q(admin, 'CREATE DATABASE "%s"' % db)
    conn = connect(db)
    q(conn, "CREATE EXTENSION eventodb")
    q(conn, "SELECT eventodb.namespace_create('default', '', 'ns_ZGVmYXVsdA_' || repeat('0', 64))")
    q(conn, "SELECT eventodb.namespace_create('chk')")
    q(conn, "SELECT eventodb.namespace_create(%s)", IMPORT_NS)
    mode = q(conn, "SELECT eventodb.write_mode()")[0][0]
    preloaded = "eventodb" in q(conn, "SHOW shared_preload_libraries")[0][0]
    if args.retention:
        setup_retention(conn)
    conn.close()
    print("checker: database %s, write mode %s%s, seed %d, %d s, %d writers, %d pagers"
          % (db, mode, "" if preloaded else " (library not preloaded)", args.seed, args.seconds,
             args.writers, args.pagers), flush=True)

    tmp = tempfile.mkdtemp(prefix="eventodb-checker-")
    ctx = mp.get_context("fork")
    stop_pagers, drain_now, lis_ready, lis_stop = ctx.Event(), ctx.Event(), ctx.Event(), ctx.Event()
    lis = ctx.Process(target=listener, args=(db, lis_ready, lis_stop, os.path.join(tmp, "pokes.json")))
    lis.start()
    lis_ready.wait(10)

    targets = [(ns, "", "gw") for ns in NAMESPACES + [IMPORT_NS]]
    targets += [("default", c, "msgdb") for c in FEW + MANY[:4]]
    targets += [("chk", c, "gw") for c in FEW + MANY[:4]]
    targets += [("default", c, "gw") for c in FEW]
    if args.control:
        targets += [("default", "", "raw"), ("default", FEW[0], "raw")]
    pagers = []
    for i in range(args.pagers):
        mine = [t for j, t in enumerate(targets) if j % args.pagers == i]
        p = ctx.Process(target=pager, args=(i, db, mine, stop_pagers, drain_now, args.seed,
                                            os.path.join(tmp, "pager%d.json" % i)))
        p.start()
        pagers.append(p)

    start = time.time()
    deadline = start + args.seconds
    half = start + args.seconds / 2
    writers = []
    for i in range(args.writers):
        w = ctx.Process(target=writer, args=(i, db, deadline, half, args.seed,
                                                    (args.max_delay_ms / 1000, args.slow_fraction),
                                                    os.path.join(tmp, "writer%d.json" % i)))
        w.start()
        writers.append(w)
    imp = ctx.Process(target=importer, args=(db, deadline, args.seed, os.path.join(tmp, "import.json")))
    imp.start()
    ret = None
    if args.retention:
        ret = ctx.Process(target=retainer, args=(db, deadline, args.seed, os.path.join(tmp, "retainer.json")))
        ret.start()

    for w in writers + [imp] + ([ret] if ret else []):
        w.join()
    stop_pagers.set()
    conn = connect(db)
    synced = q(conn, "SELECT eventodb.poke_sync(30000)")[0][0]
    conn.close()
    drain_now.set()
    for p in pagers:
        p.join()
    lis_stop.set()
    lis.join()
    if not synced:
        print("checker: pokes did not settle within 30 s", flush=True)

    wdata = [json.load(open(os.path.join(tmp, "writer%d.json" % i))) for i in range(args.writers)]
    imports = json.load(open(os.path.join(tmp, "import.json")))
    pages = [json.load(open(os.path.join(tmp, "pager%d.json" % i))) for i in range(args.pagers)]
    pokes = json.load(open(os.path.join(tmp, "pokes.json")))
    retention = None
    if args.retention:
        retention_drain(db)
        retention = json.load(open(os.path.join(tmp, "retainer.json")))
    failures, stats = verify(db, wdata, imports, pages, pokes, mode, preloaded, retention)
    if not synced:
        failures.append("poke_sync timed out")

    print("checker: " + json.dumps(stats), flush=True)
    if not args.keep:
        q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
    admin.close()
    for f in failures[:40]:
        print("FAIL: " + f)
    if failures:
        print("checker: %d failed checks (seed %d)" % (len(failures), args.seed))
        return 1
    print("checker: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
