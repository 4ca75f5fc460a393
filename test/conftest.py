"""Session harness: fresh databases on the cluster named by PGHOST/PGPORT/PGUSER,
one production gateway and one --test-mode gateway, crash detection after
every test, gateway output printed for failing tests.

EVENTODB_BIN selects the binary (default gateway/eventodb), so the same suite
runs against the ASan build.
"""
import contextlib
import os
import shlex
import shutil
import subprocess
import tempfile
import urllib.parse

import psycopg2
import pytest

from harness import DEFAULT_TOKEN, Gateway, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(os.environ.get("EVENTODB_BIN", os.path.join(ROOT, "gateway", "eventodb")))
START_TIMEOUT = float(os.environ.get("EVENTODB_TEST_START_TIMEOUT", "60"))


def _pg_settings():
    env = {k: os.environ.get(k) for k in ("PGHOST", "PGPORT", "PGUSER")}
    if not all(env.values()):
        out = subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "env"],
                             capture_output=True, text=True, check=True).stdout
        for word in shlex.split(out.replace("\n", " ")):
            if "=" in word:
                k, v = word.split("=", 1)
                if k in env and not env[k]:
                    env[k] = v
    return env


PG = _pg_settings()


def pg_connect(dbname):
    return psycopg2.connect(host=PG["PGHOST"], port=PG["PGPORT"], user=PG["PGUSER"], dbname=dbname)


def db_url(dbname):
    host = PG["PGHOST"]
    user = urllib.parse.quote(PG["PGUSER"])
    if host.startswith("/"):
        return "postgresql://%s@/%s?host=%s&port=%s" % (user, dbname, host, PG["PGPORT"])
    return "postgresql://%s@%s:%s/%s" % (user, host, PG["PGPORT"], dbname)


def create_database(name):
    conn = pg_connect("postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        cur.execute('CREATE DATABASE "%s"' % name)
    conn.close()
    conn = pg_connect(name)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION eventodb")
    conn.close()


def drop_database(name):
    try:
        conn = pg_connect("postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        conn.close()
    except psycopg2.Error:
        pass


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTODB_")}
    # keep the sanitizer options of an ASan run
    env.update(extra)
    return env


class Databases:
    def __init__(self):
        self.names = []

    def new(self, tag):
        name = "eventodb_bb_%s_%d_%d" % (tag, os.getpid(), len(self.names))
        create_database(name)
        self.names.append(name)
        return name

    def drop_all(self):
        for n in self.names:
            drop_database(n)


_logdir = []


@pytest.fixture(scope="session")
def logdir():
    d = tempfile.mkdtemp(prefix="eventodb-bb-")
    _logdir.append(d)
    return d


@pytest.fixture(scope="session")
def databases():
    dbs = Databases()
    yield dbs
    dbs.drop_all()


_gateways = []


def start_gateway(name, args, logdir, env=None, wait=True, port=None):
    port = port or free_port()
    argv = [BIN] + [a.replace("{port}", str(port)) for a in args]
    gw = Gateway(name, argv, port, logdir, env=env if env is not None else clean_env())
    _gateways.append(gw)
    if wait:
        gw.wait_healthy(START_TIMEOUT)
    return gw


@pytest.fixture(scope="session")
def prod_db(databases):
    return databases.new("prod")


@pytest.fixture(scope="session")
def gw(prod_db, logdir):
    """Production-mode gateway, default token = ns_ZGVmYXVsdA_ + 64 zeros."""
    if not os.access(BIN, os.X_OK):
        pytest.fail("gateway binary %s not built (make)" % BIN)
    g = start_gateway("prod", ["serve", "--port={port}", "--db-url=" + db_url(prod_db),
                               "--token=" + DEFAULT_TOKEN], logdir)
    g.dbname = prod_db
    yield g
    g.stop()


@pytest.fixture(scope="session")
def tgw(databases, logdir):
    """--test-mode gateway against its own fresh database."""
    if not os.access(BIN, os.X_OK):
        pytest.fail("gateway binary %s not built (make)" % BIN)
    dbname = databases.new("test")
    g = start_gateway("testmode", ["serve", "--test-mode", "--port={port}",
                                   "--db-url=" + db_url(dbname), "--token=" + DEFAULT_TOKEN], logdir)
    g.dbname = dbname
    yield g
    g.stop()


@pytest.fixture
def spawn(logdir):
    """Starts extra gateway processes for one test; stopped afterwards."""
    started = []

    def _spawn(name, args, env=None, wait=True, port=None):
        g = start_gateway(name, args, logdir, env=env, wait=wait, port=port)
        started.append(g)
        return g

    yield _spawn
    for g in started:
        g.stop()


@contextlib.contextmanager
def connections(dbname):
    """A connect(autocommit=True) to dbname; every connection it opened is
    closed when the block ends."""
    conns = []

    def connect(autocommit=True):
        c = pg_connect(dbname)
        c.autocommit = autocommit
        conns.append(c)
        return c

    try:
        yield connect
    finally:
        for c in conns:
            try:
                c.close()
            except psycopg2.Error:
                pass


@pytest.fixture
def sql(prod_db):
    """psycopg2 connections to the production gateway's database."""
    with connections(prod_db) as connect:
        yield connect


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "ThreadSanitizer")


def sanitizer_reports(text):
    return [m for m in SANITIZER_MARKS if m in text]


@pytest.fixture(autouse=True)
def _watch_gateways(request):
    """Fails a test when a gateway died or a sanitizer reported during it;
    attaches gateway output to failures."""
    marks = {id(g): g.log_size() for g in _gateways}
    finished_before = {id(g) for g in _gateways if g.proc.returncode is not None}
    yield
    dead = [g for g in _gateways if g.proc.returncode is None and not g.alive()]
    # killed by a signal other than the ones the tests send themselves
    crashed = [g for g in _gateways if id(g) not in finished_before and g not in dead
               and g.proc.returncode is not None and g.proc.returncode < 0
               and g.proc.returncode not in (-9, -15)]
    reports = [(g, sanitizer_reports(g.log_text(marks.get(id(g), 0)))) for g in _gateways]
    reports = [(g, r) for g, r in reports if r]
    report = getattr(request.node, "rep_call", None)
    if dead or crashed or reports or (report is not None and report.failed):
        for g in _gateways:
            text = g.log_text(marks.get(id(g), 0))
            if text:
                print("\n----- gateway %s output during this test -----\n%s" % (g.name, text[-20000:]))
    if dead or crashed:
        names = ", ".join("%s (exit %s)" % (g.name, g.proc.returncode) for g in dead + crashed)
        pytest.fail("gateway process died: " + names, pytrace=False)
    if reports:
        pytest.fail("sanitizer report from " + ", ".join("%s: %s" % (g.name, r) for g, r in reports),
                    pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    for g in _gateways:
        if g.alive():
            g.stop()
    bad = [g for g in _gateways if sanitizer_reports(g.log_text())]
    for g in bad:
        print("\n----- sanitizer report in gateway %s (%s) -----\n%s"
              % (g.name, g.logpath, g.log_text()[-20000:]))
    if bad:
        session.exitstatus = 1
    if _logdir:
        if session.exitstatus == 0:
            shutil.rmtree(_logdir[0], ignore_errors=True)
        else:
            print("\ngateway logs kept in %s" % _logdir[0])
