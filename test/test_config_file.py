"""The config file (--config=FILE / EVENTODB_CONFIG): KEY=VALUE lines named
after the EVENTODB_* variables, so every flag is settable there; precedence
flags > environment > file > defaults; errors name the file and the line and
never echo a value (the file may hold tokens)."""
import os
import re
import subprocess

import pytest

from conftest import BIN, clean_env, db_url
from harness import DEFAULT_TOKEN, free_port, unique


def write_conf(tmp_path, text, name="eventodb.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(args, env=None, timeout=20):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else clean_env())


def flag_variables():
    """The EVENTODB_* name of every flag, from the binary's own help."""
    out = run(["help"]).stdout
    names = re.findall(r"\[\$(EVENTODB_[A-Z0-9_]+)\]", out)
    assert "EVENTODB_PORT" in names and "EVENTODB_CONFIG" in names
    return names


def test_every_flag_is_a_key_of_the_config_file(tmp_path):
    # empty values keep the defaults; no key may be unknown, so the start
    # gets as far as the configuration check (no database URL: exit 1)
    keys = [n for n in flag_variables() if n != "EVENTODB_CONFIG"]
    keys += ["EVENTODB_THREADS", "EVENTODB_WRITE_LEADERS", "EVENTODB_REQUEST_BUDGET",
             "EVENTODB_HTTP_MODE", "EVENTODB_TEST_RESET", "EVENTODB_PG_USER", "EVENTODB_PG_BINDIR"]
    conf = write_conf(tmp_path, "".join("%s=\n" % k for k in keys))
    r = run(["serve", "--config=" + conf])
    assert r.returncode == 1, r.stderr + r.stdout
    assert "--db-url is required" in r.stdout + r.stderr


def test_gateway_runs_from_the_config_file_alone(tmp_path, prod_db, spawn):
    port = free_port()
    conf = write_conf(tmp_path, "# settings of the black-box suite\n\n"
                      "  EVENTODB_PORT = %d  \n"
                      'EVENTODB_DB_URL="%s"\n'
                      "EVENTODB_TOKEN='%s'\n"
                      "EVENTODB_LOG_LEVEL=warn\n"
                      "EVENTODB_THREADS=4\n" % (port, db_url(prod_db), DEFAULT_TOKEN))
    g = spawn("conf", ["serve", "--config", conf], port=port)
    s = unique("conf") + "-1"
    assert g.write(s)["position"] == 0
    assert g.ok("stream.version", s) == 0
    assert DEFAULT_TOKEN not in g.log_text()


def test_eventodb_config_names_the_file(tmp_path, prod_db, spawn):
    port = free_port()
    conf = write_conf(tmp_path, "EVENTODB_PORT=%d\nEVENTODB_DB_URL=%s\nEVENTODB_TOKEN=%s\n"
                      % (port, db_url(prod_db), DEFAULT_TOKEN))
    g = spawn("conf-env", ["serve"], env=clean_env(EVENTODB_CONFIG=conf), port=port)
    assert g.request("GET", "/health").status == 200


def test_flags_beat_the_environment_which_beats_the_file(tmp_path, prod_db, spawn):
    p_file, p_env, p_flag = free_port(), free_port(), free_port()
    conf = write_conf(tmp_path, "EVENTODB_PORT=%d\nEVENTODB_DB_URL=%s\nEVENTODB_TOKEN=%s\n"
                      % (p_file, db_url(prod_db), DEFAULT_TOKEN))
    env = clean_env(EVENTODB_PORT=str(p_env))
    g = spawn("flag", ["serve", "--config=" + conf, "--port=%d" % p_flag], env=env, port=p_flag)
    assert g.request("GET", "/health").status == 200
    g.stop()
    g = spawn("env", ["serve", "--config=" + conf], env=env, port=p_env)
    assert g.request("GET", "/health").status == 200
    g.stop()
    g = spawn("file", ["serve", "--config=" + conf], port=p_file)
    assert g.request("GET", "/health").status == 200


@pytest.mark.parametrize("text,line,problem", [
    ("EVENTODB_PORT=8080\n\n# fine so far\nEVENTODB_NOPE=1\n", 4, "unknown key EVENTODB_NOPE"),
    ("EVENTODB_PORT=8080\nport 8080\n", 2, "expected KEY=VALUE"),
    ("eventodb_port=8080\n", 1, "expected KEY=VALUE with KEY in capitals"),
    ("=8080\n", 1, "expected KEY=VALUE with KEY in capitals"),
    ("EVENTODB_PORT=8080\nEVENTODB_PORT=8081\n", 2, "EVENTODB_PORT is set twice"),
    ("EVENTODB_LOG_LEVEL=loud\n", 1, "invalid value for EVENTODB_LOG_LEVEL (-log-level)"),
    ("EVENTODB_OPEN_ADMIN=maybe\n", 1, "invalid value for EVENTODB_OPEN_ADMIN (-open-admin)"),
    ('EVENTODB_TOKEN="ns_unterminated\n', 1, "unterminated quote"),
    ("EVENTODB_CONFIG=/etc/other.conf\n", 1, "EVENTODB_CONFIG cannot be set in a config file"),
    ("EVENTODB_THREADS=0\n", 1, "invalid value for EVENTODB_THREADS"),
    ("EVENTODB_THREADS=abc\n", 1, "invalid value for EVENTODB_THREADS"),
    ("EVENTODB_THREADS=2000\n", 1, "invalid value for EVENTODB_THREADS"),
    ("EVENTODB_HTTP_MODE=bogus\n", 1, "invalid value for EVENTODB_HTTP_MODE"),
    ("EVENTODB_WRITE_LEADERS=-1\n", 1, "invalid value for EVENTODB_WRITE_LEADERS"),
    ("EVENTODB_REQUEST_BUDGET=abc\n", 1, "invalid value for EVENTODB_REQUEST_BUDGET"),
    ("EVENTODB_REQUEST_BUDGET=0\n", 1, "invalid value for EVENTODB_REQUEST_BUDGET"),
    # keys without a flag follow the same rules
    ("EVENTODB_THREADS=8\nEVENTODB_THREADS=4\n", 2, "EVENTODB_THREADS is set twice"),
    ("EVENTODB_TEST_RESET=1\nEVENTODB_TEST_RESET=0\n", 2, "EVENTODB_TEST_RESET is set twice"),
    ("EVENTODB_PG_USER=a\n\nEVENTODB_PG_USER=b\n", 3, "EVENTODB_PG_USER is set twice"),
    ("EVENTODB_TEST_RESET=yes\n", 1, "invalid value for EVENTODB_TEST_RESET"),
])
def test_bad_lines_are_refused_with_their_line_number(tmp_path, text, line, problem):
    conf = write_conf(tmp_path, text)
    r = run(["serve", "--config=" + conf, "--db-url=postgresql:///x"])
    assert r.returncode == 2, r
    assert "%s:%d: %s" % (conf, line, problem) in r.stderr, r.stderr


def test_a_refused_value_is_never_echoed(tmp_path):
    secret = "s3cret-" + unique()
    conf = write_conf(tmp_path, "EVENTODB_HEAD_TIMEOUT=%s\n" % secret)
    r = run(["serve", "--config=" + conf])
    assert r.returncode == 2 and "invalid value for EVENTODB_HEAD_TIMEOUT" in r.stderr, r
    assert secret not in r.stderr + r.stdout


def test_a_bad_value_overridden_by_a_flag_is_not_read(tmp_path, prod_db, spawn):
    port = free_port()
    conf = write_conf(tmp_path, "EVENTODB_PORT=not-a-port\nEVENTODB_DB_URL=%s\nEVENTODB_TOKEN=%s\n"
                      % (db_url(prod_db), DEFAULT_TOKEN))
    g = spawn("override", ["serve", "--config=" + conf, "--port=%d" % port], port=port)
    assert g.request("GET", "/health").status == 200


def test_a_missing_file_is_an_error(tmp_path):
    missing = str(tmp_path / "nowhere.conf")
    r = run(["serve", "--config=" + missing])
    assert r.returncode == 2
    assert "%s: No such file or directory" % missing in r.stderr


def test_config_flag_is_in_the_help():
    out = run(["help"]).stdout
    assert "-config string" in out and "[$EVENTODB_CONFIG]" in out


def test_eventodb_config_in_the_environment_is_an_error_when_unreadable(tmp_path):
    r = run(["serve"], env=clean_env(EVENTODB_CONFIG=str(tmp_path)))
    assert r.returncode == 2 and "%s: not a regular file" % tmp_path in r.stderr, r


def test_a_device_is_refused_rather_than_read_forever():
    r = run(["serve", "--config=/dev/zero"], timeout=5)
    assert r.returncode == 2 and "/dev/zero: not a regular file" in r.stderr, r


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = str(tmp_path / "conf.fifo")
    os.mkfifo(fifo)
    r = run(["serve", "--config=" + fifo], timeout=10)
    assert r.returncode == 2 and "%s: not a regular file" % fifo in r.stderr, r


def test_every_flag_is_in_the_man_page_and_the_packaged_config_file():
    """A new flag is documented where operators look: eventodb(1) and the
    Debian package's /etc/eventodb/eventodb.conf (docs/install.md)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "gateway", "eventodb.1")) as f:
        man = f.read()
    with open(os.path.join(root, "debian", "eventodb.conf")) as f:
        conf = f.read()
    out = run(["help"]).stdout
    for name, env in re.findall(r"^  -([a-z-]+)(?: \w+)?\n.*\[\$(EVENTODB_[A-Z0-9_]+)\]$", out, re.M):
        assert "\\-\\-" + name.replace("-", "\\-") in man and "[%s]" % env in man, name
        if env != "EVENTODB_CONFIG":
            assert re.search(r"^#?%s=" % env, conf, re.M), env
