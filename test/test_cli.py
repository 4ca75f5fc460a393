"""The eventodb command line (docs/configuration.md#commands)."""
import gzip
import json
import re
import subprocess

import pytest

from conftest import BIN, clean_env, db_url
from harness import DEFAULT_TOKEN, free_port, ndjson, record, token_for

MISSING_DB_URL = "--db-url is required (use --test-mode for in-memory testing)"


def run(args, env=None, input_=None, timeout=60):
    p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout, env=env or clean_env(),
                       input=input_)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ------------------------------------------------------------------ commands

@pytest.mark.parametrize("args", [["version"], ["--version"], ["-v"]])
def test_version_command(gw, args):
    code, out, err = run(args)
    assert code == 0, (out, err)
    assert gw.ok("sys.version") in out


@pytest.mark.parametrize("args", [["version", "--full"], ["version", "-f"], ["--version", "--full"]])
def test_version_full(gw, args):
    code, out, err = run(args)
    assert code == 0, (out, err)
    assert gw.ok("sys.version") in out


@pytest.mark.parametrize("args", [["help"], ["--help"], ["-h"], []])
def test_help_exits_zero_without_starting_a_server(args):
    code, out, err = run(args, timeout=20)
    assert code == 0, (out, err)
    assert (out + err).strip()


@pytest.mark.parametrize("args", [["--bogus"], ["serve", "--bogus"], ["serve", "--port=abc"],
                                  ["--port=notaport"], ["serve", "--test-mode=maybe"]])
def test_unknown_flag_or_bad_value_exits_2(args):
    code, out, err = run(args, timeout=20)
    assert code == 2, (code, out, err)
    assert (out + err).strip()


def test_missing_db_url_exits_1_with_message():
    code, out, err = run(["serve", "--port=%d" % free_port(), "--token=" + DEFAULT_TOKEN], timeout=20)
    assert code == 1, (code, out, err)
    assert MISSING_DB_URL in out + err


def test_flags_without_command_word_start_server_or_need_db_url():
    code, out, err = run(["--port=%d" % free_port()], timeout=20)
    assert code == 1 and MISSING_DB_URL in out + err, (code, out, err)


@pytest.mark.parametrize("url", ["sqlite://x.db", "pebble:///tmp/x", "mysql://u@h/db", "host=/tmp dbname=x",
                                 "http://localhost/x"])
def test_unsupported_database_url_fails_start_up(url):
    code, out, err = run(["serve", "--port=%d" % free_port(), "--db-url=" + url], timeout=30)
    assert code == 1, (code, out, err)
    assert (out + err).strip()


def test_unsupported_read_database_url_fails_start_up():
    code, out, err = run(["serve", "--port=%d" % free_port(), "--db-url=postgresql://nobody@/nodb",
                          "--read-db-url=sqlite://x.db"], timeout=30)
    assert code == 1, (code, out, err)
    assert "unsupported read database scheme: sqlite" in out + err


def test_unreachable_database_fails_start_up():
    code, out, err = run(["serve", "--port=%d" % free_port(),
                          "--db-url=postgresql://nobody@/nodb?host=/nonexistent-dir&port=1"], timeout=60)
    assert code == 1, (code, out, err)


def test_port_in_use_fails_start_up(gw, prod_db):
    """A second gateway on a listening port stops (exit 1), as the original's failed listen
    did, instead of sharing the port and taking part of the first one's connections."""
    code, out, err = run(["serve", "--port=%d" % gw.port, "--db-url=" + db_url(prod_db)], timeout=30)
    assert code == 1, (code, out, err)
    assert gw.ok("sys.version") == "0.7.0"


def test_timescale_db_type_rejected(prod_db):
    code, out, err = run(["serve", "--port=%d" % free_port(), "--db-url=" + db_url(prod_db),
                          "--db-type=timescale"], timeout=30)
    assert code != 0, (out, err)


@pytest.mark.parametrize("token,text", [("garbage", "invalid token format: missing 'ns_' prefix"),
                                        (token_for("x"), "provided token is for namespace 'x', expected 'default'")])
def test_bad_start_up_token_aborts(prod_db, token, text):
    code, out, err = run(["serve", "--port=%d" % free_port(), "--db-url=" + db_url(prod_db),
                          "--token=" + token], timeout=30)
    assert code != 0, (out, err)
    assert text in out + err


