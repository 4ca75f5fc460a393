"""The one consumer-group rule (common/consumer_group.c), which the extension
(category.get, get_category_messages) and the gateway's live SSE filter both
link: the docs/sql-api.md#hash_64 vectors, and the edge value hash_64 = -2^63.

No stream name is known to hash to -2^63 (it needs an MD5 whose first 8
bytes are 8000000000000000), so the edge is tested on the function both
binaries call: its |hash| is not a bigint, Message DB's @ and the original's
abs() raise "bigint out of range" there, so the rule reports no member (the
extension raises that error, the gateway's live filter pokes no member). The
gateway used to answer 2^63 mod size, and a different MD5 (OpenSSL)."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMON = os.path.join(ROOT, "common")

DRIVER = r"""
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "consumer_group.h"

/* hash <stream> | member <hash> <size> */
int main(int argc, char **argv)
{
    int64_t h, m;

    if (argc == 3 && strcmp(argv[1], "hash") == 0)
    {
        if (group_stream_hash(argv[2], strlen(argv[2]), &h))
            printf("%" PRId64 "\n", h);
        else
            printf("none\n");
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "member") == 0)
    {
        if (group_member_of(strtoll(argv[2], NULL, 10), strtoll(argv[3], NULL, 10), &m))
            printf("%" PRId64 "\n", m);
        else
            printf("none\n");
        return 0;
    }
    return 2;
}
"""

# docs/sql-api.md#hash_64: stream, hash_64(cardinal id), members for sizes 2, 3, 4.
VECTORS = [
    ("account-1", -4266524885998034046, (0, 0, 2)),
    ("account-2", -4026655064267673757, (1, 1, 1)),
    ("account-3", -1383792015730482434, (0, 2, 2)),
    ("account-123", 2318431741638412123, (1, 1, 3)),
    ("account-123+retry", 2318431741638412123, (1, 1, 3)),
    ("account-abc", -8070080442485551184, (0, 2, 0)),
    ("account-a5eb2a97-84d9-4ccf-8a56-7160338b11e2", 9208446511280970811, (1, 1, 3)),
    ("account-ñ1", -7399026671182469943, (1, 0, 3)),
    ("account-", -3162216497309240828, (0, 2, 0)),
    ("account-42", -6786705937655499993, (1, 0, 1)),
    ("account-user@example.com", -5365591708102466681, (1, 2, 1)),
]


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    d = tmp_path_factory.mktemp("cg")
    src = d / "driver.c"
    src.write_text(DRIVER)
    exe = d / "driver"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", COMMON, "-o", str(exe), str(src),
                    os.path.join(COMMON, "consumer_group.c"), os.path.join(COMMON, "md5.c"),
                    os.path.join(COMMON, "names.c")], check=True)

    def run(*args):
        return subprocess.run([str(exe)] + [str(a) for a in args], check=True, capture_output=True,
                              text=True).stdout.strip()
    return run


@pytest.mark.parametrize("stream,h,members", VECTORS)
def test_vectors(driver, stream, h, members):
    assert driver("hash", stream) == str(h)
    for size, m in zip((2, 3, 4), members):
        assert driver("member", h, size) == str(m)


def test_names_without_dash_belong_to_no_member(driver):
    assert driver("hash", "account") == "none"


def test_minus_two_to_the_63_belongs_to_no_member(driver):
    for size in (1, 2, 3, 32767, 2 ** 62):
        assert driver("member", -2 ** 63, size) == "none"
    # Its neighbours are ordinary: |h| is a bigint.
    assert driver("member", -2 ** 63 + 1, 2) == "1"
    assert driver("member", 2 ** 63 - 1, 3) == str((2 ** 63 - 1) % 3)


def test_non_positive_size_has_no_member(driver):
    assert driver("member", 5, 0) == "none"
    assert driver("member", 5, -2) == "none"
