#!/usr/bin/env python3
"""Unbounded-read flood: N concurrent ["category.get","",{"batchSize":-1}]
against a namespace of M messages, while another tenant calls stream.version
in a loop. Prints the gateway's peak RSS growth and the other tenant's
latencies (docs/security.md, docs/benchmarks.md#reliability-and-security-runs).

    eval "$(scripts/cluster.sh env)"
    scripts/bench/read-flood.py --messages 600000 --readers 16 [--bin gateway/eventodb]

Uses a throw-away database on the local cluster (dropped at the end) and a
gateway of its own on a free port.
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "ns_ZGVmYXVsdA_" + "0" * 64


def pg(dbname):
    return psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"],
                            user=os.environ["PGUSER"], dbname=dbname)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rpc(port, token, body, timeout=300):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("POST", "/rpc", body=json.dumps(body).encode(),
              headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    n = 0
    while True:
        chunk = r.read(1 << 16)
        if not chunk:
            break
        n += len(chunk)
    c.close()
    return r.status, n


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=600000)
    ap.add_argument("--readers", type=int, default=16)
    ap.add_argument("--bin", default=os.path.join(ROOT, "gateway", "eventodb"))
    args = ap.parse_args()

    db = "eventodb_readflood_%d" % os.getpid()
    conn = pg("postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute('CREATE DATABASE "%s"' % db)
    conn.close()
    gw = None
    try:
        conn = pg(db)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION eventodb")
            cur.execute("INSERT INTO message_store.messages (id, stream_name, type, position, data) "
                        "SELECT gen_random_uuid(), 'big-' || (i %% 1000), 'Happened', i / 1000, "
                        "jsonb_build_object('n', i) FROM generate_series(0, %s - 1) i",
                        (args.messages,))
        conn.close()
        port = free_port()
        url = "postgresql://%s@/%s?host=%s&port=%s" % (
            urllib.parse.quote(os.environ["PGUSER"]), db, os.environ["PGHOST"], os.environ["PGPORT"])
        log = open("/tmp/read-flood-gateway.log", "wb")
        gw = subprocess.Popen([args.bin, "serve", "--port=%d" % port, "--db-url=" + url,
                               "--token=" + TOKEN], stdout=log, stderr=subprocess.STDOUT,
                              env={k: v for k, v in os.environ.items() if not k.startswith("EVENTODB_")})
        for _ in range(200):
            try:
                if rpc(port, TOKEN, ["sys.version"], timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/rpc", body=json.dumps(["ns.create", "flood-other-%d" % os.getpid()]).encode(),
                  headers={"Authorization": "Bearer " + TOKEN})
        other = json.loads(c.getresponse().read())["token"]
        c.close()
        rpc(port, other, ["stream.write", "other-1", {"type": "T", "data": {}}])

        pid = gw.pid
        rss0 = rss_kb(pid)
        peak = [0]
        lat, sizes = [], []
        stop = threading.Event()

        def reader():
            sizes.append(rpc(port, TOKEN, ["category.get", "", {"batchSize": -1}], timeout=600))

        def sampler():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kb(pid))
                time.sleep(0.01)

        def probe():
            while not stop.is_set():
                t0 = time.monotonic()
                status, _ = rpc(port, other, ["stream.version", "other-1"], timeout=120)
                lat.append(time.monotonic() - t0)
                time.sleep(0.02)

        side = [threading.Thread(target=sampler), threading.Thread(target=probe)]
        readers = [threading.Thread(target=reader) for _ in range(args.readers)]
        t0 = time.monotonic()
        for t in side + readers:
            t.start()
        for t in readers:
            t.join()
        took = time.monotonic() - t0
        stop.set()
        for t in side:
            t.join()
        time.sleep(1)
        after = rss_kb(pid)
        statuses = sorted(set(s for s, _ in sizes))
        print("%d readers x %d messages (%.1f MB each, statuses %s) in %.1f s" %
              (args.readers, args.messages, max(n for _, n in sizes) / 1e6, statuses, took))
        print("gateway RSS: before %.1f MiB, peak %.1f MiB, 1 s after %.1f MiB" %
              (rss0 / 1024, peak[0] / 1024, after / 1024))
        print("other tenant stream.version: %d calls, p50 %.1f ms, p99 %.1f ms, max %.1f ms" %
              (len(lat), pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000, max(lat) * 1000))
    finally:
        if gw is not None:
            gw.terminate()
            try:
                gw.wait(15)
            except subprocess.TimeoutExpired:
                gw.kill()
        conn = pg("postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
