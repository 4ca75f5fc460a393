/*
 * Authentication of /rpc, /subscribe and /import (gateway/auth.c,
 * docs/http-api.md#authentication): where the token comes from, the Bearer scheme,
 * token parsing, verification against the (fake) registry and its cache.
 *
 * Input: byte 0 = mode bits (bit 0 test mode, bit 1 token in the query
 * instead of the Authorization header, bits 2-3 database answer), the rest
 * = the parameter or header value, raw.
 *
 * Checked: test mode never fails; production mode fails only with the
 * docs/http-api.md#outcomes statuses and succeeds only for a registered token (fake registry:
 * random part all zeros) whose id it returns; errors are JSON envelopes.
 */
#include "auth.h"
#include "config.h"
#include "fake_mhd.h"
#include "fake_pool.h"
#include "log.h"
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_auth"
#include "fuzz_check.h"

FUZZ_QUIET_LOGS_INITIALIZER

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct MHD_Connection c;
	AuthResult	a;
	enum MHD_Result ret;
	unsigned	mode;
	const char *v;
	size_t		vlen;
	bool		ok;
	unsigned	status;

	if (size < 1)
		return 0;
	mode = data[0];
	v = (const char *) data + 1;
	vlen = size - 1;
	g_config.test_mode = mode & 1;
	fake_pool_mode = ((mode >> 2) & 3) == 1 ? FAKE_DB_ERROR :
		((mode >> 2) & 3) == 2 ? FAKE_DB_DOWN : FAKE_DB_OK;

	fake_conn_init(&c);
	if (mode & 2)
		fake_conn_arg(&c, "token", v, vlen);
	else
		fake_conn_header(&c, "Authorization", v, vlen);

	ok = auth_request(&c, &a, &ret);
	status = fake_conn_finish(&c, NULL, NULL, 0, 1);
	if (ok)
	{
		CHECK(status == 0, "success but a response was queued (%u)", status);
		CHECK(a.ns != NULL && a.ns_len > 0, "success without a namespace");
		if (!g_config.test_mode)
		{
			/* a token of the fake registry: the value ends in 64 zeros */
			bool		zeros = vlen >= 64;

			for (size_t i = 0; zeros && i < 64; i++)
				zeros = v[vlen - 64 + i] == '0';
			CHECK(zeros, "unregistered token accepted");
			CHECK(fake_pool_mode == FAKE_DB_OK, "accepted without a registry answer");
		}
		auth_forget_namespace(a.ns, a.ns_len);	/* no state across inputs */
		auth_result_free(&a);
	}
	else
	{
		CHECK(!g_config.test_mode || ret == MHD_NO, "test mode refused a request (%u)", status);
		CHECK(status == 401 || status == 403 || status == 500, "status %u", status);
		CHECK(status != 500 || fake_pool_mode != FAKE_DB_OK, "500 with a working registry");
	}
	return 0;
}