def test_token_is_not_in_any_response_but_default_exists(gw):
    assert gw.ok("ns.info", "default")["description"] == "Default namespace"


# ------------------------------------------------------------------ flags and environment

def test_flag_forms(spawn, prod_db):
    g = spawn("flagforms", ["serve", "-port", "{port}", "-db-url", db_url(prod_db), "--token", DEFAULT_TOKEN,
                            "--log-level=debug", "--log-format=json", "--data-dir=/nonexistent"])
    assert g.ok("sys.version")
    g = spawn("flagforms2", ["-port={port}", "--db-url=" + db_url(prod_db), "-token=" + DEFAULT_TOKEN,
                             "--test-mode=false", "--db-type=postgres"])
    r = g.rpc("sys.version", token=None)
    assert r.status == 401


def test_test_mode_equals_true_form(spawn, prod_db):
    g = spawn("tmtrue", ["serve", "--test-mode=true", "--port={port}", "--db-url=" + db_url(prod_db),
                         "--token=" + DEFAULT_TOKEN])
    assert g.rpc("sys.version", token=None).status == 200


def test_environment_defaults(spawn, prod_db):
    port = free_port()
    env = clean_env(EVENTODB_PORT=str(port), EVENTODB_DB_URL=db_url(prod_db), EVENTODB_TOKEN=DEFAULT_TOKEN,
                    EVENTODB_LOG_LEVEL="warn", EVENTODB_LOG_FORMAT="json")
    g = spawn("envdefaults", ["serve"], env=env, port=port)
    assert g.ok("sys.version", token=DEFAULT_TOKEN)
    assert g.rpc("sys.version", token=None).status == 401


@pytest.mark.parametrize("value,test_mode", [("1", True), ("t", True), ("TRUE", True), ("True", True),
                                             ("0", False), ("F", False), ("false", False), ("maybe", False)])
def test_environment_test_mode_values(spawn, prod_db, value, test_mode):
    port = free_port()
    env = clean_env(EVENTODB_TEST_MODE=value, EVENTODB_DB_URL=db_url(prod_db))
    g = spawn("envtm", ["serve", "--port={port}", "--token=" + DEFAULT_TOKEN], env=env, port=port)
    assert (g.rpc("sys.version", token=None).status == 200) == test_mode


def test_flags_override_environment(spawn, prod_db):
    port = free_port()
    env = clean_env(EVENTODB_PORT="1", EVENTODB_DB_URL="sqlite://nope", EVENTODB_TOKEN="garbage")
    g = spawn("override", ["serve", "--port={port}", "--db-url=" + db_url(prod_db), "--token=" + DEFAULT_TOKEN],
              env=env, port=port)
    assert g.ok("sys.version")


def test_messagedb_variables_are_ignored():
    env = clean_env(MESSAGEDB_DB_URL="postgresql://x@/y", MESSAGEDB_PORT=str(free_port()))
    code, out, err = run(["serve"], env=env, timeout=20)
    assert code == 1 and MISSING_DB_URL in out + err


def test_existing_default_with_other_token_keeps_old_token(spawn, prod_db):
    other = "ns_ZGVmYXVsdA_" + "9" * 64
    g = spawn("othertoken", ["serve", "--port={port}", "--db-url=" + db_url(prod_db), "--token=" + other])
    assert g.ok("sys.version", token=DEFAULT_TOKEN)
    assert g.rpc("sys.version", token=other).status == 403


# ------------------------------------------------------------------ export / import

EXPORT_KEYS = ["id", "stream", "type", "pos", "gpos", "data", "meta", "time"]


def check_export_lines(text, msgs):
    """Each line is one compact docs/configuration.md#commands record with keys in order, time truncated to seconds."""
    lines = text.split(b"\n")
    assert lines[-1] == b"", text[-100:]
    assert len(lines) - 1 == len(msgs)
    for line, m in zip(lines[:-1], msgs):
        pairs = json.loads(line, object_pairs_hook=lambda p: p)
        assert [k for k, _ in pairs] == EXPORT_KEYS, line
        rec = json.loads(line)
        assert rec == {"id": m[0], "stream": m[1], "type": m[2], "pos": m[3], "gpos": m[4],
                       "data": m[5], "meta": m[6], "time": re.sub(r"\.\d+Z$", "Z", m[7])}, line
        stripped = re.sub(rb'"(\\.|[^"\\])*"', b'""', line)
        assert b" " not in stripped, line


