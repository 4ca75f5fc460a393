"""META.json follows the PGXN Meta Spec 1.0.0 and agrees with the extension's
control file and the Debian packages' version."""
import json
import os
import re

from conftest import ROOT

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+)?$")
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
            "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
            "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
            "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown"}


def meta():
    with open(os.path.join(ROOT, "META.json")) as f:
        return json.load(f)


def read(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


def test_required_keys_and_their_types():
    m = meta()
    for key in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
        assert key in m, key
    assert m["meta-spec"]["version"] == "1.0.0"
    assert SEMVER.match(m["version"])
    assert m["license"] in LICENSES or all(l in LICENSES for l in m["license"])
    assert all(k in {"homepage", "bugtracker", "repository"} or k.lower().startswith("x_")
               for k in m.get("resources", {}))


def test_provides_the_extension_at_the_control_files_version():
    m = meta()
    ext = m["provides"]["eventodb"]
    assert os.path.exists(os.path.join(ROOT, ext["file"]))
    default = re.search(r"default_version\s*=\s*'([^']+)'", read("extension", "eventodb.control")).group(1)
    assert ext["version"] == m["version"] == default + ".0"
    assert SEMVER.match(ext["version"]) and ext["abstract"]


def test_requires_postgresql_15():
    req = meta()["prereqs"]["runtime"]["requires"]
    assert req["PostgreSQL"] == ">= 15.0.0, < 16.0.0"


def test_debian_packages_have_the_same_version():
    first = read("debian", "changelog").split("\n", 1)[0]
    assert first.startswith("eventodb (%s)" % meta()["version"]), first
