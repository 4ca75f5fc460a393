#!/usr/bin/python3
"""Benchmark of persistent subscriptions (issue 10; not a test: no pass/fail).

  scripts/bench/sub-bench.py [--private-cluster] [--seconds N] [--only throughput,latency,fetchcost]
                    [--consumers 1,4,16] [--batches 1,100] [--strategies roundRobin,pinned]
                    [--big N] [--small N] [--json FILE]

Runs against the cluster named by PGHOST/PGPORT/PGUSER (`eval "$(scripts/cluster.sh env)"`),
or with --private-cluster on a fresh throw-away one under /var/tmp (on disk: commits pay their
fsync; it also loads the library installed now, where a long-running cluster may still map an
older one), in its own database eventodb_subbench (recreated), with a
private gateway (gateway/eventodb, or $EVENTODB_BIN) on a free port. Reports:

  throughput  messages delivered AND acked per second over HTTP (subscription.fetch max 100,
              then subscription.ack of each id alone (batch 1) or of all 100 in one call),
              with 1, 4 and 16 consumer processes (keep-alive connection each), from a
              backlog of --backlog messages in 1000 streams of one category; maxInFlight
              1000; per strategy. Client CPU is reported: the consumers are Python and share
              the 2 cores with PostgreSQL and the gateway.
  latency     write acknowledged (stream.write over HTTP answered) -> delivery received, for
              one waiting consumer: a long-poll subscription.fetch (waitMs 5000) and a /push
              SSE connection, both acking each delivery at once; --rate writes per second.
  fetchcost   time per subscription_fetch of 100 (+ its ack) over SQL, on a subscription
              positioned near the end of a namespace holding --big (1 M) messages vs one
              holding --small (10 k); the same near-end backlog (20 k) for both. Must be flat.
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB = "eventodb_subbench"
TOKEN = "ns_ZGVmYXVsdA_" + "0" * 64


def connect(db=DB):
    c = psycopg2.connect(dbname=db)
    c.autocommit = True
    return c


def q(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(len(xs) * p))]


class Rpc:
    def __init__(self, port, token=TOKEN):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def __call__(self, *body):
        self.conn.request("POST", "/rpc", body=json.dumps(body), headers=self.hdr)
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError("%s -> %d %s" % (body[0], r.status, data[:300]))
        return json.loads(data)


def import_messages(conn, ns, category, n, streams, chunk=50000):
    """n messages into streams category-0..streams-1 through eventodb.import_batch
    (preserved positions: the fastest way to a store of a million)."""
    done = 0
    while done < n:
        k = min(chunk, n - done)
        q(conn, "SELECT eventodb.import_batch(%s, (SELECT json_agg(json_build_object("
                "'id', gen_random_uuid(), 'stream', %s || '-' || (i %% %s), 'type', 'T',"
                " 'pos', i / %s, 'gpos', i + 1, 'data', json_build_object('i', i), 'meta', null,"
                " 'time', '2025-01-01T00:00:00Z'))::text FROM generate_series(%s, %s) i))",
          ns, category, streams, streams, done, done + k - 1)
        done += k


# ---------------------------------------------------------------- throughput

def tp_consumer(port, sub, cid, batch, start_evt, deadline_box, out_q):
    rpc = Rpc(port)
    start_evt.wait()
    deadline = deadline_box.value
    acked = 0
    fetched = 0
    calls = 0
    while time.time() < deadline:
        got = rpc("subscription.fetch", sub, cid, {"max": 100})
        calls += 1
        fetched += len(got)
        if not got:
            time.sleep(0.005)
            continue
        ids = [d["deliveryId"] for d in got]
        if batch == 1:
            for i in ids:
                acked += rpc("subscription.ack", sub, [i])["acked"]
                calls += 1
        else:
            for j in range(0, len(ids), batch):
                acked += rpc("subscription.ack", sub, ids[j:j + batch])["acked"]
                calls += 1
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out_q.put({"acked": acked, "fetched": fetched, "calls": calls, "cpu": ru.ru_utime + ru.ru_stime})


def throughput(port, conn, args):
    results = []
    for strategy in args.strategies:
        for nc in args.consumers:
            for batch in args.batches:
                name = "tp-%s-%d-%d" % (strategy, nc, batch)
                q(conn, "SELECT eventodb.subscription_create('default', %s, 'bench', %s::jsonb)", name,
                  json.dumps({"strategy": strategy, "maxInFlight": 1000, "ackTimeoutMs": 30000}))
                if args.tune_state:
                    tune_state(conn)
                ctx = mp.get_context("fork")
                start_evt = ctx.Event()
                box = ctx.Value("d", 0.0)
                out = ctx.Queue()
                ps = [ctx.Process(target=tp_consumer, args=(port, name, "c%d" % i, batch, start_evt, box, out))
                      for i in range(nc)]
                for p in ps:
                    p.start()
                time.sleep(0.3)
                cpu0 = machine_cpu()
                t0 = time.time()
                box.value = t0 + args.seconds
                start_evt.set()
                rs = [out.get() for _ in ps]
                t1 = time.time()
                cpu1 = machine_cpu()
                for p in ps:
                    p.join()
                acked = sum(r["acked"] for r in rs)
                row = {"strategy": strategy, "consumers": nc, "ack_batch": batch,
                       "acked_per_s": round(acked / (t1 - t0)), "acked": acked,
                       "calls_per_s": round(sum(r["calls"] for r in rs) / (t1 - t0)),
                       "client_cpu_s": round(sum(r["cpu"] for r in rs), 1),
                       "machine_busy": round(1 - (cpu1[1] - cpu0[1]) / max(1, cpu1[0] - cpu0[0]), 2),
                       "seconds": round(t1 - t0, 1)}
                if acked >= args.backlog * 0.95:
                    row["note"] = "backlog exhausted"
                print("throughput: %-10s %2d consumers, ack batch %3d: %7d acked/s (%d calls/s,"
                      " client CPU %.1f s in %.1f s, machine %d %% busy)"
                      % (strategy, nc, batch, row["acked_per_s"], row["calls_per_s"], row["client_cpu_s"],
                         row["seconds"], row["machine_busy"] * 100), flush=True)
                results.append(row)
                q(conn, "SELECT eventodb.subscription_delete('default', %s)", name)
    return results


def tune_state(conn):
    """--tune-state: what the report proposes for extension/sub_storage.c's DDL, applied to the
    live state tables (no code change needed to try it): a partial index for roundRobin's
    free-row scan and autovacuum that keeps up with the table's churn."""
    q(conn, "CREATE INDEX IF NOT EXISTS subscription_messages_free ON eventodb_default.subscription_messages"
            " (subscription_id, global_position) WHERE delivery_id IS NULL")
    q(conn, "ALTER TABLE eventodb_default.subscription_messages SET (autovacuum_vacuum_scale_factor = 0,"
            " autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_insert_threshold = 2000,"
            " autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000,"
            " autovacuum_vacuum_cost_delay = 0)")


