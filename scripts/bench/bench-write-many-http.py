#!/usr/bin/python3
"""stream.writeMany of 10 messages vs 10 single stream.write requests through
the gateway (docs/writes-and-reads.md), where single writes of concurrent
clients are group-committed. Starts gateway/eventodb on the cluster of
scripts/cluster.sh with a scratch database (dropped at the end); N client
threads on keep-alive connections; the modes alternate run by run; prints
the median messages per second of each. The client is Python: at a few
thousand requests per second it is part of what is measured.

usage: bench-write-many-http.py [--clients 10] [--seconds 10] [--runs 3]
"""
import argparse
import http.client
import json
import os
import random
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "ns_ZGVmYXVsdA_" + "0" * 64


def cluster_env():
    out = subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "env"], check=True,
                         capture_output=True, text=True).stdout
    env = {}
    for word in shlex.split(out):
        if "=" in word:
            k, v = word.split("=", 1)
            env[k] = v
    return env


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(port, clients, seconds, body_of, per_request):
    stop = time.time() + seconds
    counts = [0] * clients
    errors = []

    def worker(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rnd = random.Random(i)
        while time.time() < stop:
            conn.request("POST", "/rpc", body=body_of(rnd),
                         headers={"Authorization": "Bearer " + TOKEN})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                errors.append(data[:200])
                return
            counts[i] += per_request
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("request failed: %r" % errors[0])
    return sum(counts) / (time.time() - t0)


def single(rnd):
    return json.dumps(["stream.write", "acct-%d" % rnd.randrange(1000),
                       {"type": "T", "data": {"amount": 1}}])


def many10(rnd):
    return json.dumps(["stream.writeMany", [
        {"streamName": "acct-%d" % rnd.randrange(1000), "type": "T", "data": {"amount": 1}}
        for _ in range(10)]])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    env = dict(os.environ, **cluster_env())
    db = "bench_wm_http_%d" % os.getpid()
    psql = ["psql", "-X", "-q", "-d", "postgres", "-c"]
    subprocess.run(psql + ["CREATE DATABASE " + db], check=True, env=env)
    gw = None
    try:
        subprocess.run(["psql", "-X", "-q", "-d", db, "-c", "CREATE EXTENSION eventodb"], check=True, env=env)
        port = free_port()
        url = "postgresql://%s@/%s?host=%s&port=%s" % (env["PGUSER"], db, env["PGHOST"], env["PGPORT"])
        gw = subprocess.Popen([os.path.join(ROOT, "gateway", "eventodb"), "serve", "--port=%d" % port,
                               "--db-url=" + url, "--token=" + TOKEN],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(150):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        res = {"single": [], "many10": []}
        for r in range(a.runs):
            res["single"].append(run(port, a.clients, a.seconds, single, 1))
            res["many10"].append(run(port, a.clients, a.seconds, many10, 10))
            print("run %d: single %.0f msg/s, writeMany x10 %.0f msg/s"
                  % (r + 1, res["single"][-1], res["many10"][-1]), file=sys.stderr)
        s, m = statistics.median(res["single"]), statistics.median(res["many10"])
        print("stream.write (group-committed)  : %8.0f msg/s" % s)
        print("stream.writeMany, 10 per request: %8.0f msg/s   ratio %.2f" % (m, m / s))
    finally:
        if gw is not None:
            gw.terminate()
            gw.wait(10)
        subprocess.run(psql + ["DROP DATABASE IF EXISTS " + db], env=env)


if __name__ == "__main__":
    main()
