#!/usr/bin/python3
"""Verifies a crash-test run (see crash_writer.py for the log format) against the
database and through the gateway. Exits 1 on any violation, printing each.

Checks (docs/architecture.md#invariants invariants 2 and 3):
  1. every acknowledged write is stored exactly once, in its stream, with
     the position and global position it was acknowledged with (and its id,
     when the client chose it);
  2. a write refused with STREAM_VERSION_CONFLICT is not stored;
  3. nothing is stored that no writer attempted, and no attempt is stored
     twice (a statement silently retried after a lost answer would be);
  4. positions of every stream are 0..n-1 without gaps or duplicates, and
     global positions are unique;
  5. the gateway serves the same messages (stream.get of every stream).

usage: crash_verify.py --log FILE --dsn DSN --url URL --token T [--schema message_store]
"""
import argparse
import collections
import http.client
import json
import sys
import urllib.parse

import psycopg2


def rpc(url, token, *body):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        c.request("POST", "/rpc", body=json.dumps(list(body)).encode(),
                  headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--schema", default="message_store")
    ap.add_argument("--prefix", default="crash")
    args = ap.parse_args()

    acks, rejected, attempted = {}, set(), set()
    counts = collections.Counter()
    with open(args.log) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue        # a torn last line of a killed writer
            for kind in ("ack", "rejected", "failed", "unknown"):
                if kind in rec:
                    counts[kind] += 1
                    attempted.add(rec[kind])
                    if kind == "ack":
                        acks[rec["ack"]] = rec
                    elif kind == "rejected":
                        rejected.add(rec["rejected"])

    conn = psycopg2.connect(args.dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT id::text, stream_name, position, global_position, data->>'nonce' "
                    "FROM %s.messages WHERE stream_name LIKE %%s" % args.schema,
                    (args.prefix + "-%",))
        rows = cur.fetchall()
    conn.close()

    problems = []
    by_nonce = collections.defaultdict(list)
    by_stream = collections.defaultdict(list)
    gpos_seen = collections.Counter()
    for mid, stream, pos, gpos, nonce in rows:
        by_nonce[nonce].append((mid, stream, pos, gpos))
        by_stream[stream].append(pos)
        gpos_seen[gpos] += 1

    for nonce, recs in by_nonce.items():
        if len(recs) > 1:
            problems.append("write %s stored %d times: %s" % (nonce, len(recs), recs))
        if nonce not in attempted:
            problems.append("stored message nobody attempted (nonce %s): %s" % (nonce, recs))
    for nonce, a in acks.items():
        recs = by_nonce.get(nonce)
        if not recs:
            problems.append("ACKNOWLEDGED WRITE LOST: %s" % json.dumps(a))
            continue
        mid, stream, pos, gpos = recs[0]
        if (stream, pos, gpos) != (a["stream"], a["position"], a["globalPosition"]):
            problems.append("acknowledged %s as %s/%d/%d but stored as %s/%d/%d" % (
                nonce, a["stream"], a["position"], a["globalPosition"], stream, pos, gpos))
        if a.get("own_id", True) and mid != nonce:
            problems.append("acknowledged %s stored with id %s" % (nonce, mid))
    for nonce in rejected:
        if nonce in by_nonce:
            problems.append("write refused with a version conflict was stored: %s" % nonce)
    for stream, positions in by_stream.items():
        if sorted(positions) != list(range(len(positions))):
            problems.append("stream %s positions not dense: %s" % (stream, sorted(positions)[:50]))
    for g, n in gpos_seen.items():
        if n > 1:
            problems.append("global position %d used %d times" % (g, n))

    # the gateway's view equals the table
    stored = {(r[1], r[2]): (r[0], r[3]) for r in rows}
    served = 0
    for stream in sorted(by_stream):
        st, msgs = rpc(args.url, args.token, "stream.get", stream, {"batchSize": -1})
        if st != 200:
            problems.append("stream.get %s answered %d: %s" % (stream, st, msgs))
            continue
        for m in msgs:
            served += 1
            if stored.get((stream, m[2])) != (m[0], m[3]):
                problems.append("gateway serves %s/%d as %s but the table holds %s" % (
                    stream, m[2], (m[0], m[3]), stored.get((stream, m[2]))))
        if len(msgs) != len(by_stream[stream]):
            problems.append("gateway serves %d messages of %s, table holds %d" % (
                len(msgs), stream, len(by_stream[stream])))

    summary = {
        "attempts": len(attempted), "acknowledged": counts["ack"], "rejected_conflict": counts["rejected"],
        "failed_with_error": counts["failed"], "no_answer": counts["unknown"],
        "stored": len(rows), "streams": len(by_stream), "served_by_gateway": served,
        "stored_without_ack": len(rows) - sum(1 for n in by_nonce if n in acks),
        "violations": len(problems),
    }
    print(json.dumps(summary))
    for p in problems[:100]:
        print("VIOLATION:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
