#!/usr/bin/python3
"""Soak-test subscribers: keeps N /subscribe connections open against the
gateway (stream, category and all modes), reads them with one epoll loop,
lets a share of them never read (tiny receive buffer), and churns a few
every second (close + reopen), so that connection set-up and tear-down run
all through the soak. Prints a JSON summary at the end.

usage: soak_sse_clients.py --url URL --token T --duration S [--subscribers N]
                      [--stuck K] [--churn C] [--category CAT] [--streams S]
"""
import argparse
import json
import random
import select
import socket
import time
import urllib.parse


def open_sub(host, port, token, query, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect((host, port))
    s.sendall(("GET /subscribe?%s HTTP/1.1\r\nHost: soak\r\nAuthorization: Bearer %s\r\n\r\n"
               % (query, token)).encode())
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--subscribers", type=int, default=100)
    ap.add_argument("--stuck", type=int, default=10)
    ap.add_argument("--churn", type=int, default=5, help="subscriptions replaced per second")
    ap.add_argument("--category", default="loadtest")
    ap.add_argument("--streams", type=int, default=100)
    args = ap.parse_args()
    u = urllib.parse.urlsplit(args.url)
    rnd = random.Random(7)

    def query(i):
        kind = i % 4
        if kind == 0:
            return "all=true"
        if kind == 1:
            return "category=%s" % args.category
        if kind == 2:
            return "category=%s&consumer=%d&size=4" % (args.category, i % 4)
        return "stream=%s-%d&position=0" % (args.category, rnd.randrange(args.streams))

    ep = select.epoll()
    subs = {}          # fd -> (socket, index, stuck)
    stats = {"opened": 0, "closed": 0, "bytes": 0, "pokes": 0, "errors": 0, "ended_by_server": 0}

    def add(i):
        stuck = i < args.stuck
        try:
            s = open_sub(u.hostname, u.port, args.token, query(i), 4096 if stuck else None)
        except OSError:
            stats["errors"] += 1
            return
        subs[s.fileno()] = (s, i, stuck)
        if not stuck:
            ep.register(s.fileno(), select.EPOLLIN)
        stats["opened"] += 1

    def drop(fd):
        s, i, stuck = subs.pop(fd)
        if not stuck:
            try:
                ep.unregister(fd)
            except OSError:
                pass
        s.close()
        stats["closed"] += 1
        return i

    for i in range(args.subscribers):
        add(i)
    deadline = time.monotonic() + args.duration
    next_churn = time.monotonic() + 1
    while time.monotonic() < deadline:
        for fd, _ in ep.poll(0.2):
            if fd not in subs:
                continue
            try:
                data = subs[fd][0].recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                stats["ended_by_server"] += 1
                add(drop(fd))
                continue
            stats["bytes"] += len(data)
            stats["pokes"] += data.count(b"event: poke")
        if time.monotonic() >= next_churn:
            next_churn += 1
            for fd in rnd.sample(sorted(subs), min(args.churn, len(subs))):
                if not subs[fd][2]:
                    add(drop(fd))
    for fd in list(subs):
        drop(fd)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
