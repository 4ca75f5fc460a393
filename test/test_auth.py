"""Authentication (docs/http-api.md#authentication) and the secure-by-default admin rules of
docs/http-api.md#namespace-methods (production mode only)."""
import urllib.parse

import pytest

from harness import DEFAULT_TOKEN, HEX64, check_error, expected_error_bytes, token_for

RPC = b'["sys.version"]'


def post(gw, headers=None, query=""):
    return gw.request("POST", "/rpc" + query, body=RPC, headers=headers)


# ------------------------------------------------------------------ docs/http-api.md#outcomes outcomes

def test_no_credentials_is_auth_required(gw):
    r = post(gw)
    assert r.status == 401
    assert r.body == expected_error_bytes("AUTH_REQUIRED", "Authorization header required")


@pytest.mark.parametrize("value", ["bearer " + DEFAULT_TOKEN, "BEARER " + DEFAULT_TOKEN, "Basic dXNlcjpwdw==",
                                   DEFAULT_TOKEN, "Bearer", "Bearer\t" + DEFAULT_TOKEN, "Token " + DEFAULT_TOKEN,
                                   "Bearer ", "x"])
def test_non_bearer_header_is_auth_required(gw, value):
    r = post(gw, headers={"Authorization": value})
    assert r.status == 401
    assert r.body == expected_error_bytes("AUTH_REQUIRED", "Authorization header must use Bearer scheme")


def test_bearer_with_two_spaces_is_invalid_token(gw):
    # the token is everything after "Bearer " (untrimmed), here " ns_..."
    r = post(gw, headers={"Authorization": "Bearer  " + DEFAULT_TOKEN})
    check_error(r, 401, "AUTH_INVALID_TOKEN", "Invalid token format",
                {"error": "invalid token format: missing 'ns_' prefix"})


@pytest.mark.parametrize("token,text", [
    ("abc", "invalid token format: missing 'ns_' prefix"),
    ("NS_ZGVmYXVsdA_" + HEX64, "invalid token format: missing 'ns_' prefix"),
    ("ns", "invalid token format: missing 'ns_' prefix"),
    ("ns_", "invalid token format: expected 2 parts after prefix, got 1"),
    ("ns_ZGVmYXVsdA", "invalid token format: expected 2 parts after prefix, got 1"),
    ("ns_ZGVmYXVsdA" + HEX64, "invalid token format: expected 2 parts after prefix, got 1"),
    ("ns_a_b_c", "invalid token format: expected 2 parts after prefix, got 3"),
    ("ns_ZGVm_YXVsdA_" + HEX64, "invalid token format: expected 2 parts after prefix, got 3"),
    ("ns_ZGVmYXVsdA_" + HEX64 + "_", "invalid token format: expected 2 parts after prefix, got 3"),
    ("ns___", "invalid token format: expected 2 parts after prefix, got 3"),
    ("ns_ZGVmYXVsdA_", "invalid token format: random part must be 64 hex characters, got 0"),
    ("ns_ZGVmYXVsdA_abc", "invalid token format: random part must be 64 hex characters, got 3"),
    ("ns_ZGVmYXVsdA_" + "0" * 63, "invalid token format: random part must be 64 hex characters, got 63"),
    ("ns_ZGVmYXVsdA_" + "0" * 65, "invalid token format: random part must be 64 hex characters, got 65"),
    ("ns__" + HEX64, "invalid token format: namespace is empty"),
])
def test_token_parse_errors_exact_text(gw, token, text):
    r = gw.rpc("sys.version", token=token)
    err = check_error(r, 401, "AUTH_INVALID_TOKEN", "Invalid token format")
    assert list(err["details"].keys()) == ["error"]
    if text is not None:
        assert err["details"] == {"error": text}, err


def test_token_non_hex_random_part(gw):
    err = check_error(gw.rpc("sys.version", token="ns_ZGVmYXVsdA_" + "g" * 64), 401,
                      "AUTH_INVALID_TOKEN", "Invalid token format")
    assert err["details"]["error"].startswith(
        "invalid token format: random part is not valid hexadecimal: "), err


def test_token_hex_checked_before_base64(gw):
    err = check_error(gw.rpc("sys.version", token="ns_Z_" + "g" * 64), 401, "AUTH_INVALID_TOKEN")
    assert err["details"]["error"].startswith("invalid token format: random part is not valid hexadecimal: ")


@pytest.mark.parametrize("nspart", ["Z", "ZGVmY", "ZGV=", "ZGVmYXVsdA==", "ZG+m", "ZG/m", "ZG.m", "ZGé"])
def test_token_bad_base64url(gw, nspart):
    err = check_error(gw.rpc("sys.version", token="ns_%s_%s" % (nspart, HEX64)), 401,
                      "AUTH_INVALID_TOKEN", "Invalid token format")
    assert err["details"]["error"].startswith(
        "invalid token format: namespace part is not valid base64url: "), (nspart, err)


