/*
 * The strict JSON scanner of the import path (gateway/json_scan.c):
 * js_validate compared with an independent validator (json_oracle.c), then
 * every accessor walked over what validated.
 *
 * Input: the JSON text. Checked: both validators agree (except beyond the
 * depth cap); iteration visits spans inside the text; decoded strings and
 * integers come out without memory errors.
 */
#include "json_oracle.h"
#include "json_scan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_json_scan"
#include "fuzz_check.h"

static unsigned budget;

static void
walk(const char *s, size_t n, JsSpan v, int depth)
{
	CHECK(v.off + v.len <= n && v.len > 0, "span %zu+%zu outside %zu", v.off, v.len, n);
	if (budget-- == 0 || depth > 200)
		return;
	switch (js_type(s, v))
	{
		case JS_OBJECT:
		case JS_ARRAY:
			{
				JsIter		it;
				JsSpan		key,
							val;

				js_iter_begin(&it, s, n, v);
				while (js_iter_next(&it, &key, &val))
				{
					if (s[v.off] == '{')
					{
						StrBuf		k = STRBUF_INIT;

						CHECK(key.len >= 2 && s[key.off] == '"', "bad key span");
						js_string_decode(s, key, &k);
						sb_free(&k);
					}
					walk(s, n, val, depth + 1);
				}
				break;
			}
		case JS_STRING:
			{
				StrBuf		d = STRBUF_INIT;

				js_string_decode(s, v, &d);
				sb_free(&d);
				break;
			}
		case JS_NUMBER:
			{
				int64_t		x;

				(void) js_int64(s, v, &x);
				break;
			}
		default:
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size ? size : 1);
	char		err[JS_ERROR_MAX];
	bool		ok;
	OracleVerdict o;

	memcpy(s, data, size);
	memset(err, 0, sizeof(err));
	ok = js_validate(s, size, err);
	o = oracle_json(s, size);
	if (o != ORACLE_TOO_DEEP)
		CHECK(ok == (o == ORACLE_VALID), "js_validate says %d, oracle says %d (%s): %.*s",
			  ok, (int) o, err, (int) (size < 200 ? size : 200), s);
	if (!ok)
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)), "no error text");
	else
	{
		size_t		pos = js_skip_ws(s, size, 0);

		budget = 10000;
		walk(s, size, js_value_at(s, size, pos), 0);
	}
	free(s);
	return 0;
}
