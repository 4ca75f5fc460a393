"""SSE catch-up asks the database only for positions (docs/http-api.md#modes):
eventodb.stream_positions / category_positions with extension 1.1, and with
a database still at extension 1.0 (which has neither) the same rows cut out
of stream_get / category_get by the database. Either way the pokes are
exactly what stream.get / category.get return."""
import pytest

from conftest import DEFAULT_TOKEN, db_url, pg_connect

STREAMS = ["acc-1", "acc-1", "acc-2", "acc", "acc-123", "acc-123+x", "acc-ñ1", "other-1", "acc-", "acc-1"]


def make_db(databases, version):
    name = databases.new("cu" + version.replace(".", ""))
    if version != "1.1":
        conn = pg_connect(name)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("DROP EXTENSION eventodb CASCADE")
            cur.execute("CREATE EXTENSION eventodb VERSION '%s'" % version)
        conn.close()
    return name


@pytest.mark.parametrize("version", ["1.1", "1.0"])
def test_catch_up_pokes_equal_reads(databases, spawn, version):
    dbname = make_db(databases, version)
    g = spawn("cu" + version, ["serve", "--port={port}", "--db-url=" + db_url(dbname),
                               "--token=" + DEFAULT_TOKEN])
    for s in STREAMS:
        g.write(s)

    def pokes_of(query, n):
        with g.subscribe(query) as s:
            s.read_until(lambda x: len(x.pokes()) >= n, 15)
            s.quiet(0.3)
            return [(p["stream"], p["position"], p["globalPosition"]) for p in s.pokes()]

    got = g.ok("stream.get", "acc-1", {"position": 1})
    assert pokes_of("stream=acc-1&position=1", len(got)) == [("acc-1", m[2], m[3]) for m in got]
    got = g.ok("category.get", "acc", {"position": 2})
    assert pokes_of("category=acc&position=2", len(got)) == [(m[1], m[3], m[4]) for m in got]
    for member in range(2):
        got = g.ok("category.get", "acc", {"consumerGroup": {"member": member, "size": 2}})
        assert pokes_of("category=acc&consumer=%d&size=2" % member, len(got)) == \
            [(m[1], m[3], m[4]) for m in got]
    with pg_connect(dbname) as conn, conn.cursor() as cur:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'eventodb'")
        assert cur.fetchone()[0] == version
