"""The web console's assets over HTTP (docs/console.md): /ui/ serves the files
compiled into the gateway with their content types, a strict
Content-Security-Policy and nosniff; nothing else about routing changes."""
import html.parser
import re

import pytest

from harness import NOT_FOUND_BODY

ASSETS = {
    "/ui/": "text/html; charset=utf-8",
    "/ui/index.html": "text/html; charset=utf-8",
    "/ui/app.js": "text/javascript; charset=utf-8",
    "/ui/app.css": "text/css; charset=utf-8",
    "/ui/favicon.svg": "image/svg+xml",
}


def csp_directives(value):
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path,ctype", sorted(ASSETS.items()))
def test_assets_have_their_content_type_and_security_headers(gw, path, ctype):
    r = gw.request("GET", path)       # no credentials: the assets are public
    assert r.status == 200, r
    assert r.header("Content-Type") == ctype
    assert int(r.header("Content-Length")) == len(r.body) > 0
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("X-Frame-Options") == "DENY"
    assert r.header("Referrer-Policy") == "no-referrer"
    csp = csp_directives(r.header("Content-Security-Policy"))
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in w or w == "data:" or w == "*" for ws in csp.values() for w in ws)
    etag = r.header("ETag")
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag      # strong
    assert r.header("Cache-Control") == "no-cache"


def test_index_and_slash_are_the_same_document(gw):
    a, b = gw.request("GET", "/ui/"), gw.request("GET", "/ui/index.html")
    assert a.body == b.body and a.header("ETag") == b.header("ETag")


def test_bare_ui_redirects_to_the_directory(gw):
    r = gw.request("GET", "/ui")
    assert r.status == 301
    assert r.header("Location") == "/ui/"
    assert r.header("Content-Security-Policy")


def test_if_none_match_gives_304_without_body(gw):
    etag = gw.request("GET", "/ui/app.js").header("ETag")
    for inm in (etag, 'W/' + etag, '"other", ' + etag, "*"):
        r = gw.request("GET", "/ui/app.js", headers={"If-None-Match": inm})
        assert r.status == 304, inm
        assert r.body == b""
        assert r.header("ETag") == etag
    assert gw.request("GET", "/ui/app.js", headers={"If-None-Match": '"other"'}).status == 200


def test_head_sends_headers_only(gw):
    r = gw.request("HEAD", "/ui/app.css")
    assert r.status == 200 and r.body == b""
    assert r.header("Content-Type") == "text/css; charset=utf-8"


def test_other_methods_are_refused(gw):
    r = gw.request("POST", "/ui/", body=b"x")
    assert r.status == 405
    assert r.header("Allow") == "GET, HEAD"
    assert r.json["error"]["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize("path", [
    "/ui/nope.js", "/ui/app.js/", "/ui/app.js.map", "/ui//app.js", "/ui/APP.JS", "/UI/",
    "/uix", "/ui.js", "/ui/../rpc", "/ui/%2e%2e/rpc", "/ui/sub/index.html",
])
def test_unknown_paths_keep_the_protocol_404(gw, path):
    for method in ("GET", "POST"):
        r = gw.request(method, path)
        assert r.status == 404, (method, path, r)
        assert r.body == NOT_FOUND_BODY
        assert r.header("Content-Type") == "application/json"
        assert r.header("Content-Security-Policy") is None


def test_other_endpoints_are_unchanged(gw):
    assert gw.request("GET", "/rpc").status == 401
    assert gw.request("GET", "/health").body == b'{"status":"ok"}'
    assert gw.request("GET", "/").body == NOT_FOUND_BODY


class _Scan(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts = []
        self.inline = []
        self.problems = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a.get("src"))
        if tag == "style":
            self.problems.append("<style>")
        for k, v in attrs:
            if k.startswith("on") or k == "style":
                self.problems.append("%s %s=" % (tag, k))
            if v and v.strip().lower().startswith("javascript:"):
                self.problems.append("%s %s=javascript:" % (tag, k))

    def handle_data(self, data):
        if self.lasttag == "script" and data.strip():
            self.inline.append(data)


def test_the_page_has_no_inline_script_or_style(gw):
    scan = _Scan()
    scan.feed(gw.request("GET", "/ui/").body.decode())
    assert scan.scripts == ["app.js"]
    assert scan.inline == []
    assert scan.problems == []


def test_the_script_never_builds_markup_from_strings(gw):
    """Safe by construction: the console writes text nodes only."""
    js = gw.request("GET", "/ui/app.js").body.decode()
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                   "eval(", "new Function", "setAttribute(\"style\"", "localStorage"):
        assert banned not in js, banned
    css = gw.request("GET", "/ui/app.css").body.decode()
    assert "@import" not in css and "url(" not in css
