"""The manual stays whole: every relative link in README.md and docs/*.md
resolves (files and #anchors, GitHub's anchor rules), every RPC method the
gateway dispatches is in docs/http-api.md, and every SQL function the
extension's install/upgrade SQL creates is in docs/sql-api.md.

Pure Python: no cluster, no gateway. The method and function lists are read
from the sources, so a new method or function fails here until it is
documented."""
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HTTP_REF = os.path.join(ROOT, "docs", "http-api.md")
SQL_REF = os.path.join(ROOT, "docs", "sql-api.md")


def manual_files():
    files = [os.path.join(ROOT, "README.md")]
    files += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return files


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def without_code(text):
    """The text with fenced code blocks blanked (line count kept) and inline
    code spans removed: links and headings inside code are not markdown."""
    out = []
    fence = None
    for line in text.split("\n"):
        m = re.match(r"^\s*(```+|~~~+)", line)
        if fence is None and m:
            fence = m.group(1)[0] * 3
            out.append("")
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            out.append("")
            continue
        out.append(re.sub(r"`[^`]*`", "``", line))
    return "\n".join(out)


def github_slug(heading):
    """GitHub's anchor for a heading's text: markup dropped, lower case,
    everything but word characters, spaces and hyphens removed, spaces
    turned into hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text, flags=re.UNICODE)
    return text.replace(" ", "-")


def anchors(text):
    """Every anchor of a markdown text, with GitHub's -1, -2 suffixes for
    repeated headings."""
    seen = {}
    result = set()
    fence = None
    for line in text.split("\n"):
        m = re.match(r"^\s*(```+|~~~+)", line)
        if fence is None and m:
            fence = m.group(1)[0] * 3
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        h = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not h:
            continue
        slug = github_slug(h.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        result.add(slug if n == 0 else "%s-%d" % (slug, n))
    return result


LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links(text):
    """(line number, target) of every inline link outside code."""
    for no, line in enumerate(without_code(text).split("\n"), 1):
        for m in LINK.finditer(line):
            yield no, m.group(1)


def broken_links(path, text=None):
    """Messages for every relative link of the file at path that does not
    resolve."""
    text = read(path) if text is None else text
    problems = []
    for no, target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # http:, https:, mailto: - not ours to check
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        where = "%s:%d: %s" % (os.path.relpath(path, ROOT), no, target)
        if not os.path.exists(dest):
            problems.append(where + " (no such file)")
            continue
        if anchor:
            if not dest.endswith(".md"):
                problems.append(where + " (anchor into a file that is not markdown)")
            elif anchor not in anchors(read(dest)):
                problems.append(where + " (no such anchor)")
    return problems


# --- the checkers themselves ------------------------------------------------

def test_slugs_follow_githubs_rules():
    assert github_slug("Live pokes: `/subscribe`") == "live-pokes-subscribe"
    assert github_slug("`eventodb.stream_write`") == "eventodbstream_write"
    assert github_slug("Health, readiness, version") == "health-readiness-version"
    assert github_slug("Set-up: two commands") == "set-up-two-commands"
    assert anchors("# A\n## A\n```\n# B\n```\n") == {"a", "a-1"}


def test_link_checker_finds_broken_links(tmp_path):
    (tmp_path / "other.md").write_text("# Some Title\n")
    page = tmp_path / "page.md"
    text = ("[ok](other.md#some-title) [bad file](missing.md) [bad anchor](other.md#nope)\n"
            "[self](#here) `[code](missing.md)`\n```\n[fenced](missing.md)\n```\n# Here\n"
            "[web](https://example.com/x)\n")
    page.write_text(text)
    problems = broken_links(str(page))
    assert len(problems) == 2, problems
    assert "missing.md (no such file)" in problems[0]
    assert "other.md#nope (no such anchor)" in problems[1]


# --- the manual -------------------------------------------------------------

@pytest.mark.parametrize("path", manual_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


def dispatched_methods():
    """The names in the gateway's dispatch table (methods[] in gateway/rpc.c)."""
    src = read(os.path.join(ROOT, "gateway", "rpc.c"))
    table = re.search(r"\bmethods\s*\[\s*\]\s*=\s*\{(.*?)\n\};", src, re.S)
    assert table, "dispatch table methods[] not found in gateway/rpc.c"
    return re.findall(r"\{\s*\"([^\"]+)\"\s*,\s*\w+\s*\}", table.group(1))


def test_every_rpc_method_is_in_the_http_reference():
    methods = dispatched_methods()
    assert len(methods) >= 13 and "stream.write" in methods
    doc = read(HTTP_REF)
    missing = [m for m in methods if "`%s`" % m not in doc]
    assert missing == [], "RPC methods missing from docs/http-api.md"


def created_functions():
    """schema.name of every function the install and upgrade SQL creates."""
    names = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "extension", "schema", "*", "*.sql"))):
        sql = re.sub(r"--[^\n]*", "", read(path))
        for m in re.finditer(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([\w.\"]+)\s*\(",
                             sql, re.I):
            names.add(m.group(1).replace('"', ""))
    return sorted(names)


def test_every_sql_function_is_in_the_sql_reference():
    functions = created_functions()
    assert "message_store.write_message" in functions and "eventodb.stream_write" in functions
    doc = read(SQL_REF)
    missing = [f for f in functions if not re.search(r"(?<![\w.])%s(?!\w)" % re.escape(f), doc)]
    assert missing == [], "SQL functions missing from docs/sql-api.md"
