/*
 * One NDJSON import line (gateway/import_record.c, docs/http-api.md#bulk-import-import).
 *
 * Input: the line. Checked: an accepted line renders one JSON object with
 * exactly the keys id, stream, type, pos, gpos, data, meta, time (in that
 * order), valid UTF-8, appended to what the buffer held; a refused line
 * leaves the output untouched and explains itself; a line the independent
 * oracle finds not to be JSON is never accepted.
 */
#include "import_record.h"
#include "json_oracle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_import_record"
#include "fuzz_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *line = malloc(size ? size : 1);
	StrBuf		out = STRBUF_INIT;
	StrBuf		why = STRBUF_INIT;
	int64_t		gpos = 0;
	ImportRecordResult r;
	OracleVerdict o;

	memcpy(line, data, size);
	sb_puts(&out, "[");
	r = import_record(line, size, &out, &gpos, &why);
	o = oracle_json(line, size);
	if (r == RECORD_OK)
	{
		const char *rec = out.data + 1;
		size_t		rlen = out.len - 1;

		CHECK(o != ORACLE_INVALID, "accepted a line that is not JSON: %.*s", (int) size, line);
		CHECK(oracle_top_kind(line, size) == '{', "accepted a non-object line");
		CHECK(oracle_json(rec, rlen) == ORACLE_VALID && oracle_utf8(rec, rlen),
			  "rendered record is not valid JSON/UTF-8: %.*s", (int) rlen, rec);
		CHECK(strncmp(rec, "{\"id\":", 6) == 0, "record key order: %.*s", (int) rlen, rec);
		CHECK(why.len == 0, "success with an explanation");
	}
	else
	{
		CHECK(r == RECORD_INVALID_JSON || r == RECORD_INVALID_RECORD, "result %d", (int) r);
		CHECK(out.len == 1, "refused line changed the output: %s", out.data);
		CHECK(why.len > 0, "refused without a reason");
	}
	sb_free(&out);
	sb_free(&why);
	free(line);
	return 0;
}
