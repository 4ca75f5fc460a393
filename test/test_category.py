"""category.get (docs/http-api.md#categoryget, #stream-names-categories-and-consumer-groups; docs/sql-api.md#hash_64 vectors)."""
import pytest

from harness import CANONICAL_UUID_RE, MESSAGE_TIME_RE, check_error, member_of, ndjson, record

C = "category.get"


@pytest.mark.parametrize("args,message", [
    ([], "category.get requires at least 1 argument: categoryName"),
    ([None], "categoryName must be a string"),
    ([5], "categoryName must be a string"),
    ([[]], "categoryName must be a string"),
    ([None, None], "categoryName must be a string"),
    (["c", None], "options must be an object"),
    (["c", []], "options must be an object"),
    (["c", {"position": "1"}], "options.position must be a number"),
    (["c", {"position": None, "globalPosition": "x"}], "options.position must be a number"),
    (["c", {"globalPosition": "1"}], "options.globalPosition must be a number"),
    (["c", {"globalPosition": None, "batchSize": "x"}], "options.globalPosition must be a number"),
    (["c", {"batchSize": "1"}], "options.batchSize must be a number"),
    (["c", {"batchSize": None}], "options.batchSize must be a number"),
    (["c", {"batchSize": 10001, "correlation": 5}], "options.batchSize must be <= 10000 or -1 for unlimited"),
    (["c", {"correlation": 5}], "options.correlation must be a string"),
    (["c", {"correlation": None, "consumerGroup": 5}], "options.correlation must be a string"),
    (["c", {"consumerGroup": 5}], "options.consumerGroup must be an object"),
    (["c", {"consumerGroup": None}], "options.consumerGroup must be an object"),
    (["c", {"consumerGroup": []}], "options.consumerGroup must be an object"),
    (["c", {"consumerGroup": {"member": "0", "size": "x"}}], "options.consumerGroup.member must be a number"),
    (["c", {"consumerGroup": {"member": None, "size": 2}}], "options.consumerGroup.member must be a number"),
    (["c", {"consumerGroup": {"member": 0, "size": "2"}}], "options.consumerGroup.size must be a number"),
    (["c", {"consumerGroup": {"member": 0, "size": None}}], "options.consumerGroup.size must be a number"),
    (["c", {"consumerGroup": {"size": None}}], "options.consumerGroup.size must be a number"),
    (["c", {"consumerGroup": {"member": -1, "size": 2}}], "options.consumerGroup.member must be non-negative"),
    (["c", {"consumerGroup": {"member": -1, "size": 0}}], "options.consumerGroup.member must be non-negative"),
    (["c", {"consumerGroup": {"member": -5, "size": -5}}], "options.consumerGroup.member must be non-negative"),
    (["c", {"consumerGroup": {"member": 0, "size": 0}}], "options.consumerGroup.size must be positive"),
    (["c", {"consumerGroup": {"member": 0, "size": -3}}], "options.consumerGroup.size must be positive"),
    (["c", {"consumerGroup": {"member": 5, "size": 0}}], "options.consumerGroup.size must be positive"),
    (["c", {"consumerGroup": {"member": 0, "size": 0.5}}], "options.consumerGroup.size must be positive"),
    (["c", {"consumerGroup": {"member": 2, "size": 2}}], "options.consumerGroup.member must be < size"),
    (["c", {"consumerGroup": {"member": 3, "size": 2}}], "options.consumerGroup.member must be < size"),
    (["c", {"consumerGroup": {"member": 2.5, "size": 2.9}}], "options.consumerGroup.member must be < size"),
    (["c", {"consumerGroup": {"member": 0}}], "options.consumerGroup requires both member and size"),
    (["c", {"consumerGroup": {"size": 2}}], "options.consumerGroup requires both member and size"),
    (["c", {"consumerGroup": {"member": -1}}], "options.consumerGroup requires both member and size"),
])
def test_validation_messages_in_order(gw, args, message):
    check_error(gw.rpc(C, *args), 400, "INVALID_REQUEST", message, has_details=False)


def test_empty_consumer_group_object_means_no_grouping(gw):
    ns, tok = gw.create_ns()
    gw.write("eg-1", token=tok)
    gw.write("eg", token=tok)
    assert len(gw.ok(C, "eg", {"consumerGroup": {}}, token=tok)) == 2


@pytest.fixture
def cat(gw):
    ns, tok = gw.create_ns()
    gw.write("acct-1", data={"n": 1}, token=tok)      # gp 1
    gw.write("acct-2", data={"n": 2}, token=tok)      # gp 2
    gw.write("other-1", token=tok)                    # gp 3
    gw.write("acct", token=tok)                       # gp 4
    gw.write("acct-1", data={"n": 3}, token=tok)      # gp 5
    gw.write("acctx-1", token=tok)                    # gp 6
    gw.write("acct-1+x", token=tok)                   # gp 7
    return tok


