#!/usr/bin/env python3
"""Reads on the primary alone vs. with --read-db-url on the standbys
(docs/scale-out.md#reads-from-standbys): the same read load through two
gateways on one scripts/ha.sh cluster, one with every read on the primary,
one sending reads to `ha.sh read-url`. Prints reads/s and CPU per read (all
PostgreSQL processes, the gateway and this client, from /proc).

    scripts/ha.sh up   # or with HA_DIR / HA_*_PORTS of your own
    scripts/bench/standby-reads-bench.py [--seconds 10] [--clients 8]
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "ns_ZGVmYXVsdA_" + "0" * 64
TICK = os.sysconf("SC_CLK_TCK")


def ha(*args):
    return subprocess.run([os.path.join(ROOT, "scripts", "ha.sh"), *args], check=True,
                          capture_output=True, text=True).stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(names):
    """utime + stime of every process whose command name is in names."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        if comm in names or comm.startswith("postgres"):
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def rpc(conn, body):
    conn.request("POST", "/rpc", body=json.dumps(body),
                 headers={"Authorization": "Bearer " + TOKEN})
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, (r.status, data)
    return json.loads(data)


def start_gateway(args):
    port = free_port()
    p = subprocess.Popen([os.path.join(ROOT, "gateway", "eventodb"), "serve", "--port=%d" % port,
                          "--token=" + TOKEN, "--log-level=warn", *args])
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return p, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gateway did not start")


def load(port, seconds, clients):
    stop = time.monotonic() + seconds
    counts = [0] * clients

    def client(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            if i % 2:
                rpc(c, ["category.get", "bench", {"position": 1 + (counts[i] * 37) % 1900, "batchSize": 20}])
            else:
                rpc(c, ["stream.get", "bench-%d" % (counts[i] % 20), {"position": 0, "batchSize": 20}])
            counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    cpu0 = cpu_seconds({"eventodb", "python3"})
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds({"eventodb", "python3"}) - cpu0
    n = sum(counts)
    return n / elapsed, cpu / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=8)
    a = ap.parse_args()
    url, read_url = ha("url"), ha("read-url")
    p, port = start_gateway(["--db-url=" + url])
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(2000):
            rpc(c, ["stream.write", "bench-%d" % (i % 20), {"type": "T", "data": {"i": i}}])
        time.sleep(1)
        primary = load(port, a.seconds, a.clients)
    finally:
        p.terminate()
        p.wait()
    p, port = start_gateway(["--db-url=" + url, "--read-db-url=" + read_url])
    try:
        standby = load(port, a.seconds, a.clients)
    finally:
        p.terminate()
        p.wait()
    print("| reads on | reads/s | CPU per read (us, all processes) |")
    print("|---|---:|---:|")
    print("| the primary alone | %.0f | %.0f |" % primary)
    print("| the standbys (--read-db-url) | %.0f | %.0f |" % standby)


if __name__ == "__main__":
    main()
