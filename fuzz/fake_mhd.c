/* See fake_mhd.h. */
#include "fake_mhd.h"
#include "hex.h"

#include "json_oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FUZZ_NAME "fake_mhd"
#include "fuzz_check.h"

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	CHECK(p != NULL, "out of memory");
	return p;
}

static char *
xdup(const char *s, size_t n)
{
	char	   *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
fake_conn_init(struct MHD_Connection *c)
{
	memset(c, 0, sizeof(*c));
}

/* %XX and '+' decoding; the result is a C string, so a decoded NUL ends it
 * (as it does for MHD's NUL-terminated values). */
static char *
form_decode(const char *s, size_t n, size_t *outlen)
{
	char	   *o = xmalloc(n + 1);
	size_t		k = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '+')
			o[k++] = ' ';
		else if (s[i] == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0)
		{
			o[k++] = (char) (hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
			i += 2;
		}
		else
			o[k++] = s[i];
	}
	o[k] = '\0';
	*outlen = strlen(o);
	return o;
}

static void
add_value(struct MHD_Connection *c, enum MHD_ValueKind kind, char *key, char *value, size_t vlen)
{
	if (c->nvalues >= FAKE_MAX_VALUES)
	{
		free(key);
		free(value);
		return;
	}
	c->values[c->nvalues].kind = kind;
	c->values[c->nvalues].key = key;
	c->values[c->nvalues].value = value;
	c->values[c->nvalues].value_len = vlen;
	c->nvalues++;
}

void
fake_conn_query(struct MHD_Connection *c, const char *q, size_t len)
{
	size_t		i = 0;

	while (i <= len)
	{
		size_t		j = i;
		const char *eq;
		size_t		klen,
					vlen;
		char	   *key,
				   *value = NULL;

		while (j < len && q[j] != '&')
			j++;
		if (j > i)
		{
			eq = memchr(q + i, '=', j - i);
			key = form_decode(q + i, eq ? (size_t) (eq - (q + i)) : j - i, &klen);
			vlen = 0;
			if (eq)
				value = form_decode(eq + 1, (size_t) (q + j - (eq + 1)), &vlen);
			add_value(c, MHD_GET_ARGUMENT_KIND, key, value, vlen);
		}
		i = j + 1;
	}
}

void
fake_conn_arg(struct MHD_Connection *c, const char *key, const char *value, size_t len)
{
	add_value(c, MHD_GET_ARGUMENT_KIND, xdup(key, strlen(key)), xdup(value, len), len);
}

void
fake_conn_header(struct MHD_Connection *c, const char *key, const char *value, size_t len)
{
	add_value(c, MHD_HEADER_KIND, xdup(key, strlen(key)), xdup(value, len), len);
}

static const FakeValue *
find(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key, size_t klen)
{
	for (int i = 0; i < c->nvalues; i++)
	{
		const FakeValue *v = &c->values[i];

		if (!(v->kind & kind) || strlen(v->key) != klen)
			continue;
		/* libmicrohttpd compares names without regard to case, for every kind */
		if (strncasecmp(v->key, key, klen) == 0)
			return v;
	}
	return NULL;
}

const char *
MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
							const char *key)
{
	const FakeValue *v = find(c, kind, key, strlen(key));

	return v ? v->value : NULL;
}

enum MHD_Result
MHD_lookup_connection_value_n(struct MHD_Connection *c, enum MHD_ValueKind kind,
							  const char *key, size_t key_size,
							  const char **value_ptr, size_t *value_size_ptr)
{
	const FakeValue *v = find(c, kind, key, key_size);

	if (v == NULL)
		return MHD_NO;
	if (value_ptr)
		*value_ptr = v->value;
	if (value_size_ptr)
		*value_size_ptr = v->value ? v->value_len : 0;
	return MHD_YES;
}

int
MHD_get_connection_values_n(struct MHD_Connection *c, enum MHD_ValueKind kind,
							MHD_KeyValueIteratorN iterator, void *iterator_cls)
{
	int			n = 0;

	for (int i = 0; i < c->nvalues; i++)
	{
		const FakeValue *v = &c->values[i];

		if (!(v->kind & kind))
			continue;
		n++;
		if (iterator != NULL &&
			iterator(iterator_cls, v->kind, v->key, strlen(v->key), v->value,
					 v->value ? v->value_len : 0) != MHD_YES)
			break;
	}
	return n;
}

struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = calloc(1, sizeof(*r));

	CHECK(r != NULL, "out of memory");
	CHECK(mode == MHD_RESPMEM_MUST_COPY || mode == MHD_RESPMEM_PERSISTENT,
		  "unexpected memory mode %d", (int) mode);
	CHECK(size == 0 || buffer != NULL, "NULL body with size %zu", size);
	r->body = xdup(size ? buffer : "", size);
	r->len = size;
	r->refs = 1;
	return r;
}

struct MHD_Response *
MHD_create_response_from_callback(uint64_t size, size_t block_size,
								  MHD_ContentReaderCallback crc, void *crc_cls,
								  MHD_ContentReaderFreeCallback crfc)
{
	struct MHD_Response *r = calloc(1, sizeof(*r));

	(void) size;
	CHECK(r != NULL, "out of memory");
	CHECK(crc != NULL && block_size > 0, "bad callback response");
	r->from_callback = true;
	r->crc = crc;
	r->crc_cls = crc_cls;
	r->crfc = crfc;
	r->refs = 1;
	return r;
}