def gps(msgs):
    return [m[4] for m in msgs]


def test_success_shape_eight_elements(gw, cat):
    got = gw.ok(C, "acct", token=cat)
    m = got[0]
    assert len(m) == 8
    assert CANONICAL_UUID_RE.match(m[0])
    assert m[1:7] == ["acct-1", "T", 0, 1, {"n": 1}, None]
    assert MESSAGE_TIME_RE.match(m[7])


def test_category_match_is_exact_prefix_before_first_dash(gw, cat):
    got = gw.ok(C, "acct", token=cat)
    assert gps(got) == [1, 2, 4, 5, 7]
    assert [m[1] for m in got] == ["acct-1", "acct-2", "acct", "acct-1", "acct-1+x"]


def test_ascending_global_position_and_position_filter(gw, cat):
    assert gps(gw.ok(C, "acct", {"position": 3}, token=cat)) == [4, 5, 7]
    assert gps(gw.ok(C, "acct", {"position": 5, "batchSize": 1}, token=cat)) == [5]


def test_default_position_is_one(gw, cat):
    assert gps(gw.ok(C, "acct", {}, token=cat))[0] == 1
    assert gps(gw.ok(C, "acct", {"position": 0}, token=cat))[0] == 1
    assert gps(gw.ok(C, "acct", {"position": -9}, token=cat))[0] == 1


def test_global_position_replaces_position(gw, cat):
    assert gps(gw.ok(C, "acct", {"position": 1, "globalPosition": 5}, token=cat)) == [5, 7]
    assert gps(gw.ok(C, "acct", {"position": 6, "globalPosition": 1}, token=cat)) == [1, 2, 4, 5, 7]


def test_empty_category_is_everything(gw, cat):
    assert gps(gw.ok(C, "", token=cat)) == [1, 2, 3, 4, 5, 6, 7]
    assert gps(gw.ok(C, "", {"position": 6}, token=cat)) == [6, 7]


def test_category_with_dash_is_empty_not_error(gw, cat):
    assert gw.ok(C, "acct-1", token=cat) == []
    assert gw.ok(C, "-", token=cat) == []


def test_unknown_category_is_empty(gw, cat):
    r = gw.rpc(C, "nothing", token=cat)
    assert r.body == b"[]\n"
    assert gw.ok(C, "ACCT", token=cat) == []
    assert gw.ok(C, "acc", token=cat) == []


def test_batch_size_rules(gw, cat):
    assert gw.ok(C, "acct", {"batchSize": 0}, token=cat) == []
    assert len(gw.ok(C, "acct", {"batchSize": -1}, token=cat)) == 5
    assert len(gw.ok(C, "acct", {"batchSize": 2}, token=cat)) == 2
    err = check_error(gw.rpc(C, "acct", {"batchSize": -2}, token=cat), 500, "BACKEND_ERROR")
    assert err["message"]


