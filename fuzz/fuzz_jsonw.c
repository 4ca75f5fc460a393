/*
 * JSON string output in the original's style (gateway/jsonw.c,
 * docs/http-api.md#wire-conventions): every client-controlled string that reaches a
 * response (error messages, namespace ids, stream names in pokes and
 * import events) goes through jw_string.
 *
 * Input: arbitrary bytes. Checked: the output is one valid JSON string,
 * valid UTF-8, with <, >, & and U+2028/2029 escaped, and for valid UTF-8
 * input it decodes back to the input (gateway/json_scan.c's decoder).
 */
#include "json_oracle.h"
#include "json_scan.h"
#include "jsonw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_jsonw"
#include "fuzz_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size ? size : 1);
	StrBuf		o = STRBUF_INIT;
	StrBuf		d = STRBUF_INIT;
	uint32_t	cp;

	memcpy(s, data, size);
	jw_string(&o, s, size);
	CHECK(o.len >= 2 && o.data[0] == '"' && o.data[o.len - 1] == '"', "not a string: %s", o.data);
	CHECK(oracle_json(o.data, o.len) == ORACLE_VALID, "invalid JSON: %s", o.data);
	CHECK(oracle_utf8(o.data, o.len), "output is not UTF-8");
	CHECK(strpbrk(o.data, "<>&") == NULL, "HTML characters not escaped: %s", o.data);
	CHECK(strstr(o.data, "\xe2\x80\xa8") == NULL && strstr(o.data, "\xe2\x80\xa9") == NULL,
		  "U+2028/2029 not escaped");
	if (oracle_utf8(s, size))
	{
		JsSpan		span = {0, o.len};

		js_string_decode(o.data, span, &d);
		CHECK(d.len == size && memcmp(d.data ? d.data : "", s, size) == 0,
			  "round trip changed the string: %s", o.data);
	}
	/* the sequence scanner never claims more than it was given */
	for (size_t i = 0; i < size;)
	{
		size_t		k = jw_utf8_seq(s + i, size - i, &cp);

		CHECK(k <= size - i, "jw_utf8_seq overran");
		i += k ? k : 1;
	}
	{
		StrBuf		n = STRBUF_INIT;
		int64_t		v = 0;

		memcpy(&v, data, size < 8 ? size : 8);
		jw_int(&n, v);
		CHECK(oracle_json(n.data, n.len) == ORACLE_VALID, "jw_int: %s", n.data);
		sb_free(&n);
	}
	sb_free(&o);
	sb_free(&d);
	free(s);
	return 0;
}
