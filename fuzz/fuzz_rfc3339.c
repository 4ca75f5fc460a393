/*
 * RFC 3339 times (gateway/rfc3339.c): import record times and the export
 * CLI's --since/--until (docs/http-api.md#wire-conventions, #bulk-import-import, docs/configuration.md#commands).
 *
 * Input: the text. Checked: a parsed time formats to text that parses back
 * to the same instant (with and without fraction, the latter truncated),
 * and for PostgreSQL to the same text or, before year 1, a "... BC" one;
 * a refused time says why; dates parse as midnight.
 */
#include "rfc3339.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_rfc3339"
#include "fuzz_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size ? size : 1);
	Rfc3339		t,
				back;
	StrBuf		why = STRBUF_INIT;
	StrBuf		f = STRBUF_INIT;

	memcpy(s, data, size);
	if (rfc3339_parse(s, size, &t, &why))
	{
		CHECK(t.nsec >= 0 && t.nsec <= 999999999, "nsec %d", (int) t.nsec);
		/* years 0..9999 in any offset stay printable as four digits + a day */
		rfc3339_format(&f, t, true);
		{
			/* PostgreSQL's text: the same, but years below 1 as "... BC" */
			StrBuf		sql = STRBUF_INIT;
			bool		bc = f.data[0] == '-' || memcmp(f.data, "0000-", 5) == 0;

			rfc3339_format_sql(&sql, t);
			if (bc)
				CHECK(sql.len > 3 && memcmp(sql.data + sql.len - 3, " BC", 3) == 0, "no BC: %s", sql.data);
			else
				CHECK(sql.len == f.len && memcmp(sql.data, f.data, f.len) == 0, "sql %s != %s", sql.data, f.data);
			sb_free(&sql);
		}
		if (t.unix_sec >= -62135596800LL + 86400 && t.unix_sec < 253402300799LL - 86400)
		{
			CHECK(rfc3339_parse(f.data, f.len, &back, NULL), "formatted time does not parse: %s", f.data);
			CHECK(rfc3339_cmp(t, back) == 0, "round trip changed %s", f.data);
			sb_reset(&f);
			rfc3339_format(&f, t, false);
			CHECK(rfc3339_parse(f.data, f.len, &back, NULL), "formatted time does not parse: %s", f.data);
			CHECK(back.unix_sec == t.unix_sec && back.nsec == 0, "truncation changed %s", f.data);
		}
	}
	else
		CHECK(why.len > 0, "refused without a reason");
	if (rfc3339_parse_date(s, size, &t))
		CHECK(t.nsec == 0 && t.unix_sec % 86400 == 0, "date not at midnight");
	sb_free(&why);
	sb_free(&f);
	free(s);
	return 0;
}
