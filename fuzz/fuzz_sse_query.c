/*
 * GET /subscribe after authentication (gateway/sse.c): the query-parameter
 * validation of docs/http-api.md#validation and the SSE framing of docs/http-api.md#frames, with the real
 * fan-out registry (fanout.c) delivering fuzzed pokes.
 *
 * Input: <raw query string> '\n' then poke records
 *        <u8 name length><name bytes><i8 position><i8 global position>...
 *        (the first byte of the query selects the caller's namespace).
 *
 * Checked: the status and plain-text body equal an independent reading of
 * docs/http-api.md#validation (oracle below); an opened stream starts with ": ready"; every frame
 * is ": ready" or "event: poke\ndata: <JSON object>" with valid UTF-8, so no
 * stream name can break the framing.
 */
#include "config.h"
#include "fake_mhd.h"
#include "fake_pool.h"
#include "fake_sse.h"
#include "fanout.h"
#include "json_oracle.h"
#include "log.h"
#include "sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_sse_query"
#include "fuzz_check.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	log_configure(LOG_ERROR, 0);
	if (!sse_init())
		abort();
	return 0;
}

/* Go's strconv.ParseInt(v, 10, 64), written out independently. */
static bool
int64_ok(const char *v, long long *out)
{
	const char *p = v;
	bool		neg = false;
	unsigned long long acc = 0;
	unsigned long long limit;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p == '\0')
		return false;
	limit = neg ? 9223372036854775808ULL : 9223372036854775807ULL;
	for (; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		if (acc > (limit - (unsigned long long) (*p - '0')) / 10)
			return false;
		acc = acc * 10 + (unsigned long long) (*p - '0');
	}
	*out = neg ? (long long) (0 - acc) : (long long) acc;
	return true;
}

/* Go's url.Values.Get: exact (case-sensitive) name, first occurrence; the
 * gateway treats an empty value as absent. */
static const char *
param(struct MHD_Connection *c, const char *name)
{
	for (int i = 0; i < c->nvalues; i++)
	{
		const FakeValue *v = &c->values[i];

		if (v->kind == MHD_GET_ARGUMENT_KIND && strcmp(v->key, name) == 0)
			return v->value && *v->value ? v->value : NULL;
	}
	return NULL;
}

/* Expected plain-text 400 body, or NULL for 200 (docs/http-api.md#validation in order). */
static const char *
expected(struct MHD_Connection *c)
{
	const char *stream = param(c, "stream"),
			   *category = param(c, "category"),
			   *all = param(c, "all"),
			   *position = param(c, "position");
	bool		is_all = all && strcmp(all, "true") == 0;
	long long	pos,
				m = 0,
				sz = 0;

	if (!stream && !category && !is_all)
		return "Either 'stream', 'category', or 'all=true' parameter required";
	if (is_all && (stream || category))
		return "Cannot combine 'all' with 'stream' or 'category'";
	if (stream && category)
		return "Cannot specify both 'stream' and 'category'";
	if (position && !int64_ok(position, &pos))
		return "Invalid position parameter";
	if (category)
	{
		const char *consumer = param(c, "consumer"),
				   *size = param(c, "size");

		if (consumer && !int64_ok(consumer, &m))
			return "Invalid consumer parameter";
		if (size && !int64_ok(size, &sz))
			return "Invalid size parameter";
		if ((m > 0 || sz > 0) && (sz == 0 || m >= sz))
			return "Invalid consumer group: member must be < size";
	}
	return NULL;
}

static void
check_frames(const char *body, size_t len, bool all_mode)
{
	size_t		i = 0;
	int			n = 0;

	if (!all_mode)
		CHECK(len >= 9 && memcmp(body, ": ready\n\n", 9) == 0, "stream does not start with ': ready'");
	while (i < len)
	{
		const char *end = memmem(body + i, len - i, "\n\n", 2);
		size_t		flen;

		if (end == NULL)
			break;				/* a partial frame at the read limit */
		flen = (size_t) (end - (body + i));
		if (flen == 7 && memcmp(body + i, ": ready", 7) == 0)
			;
		else
		{
			static const char head[] = "event: poke\ndata: {\"stream\":";
			const char *json = body + i + 18;
			size_t		jlen = flen - 18;

			CHECK(flen > sizeof(head) && memcmp(body + i, head, sizeof(head) - 1) == 0,
				  "bad frame %d: %.*s", n, (int) (flen < 200 ? flen : 200), body + i);
			CHECK(oracle_json(json, jlen) == ORACLE_VALID && oracle_top_kind(json, jlen) == '{'
				  && oracle_utf8(json, jlen),
				  "bad poke JSON: %.*s", (int) (jlen < 200 ? jlen : 200), json);
		}
		i += flen + 2;
		n++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct MHD_Connection c;
	AuthResult	auth;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t		qlen = nl ? (size_t) (nl - data) : size;
	const uint8_t *p = nl ? nl + 1 : data + size;
	const uint8_t *end = data + size;
	const char *want;
	char	   *body = NULL;
	size_t		blen = 0;
	unsigned	status;
	bool		all_mode;

	g_config.test_mode = true;
	fake_conn_init(&c);
	fake_conn_query(&c, (const char *) data, qlen);
	auth.ns = strdup(qlen > 0 && (data[0] & 1) ? "tenant-a" : "default");
	auth.ns_len = strlen(auth.ns);
	auth.is_admin = false;
	want = expected(&c);
	{
		const char *a = param(&c, "all");

		all_mode = a && strcmp(a, "true") == 0;
	}

	(void) sse_subscribe(&c, &auth);
	fake_sse_complete_catchup();
	while (p + 1 <= end)
	{
		size_t		nlen = *p++;
		int64_t		pos,
					gpos;

		if ((size_t) (end - p) < nlen + 2)
			break;
		pos = (int8_t) p[nlen];
		gpos = (int8_t) p[nlen + 1];
		fanout_publish(auth.ns, auth.ns_len, (const char *) p, nlen, pos, gpos);
		p += nlen + 2;
	}
	status = fake_conn_finish(&c, &body, &blen, 1 << 20, 32 * 1024);
	if (want != NULL)
	{
		CHECK(status == 400 && blen == strlen(want) && memcmp(body, want, blen) == 0,
			  "expected 400 '%s', got %u '%.*s'", want, status, (int) blen, body ? body : "");
	}
	else
	{
		CHECK(status == 200, "expected 200, got %u '%.*s'", status, (int) blen, body ? body : "");
		check_frames(body, blen, all_mode);
	}
	CHECK(fanout_count() == 0, "subscription still registered after its end");
	/* no state carried into the next input */
	fanout_forget_ns("default", 7);
	fanout_forget_ns("tenant-a", 8);
	free(body);
	free(auth.ns);
	return 0;
}
