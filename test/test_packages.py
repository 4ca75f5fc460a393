"""The Debian packages (`make deb`, docs/install.md): installed with dpkg on
this machine, the gateway started from eventodb.service's own command line as
the eventodb user against the local cluster, then purged with nothing left.

The packages come from $EVENTODB_DEBS (`make test` builds them there first)
or are built here. Installing postgresql-15-eventodb replaces the extension
files every cluster of this machine uses (the same build when `make test`
built both). Whatever happens, the files that were there before - the tree's
build, installed by `make test` - are put back at the end, with no moment in
which a cluster finds none: other suites may be running on this machine.
"""
import contextlib
import fcntl
import glob
import os
import pwd
import grp
import shlex
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import PG, ROOT, pg_connect
from harness import Gateway, free_port

PACKAGES = ["eventodb-gateway", "postgresql-15-eventodb"]
UNIT = "/lib/systemd/system/eventodb.service"
CONF = "/etc/eventodb/eventodb.conf"
TOKEN = "ns_ZGVmYXVsdA_" + "5" * 64
# one run at a time on a machine: dpkg, the user and the extension are shared
LOCK = "/var/lock/eventodb-packages-test.lock"
LIBDIR = "/usr/lib/postgresql/15/lib"
EXTDIR = "/usr/share/postgresql/15/extension"
DIVERTED = ".eventodb-test"
# directories of the packages' own (the others, /usr/bin and such, stay)
OWN_DIRS = ("/etc/eventodb", "/usr/share/doc/eventodb-gateway", "/usr/share/doc/postgresql-15-eventodb",
            "/usr/lib/postgresql/15/lib/bitcode/eventodb")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installs packages: needs root")


def sh(*argv, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (shlex.join(argv), r.returncode,
                                                        r.stdout, r.stderr))
    return r


def installed(pkg):
    r = sh("dpkg-query", "-W", "-f=${db:Status-Status}", pkg, check=False)
    return r.returncode == 0 and r.stdout not in ("", "not-installed")


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def debs():
    d = os.environ.get("EVENTODB_DEBS")
    if not d:
        d = os.path.join(ROOT, "build", "deb-test")
        sh(os.path.join(ROOT, "scripts", "build", "build-deb.sh"), env=dict(os.environ, EVENTODB_DEB_DIR=d),
           timeout=900)
    found = [sorted(glob.glob(os.path.join(d, "%s_*.deb" % p))) for p in PACKAGES]
    assert all(found), "no packages in %s (make deb)" % d
    return [f[-1] for f in found]


