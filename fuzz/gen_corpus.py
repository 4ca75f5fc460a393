#!/usr/bin/python3
"""Writes the seed corpora fuzz/corpus/<harness>/ from docs/http-api.md's
examples (requests, tokens, subscribe queries, import records, times), plus
the dictionaries fuzz/dict/<harness>.dict. Deterministic: re-running it
rewrites the same files; seeds added by hand (e.g. former crashes, named
crash-*) are left alone.

usage: gen_corpus.py   (from anywhere)
"""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ZEROS = "0" * 64
DEFAULT = "ns_ZGVmYXVsdA_" + ZEROS


def seeds(name, items):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.unlink(os.path.join(d, f))
    for raw in items:
        if isinstance(raw, str):
            raw = raw.encode()
        h = hashlib.sha1(raw).hexdigest()[:16]
        with open(os.path.join(d, "seed-" + h), "wb") as f:
            f.write(raw)


def dictionary(name, words):
    os.makedirs(os.path.join(HERE, "dict"), exist_ok=True)
    with open(os.path.join(HERE, "dict", name + ".dict"), "w") as f:
        for w in words:
            if isinstance(w, str):
                w = w.encode()
            esc = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else "\\x%02x" % b for b in w)
            f.write('"%s"\n' % esc)


def j(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


# ---- /rpc bodies (docs/http-api.md#the-rpc-envelope) -------------------------------
RPC = [
    '["stream.write","account-123",{"type":"Deposited","data":{"amount":100}}]',
    '["stream.write","account-123",{"type":"Deposited","data":{"amount":100},"metadata":{"correlationStreamName":"order-1"}},{"id":"0195b3c2-7d1e-7a80-9c55-1f2e3d4c5b6a","expectedVersion":-1}]',
    '["stream.write","account-1",{"type":"T","data":{},"metadata":null},{"expectedVersion":4}]',
    '["stream.write","a",{"type":"T","data":{"n":12345678901234567890,"f":3.14159,"e":1e21,"s":"<&>\\u2028"}}]',
    '["stream.write","a",{"type":"T","data":{"a":[1,{"b":null}],"x":true}},{"id":"{0195B3C2-7D1E-7A80-9C55-1F2E3D4C5B6A}"}]',
    '["stream.write","a",{"type":"","data":{}}]',
    '["stream.write","a",{"type":"T","data":[]}]',
    '["stream.write","a",{"type":"T","data":{}},null]',
    '["stream.write","a",{"type":"T","data":{}},{"expectedVersion":null}]',
    '["stream.write","a\\u0000b",{"type":"T","data":{}}]',
    '["stream.get","account-123"]',
    '["stream.get","account-123",{"position":0,"batchSize":1000}]',
    '["stream.get","account-123",{"globalPosition":17,"batchSize":-1}]',
    '["stream.get","a",{"batchSize":10000.7,"position":-1.5}]',
    '["stream.get","a",{"batchSize":10001}]',
    '["stream.get","a",{"batchSize":1e300}]',
    '["stream.get","a",{"position":9223372036854775808}]',
    '["stream.last","account-123"]',
    '["stream.last","account-123",{"type":"Deposited"}]',
    '["stream.version","account-123"]',
    '["category.get","account"]',
    '["category.get","",{"position":1,"batchSize":1000}]',
    '["category.get","account",{"globalPosition":5,"correlation":"order","consumerGroup":{"member":0,"size":2}}]',
    '["category.get","account",{"consumerGroup":{"member":2,"size":2}}]',
    '["category.get","account",{"consumerGroup":{"member":1}}]',
    '["category.get","account",{"consumerGroup":{}}]',
    '["category.get","account",{"consumerGroup":{"member":-1,"size":0}}]',
    '["ns.create","tenant-a"]',
    '["ns.create","tenant-a",{"description":"d","token":"ns_dGVuYW50LWE_' + ZEROS + '","metadata":{}}]',
    '["ns.create","tenant-a",{"token":""}]',
    '["ns.create","tenant-a",{"token":"' + DEFAULT + '"}]',
    '["ns.create","ab?"]',
    '["ns.delete","tenant-a"]',
    '["ns.list"]',
    '["ns.info","tenant-a"]',
    '["ns.streams",{"prefix":"acc%_","limit":10,"cursor":"account-1"}]',
    '["ns.streams",{"limit":0.5}]',
    '["ns.categories"]',
    '["sys.version"]',
    '["sys.health"]',
    '["unknown.method"]',
    # persistent subscriptions (docs/subscriptions.md#over-http)
    '["subscription.create","billing","account",{"types":["b","a"],"start":"end","maxInFlight":50,"ackTimeoutMs":1e4,"maxDeliveries":3,"strategy":"roundRobin"}]',
    '["subscription.create","b","",{"types":[1,{"x":[2]},""],"start":-1.5}]',
    '["subscription.create","a b","x-y",null]',
    '["subscription.update","billing",{"category":"x","start":0}]',
    '["subscription.update","billing",{"types":["t"],"strategy":"pinned"}]',
    '["subscription.delete","billing"]',
    '["subscription.get","billing"]',
    '["subscription.list","x"]',
    '["subscription.fetch","billing","w1",{"max":10.9,"waitMs":5000}]',
    '["subscription.fetch","billing","w\u00e9",{"max":0}]',
    '["subscription.ack","billing",["d1.7.1","d1.7.1"]]',
    '["subscription.ack","billing",["",1,["x"]]]',
    '["subscription.nack","billing",["d1"],{"action":"park","reason":"bad <data>"}]',
    '["subscription.nack","billing",["d\u0000"],{"action":null}]',
    '["subscription.parked","billing",{"position":17,"batchSize":1000}]',
    '["subscription.replayParked","billing",{"globalPositions":[17,42.5,null]}]',
    '["subscription.reset","billing","beginning"]',
    '["subscription.reset","billing",-1]',
    # docs/writes-and-reads.md
    '["stream.write","a-1",{"type":"T","data":{}},{"id":"0195b3c2-7d1e-7a80-9c55-1f2e3d4c5b6a","idempotent":true}]',
    '["stream.write","a-1",{"type":"T","data":{}},{"idempotent":1}]',
    '["stream.writeMany",[{"streamName":"a-1","type":"T","data":{"x":1},"expectedVersion":-1},'
    '{"streamName":"b-2","type":"U","data":{},"metadata":null,"id":""}],{"idempotent":false}]',
    '["stream.writeMany",[{"streamName":"a-1","type":"T","data":{},"id":"nope"}]]',
    '["stream.writeMany",[{"streamName":"","type":"T","data":{}}]]',
    '["stream.writeMany",[1]]',
    '["stream.writeMany",[]]',
    '["stream.get","a-1",{"direction":"backward","position":5,"batchSize":2}]',
    '["stream.get","a-1",{"direction":"backward","batchSize":-1}]',
    '["stream.get","a-1",{"direction":"sideways"}]',
    '["category.get","account",{"types":["Deposited","Withdrawn"],"batchSize":-1}]',
    '["category.get","account",{"types":[""]}]',
    '["category.positionAt","account","2025-03-01T09:15:02.123456789+01:00"]',
    '["category.positionAt","","yesterday"]',
    '["stream.delete","acct-1",{"hard":true}]',
    '["stream.delete","acct-1",{"hard":1}]',
    '["stream.info","acct-1"]',
    '["stream.setRetention","acct-1",{"maxAge":3600.5,"maxCount":null,"truncateBefore":7}]',
    '["stream.setRetention","acct-1",{"maxCount":-1}]',
    '["stream.getRetention",""]',
    '["category.setRetention","acct",{"maxAge":1,"maxCount":10}]',
    '["category.setRetention","a-b",{}]',
    '["category.getRetention","acct"]',
    '["message.redact",17,{"reason":"GDPR \\u0000 #1"}]',
    '["message.redact",1e309,{"reason":"x"}]',
    '[]', 'null', '{}', '[1]', '', '["stream.get"] x', ' [ "sys.health" ] ',
    '["stream.get","\xff\xfe"]',
    '["stream.get","\\ud800"]',
    '[' * 50 + ']' * 50,
]
rpc_items = []
for mode in (0x00, 0x01, 0x02 | 0x10, 0x02 | 0x20, 0x04, 0x08):
    for body in RPC:
        rpc_items.append(bytes([mode]) + body.encode("utf-8", "surrogateescape")
                         if isinstance(body, str) else bytes([mode]) + body)
seeds("rpc", rpc_items)
dictionary("rpc", ["stream.write", "stream.get", "stream.last", "stream.version", "category.get",
                   "ns.create", "ns.delete", "ns.list", "ns.info", "ns.streams", "ns.categories",
                   "sys.version", "sys.health", '"type"', '"data"', '"metadata"', '"id"',
                   '"expectedVersion"', '"position"', '"globalPosition"', '"batchSize"',
                   '"correlation"', '"consumerGroup"', '"member"', '"size"', '"description"',
                   '"token"', '"prefix"', '"limit"', '"cursor"', "null", "true", "false",
                   "\\u0000", "\\ud800", "1e309", "-0", "9223372036854775807", '"ns_',
                   "subscription.create", "subscription.update", "subscription.delete",
                   "subscription.get", "subscription.list", "subscription.fetch",
                   "subscription.ack", "subscription.nack", "subscription.parked",
                   "subscription.replayParked", "subscription.reset", '"types"', '"start"',
                   "stream.writeMany", "category.positionAt", '"idempotent"', '"direction"',
                   '"backward"', '"forward"', '"streamName"',
                   '"maxInFlight"', '"ackTimeoutMs"', '"maxDeliveries"', '"strategy"',
                   '"category"', '"max"', '"waitMs"', '"action"', '"reason"',
                   '"globalPositions"', '"roundRobin"', '"pinned"', '"beginning"', '"end"',
                   "stream.delete", "stream.info", "stream.setRetention", "stream.getRetention",
                   "category.setRetention", "category.getRetention", "message.redact", '"hard"',
                   '"maxAge"', '"maxCount"', '"truncateBefore"'])

# ---- tokens (docs/http-api.md#tokens) --------------------------------------
TOKENS = [
    DEFAULT, "ns_ZGVmYXVsdB_" + ZEROS, "ns_ZGVm\r\nYXVsdA_" + ZEROS, "ns_dGVuYW50LWE_" + "ab" * 32,
    "ns_YWI_" + ZEROS, "xx_ZGVmYXVsdA_" + ZEROS, "ns_ZGVmYXVsdA_" + "0" * 63,
    "ns_ZGVmYXVsdA_" + "g" * 64, "ns__" + ZEROS, "ns_Z_" + ZEROS, "ns_ZGVmYXVsdA=_" + ZEROS,
    "ns_a_b_c", "ns_", "", "ns_ZGVmYXVsdA_" + "AbCdEf" * 10 + "abcd", "ns_5pel5pys_" + ZEROS,
]
seeds("token", TOKENS)
dictionary("token", ["ns_", "_", ZEROS, "ZGVmYXVsdA", "\r\n", "="])

auth_items = []
for t in TOKENS:
    for mode in (0x00, 0x01, 0x04, 0x08):
        auth_items.append(bytes([mode]) + ("Bearer " + t).encode())
        auth_items.append(bytes([mode | 2]) + t.encode())
for h in ("bearer x", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer", "  Bearer  " + DEFAULT + "  ", DEFAULT, ""):
    auth_items.append(b"\x00" + h.encode())
seeds("auth", auth_items)
dictionary("auth", ["Bearer ", "ns_", "_", ZEROS, "ZGVmYXVsdA", "dGVuYW50LWE"])

# ---- /subscribe queries (docs/http-api.md#parameters, #validation) ---------------------------
def poke(stream, pos, gpos):
    s = stream.encode()
    return bytes([len(s)]) + s + bytes([pos & 255, gpos & 255])

QUERIES = [
    "stream=account-123&position=5", "stream=account-123", "category=account&position=1",
    "category=account&consumer=1&size=2", "category=account&size=2", "category=account&consumer=1",
    "category=account&consumer=-1&size=2", "category=account&consumer=0&size=0",
    "all=true&position=0", "all=TRUE", "all=1", "all=true&stream=x", "stream=a&category=b",
    "position=5", "stream=a&position=1.5", "stream=a&position=+7", "stream=a&position=-",
    "stream=a&position=0x10", "stream=a&position=9223372036854775808",
    "stream=a&position=-9223372036854775808", "category=a&size=99999999999999999999",
    "stream=account-123%2B2025&position=0", "stream=&category=x", "stream=a+b",
    "category=account&consumerGroupMember=1&consumerGroupSize=2", "stream=%00x", "",
    "stream=a&stream=b", "token=abc&stream=a",
]
PK = poke("account-123", 5, 17) + poke("account-9", 0, 18) + poke("other-1", 1, 19) + \
    poke("account-123", 6, 20) + poke('x"<\n\n>\xe2\x80\xa8', 0, 21)
sse_items = [q.encode() for q in QUERIES] + [q.encode() + b"\n" + PK for q in QUERIES[:12]]
seeds("sse_query", sse_items)
dictionary("sse_query", ["stream=", "category=", "all=true", "position=", "consumer=", "size=",
                         "&", "%2B", "%00", "-", "+", "9223372036854775807"])

# ---- import (docs/http-api.md#bulk-import-import) --------------------------------------
REC = {"id": "0195b3c2-7d1e-7a80-9c55-1f2e3d4c5b6a", "stream": "account-123", "type": "Deposited",
       "pos": 0, "gpos": 17, "data": {"amount": 100}, "meta": None, "time": "2025-03-01T09:15:02Z"}
LINES = [
    j(REC),
    j(dict(REC, pos=1, gpos=18, time="2025-03-01T10:15:02.123456789+01:00", meta={"a": 1})),
    j(dict(REC, data=None)),
    '{"ID":"x","Stream":"s","POS":3}',
    '{"pos":"1"}', '{"data":[]}', '{"time":"yesterday"}', '{"time":"2025-13-01T00:00:00Z"}',
    '{"gpos":9223372036854775808}', '{"pos":1.5}', '{"pos":1e2}', '{}', 'null', '[]', '{"a":', '   ',
    '{"stream":"\\ud800\\u0000<>","type":"\xff"}', '{"data":{"x":1},"data":null}',
]
seeds("import_record", LINES)
dictionary("import_record", ['"id"', '"stream"', '"type"', '"pos"', '"gpos"', '"data"', '"meta"',
                             '"time"', "null", "2025-03-01T09:15:02Z", "+01:00", ".123456789",
                             "\\u", "9223372036854775807"])
BODIES = [
    "\n".join(LINES[:3]) + "\n",
    j(REC) + "\r\n\r\n  \n" + j(dict(REC, pos=1, gpos=18)),
    "", "\n\n", "\n".join(LINES),
    "\n".join('{"pos":%d,"gpos":%d}' % (i, i + 1) for i in range(1001)),  # one full batch + 1
    "\u00a0\n\u3000" + j(REC) + "\u2028\r\n\u0085\v\n\u200b\n",  # Go's TrimSpace; U+200B is no space
]
imp_items = []
for mode in (0x00, 0x01, 0x04, 0x08, 0x10, 0x11):
    for b in BODIES:
        imp_items.append(bytes([mode]) + b.encode("utf-8", "surrogateescape"))
seeds("import_body", imp_items)
dictionary("import_body", ['"id"', '"stream"', '"type"', '"pos"', '"gpos"', '"data"', '"meta"',
                           '"time"', "\n", "\r\n", "2025-03-01T09:15:02Z", "\u00a0", "\u2028",
                           "\u3000"])

# ---- JSON texts -------------------------------------------------------------
JSON = ['{"a":[1,2,{"b":null}],"c":"\\u00e9\\ud83d\\ude00"}', "[]", "{}", '""', "0", "-0.0e+5",
        "1E400", "01", "[1,]", '{"a" 1}', "[" * 20 + "]" * 20, '"\\x"', '"\x01"', "tru", "nul",
        ' {"k":"v"} ', '"\\ud800"', "\xef\xbb\xbf{}", "[1e309]", "-", "[-]", "1.", "1.e1"]
seeds("json_scan", JSON)
dictionary("json_scan", ["{", "}", "[", "]", ":", ",", '"', "\\u", "\\ud800", "\\udc00", "true",
                         "false", "null", "1e", "-0.", "E+"])

# ---- times ------------------------------------------------------------------
TIMES = ["2025-03-01T09:15:02Z", "2025-03-01T09:15:02.123456Z", "2025-03-01T09:15:02.5+01:00",
         "2025-03-01T09:15:02-23:59", "2025-03-01t09:15:02z", "2025-02-29T00:00:00Z",
         "2024-02-29T23:59:60Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
         "2025-03-01", "2025-03-01T09:15Z", "2025-03-01T09:15:02.Z", "2025-03-01T09:15:02,5Z",
         "2025-03-01T24:00:00Z", "2025-03-01 09:15:02Z", "yesterday", ""]
seeds("rfc3339", TIMES)
dictionary("rfc3339", ["T", "Z", "z", "+", "-", ":", ".", "00", "59", "60", "2025-", "+14:00"])

# ---- strings for jw_string --------------------------------------------------
seeds("jsonw", ["plain", "<&>", "\u2028\u2029", "quote\" back\\ slash/", "\x00\x01\x1f\x7f",
                b"\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", "\u00e9\U0001F600", ""])

# ---- command lines (docs/configuration.md#flags-and-environment-variables) ---------------------------------------
ARGV = ["--url=http://127.0.0.1:8080\0--token\0" + DEFAULT + "\0--gzip\0--force=false\0file",
        "-input\0-\0-gzip=maybe", "--\0--url", "--url", "-h", "--help", "---x", "-=x", "-",
        "--port=9000\0--test-mode\0--db-url\0postgres://u@/db\0--log-level=debug",
        "--port=0x1F90\0--log-format=json", "--port=99999999999", "--test-mode=true\0true",
        "--db-type=timescale\0--db-url=sqlite://x", "--unknown=1", "--token=",
        "-port\0-1", "--port=1_000"]
seeds("cli_flags", ARGV)
dictionary("cli_flags", ["--", "-", "=", "url", "token", "input", "gzip", "force", "port",
                         "db-url", "test-mode", "log-level", "log-format", "db-type", "data-dir",
                         "open-admin", "true", "false", "postgres://", "\x00"])
# ---- HTTP responses read by the export/import CLI (gateway/http_client.c) ----
RESP = [
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[]\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ndata:\r\n3;ext=1\r\n {}\r\n0\r\nTrailer: x\r\n\r\n",
    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ndata: {\"done\":true,\"imported\":0,\"elapsed\":\"0.0s\"}\n\n",
    "HTTP/1.0 500 Internal Server Error\r\n\r\n{\"error\":{\"code\":\"BACKEND_ERROR\",\"message\":\"x\"}}",
    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nx",
    "HTTP/1.1 200\r\n\r\n", "HTTP/1.1 999 X\nFoo: bar\n\nbody", "garbage\r\n\r\n", "",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
]
URLS = ["http://127.0.0.1:8080", "http://[::1]:9/x/", "https://x", "http://h", "http://:80", "x", "",
        "http://u@h:1/p?q#f", "HTTP://H:65536"]
hc_items = []
for i, r in enumerate(RESP):
    hc_items.append(bytes([i & 1]) + URLS[i % len(URLS)].encode() + b"\n" + r.encode())
seeds("http_client", hc_items)
dictionary("http_client", ["HTTP/1.1 ", "200 OK", "\r\n", "Content-Length: ", "Transfer-Encoding: chunked",
                           "Connection: close", "0\r\n\r\n", "http://", ":", "/"])
# ---- what a server at --url answers the export/import subcommands ------------
def http_ok(body, extra=""):
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
        extra, len(body.encode()), body)

MSG = '["0195b3c2-7d1e-7a80-9c55-1f2e3d4c5b6a","account-1","Deposited",0,%d,{"amount":100},%s,"%s"]'
PAGES = [
    "[" + MSG % (17, "null", "2025-03-01T09:15:02.123456Z") + "," + MSG % (18, '{"a":1}', "2025-03-01T09:15:03Z") + "]\n",
    "[" + MSG % (-5, "null", "garbage") + "]\n",
    '[[1,2],["x"],{},null,[null,null,null,null,null,null,null,null]]\n',
    '[["id","s","t",0,5,null,null,"2025-03-01T09:15:02Z"]]\n',
    '{"error":{"code":"AUTH_UNAUTHORIZED","message":"Token not authorized for namespace"}}\n',
]
cli_items = []
for mode in (0, 2, 4, 6, 8):
    for page in PAGES:
        cli_items.append(bytes([mode]) + http_ok(page).encode())
    cli_items.append(bytes([mode]) + (http_ok(PAGES[0]) + "\0\0\0" + http_ok(PAGES[0])).encode())
cli_items.append(b"\x00HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\n{}")
EVENTS = [
    'data: {"imported":1000,"gpos":1000}\n\ndata: {"done":true,"imported":1001,"elapsed":"0.3s"}\n\n',
    'data: {"error":"POSITION_EXISTS","message":"global position already exists: 47","line":15}\n\n',
    'data: {"error":"INVALID_JSON","message":"malformed JSON at line 1: x"}\n\n',
    'data: not json\n\ndata: {"done":false}\n\n', ': comment\n\n', 'data: {"done":true}',
]
for ev in EVENTS:
    cli_items.append(b"\x01HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + ev.encode())
    cli_items.append(b"\x01HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                     % (len(ev.encode()), ev.encode()))
cli_items.append(b"\x01HTTP/1.1 500 Internal Server Error\r\nContent-Length: 52\r\n\r\n"
                 b'{"error":{"code":"CLEAR_FAILED","message":"boom"}}\n\n')
seeds("cli_client", cli_items)
dictionary("cli_client", ["HTTP/1.1 200 OK\r\n", "Content-Length: ", "Transfer-Encoding: chunked\r\n",
                          "\r\n\r\n", "data: ", '"done":true', '"error":', '"imported":', '"line":',
                          "\x00\x00\x00", "2025-03-01T09:15:02Z", "9223372036854775807", "[[", "]]"])
print("corpora written under", os.path.join(HERE, "corpus"))
