"""Black-box client helpers: raw HTTP where bytes matter, JSON-RPC calls, an
SSE reader that sees the chunked framing, and the gateway process wrapper.

Everything here talks to the gateway over TCP exactly as a foreign client
would; nothing peeks at the implementation.
"""
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import time
import uuid

DEFAULT_TOKEN = "ns_ZGVmYXVsdA_" + "0" * 64
HEX64 = "0" * 64

# docs/http-api.md#wire-conventions message time: fraction without trailing zeros, no dot when zero.
MESSAGE_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")
SECONDS_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CANONICAL_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

NOT_FOUND_BODY = b'{"error":{"code":"NOT_FOUND","message":"Endpoint not found"}}'


def b64url(raw):
    import base64
    if isinstance(raw, str):
        raw = raw.encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token_for(ns, hexpart=HEX64):
    return "ns_%s_%s" % (b64url(ns), hexpart)


def unique(prefix="t"):
    return prefix + uuid.uuid4().hex[:12]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(pred, timeout):
    """True once pred() holds; False if it still fails after timeout seconds.
    For conditions that must come true eventually, not within a time."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_names(self):
        return {k.lower() for k, _ in self.headers}

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Resp(%d, %r)" % (self.status, self.body[:500])


class Gateway:
    """A running gateway process plus a client for it."""

    counter = 0

    def __init__(self, name, argv, port, logdir, env=None):
        self.name = name
        self.port = port
        self.host = "127.0.0.1"
        self.argv = argv
        Gateway.counter += 1
        self.logpath = os.path.join(logdir, "gateway-%s-%d.log" % (name, Gateway.counter))
        self.log = open(self.logpath, "wb")
        self.log.write(("# %s\n" % " ".join(argv)).encode())
        self.log.flush()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)

    # -- process -------------------------------------------------------
    def wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gateway %s exited with %s:\n%s"
                                   % (self.name, self.proc.returncode, self.log_text()))
            try:
                r = self.request("GET", "/health", timeout=2)
                if r.status == 200:
                    return time.monotonic()
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("gateway %s not healthy after %ss:\n%s"
                           % (self.name, timeout, self.log_text()))

    def alive(self):
        return self.proc.poll() is None

    def log_text(self, start=0):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode

    # -- HTTP ----------------------------------------------------------
    def request(self, method, path, body=None, headers=None, token=None, timeout=30):
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            # a total deadline: an unexpected event stream must fail the test, not hang it
            deadline = time.monotonic() + timeout
            data = b""
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError("response to %s %s did not end within %ss: %r"
                                       % (method, path, timeout, data[:300]))
                chunk = r.read1(65536) if method != "HEAD" else b""
                if not chunk:
                    break
                data += chunk
            return Resp(r.status, r.getheaders(), data)
        finally:
            conn.close()

    def rpc_raw(self, body, token=None, headers=None, path="/rpc", method="POST"):
        return self.request(method, path, body=body, headers=headers, token=token)

    def rpc(self, method, *args, token=DEFAULT_TOKEN):
        return self.rpc_raw(dumps([method, *args]), token=token)

    def ok(self, method, *args, token=DEFAULT_TOKEN):
        r = self.rpc(method, *args, token=token)
        assert r.status == 200, r
        assert r.header("Content-Type") == "application/json", r.headers
        assert r.body.endswith(b"\n") and not r.body.endswith(b"\n\n"), r.body
        return r.json

    def err(self, status, code, message, method, *args, token=DEFAULT_TOKEN):
        r = self.rpc(method, *args, token=token)
        return check_error(r, status, code, message)

    def write(self, stream, type_="T", data=None, token=DEFAULT_TOKEN, **options):
        msg = {"type": type_, "data": {} if data is None else data}
        if options:
            return self.ok("stream.write", stream, msg, options, token=token)
        return self.ok("stream.write", stream, msg, token=token)

    def create_ns(self, ns=None, token=DEFAULT_TOKEN, **options):
        ns = ns or unique("ns")
        if options:
            res = self.ok("ns.create", ns, options, token=token)
        else:
            res = self.ok("ns.create", ns, token=token)
        return ns, res["token"]

    def import_(self, body, token=DEFAULT_TOKEN, force=False, headers=None):
        path = "/import?force=true" if force else "/import"
        return self.request("POST", path, body=body, token=token, headers=headers, timeout=120)

    def subscribe(self, query, token=DEFAULT_TOKEN, **kw):
        return SSE(self, query, token=token, **kw)


def recv_until(s, done):
    """What the peer sends on socket s until done(bytes so far) holds or it
    closes the connection."""
    out = b""
    while not done(out):
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    return out


def recv_until_closed(s):
    """Everything the peer sends on socket s until it closes the connection."""
    return recv_until(s, lambda out: False)


def check_error(r, status, code, message=None, details=None, has_details=None):
    """Asserts the exact error envelope of docs/http-api.md#errors (key order, newline)."""
    assert r.status == status, r
    assert r.header("Content-Type") == "application/json", r.headers
    assert r.body.endswith(b"\n") and not r.body.endswith(b"\n\n"), r.body
    doc = json.loads(r.body)
    assert list(doc.keys()) == ["error"], r.body
    err = doc["error"]
    keys = list(err.keys())
    assert keys in (["code", "message"], ["code", "message", "details"]), r.body
    assert err["code"] == code, r.body
    if message is not None:
        assert err["message"] == message, r.body
    if details is not None:
        assert err.get("details") == details, r.body
    if has_details is False:
        assert "details" not in err, r.body
    if "details" in err:
        assert isinstance(err["details"], dict) and err["details"], r.body
    return err