@contextlib.contextmanager
def machine_lock():
    with open(LOCK, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def reinstall_tree_extension():
    sh("make", "-s", "-o", "gateway", "-o", "tools", "install", cwd=ROOT, timeout=600)


def sql(dbname, statement):
    conn = pg_connect(dbname)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def extension_files():
    """The extension's files installed now."""
    found = glob.glob(os.path.join(LIBDIR, "eventodb.so"))
    found += glob.glob(os.path.join(EXTDIR, "eventodb.control"))
    found += glob.glob(os.path.join(EXTDIR, "eventodb--*.sql"))
    found += glob.glob(os.path.join(LIBDIR, "bitcode", "eventodb.index.bc"))
    for d, _, names in os.walk(os.path.join(LIBDIR, "bitcode", "eventodb")):
        found += [os.path.join(d, n) for n in names]
    return found


def snapshot_extension(into):
    files = extension_files()
    for f in files:
        os.makedirs(os.path.dirname(into + f), exist_ok=True)
        shutil.copy2(f, into + f)
    return files


def divert(path, add):
    """A local diversion without moving files: dpkg then leaves path alone."""
    sh("dpkg-divert", "--local", "--no-rename", "--quiet", "--divert", path + DIVERTED,
       "--add" if add else "--remove", path)


def drop_stale_diversions():
    """Those of a run that was killed half-way."""
    for line in sh("dpkg-divert", "--list").stdout.splitlines():
        words = line.split()
        if line.startswith("local diversion of ") and words[-1].endswith(DIVERTED):
            divert(words[3], add=False)


def purge_and_restore():
    """Purges the packages and puts the snapshot's extension files back.
    Those the package shares with the snapshot are diverted first, so the
    purge leaves them in place, and are then replaced by rename: a cluster
    never finds them missing. Returns what dpkg said and what is left of
    the packages' files (but for those put back)."""
    saved = SNAPSHOT.get("files", [])
    shared = [f for f in saved if f in OWNED.get("postgresql-15-eventodb", [])]
    for f in shared:
        divert(f, add=True)
    try:
        purged = [sh("dpkg", "--purge", p, check=False) for p in PACKAGES]
        left = [p for p in OWNED.get("all", []) if os.path.lexists(p) and p not in shared
                and not any(f.startswith(p + "/") for f in shared)]
        for f in saved:
            os.makedirs(os.path.dirname(f), exist_ok=True)
            shutil.copy2(SNAPSHOT["dir"] + f, f + ".restoring")
            os.replace(f + ".restoring", f)
    finally:
        for f in shared:
            divert(f, add=False)
    if not saved:
        reinstall_tree_extension()
    return purged, left


OWNED = {}
SNAPSHOT = {}


@pytest.fixture(scope="module")
def packages():
    """Installs the packages; yields what dpkg put on the machine; purges
    them (when test_purge_leaves_nothing did not) and puts the tree's
    extension back."""
    files = debs()
    with machine_lock():
        drop_stale_diversions()
        if any(installed(p) for p in PACKAGES) or user_exists("eventodb"):
            pytest.fail("eventodb packages or user already on this machine: not touching them")
        SNAPSHOT["dir"] = tempfile.mkdtemp(prefix="eventodb-ext-")
        SNAPSHOT["files"] = snapshot_extension(SNAPSHOT["dir"])
        try:
            sh("dpkg", "-i", *files, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
            for p in PACKAGES:
                OWNED[p] = [f for f in sh("dpkg-query", "-L", p).stdout.split("\n") if f]
            # the files and the directories only these packages own
            OWNED["all"] = [f for p in PACKAGES for f in OWNED[p]
                            if not os.path.isdir(f) or f.startswith(OWN_DIRS)]
            yield OWNED
        finally:
            if any(installed(p) for p in PACKAGES):
                purge_and_restore()
            shutil.rmtree(SNAPSHOT["dir"], ignore_errors=True)


@pytest.fixture(scope="module")
def database(packages):
    """A database the eventodb role owns, with the extension. The role is a
    superuser: the gateway needs one today (docs/install.md)."""
    name = "eventodb_pkg_%d" % os.getpid()
    sql("postgres", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    sql("postgres", "DROP ROLE IF EXISTS eventodb")
    sql("postgres", "CREATE ROLE eventodb LOGIN SUPERUSER")
    sql("postgres", "CREATE DATABASE %s OWNER eventodb" % name)
    sql(name, "CREATE EXTENSION eventodb")
    yield name
    sql("postgres", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    sql("postgres", "DROP ROLE IF EXISTS eventodb")


def exec_start():
    """ExecStart of the installed unit, split as systemd would (no specifiers used)."""
    with open(UNIT) as f:
        lines = [l.strip() for l in f if l.strip().startswith("ExecStart=")]
    assert len(lines) == 1, lines
    return shlex.split(lines[0][len("ExecStart="):])


def test_packages_hold_the_extension_scripts_the_tree_builds(packages):
    ext = "/usr/share/postgresql/15/extension"
    owned = packages["postgresql-15-eventodb"]
    built = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "extension", "eventodb--*.sql")))
    assert "eventodb--1.0.sql" in built and "eventodb--1.0--1.1.sql" in built
    for name in built + ["eventodb.control"]:
        assert os.path.join(ext, name) in owned
        with open(os.path.join(ext, name), "rb") as a, \
                open(os.path.join(ROOT, "extension", name), "rb") as b:
            assert a.read() == b.read(), name
    assert "/usr/lib/postgresql/15/lib/eventodb.so" in owned


def test_gateway_package_installs_user_unit_conffile_and_man_page(packages):
    owned = packages["eventodb-gateway"]
    for path in ["/usr/bin/eventodb", UNIT, CONF, "/usr/share/man/man1/eventodb.1.gz"]:
        assert path in owned and os.path.exists(path), path
    conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}", "eventodb-gateway").stdout
    assert CONF in conffiles
    user = pwd.getpwnam("eventodb")
    assert user.pw_uid < 1000 and user.pw_shell in ("/usr/sbin/nologin", "/bin/false")
    st = os.stat(CONF)
    assert (st.st_mode & 0o777, st.st_uid, grp.getgrgid(st.st_gid).gr_name) == (0o640, 0, "eventodb")
    argv = exec_start()
    assert argv[:2] == ["/usr/bin/eventodb", "serve"] and "--config=" + CONF in argv
    unit = open(UNIT).read()
    assert "User=eventodb" in unit and "NoNewPrivileges=yes" in unit and "ProtectSystem=strict" in unit


