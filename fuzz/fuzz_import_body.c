/*
 * POST /import after authentication (gateway/import.c + import_record.c,
 * docs/http-api.md#bulk-import-import): line splitting, the 1 MiB line rule, record validation,
 * batching and the event stream, with the database faked.
 *
 * Input: byte 0 = mode bits (bit 0 force=true, bits 2-3 database answer,
 * bit 4 a namespace id containing NUL), the rest = the NDJSON body.
 *
 * Checked: the response is a sequence of "data: <JSON object>\n\n" frames
 * ending with exactly one terminal event (done or error); every batch sent
 * to the database is a JSON array (fake_pool.c); a failed clear is the
 * plain CLEAR_FAILED 500.
 */
#include "config.h"
#include "fake_mhd.h"
#include "fake_pool.h"
#include "import.h"
#include "json_oracle.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_import_body"
#include "fuzz_check.h"

FUZZ_QUIET_LOGS_INITIALIZER

static void
check_events(const char *out, size_t len)
{
	size_t		i = 0;
	int			terminal = 0;

	CHECK(len > 0, "empty event stream");
	while (i < len)
	{
		const char *end = memmem(out + i, len - i, "\n\n", 2);
		const char *json = out + i + 6;
		size_t		flen,
					jlen;

		CHECK(end != NULL, "unterminated frame: %.*s", (int) (len - i), out + i);
		flen = (size_t) (end - (out + i));
		CHECK(terminal == 0, "event after the terminal event");
		CHECK(flen > 6 && memcmp(out + i, "data: ", 6) == 0, "not a data frame: %.*s",
			  (int) flen, out + i);
		jlen = flen - 6;
		CHECK(oracle_json(json, jlen) == ORACLE_VALID && oracle_top_kind(json, jlen) == '{' &&
			  oracle_utf8(json, jlen), "bad event JSON: %.*s", (int) jlen, json);
		if (strncmp(json, "{\"done\":true,", 13) == 0 || strncmp(json, "{\"error\":", 9) == 0)
			terminal++;
		else
			CHECK(strncmp(json, "{\"imported\":", 12) == 0, "unknown event: %.*s", (int) jlen, json);
		i += flen + 2;
	}
	CHECK(terminal == 1, "no terminal event");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct MHD_Connection c;
	AuthResult	auth;
	unsigned	mode;
	char	   *body;
	size_t		len;
	char	   *out = NULL;
	size_t		olen = 0;
	unsigned	status;

	if (size < 1)
		return 0;
	mode = data[0];
	len = size - 1;
	body = malloc(len + 1);
	memcpy(body, data + 1, len);
	body[len] = '\0';			/* server.c hands over a StrBuf */
	g_config.test_mode = true;
	fake_pool_mode = ((mode >> 2) & 3) == 1 ? FAKE_DB_ERROR :
		((mode >> 2) & 3) == 2 ? FAKE_DB_DOWN : FAKE_DB_OK;
	if (mode & 16)
	{
		auth.ns = malloc(3);
		memcpy(auth.ns, "a\0b", 3);
		auth.ns_len = 3;
	}
	else
	{
		auth.ns = strdup("default");
		auth.ns_len = 7;
	}
	auth.is_admin = true;

	fake_conn_init(&c);
	(void) import_handle(&c, &auth, body, len, mode & 1);
	status = fake_conn_finish(&c, &out, &olen, 8 << 20, 64 * 1024);
	if ((mode & 1) && (fake_pool_mode != FAKE_DB_OK || (mode & 16)))
		CHECK(status == 500, "failed clear answered %u", status);
	else
	{
		CHECK(status == 200, "import answered %u", status);
		check_events(out, olen);
	}
	free(out);
	free(auth.ns);
	return 0;
}