def expected_error_bytes(code, message, details=None):
    env = {"code": code, "message": message}
    if details is not None:
        env["details"] = details
    return go_json({"error": env}, sort=False) + b"\n"


def go_json(value, sort=True):
    """Go encoding/json style: compact, HTML escapes, U+2028/2029 escaped."""
    s = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort)
    s = (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
         .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return s.encode()


class SSE:
    """Raw-socket Server-Sent-Events reader that keeps the chunked framing
    visible, so the tests can assert exact bytes (docs/http-api.md#frames)."""

    def __init__(self, gw, query, token=DEFAULT_TOKEN, headers=None, rcvbuf=None,
                 timeout=10, path="/subscribe", method="GET"):
        self.gw = gw
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((gw.host, gw.port))
        lines = ["%s %s?%s HTTP/1.1" % (method, path, query) if query else
                 "%s %s HTTP/1.1" % (method, path),
                 "Host: %s:%d" % (gw.host, gw.port), "Accept: text/event-stream"]
        if token is not None:
            lines.append("Authorization: Bearer " + token)
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.raw = b""
        self.body = b""
        self.ended = False
        self._pending = b""
        self.status = None
        self.headers = []
        self._read_head(timeout)

    def _recv(self, timeout):
        # poll, not select: tests with thousands of sockets exceed FD_SETSIZE
        p = select.poll()
        p.register(self.sock, select.POLLIN)
        if not p.poll(max(0.0, timeout) * 1000):
            return None
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            data = b""
        return data

    def _read_head(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\r\n\r\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no response head within %ss: %r" % (timeout, buf))
            data = self._recv(left)
            if data is None:
                continue
            if not data:
                raise ConnectionError("closed before response head: %r" % buf)
            buf += data
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split()[1])
        for line in lines[1:]:
            k, v = line.split(":", 1)
            self.headers.append((k.strip(), v.strip()))
        self.chunked = (self.header("Transfer-Encoding") or "").lower() == "chunked"
        self.content_length = self.header("Content-Length")
        self._feed(rest)

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def _feed(self, data):
        self.raw += data
        if not self.chunked:
            self.body += data
            if self.content_length is not None and len(self.body) >= int(self.content_length):
                self.ended = True
            return
        self._pending += data
        while True:
            if b"\r\n" not in self._pending:
                return
            size_line, rest = self._pending.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                if rest.startswith(b"\r\n") or b"\r\n\r\n" in rest:
                    self.ended = True
                    self._pending = b""
                return
            if len(rest) < size + 2:
                return
            assert rest[size:size + 2] == b"\r\n", "bad chunk framing %r" % self._pending[:200]
            self.body += rest[:size]
            self._pending = rest[size + 2:]

    def pump(self, timeout):
        """Reads whatever arrives within timeout; returns False once the stream ended."""
        if self.ended:
            return False
        data = self._recv(timeout)
        if data is None:
            return True
        if data == b"":
            self.ended = True
            return False
        self._feed(data)
        return not self.ended

    def read_until(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while not pred(self):
            left = deadline - time.monotonic()
            if left <= 0 or self.ended:
                return pred(self)
            self.pump(min(left, 0.5))
        return True

    def frames(self):
        """Complete frames (text between blank lines)."""
        parts = self.body.split(b"\n\n")
        return parts[:-1]

    def events(self):
        """Non-comment frames, comments (heartbeats) dropped, ': ready' checked."""
        out = []
        for f in self.frames():
            if f.startswith(b":"):
                continue
            out.append(f)
        return out

    def pokes(self):
        out = []
        for f in self.events():
            m = re.fullmatch(rb"event: poke\ndata: (\{.*\})", f, re.S)
            assert m, "not a poke frame: %r" % f
            out.append(json.loads(m.group(1)))
        return out

    def wait_pokes(self, n, timeout=15):
        self.read_until(lambda s: len(s.pokes()) >= n, timeout)
        return self.pokes()

    def wait_ready(self, timeout=10):
        ok = self.read_until(lambda s: len(s.frames()) >= 1, timeout)
        assert ok, "no ': ready' within %ss, got %r" % (timeout, self.body)
        assert self.frames()[0] == b": ready", self.body[:200]
        return self

    def quiet(self, seconds):
        """Reads for a while (used only to show that nothing *extra* arrives)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.ended:
            self.pump(deadline - time.monotonic())

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def sse_frames_ok(body):
    """Every frame is ': ready', a comment heartbeat without 'ready', or a poke."""
    frames = body.split(b"\n\n")
    for i, f in enumerate(frames[:-1]):
        if f == b": ready":
            assert i == 0, "': ready' not first: %r" % body[:300]
        elif f.startswith(b":"):
            assert b"ready" not in f and b"\n" not in f, f
        else:
            assert re.fullmatch(rb"event: poke\ndata: \{.*\}", f, re.S), f


def import_events(resp):
    """Parses the import event stream (docs/http-api.md#bulk-import-import), checking framing."""
    body = resp.body
    assert body.endswith(b"\n\n") or body == b"", body
    events = []
    for frame in body.split(b"\n\n")[:-1]:
        assert frame.startswith(b"data: "), frame
        assert b"\n" not in frame, frame
        events.append(frame[len(b"data: "):])
    return events


def ndjson(records):
    return b"".join(dumps(r) + b"\n" for r in records)


def record(stream, pos, gpos, type_="T", data=None, meta=None, time_="2025-01-01T00:00:00Z", id_=None):
    return {"id": id_ or str(uuid.uuid4()), "stream": stream, "type": type_, "pos": pos,
            "gpos": gpos, "data": {} if data is None else data, "meta": meta, "time": time_}


def hash_64(text):
    import hashlib
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "big", signed=True)


def cardinal_id(stream):
    if "-" not in stream:
        return None
    ident = stream.split("-", 1)[1]
    return ident.split("+", 1)[0]


def member_of(stream, size):
    cid = cardinal_id(stream)
    if cid is None:
        return None
    return abs(hash_64(cid)) % size