def test_unit_passes_systemd_analyze(packages):
    if not os.path.exists("/usr/bin/systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    r = sh("systemd-analyze", "verify", UNIT, check=False)
    assert r.returncode == 0 and "eventodb.service" not in r.stderr, r.stderr


def test_service_command_line_serves_as_the_eventodb_user(packages, database, tmp_path):
    port = free_port()
    # over TCP: the cluster's socket folder may be out of the eventodb user's reach
    url = "postgresql://eventodb@127.0.0.1:%s/%s" % (PG["PGPORT"], database)
    # what an operator does: edit the conffile (a key set twice would be an error)
    with open(CONF) as f:
        conf = f.read()
    packaged = "EVENTODB_DB_URL=postgresql://eventodb@/eventodb?host=/var/run/postgresql\n"
    assert packaged in conf
    conf = conf.replace(packaged, 'EVENTODB_DB_URL="%s"\n' % url)
    with open(CONF, "w") as f:
        f.write(conf + "EVENTODB_PORT=%d\nEVENTODB_TOKEN=%s\n" % (port, TOKEN))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    # as systemd's User=/Group= would: exec'd with the user's ids, no session around it
    argv = ["setpriv", "--reuid=eventodb", "--regid=eventodb", "--init-groups", "--"] + exec_start()
    gw = Gateway("package", argv, port, str(tmp_path), env=env)
    try:
        gw.wait_healthy(30)
        stream = "pkg-%s" % uuid.uuid4().hex[:8]
        assert gw.rpc("stream.write", stream, {"type": "Installed", "data": {"ok": True}},
                      token=TOKEN).status == 200
        got = gw.ok("stream.get", stream, token=TOKEN)
        assert [m[1] for m in got] == ["Installed"], got
        assert pwd.getpwuid(os.stat("/proc/%d" % gw.proc.pid).st_uid).pw_name == "eventodb"
        assert TOKEN not in gw.log_text()
    finally:
        gw.stop()
    assert gw.proc.returncode == 0, gw.log_text()


def test_purge_leaves_nothing(packages, database):
    """Runs last in this file: purges, checks, and the fixture has nothing left to do."""
    purged, left = purge_and_restore()
    for r in purged:
        assert r.returncode == 0, r.stdout + r.stderr
    for p in PACKAGES:
        assert not installed(p), p
    assert left == []
    assert not os.path.exists("/etc/eventodb")
    assert not user_exists("eventodb") and not group_exists("eventodb")
    assert glob.glob("/etc/systemd/system/*/eventodb.service") == []
    assert glob.glob("/var/lib/systemd/deb-systemd-helper-enabled/**/eventodb*", recursive=True) == []
    # and the extension files are those of before, dpkg no longer diverting them
    assert SNAPSHOT["files"], "no extension installed before the test (make install)"
    for f in SNAPSHOT["files"]:
        with open(f, "rb") as now, open(SNAPSHOT["dir"] + f, "rb") as before:
            assert now.read() == before.read(), f
    assert DIVERTED not in sh("dpkg-divert", "--list").stdout