def test_default_batch_size_1000(gw):
    ns, tok = gw.create_ns()
    gw.import_(ndjson([record("big-%d" % (i % 7), i // 7, i + 1) for i in range(1100)]), token=tok)
    assert len(gw.ok(C, "big", token=tok)) == 1000
    assert len(gw.ok(C, "big", {"batchSize": -1}, token=tok)) == 1100
    assert len(gw.ok(C, "", {"batchSize": 10000}, token=tok)) == 1100


def test_category_of_names_starting_with_dash_is_empty_string(gw):
    ns, tok = gw.create_ns()
    gw.write("-123", token=tok)
    gw.write("x-1", token=tok)
    # '' means everything on the gateway face
    assert len(gw.ok(C, "", token=tok)) == 2


def test_unicode_category(gw):
    ns, tok = gw.create_ns()
    gw.write("账户-42", token=tok)
    gw.write("账户-43", token=tok)
    gw.write("Ümlaut-ñ1", token=tok)
    assert [m[1] for m in gw.ok(C, "账户", token=tok)] == ["账户-42", "账户-43"]
    assert [m[1] for m in gw.ok(C, "Ümlaut", token=tok)] == ["Ümlaut-ñ1"]


def test_category_with_colon_and_plus(gw):
    ns, tok = gw.create_ns()
    gw.write("account:command-123", token=tok)
    gw.write("account+x-1", token=tok)
    gw.write("account-5", token=tok)
    assert [m[1] for m in gw.ok(C, "account:command", token=tok)] == ["account:command-123"]
    assert [m[1] for m in gw.ok(C, "account+x", token=tok)] == ["account+x-1"]
    assert [m[1] for m in gw.ok(C, "account", token=tok)] == ["account-5"]


# ------------------------------------------------------------------ correlation

@pytest.fixture
def corr(gw):
    ns, tok = gw.create_ns()
    metas = [("corr-1", {"correlationStreamName": "workflow-123"}),
             ("corr-2", {"correlationStreamName": "workflow"}),
             ("corr-3", {"correlationStreamName": "other-1"}),
             ("corr-4", {"correlationStreamName": ""}),
             ("corr-5", {"correlationStreamName": "-9"}),
             ("corr-6", None),
             ("corr-7", {"correlationStreamName": "workflow:command-1"}),
             ("corr-8", {"other": "workflow-1"})]
    for s, meta in metas:
        msg = {"type": "T", "data": {}}
        if meta is not None:
            msg["metadata"] = meta
        gw.ok("stream.write", s, msg, token=tok)
    return tok


@pytest.mark.parametrize("value,streams", [
    ("workflow", ["corr-1", "corr-2"]),
    ("", ["corr-4", "corr-5"]),
    ("workflow:command", ["corr-7"]),
    ("other", ["corr-3"]),
    ("Workflow", []),
    ("workflow-123", []),
    ("-", []),
    ("nothing", []),
])
def test_correlation_vectors(gw, corr, value, streams):
    got = gw.ok(C, "corr", {"correlation": value}, token=corr)
    assert [m[1] for m in got] == streams


def test_correlation_with_empty_category_reads_whole_namespace(gw, corr):
    got = gw.ok(C, "", {"correlation": "workflow"}, token=corr)
    assert [m[1] for m in got] == ["corr-1", "corr-2"]


# ------------------------------------------------------------------ consumer groups

VECTOR_STREAMS = ["1", "2", "3", "123", "123+retry", "abc", "a5eb2a97-84d9-4ccf-8a56-7160338b11e2",
                  "ñ1", "", "42", "user@example.com"]
SIZE3 = {0: {"1", "ñ1", "42"},
         1: {"2", "123", "123+retry", "a5eb2a97-84d9-4ccf-8a56-7160338b11e2"},
         2: {"3", "abc", "", "user@example.com"}}
SIZE2 = {"1": 0, "2": 1, "3": 0, "123": 1, "123+retry": 1, "abc": 0,
         "a5eb2a97-84d9-4ccf-8a56-7160338b11e2": 1, "ñ1": 1, "": 0, "42": 1, "user@example.com": 1}
SIZE4 = {"1": 2, "2": 1, "3": 2, "123": 3, "123+retry": 3, "abc": 0,
         "a5eb2a97-84d9-4ccf-8a56-7160338b11e2": 3, "ñ1": 3, "": 0, "42": 1, "user@example.com": 1}


@pytest.fixture
def groups(gw):
    ns, tok = gw.create_ns()
    for ident in VECTOR_STREAMS:
        gw.write("account-" + ident, token=tok)
    gw.write("account", token=tok)
    return tok


def ids_of(msgs):
    return {m[1][len("account-"):] for m in msgs}


def test_python_reference_matches_sql_api_vectors():
    for m, members in SIZE3.items():
        for ident in members:
            assert member_of("account-" + ident, 3) == m
    for ident, m in SIZE2.items():
        assert member_of("account-" + ident, 2) == m
    for ident, m in SIZE4.items():
        assert member_of("account-" + ident, 4) == m
    assert member_of("account", 3) is None


@pytest.mark.parametrize("member", [0, 1, 2])
def test_consumer_group_size_3_vectors(gw, groups, member):
    got = gw.ok(C, "account", {"consumerGroup": {"member": member, "size": 3}}, token=groups)
    assert ids_of(got) == SIZE3[member]
    assert all(m[1] != "account" for m in got)


@pytest.mark.parametrize("size,table", [(2, SIZE2), (4, SIZE4)])
def test_consumer_group_size_2_and_4_vectors(gw, groups, size, table):
    seen = set()
    for member in range(size):
        got = ids_of(gw.ok(C, "account", {"consumerGroup": {"member": member, "size": size}}, token=groups))
        assert got == {i for i, m in table.items() if m == member}
        seen |= got
    assert seen == set(VECTOR_STREAMS)


def test_consumer_group_size_one_excludes_only_dashless_streams(gw, groups):
    got = gw.ok(C, "account", {"consumerGroup": {"member": 0, "size": 1}}, token=groups)
    assert ids_of(got) == set(VECTOR_STREAMS)
    assert len(got) == len(VECTOR_STREAMS)


def test_consumer_group_sizes_above_32767_work(gw, groups):
    size = 40000
    expected = {}
    for ident in VECTOR_STREAMS:
        expected.setdefault(member_of("account-" + ident, size), set()).add(ident)
    for member, idents in expected.items():
        got = gw.ok(C, "account", {"consumerGroup": {"member": member, "size": size}}, token=groups)
        assert ids_of(got) == idents
    free = next(m for m in range(size) if m not in expected)
    assert gw.ok(C, "account", {"consumerGroup": {"member": free, "size": size}}, token=groups) == []


def test_consumer_group_values_truncated(gw, groups):
    got = gw.ok(C, "account", {"consumerGroup": {"member": 1.7, "size": 3.2}}, token=groups)
    assert ids_of(got) == SIZE3[1]


def test_consumer_group_compound_ids_follow_cardinal_id_across_categories(gw):
    ns, tok = gw.create_ns()
    for s in ["order-123", "order-123+a", "order-123+b", "account-123"]:
        gw.write(s, token=tok)
    m = member_of("x-123", 3)
    got = gw.ok(C, "order", {"consumerGroup": {"member": m, "size": 3}}, token=tok)
    assert [x[1] for x in got] == ["order-123", "order-123+a", "order-123+b"]
    got = gw.ok(C, "account", {"consumerGroup": {"member": m, "size": 3}}, token=tok)
    assert [x[1] for x in got] == ["account-123"]


def test_consumer_group_with_empty_category(gw, groups):
    total = 0
    for member in range(3):
        got = gw.ok(C, "", {"consumerGroup": {"member": member, "size": 3}}, token=groups)
        assert ids_of(got) == SIZE3[member]
        total += len(got)
    assert total == len(VECTOR_STREAMS)


def test_consumer_group_combined_with_correlation_and_paging(gw):
    ns, tok = gw.create_ns()
    for i in range(1, 21):
        gw.ok("stream.write", "cg-%d" % i, {"type": "T", "data": {},
                                           "metadata": {"correlationStreamName": "wf-%d" % i if i % 2 else "zz-1"}},
              token=tok)
    for member in range(2):
        expected = [g for g, i in zip(range(1, 21), range(1, 21))
                    if i % 2 and member_of("cg-%d" % i, 2) == member]
        got = gw.ok(C, "cg", {"correlation": "wf", "consumerGroup": {"member": member, "size": 2}},
                    token=tok)
        assert gps(got) == expected
        paged = []
        pos = 1
        while True:
            page = gw.ok(C, "cg", {"position": pos, "batchSize": 2, "correlation": "wf",
                                   "consumerGroup": {"member": member, "size": 2}}, token=tok)
            if not page:
                break
            paged += gps(page)
            pos = page[-1][4] + 1
        assert paged == expected


def test_no_pattern_matching_in_category_names(gw):
    ns, tok = gw.create_ns()
    gw.write("ab-1", token=tok)
    gw.write("a%-1", token=tok)
    gw.write("a_-1", token=tok)
    assert [m[1] for m in gw.ok(C, "a%", token=tok)] == ["a%-1"]
    assert [m[1] for m in gw.ok(C, "a_", token=tok)] == ["a_-1"]
    assert gw.ok(C, "%", token=tok) == []
    assert gw.ok("stream.get", "a_-1", token=tok)[0][3] == 3
    assert gw.ok("stream.get", "a%", token=tok) == []


def test_gap_free_category_paging_under_concurrent_writes(gw):
    """docs/architecture.md#invariants invariant 1: a reader paging by global position never
    skips a message that commits later with a smaller global position."""
    import threading
    ns, tok = gw.create_ns()
    stop = threading.Event()
    seen = []
    errors = []

    def writer(w):
        try:
            for i in range(40):
                r = gw.rpc("stream.write", "gf-%d" % (i % 7), {"type": "T", "data": {"w": w}}, token=tok)
                if r.status != 200:
                    errors.append(r)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def reader():
        pos = 1
        while True:
            done = stop.is_set()
            page = gw.ok(C, "gf", {"position": pos, "batchSize": 7}, token=tok)
            seen.extend(m[4] for m in page)
            if page:
                pos = page[-1][4] + 1
            elif done:
                return

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    rd = threading.Thread(target=reader)
    rd.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join(120)
    stop.set()
    rd.join(120)
    assert not errors, errors[:3]
    table = [m[4] for m in gw.ok(C, "gf", {"batchSize": -1}, token=tok)]
    assert len(table) == 320
    assert seen == table, "reader skipped %s" % sorted(set(table) - set(seen))