def machine_cpu():
    """(all jiffies, idle + iowait jiffies) of the machine, from /proc/stat."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f), f[3] + f[4]


# ---------------------------------------------------------------- latency

def latency(port, conn, args):
    results = []
    for mode in ("longpoll", "push"):
        name = "lat-" + mode
        q(conn, "SELECT eventodb.subscription_create('default', %s, 'lat', %s::jsonb)", name,
          json.dumps({"start": "end", "maxInFlight": 100}))
        recv = {}
        stop = threading.Event()
        ready = threading.Event()

        def longpoll():
            rpc = Rpc(port)
            ack = Rpc(port)
            ready.set()
            while not stop.is_set():
                got = rpc("subscription.fetch", name, "w1", {"max": 100, "waitMs": 1000})
                t = time.time()
                for d in got:
                    recv[d["message"][5]["seq"]] = t
                if got:
                    ack("subscription.ack", name, [d["deliveryId"] for d in got])

        def push():
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(("GET /push?subscription=%s&consumer=p1&token=%s HTTP/1.1\r\nHost: x\r\n\r\n"
                       % (urllib.parse.quote(name), TOKEN)).encode())
            ack = Rpc(port)
            buf = b""
            s.settimeout(0.5)
            while not stop.is_set():
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                t = time.time()
                buf += chunk
                if b": ready" in buf:
                    ready.set()
                ids = []
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.startswith(b"data: "):
                        d = json.loads(line[6:])
                        recv[d["message"][5]["seq"]] = t
                        ids.append(d["deliveryId"])
                if ids:
                    ack("subscription.ack", name, ids)
            s.close()

        th = threading.Thread(target=longpoll if mode == "longpoll" else push, daemon=True)
        th.start()
        ready.wait(10)
        time.sleep(0.3)
        w = Rpc(port)
        sent = {}
        n = int(args.rate * args.latency_seconds)
        for seq in range(n):
            t0 = time.time()
            w("stream.write", "lat-%d" % (seq % 50), {"type": "T", "data": {"seq": seq}})
            sent[seq] = (t0, time.time())
            nxt = t0 + 1.0 / args.rate
            time.sleep(max(0, nxt - time.time()))
        time.sleep(1.5)
        stop.set()
        th.join(5)
        lat = [(recv[s] - sent[s][1]) * 1000 for s in sent if s in recv]
        lat_start = [(recv[s] - sent[s][0]) * 1000 for s in sent if s in recv]
        row = {"mode": mode, "writes": n, "delivered": len(lat),
               "ack_to_delivery_ms": {"p50": round(pct(lat, 0.5), 2), "p99": round(pct(lat, 0.99), 2),
                                      "max": round(max(lat), 2) if lat else None},
               "write_start_to_delivery_ms": {"p50": round(pct(lat_start, 0.5), 2),
                                              "p99": round(pct(lat_start, 0.99), 2)},
               "delivered_before_write_ack": sum(1 for x in lat if x < 0)}
        print("latency: %-8s %d writes at %d/s, %d delivered: write ack -> delivery p50 %.2f ms,"
              " p99 %.2f ms, max %.2f ms (write start -> delivery p50 %.2f, p99 %.2f; %d before the ack)"
              % (mode, n, args.rate, len(lat), row["ack_to_delivery_ms"]["p50"], row["ack_to_delivery_ms"]["p99"],
                 row["ack_to_delivery_ms"]["max"] or 0, row["write_start_to_delivery_ms"]["p50"],
                 row["write_start_to_delivery_ms"]["p99"], row["delivered_before_write_ack"]), flush=True)
        results.append(row)
        q(conn, "SELECT eventodb.subscription_delete('default', %s)", name)
    return results


# ---------------------------------------------------------------- fetch cost

def fetchcost(conn, args):
    results = []
    for ns, n in (("small", args.small), ("big", args.big)):
        q(conn, "SELECT eventodb.namespace_create(%s)", ns)
        t = time.time()
        import_messages(conn, ns, "acct", n, 1000)
        print("fetchcost: imported %d messages into %s in %.1f s" % (n, ns, time.time() - t), flush=True)
    q(conn, "VACUUM ANALYZE")
    for strategy in args.strategies:
        for ns, n in (("small", args.small), ("big", args.big)):
            for category in ("acct", ""):
                name = "fc-%s-%s" % (strategy, category or "all")
                start = max(1, n - 20000 + 1)
                q(conn, "SELECT eventodb.subscription_create(%s, %s, %s, %s::jsonb)", ns, name, category,
                  json.dumps({"strategy": strategy, "start": start, "maxInFlight": 1000}))
                fetch_ms, ack_ms = [], []
                for i in range(60):
                    t0 = time.perf_counter()
                    ids = [r[0] for r in q(conn, "SELECT delivery_id FROM eventodb.subscription_fetch(%s, %s, 'c1', 100)",
                                           ns, name)]
                    t1 = time.perf_counter()
                    q(conn, "SELECT eventodb.subscription_ack(%s, %s, %s)", ns, name, ids)
                    t2 = time.perf_counter()
                    if i >= 10:             # after the first fills of the window
                        fetch_ms.append((t1 - t0) * 1000)
                        ack_ms.append((t2 - t1) * 1000)
                    if len(ids) != 100:
                        raise RuntimeError("fetch returned %d" % len(ids))
                row = {"strategy": strategy, "namespace_messages": n, "category": category or "(all)",
                       "fetch100_ms_p50": round(pct(fetch_ms, 0.5), 2), "fetch100_ms_p90": round(pct(fetch_ms, 0.9), 2),
                       "ack100_ms_p50": round(pct(ack_ms, 0.5), 2)}
                print("fetchcost: %-10s %8d messages, category %-6s: fetch of 100 p50 %.2f ms (p90 %.2f),"
                      " ack of 100 p50 %.2f ms" % (strategy, n, row["category"], row["fetch100_ms_p50"],
                                                   row["fetch100_ms_p90"], row["ack100_ms_p50"]), flush=True)
                results.append(row)
                q(conn, "SELECT eventodb.subscription_delete(%s, %s)", ns, name)
    return results


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8, help="per throughput cell")
    ap.add_argument("--only", default="throughput,latency,fetchcost")
    ap.add_argument("--consumers", default="1,4,16")
    ap.add_argument("--batches", default="1,100")
    ap.add_argument("--strategies", default="roundRobin,pinned")
    ap.add_argument("--backlog", type=int, default=300000)
    ap.add_argument("--rate", type=float, default=100, help="latency: writes per second")
    ap.add_argument("--latency-seconds", type=float, default=10)
    ap.add_argument("--big", type=int, default=1000000)
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--json")
    ap.add_argument("--private-cluster", action="store_true")
    ap.add_argument("--tune-state", action="store_true",
                    help="throughput with the proposed partial index and autovacuum settings on the state table")
    args = ap.parse_args()
    if args.private_cluster:
        import tempfile
        base = tempfile.mkdtemp(prefix="eventodb-subbench-", dir="/var/tmp")
        os.chmod(base, 0o755)
        env = dict(os.environ, EVENTODB_CLUSTER_DIR=os.path.join(base, "pg"), EVENTODB_PGPORT=str(free_port()))
        sh = os.path.join(ROOT, "scripts", "cluster.sh")
        subprocess.run([sh, "start"], env=env, check=True, stdout=subprocess.DEVNULL)
        for line in subprocess.run([sh, "env"], env=env, capture_output=True, text=True).stdout.split("\n"):
            for kv in line.replace("export ", "").split():
                k, v = kv.split("=", 1)
                os.environ[k] = v.strip("'")
        os.environ.update(EVENTODB_CLUSTER_DIR=env["EVENTODB_CLUSTER_DIR"], EVENTODB_PGPORT=env["EVENTODB_PGPORT"])
        try:
            return run(args)
        finally:
            subprocess.run([sh, "destroy"], env=env, stdout=subprocess.DEVNULL)
            try:
                os.rmdir(base)
            except OSError:
                pass
    return run(args)


def run(args):
    args.consumers = [int(x) for x in args.consumers.split(",")]
    args.batches = [int(x) for x in args.batches.split(",")]
    args.strategies = args.strategies.split(",")
    only = set(args.only.split(","))

    admin = connect("postgres")
    q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % DB)
    q(admin, 'CREATE DATABASE "%s"' % DB)
    admin.close()
    conn = connect()
    q(conn, "CREATE EXTENSION eventodb")
    q(conn, "SELECT eventodb.namespace_create('default', '', %s)", TOKEN)
    print("sub-bench: %d CPUs, load average %s" % (os.cpu_count(), open("/proc/loadavg").read().split()[:3]),
          flush=True)

    gw = None
    port = free_port()
    out = {"cpus": os.cpu_count()}
    try:
        if only & {"throughput", "latency"}:
            binary = os.environ.get("EVENTODB_BIN", os.path.join(ROOT, "gateway", "eventodb"))
            url = "postgresql://%s@/%s?host=%s&port=%s" % (os.environ.get("PGUSER", ""), DB,
                                                           os.environ.get("PGHOST", ""), os.environ.get("PGPORT", ""))
            gw = subprocess.Popen([binary, "serve", "--port=%d" % port, "--db-url=" + url, "--token=" + TOKEN,
                                   "--log-level=warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(100):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    c.request("GET", "/health")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.1)
        if "throughput" in only:
            t = time.time()
            import_messages(conn, "default", "bench", args.backlog, 1000)
            q(conn, "VACUUM ANALYZE")
            print("throughput: backlog of %d messages in 1000 streams imported in %.1f s"
                  % (args.backlog, time.time() - t), flush=True)
            out["throughput"] = throughput(port, conn, args)
        if "latency" in only:
            out["latency"] = latency(port, conn, args)
        if "fetchcost" in only:
            out["fetchcost"] = fetchcost(conn, args)
    finally:
        if gw:
            gw.terminate()
            gw.wait(10)
    out["load_average_after"] = open("/proc/loadavg").read().split()[:3]
    print("sub-bench: load average after %s" % out["load_average_after"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    conn.close()
    admin = connect("postgres")
    q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
