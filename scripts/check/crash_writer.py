#!/usr/bin/python3
"""Crash-test writer: keeps writing to the gateway over keep-alive HTTP and
logs the outcome of every write, so that a verifier can prove invariant 3 of
docs/architecture.md ("acknowledged means durable") after PostgreSQL and the gateway
were killed under it.

Every write carries a UUID as data.nonce, and 70 % also as its message id
(the rest let the server pick one). One JSON line per attempt goes to
--log (line-buffered, so a reader sees it as soon as it is decided):

  {"ack": id, "stream": s, "position": p, "globalPosition": g, "t": unix}
  {"rejected": id, "stream": s, "code": "STREAM_VERSION_CONFLICT", "t": ...}   # definitely not stored
  {"failed": id, "stream": s, "status": 500, "code": "...", "t": ...}         # answered with an error
  {"unknown": id, "stream": s, "error": "...", "t": ...}                      # no answer: may or may not be stored

Half of the writes pass expectedVersion (the worker owns its streams and
tracks their version from acknowledgements; after an unknown outcome or a
conflict it re-reads stream.version), so the optimistic-concurrency path is
exercised across crashes too.

usage: crash_writer.py --url http://127.0.0.1:P --token T --log FILE
                 [--workers N] [--duration S] [--streams-per-worker K]
                 [--stop-file F] [--prefix crash]
Stops after --duration seconds or as soon as --stop-file exists.
"""
import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse
import uuid

REQUEST_TIMEOUT = 70  # the gateway must answer (even if with an error) well within this


class Client:
    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.token = token
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None

    def rpc(self, *body):
        """Returns (status, parsed JSON) or raises OSError/HTTPException."""
        if self.conn is None:
            self._connect()
        data = json.dumps(list(body), separators=(",", ":")).encode()
        try:
            self.conn.request("POST", "/rpc", body=data, headers={
                "Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
            r = self.conn.getresponse()
            payload = r.read()
        except BaseException:
            self.close()
            raise
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        return r.status, json.loads(payload) if payload else None


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {"ack": 0, "rejected": 0, "failed": 0, "unknown": 0}
        self.max_latency = 0.0

    def add(self, kind, latency):
        with self.lock:
            self.counts[kind] += 1
            self.max_latency = max(self.max_latency, latency)


def worker(idx, args, log, log_lock, stats, deadline):
    rnd = random.Random(args.seed * 1000 + idx)
    client = Client(args.url, args.token)
    streams = ["%s-w%d_%d" % (args.prefix, idx, k) for k in range(args.streams_per_worker)]
    version = {s: None for s in streams}      # None = not known
    known = {s: True for s in streams}        # False after an unknown outcome

    def emit(rec):
        rec["t"] = round(time.time(), 3)
        line = json.dumps(rec, separators=(",", ":"))
        with log_lock:
            log.write(line + "\n")
            log.flush()

    def stopped():
        return time.monotonic() >= deadline or (args.stop_file and os.path.exists(args.stop_file))

    while not stopped():
        s = rnd.choice(streams)
        if not known[s]:
            try:
                st, v = client.rpc("stream.version", s)
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.05)
                continue
            if st != 200:
                time.sleep(0.05)
                continue
            version[s] = -1 if v is None else v
            known[s] = True
        mid = str(uuid.uuid4())
        # the nonce identifies the write even when the server picks the id
        # (a retried statement would then show up as a duplicate nonce)
        opts = {"id": mid} if rnd.random() < 0.7 else {}
        if rnd.random() < 0.5:
            opts["expectedVersion"] = -1 if version[s] is None else version[s]
        msg = {"type": "CrashTest", "data": {"nonce": mid, "worker": idx,
                                             "pad": "x" * rnd.randrange(0, 200)}}
        t0 = time.monotonic()
        try:
            st, body = client.rpc("stream.write", s, msg, opts)
        except (OSError, http.client.HTTPException, ValueError) as e:
            lat = time.monotonic() - t0
            emit({"unknown": mid, "stream": s, "error": type(e).__name__})
            stats.add("unknown", lat)
            known[s] = False
            time.sleep(0.05)
            continue
        lat = time.monotonic() - t0
        if st == 200:
            emit({"ack": mid, "own_id": "id" in opts, "stream": s, "position": body["position"],
                  "globalPosition": body["globalPosition"]})
            stats.add("ack", lat)
            version[s] = body["position"]
        elif st == 409 and body and body.get("error", {}).get("code") == "STREAM_VERSION_CONFLICT":
            emit({"rejected": mid, "stream": s, "code": "STREAM_VERSION_CONFLICT"})
            stats.add("rejected", lat)
            known[s] = False
        else:
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            emit({"failed": mid, "stream": s, "status": st, "code": code,
                  "message": (body or {}).get("error", {}).get("message") if isinstance(body, dict) else None})
            stats.add("failed", lat)
            # a 500 can follow a commit whose answer was lost (e.g. the
            # connection broke after COMMIT was sent): outcome unknown
            known[s] = False
            time.sleep(0.05)
    client.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", default=os.environ.get("EVENTODB_TOKEN", ""))
    ap.add_argument("--log", required=True)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--streams-per-worker", type=int, default=4)
    ap.add_argument("--stop-file")
    ap.add_argument("--prefix", default="crash")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    stats = Stats()
    log_lock = threading.Lock()
    deadline = time.monotonic() + args.duration
    with open(args.log, "a", buffering=1) as log:
        threads = [threading.Thread(target=worker, args=(i, args, log, log_lock, stats, deadline),
                                    daemon=True) for i in range(args.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    summary = dict(stats.counts, max_latency_s=round(stats.max_latency, 3))
    print(json.dumps(summary), file=sys.stderr)


if __name__ == "__main__":
    main()