@pytest.fixture
def source(gw):
    ns, tok = gw.create_ns()
    gw.ok("stream.write", "account-1", {"type": "Opened", "data": {"owner": "kim", "n": 1}}, token=tok)
    gw.ok("stream.write", "account-1", {"type": "Deposited", "data": {"amount": 100},
                                        "metadata": {"correlationStreamName": "wf-1", "z": [1, {"b": 2, "a": 1}]}},
          token=tok)
    gw.ok("stream.write", "order-7", {"type": "Placed", "data": {"html": "<b>&</b>", "u": "日本"}}, token=tok)
    gw.ok("stream.write", "account-2", {"type": "Opened", "data": {}}, token=tok)
    gw.ok("stream.write", "misc", {"type": "Note", "data": {"s": "a/b"}}, token=tok)
    return ns, tok


def url(gw):
    return "http://%s:%d" % (gw.host, gw.port)


def test_export_format_to_file(gw, source, tmp_path):
    ns, tok = source
    out = tmp_path / "export.ndjson"
    code, o, e = run(["export", "--url", url(gw), "--token", tok, "--output", str(out)])
    assert code == 0, (o, e)
    check_export_lines(out.read_bytes(), gw.ok("category.get", "", token=tok))


def test_export_to_stdout(gw, source):
    ns, tok = source
    code, o, e = run(["export", "--url=" + url(gw), "--token=" + tok])
    assert code == 0, e
    check_export_lines(o.encode(), gw.ok("category.get", "", token=tok))


def test_export_categories_grouped_in_given_order(gw, source):
    ns, tok = source
    code, o, e = run(["export", "--url", url(gw), "--token", tok, "--categories", "order, account"])
    assert code == 0, e
    streams = [json.loads(x)["stream"] for x in o.splitlines()]
    assert streams == ["order-7", "account-1", "account-1", "account-2"]