def test_token_base64_lenient_about_unused_bits(gw):
    # ZGVmYXVsdB decodes to "default" too; the token string differs, so the hash does not match
    r = gw.rpc("sys.version", token="ns_ZGVmYXVsdB_" + HEX64)
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {"namespace": "default"})


def test_token_base64_skips_embedded_newlines(gw):
    tok = "ns_ZGVm\nYXVsdA_" + HEX64
    r = gw.request("POST", "/rpc?token=" + urllib.parse.quote(tok), body=RPC)
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {"namespace": "default"})
    tok = "ns_ZGVm\r\nYXVsdA_" + HEX64
    r = gw.request("POST", "/rpc?token=" + urllib.parse.quote(tok), body=RPC)
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {"namespace": "default"})


def test_unknown_namespace_is_403_with_namespace_detail(gw):
    r = gw.rpc("sys.version", token=token_for("no-such-namespace-" + "q"))
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace",
                {"namespace": "no-such-namespace-q"})


def test_namespace_detail_is_escaped_json(gw):
    r = gw.rpc("sys.version", token=token_for('a"<b>'))
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {"namespace": 'a"<b>'})
    assert b'"details":{"namespace":"a\\"\\u003cb\\u003e"}' in r.body, r.body


def test_hash_mismatch_is_403(gw):
    r = gw.rpc("sys.version", token="ns_ZGVmYXVsdA_" + "1" * 64)
    assert r.status == 403
    assert r.body == (b'{"error":{"code":"AUTH_UNAUTHORIZED","message":"Token not authorized for namespace",'
                      b'"details":{"namespace":"default"}}}\n')


def test_hex_case_matters(gw):
    ns, tok = gw.create_ns()
    upper = tok[:-64] + tok[-64:].upper()
    if upper != tok:
        check_error(gw.rpc("sys.version", token=upper), 403, "AUTH_UNAUTHORIZED")
    ns2 = ns + "x"
    t2 = token_for(ns2, "ab" * 32)
    gw.ok("ns.create", ns2, {"token": t2})
    check_error(gw.rpc("sys.version", token=token_for(ns2, "AB" * 32)), 403, "AUTH_UNAUTHORIZED")


def test_valid_token_works(gw):
    assert gw.rpc("sys.version", token=DEFAULT_TOKEN).status == 200
    ns, tok = gw.create_ns()
    assert gw.rpc("sys.version", token=tok).status == 200


def test_every_rpc_method_requires_auth_in_production(gw):
    for m in ["sys.version", "sys.health", "ns.list", "stream.get", "ns.streams", "ns.categories", "nope.x"]:
        r = gw.rpc(m, "x-1", token=None)
        check_error(r, 401, "AUTH_REQUIRED", "Authorization header required")


def test_auth_runs_before_envelope_parsing(gw):
    r = gw.rpc_raw(b"garbage")
    check_error(r, 401, "AUTH_REQUIRED", "Authorization header required")
    r = gw.rpc_raw(b"garbage", token="bad")
    check_error(r, 401, "AUTH_INVALID_TOKEN")


# ------------------------------------------------------------------ docs/http-api.md#where-the-token-comes-from where the token comes from

def test_query_token_accepted(gw):
    r = gw.request("POST", "/rpc?token=" + DEFAULT_TOKEN, body=RPC)
    assert r.status == 200


def test_query_token_beats_header(gw):
    r = gw.request("POST", "/rpc?token=garbage", body=RPC, token=DEFAULT_TOKEN)
    check_error(r, 401, "AUTH_INVALID_TOKEN", "Invalid token format",
                {"error": "invalid token format: missing 'ns_' prefix"})
    r = gw.request("POST", "/rpc?token=" + DEFAULT_TOKEN, body=RPC, headers={"Authorization": "Basic x"})
    assert r.status == 200
    r = gw.request("POST", "/rpc?token=ns_ZGVmYXVsdA_" + "1" * 64, body=RPC, token=DEFAULT_TOKEN)
    check_error(r, 403, "AUTH_UNAUTHORIZED")


def test_empty_query_token_falls_back_to_header(gw):
    r = gw.request("POST", "/rpc?token=", body=RPC, token=DEFAULT_TOKEN)
    assert r.status == 200
    r = gw.request("POST", "/rpc?token=", body=RPC)
    check_error(r, 401, "AUTH_REQUIRED", "Authorization header required")


def test_first_query_token_wins(gw):
    r = gw.request("POST", "/rpc?token=%s&token=bad" % DEFAULT_TOKEN, body=RPC)
    assert r.status == 200
    r = gw.request("POST", "/rpc?token=bad&token=%s" % DEFAULT_TOKEN, body=RPC)
    check_error(r, 401, "AUTH_INVALID_TOKEN")