enum MHD_Result
MHD_add_response_header(struct MHD_Response *r, const char *header, const char *content)
{
	CHECK(r != NULL && header != NULL && content != NULL, "bad header");
	/* header values must not be able to split the response */
	CHECK(strpbrk(content, "\r\n") == NULL, "CR/LF in header %s", header);
	if (strcasecmp(header, "Content-Type") == 0)
	{
		free(r->content_type);
		r->content_type = xdup(content, strlen(content));
	}
	return MHD_YES;
}

enum MHD_Result
MHD_set_response_options(struct MHD_Response *r, enum MHD_ResponseFlags flags, ...)
{
	(void) r;
	(void) flags;
	return MHD_YES;
}

static void
response_release(struct MHD_Response *r)
{
	CHECK(r->refs > 0, "response destroyed twice");
	if (--r->refs > 0)
		return;
	free(r->body);
	free(r->content_type);
	free(r);
}

void
MHD_destroy_response(struct MHD_Response *r)
{
	if (r != NULL)
		response_release(r);
}

enum MHD_Result
MHD_queue_response(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r)
{
	static const unsigned allowed[] = {200, 400, 401, 403, 404, 405, 409, 413, 500};
	bool		known = false;

	CHECK(!c->queued, "second response queued (status %u after %u)", status, c->status);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		known |= allowed[i] == status;
	CHECK(known, "unexpected status %u", status);
	c->queued = true;
	c->status = status;
	c->response = r;
	r->refs++;
	return MHD_YES;
}

void
MHD_suspend_connection(struct MHD_Connection *c)
{
	c->suspended++;
}

void
MHD_resume_connection(struct MHD_Connection *c)
{
	c->suspended--;
}

enum MHD_Result
MHD_set_connection_option(struct MHD_Connection *c, enum MHD_CONNECTION_OPTION option, ...)
{
	(void) c;
	(void) option;
	return MHD_YES;
}

const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *c, enum MHD_ConnectionInfoType info_type, ...)
{
	(void) c;
	(void) info_type;
	return NULL;				/* no socket behind a fake connection */
}

bool
fake_json_valid(const char *s, size_t n)
{
	return oracle_json(s, n) == ORACLE_VALID;
}

static void
check_json_body(const struct MHD_Response *r, const char *body, size_t len)
{
	if (r->content_type == NULL || strcmp(r->content_type, "application/json") != 0)
		return;
	CHECK(len >= 2 && body[len - 1] == '\n' && body[len - 2] != '\n',
		  "JSON body does not end in exactly one newline: %.*s", (int) (len < 300 ? len : 300), body);
	CHECK(fake_json_valid(body, len - 1), "invalid JSON body: %.*s",
		  (int) (len < 300 ? len : 300), body);
	CHECK(oracle_utf8(body, len), "JSON body is not UTF-8: %.*s",
		  (int) (len < 300 ? len : 300), body);
	if (strncmp(body, "{\"error\":", 9) == 0)
		CHECK(strncmp(body, "{\"error\":{\"code\":\"", 18) == 0,
			  "error envelope key order: %.*s", (int) (len < 300 ? len : 300), body);
}

unsigned
fake_conn_finish(struct MHD_Connection *c, char **body, size_t *len,
				 size_t max_bytes, size_t block)
{
	struct MHD_Response *r = c->response;
	unsigned	status = c->queued ? c->status : 0;
	char	   *out = NULL;
	size_t		n = 0;

	if (r != NULL && r->from_callback)
	{
		char	   *buf = xmalloc(block);
		size_t		cap = 4096;

		out = xmalloc(cap + 1);
		for (int idle = 0; n < max_bytes && idle < 4;)
		{
			ssize_t		k = r->crc(r->crc_cls, n, buf, block);

			if (k == MHD_CONTENT_READER_END_OF_STREAM ||
				k == MHD_CONTENT_READER_END_WITH_ERROR)
				break;
			CHECK(k >= 0 && (size_t) k <= block, "content reader returned %zd", k);
			if (k == 0)
			{
				/* suspended: nothing more will come without an event */
				idle++;
				if (c->suspended > 0)
					break;
				continue;
			}
			if ((size_t) k > max_bytes - n)
				k = (ssize_t) (max_bytes - n);
			while (n + (size_t) k > cap)
			{
				cap *= 2;
				out = realloc(out, cap + 1);
				CHECK(out != NULL, "out of memory");
			}
			memcpy(out + n, buf, (size_t) k);
			n += (size_t) k;
		}
		out[n] = '\0';
		free(buf);
		if (r->crfc)
			r->crfc(r->crc_cls);
	}
	else if (r != NULL)
	{
		out = xdup(r->body, r->len);
		n = r->len;
		check_json_body(r, out, n);
	}
	if (r != NULL)
		response_release(r);
	for (int i = 0; i < c->nvalues; i++)
	{
		free(c->values[i].key);
		free(c->values[i].value);
	}
	c->nvalues = 0;
	c->response = NULL;
	if (body)
		*body = out;
	else
		free(out);
	if (len)
		*len = n;
	return status;
}