def test_export_pages_past_1000(gw):
    ns, tok = gw.create_ns()
    gw.import_(ndjson([record("pg-%d" % (i % 5), i // 5, i + 1) for i in range(2345)]), token=tok)
    code, o, e = run(["export", "--url", url(gw), "--token", tok])
    assert code == 0, e
    gps = [json.loads(x)["gpos"] for x in o.splitlines()]
    assert gps == list(range(1, 2346))


def test_export_since_until(gw):
    ns, tok = gw.create_ns()
    gw.import_(ndjson([record("d-1", 0, 1, time_="2025-01-01T00:00:00Z"),
                       record("d-1", 1, 2, time_="2025-01-02T00:00:00.5Z"),
                       record("d-1", 2, 3, time_="2025-01-02T23:59:59Z"),
                       record("d-1", 3, 4, time_="2025-01-03T00:00:00Z")]), token=tok)
    code, o, e = run(["export", "--url", url(gw), "--token", tok, "--since", "2025-01-02", "--until", "2025-01-03"])
    assert code == 0, e
    assert [json.loads(x)["gpos"] for x in o.splitlines()] == [2, 3]
    assert json.loads(o.splitlines()[0])["time"] == "2025-01-02T00:00:00Z"
    code, o, e = run(["export", "--url", url(gw), "--token", tok, "--since", "2025-01-02T12:00:00Z"])
    assert code == 0, e
    assert [json.loads(x)["gpos"] for x in o.splitlines()] == [3, 4]


def test_export_import_round_trip_into_another_namespace(gw, source, tmp_path):
    ns, tok = source
    dest, dtok = gw.create_ns()
    f = tmp_path / "rt.ndjson"
    code, o, e = run(["export", "--url", url(gw), "--token", tok, "--output", str(f)])
    assert code == 0, e
    code, o, e = run(["import", "--url", url(gw), "--token", dtok, "--input", str(f)])
    assert code == 0, (o, e)
    assert "5" in o + e
    a = gw.ok("category.get", "", token=tok)
    b = gw.ok("category.get", "", token=dtok)
    assert [m[:7] for m in a] == [m[:7] for m in b]
    assert [re.sub(r"\.\d+Z$", "Z", m[7]) for m in a] == [m[7] for m in b]
    assert gw.write("account-1", token=dtok) == {"globalPosition": a[-1][4] + 1, "position": 2}


def test_import_from_stdin(gw, source):
    ns, tok = source
    dest, dtok = gw.create_ns()
    code, exported, e = run(["export", "--url", url(gw), "--token", tok])
    assert code == 0
    code, o, e = run(["import", "--url", url(gw), "--token", dtok], input_=exported.encode())
    assert code == 0, (o, e)
    assert len(gw.ok("category.get", "", token=dtok)) == 5


def test_gzip_round_trip(gw, source, tmp_path):
    ns, tok = source
    dest, dtok = gw.create_ns()
    f = tmp_path / "x.ndjson.gz"
    code, o, e = run(["export", "--url", url(gw), "--token", tok, "--gzip", "--output", str(f)])
    assert code == 0, e
    plain = gzip.decompress(f.read_bytes())
    assert len(plain.splitlines()) == 5
    code, o, e = run(["import", "--url", url(gw), "--token", dtok, "--gzip", "--input", str(f)])
    assert code == 0, (o, e)
    assert len(gw.ok("category.get", "", token=dtok)) == 5


def test_import_force_asks_for_confirmation(gw, source, tmp_path):
    ns, tok = source
    f = tmp_path / "one.ndjson"
    f.write_bytes(ndjson([record("forced-1", 0, 50)]))
    code, o, e = run(["import", "--url", url(gw), "--token", tok, "--input", str(f), "--force"], input_=b"n\n")
    assert len(gw.ok("category.get", "", token=tok)) == 5
    code, o, e = run(["import", "--url", url(gw), "--token", tok, "--input", str(f), "--force"], input_=b"y\n")
    assert code == 0, (o, e)
    got = gw.ok("category.get", "", token=tok)
    assert [m[1] for m in got] == ["forced-1"]


def test_import_error_event_aborts_with_code_message_line(gw, tmp_path):
    ns, tok = gw.create_ns()
    f = tmp_path / "bad.ndjson"
    f.write_bytes(ndjson([record("bad-1", 0, 1)]) + b"{nope\n")
    code, o, e = run(["import", "--url", url(gw), "--token", tok, "--input", str(f)])
    assert code != 0
    assert re.search(r"INVALID_JSON: malformed JSON at line 2: .*\(line 2\)", o + e), (o, e)


def test_import_http_error_is_reported(gw, tmp_path):
    f = tmp_path / "x.ndjson"
    f.write_bytes(ndjson([record("he-1", 0, 1)]))
    code, o, e = run(["import", "--url", url(gw), "--token", "ns_ZGVmYXVsdA_" + "5" * 64, "--input", str(f)])
    assert code != 0
    assert "server error (HTTP 403): " in o + e, (o, e)


def test_cli_clients_ignore_server_settings(gw, source):
    ns, tok = source
    code, o, e = run(["export", "--url", url(gw), "--token", tok], env=clean_env(EVENTODB_DB_URL="sqlite://x"))
    assert code == 0, e
    assert len(o.splitlines()) == 5


def test_json_log_format_lines_are_json(spawn, prod_db):
    g = spawn("jsonlog", ["serve", "--port={port}", "--db-url=" + db_url(prod_db), "--token=" + DEFAULT_TOKEN,
                          "--log-format=json", "--log-level=debug"])
    g.ok("sys.version")
    g.rpc("stream.get", token="ns_ZGVmYXVsdA_" + "1" * 64)
    g.stop()
    lines = [x for x in g.log_text().splitlines()[1:] if x.strip()]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line


def test_help_lists_every_command():
    out = run(["help"])[1]
    for command in ("serve", "export", "import", "version", "prepare-test-template", "help"):
        assert "\n  eventodb %s" % command in out, command


@pytest.mark.parametrize("args,code", [(["--help"], 0), (["-h"], 0), (["now"], 2)])
def test_prepare_test_template_with_arguments_only_prints_its_usage(args, code):
    rc, out, err = run(["prepare-test-template"] + args, timeout=10)
    assert rc == code, (rc, out, err)
    assert (out if code == 0 else err).startswith("usage: eventodb prepare-test-template\n"), (out, err)
    assert "template cluster" not in out + err