def test_query_token_is_form_decoded(gw):
    r = gw.request("POST", "/rpc?token=" + DEFAULT_TOKEN.replace("_", "%5F").replace("n", "%6E"), body=RPC)
    assert r.status == 200
    r = gw.request("POST", "/rpc?x=1&token=" + DEFAULT_TOKEN + "&y=2", body=RPC)
    assert r.status == 200


def test_header_token_is_untrimmed_after_bearer(gw):
    r = post(gw, headers={"Authorization": "Bearer " + DEFAULT_TOKEN + " x"})
    check_error(r, 401, "AUTH_INVALID_TOKEN")


@pytest.mark.parametrize("path,method", [("/subscribe?all=true", "GET"), ("/import", "POST"),
                                         ("/rpc", "GET"), ("/rpc", "OPTIONS")])
def test_auth_errors_are_json_on_every_endpoint(gw, path, method):
    r = gw.request(method, path, body=b"")
    check_error(r, 401, "AUTH_REQUIRED", "Authorization header required")
    r = gw.request(method, path, body=b"", token="ns_x")
    check_error(r, 401, "AUTH_INVALID_TOKEN", "Invalid token format")
    r = gw.request(method, path, body=b"", token="ns_ZGVmYXVsdA_" + "2" * 64)
    check_error(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {"namespace": "default"})


def test_subscribe_validation_comes_after_auth(gw):
    r = gw.request("GET", "/subscribe")
    check_error(r, 401, "AUTH_REQUIRED")


# ------------------------------------------------------------------ deleted namespace

def test_deleted_namespace_token_is_403(gw):
    ns, tok = gw.create_ns()
    gw.write("del-1", token=tok)
    assert gw.ok("stream.version", "del-1", token=tok) == 0   # warm any verification cache
    gw.ok("ns.delete", ns)
    for m, args in (("stream.get", ["del-1"]), ("sys.version", []), ("stream.write", ["del-1", {"type": "T", "data": {}}])):
        check_error(gw.rpc(m, *args, token=tok), 403, "AUTH_UNAUTHORIZED",
                    "Token not authorized for namespace", {"namespace": ns})
    check_error(gw.request("POST", "/import", body=b"", token=tok), 403, "AUTH_UNAUTHORIZED")
    check_error(gw.request("GET", "/subscribe?all=true", token=tok), 403, "AUTH_UNAUTHORIZED")


# ------------------------------------------------------------------ docs/http-api.md#namespace-methods secure by default

def test_ns_create_needs_default_token(gw):
    ns, tok = gw.create_ns()
    target = ns + "-child"
    r = gw.rpc("ns.create", target, token=tok)
    check_error(r, 403, "AUTH_UNAUTHORIZED")
    check_error(gw.rpc("ns.info", target), 404, "NAMESPACE_NOT_FOUND")


def test_ns_list_needs_default_token(gw):
    ns, tok = gw.create_ns()
    r = gw.rpc("ns.list", token=tok)
    check_error(r, 403, "AUTH_UNAUTHORIZED")
    assert b"default" not in r.body


def test_ns_info_needs_default_or_own_token(gw):
    a, ta = gw.create_ns()
    b, tb = gw.create_ns()
    assert gw.ok("ns.info", a, token=ta)["namespace"] == a
    assert gw.ok("ns.info", a)["namespace"] == a
    check_error(gw.rpc("ns.info", b, token=ta), 403, "AUTH_UNAUTHORIZED")
    check_error(gw.rpc("ns.info", "default", token=ta), 403, "AUTH_UNAUTHORIZED")


def test_ns_delete_needs_default_or_own_token(gw):
    a, ta = gw.create_ns()
    b, tb = gw.create_ns()
    check_error(gw.rpc("ns.delete", b, token=ta), 403, "AUTH_UNAUTHORIZED")
    check_error(gw.rpc("ns.delete", "default", token=ta), 403, "AUTH_UNAUTHORIZED")
    assert gw.ok("ns.info", b)["namespace"] == b
    assert gw.ok("ns.delete", b, token=tb)["namespace"] == b
    assert gw.ok("ns.delete", a)["namespace"] == a


def test_non_admin_cannot_probe_other_namespaces(gw):
    a, ta = gw.create_ns()
    missing = a + "-missing"
    ra = gw.rpc("ns.info", missing, token=ta)
    rb = gw.rpc("ns.delete", missing, token=ta)
    assert ra.status == 403 and rb.status == 403


def test_non_admin_data_methods_still_work(gw):
    a, ta = gw.create_ns()
    gw.write("adm-1", token=ta)
    assert gw.ok("ns.streams", {}, token=ta)[0]["stream"] == "adm-1"
    assert gw.ok("ns.categories", token=ta)[0]["category"] == "adm"
    assert gw.ok("sys.version", token=ta)
    assert gw.ok("sys.health", token=ta)["status"] == "ok"
