/*
 * POST /rpc after authentication: the request decoder (gateway/reqjson.c),
 * the envelope (rpc.c) and every method's argument validation
 * (rpc_stream.c, rpc_category.c, rpc_ns.c, rpc_sys.c), down to the SQL call
 * (fake_pool.c) and the reply (fake_mhd.c).
 *
 * Input: byte 0 = mode bits, the rest = the request body.
 *   bit 0 test mode, bit 1 secure-by-default ns.* rules, bits 2-3 database
 *   answer (0/3 ok, 1 failed statement, 2 down), bit 4 caller is admin,
 *   bit 5 caller's namespace "tenant-a" instead of "default".
 *
 * Beyond the checks of the fakes: the decoder agrees with an independent
 * JSON validator (json_oracle.c) on what is a JSON array, and an invalid
 * body never reaches the database.
 */
#include "config.h"
#include "fake_mhd.h"
#include "fake_pool.h"
#include "json_oracle.h"
#include "log.h"
#include "reqjson.h"
#include "rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_rpc"
#include "fuzz_check.h"

FUZZ_QUIET_LOGS_INITIALIZER

static void
check_decoder(const char *body, size_t len)
{
	StrBuf		err = STRBUF_INIT;
	struct json_object *v = NULL;
	bool		ok = req_parse(body, len, &v, &err);
	OracleVerdict o = oracle_json(body, len);
	char		top = oracle_top_kind(body, len);

	if (o == ORACLE_TOO_DEEP)
		;
	else if (ok)
		CHECK(o == ORACLE_VALID && (top == '[' || top == 'n'),
			  "decoder accepted what is not a JSON array/null: %.*s", (int) (len < 200 ? len : 200), body);
	else if (o == ORACLE_VALID && (top == '[' || top == 'n'))
		CHECK(err.data && strncmp(err.data, "json: cannot unmarshal number", 29) == 0,
			  "decoder refused a valid JSON array (%s): %.*s", err.data ? err.data : "",
			  (int) (len < 200 ? len : 200), body);
	json_object_put(v);
	sb_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct MHD_Connection c;
	AuthResult	auth;
	unsigned	mode;
	char	   *body;
	size_t		len;
	unsigned	status;
	unsigned	calls_before;
	char	   *reply = NULL;
	size_t		reply_len = 0;

	if (size < 1)
		return 0;
	mode = data[0];
	len = size - 1;
	/* exactly the body's bytes: any over-read is an ASan report */
	body = malloc(len ? len : 1);
	memcpy(body, data + 1, len);

	g_config.test_mode = mode & 1;
	g_config.admin_only_ns = (mode & 2) && !(mode & 1);
	fake_pool_mode = ((mode >> 2) & 3) == 1 ? FAKE_DB_ERROR :
		((mode >> 2) & 3) == 2 ? FAKE_DB_DOWN : FAKE_DB_OK;
	auth.ns = strdup(mode & 32 ? "tenant-a" : "default");
	auth.ns_len = strlen(auth.ns);
	auth.is_admin = (mode & 16) != 0;

	check_decoder(body, len);

	fake_conn_init(&c);
	calls_before = fake_pool_calls;
	(void) rpc_handle(&c, &auth, "POST", body, len);
	status = fake_conn_finish(&c, &reply, &reply_len, 1 << 20, 4096);
	CHECK(status != 0, "no response queued");
	if (status == 400 && reply_len > 0 && strstr(reply, "\"INVALID_REQUEST\""))
		CHECK(fake_pool_calls == calls_before, "database called for an invalid request: %s", reply);
	free(reply);
	free(auth.ns);
	free(body);
	return 0;
}
