/*
 * A stand-in for the libmicrohttpd functions the gateway's handlers call, so
 * that a harness can drive a handler (auth_request, rpc_handle,
 * sse_subscribe, import_handle) with fuzzed request parts and inspect the
 * response it queued. Harnesses link this instead of libmicrohttpd.
 *
 * Checks made here on every run (violations abort, which libFuzzer reports):
 *   - at most one response queued per request, with a known status;
 *   - a JSON response is one valid JSON value followed by exactly "\n"
 *     (docs/http-api.md#wire-conventions, #errors; the routing 404 and /health bodies are not
 *     produced by the handlers fuzzed here);
 *   - responses are destroyed exactly once.
 */
#ifndef FUZZ_FAKE_MHD_H
#define FUZZ_FAKE_MHD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_MAX_VALUES 64

typedef struct FakeValue
{
	enum MHD_ValueKind kind;
	char	   *key;
	char	   *value;			/* NULL: key without '=' */
	size_t		value_len;
} FakeValue;

struct MHD_Response
{
	bool		from_callback;
	char	   *body;
	size_t		len;
	MHD_ContentReaderCallback crc;
	void	   *crc_cls;
	MHD_ContentReaderFreeCallback crfc;
	char	   *content_type;
	int			refs;
};

struct MHD_Connection
{
	FakeValue	values[FAKE_MAX_VALUES];
	int			nvalues;
	/* what the handler queued */
	bool		queued;
	unsigned	status;
	struct MHD_Response *response;
	int			suspended;		/* suspend minus resume calls */
};

void		fake_conn_init(struct MHD_Connection *c);
/* Adds GET arguments from a raw query string: split on '&', key/value on
 * the first '=', %XX and '+' decoded like a form (MHD's own decoding). */
void		fake_conn_query(struct MHD_Connection *c, const char *q, size_t len);
/* One GET argument with raw bytes (NUL included), as MHD's _n lookup sees it. */
void		fake_conn_arg(struct MHD_Connection *c, const char *key,
						  const char *value, size_t len);
void		fake_conn_header(struct MHD_Connection *c, const char *key,
							 const char *value, size_t len);

/*
 * Finishes the request the way MHD would: for a callback response, pulls
 * the body through the content reader (at most max_bytes, in blocks of
 * block bytes) into *body, then calls the free callback; for a buffer
 * response, copies it. Checks the JSON shape of JSON bodies. Frees the
 * connection's values and response. Returns the status (0 if none).
 */
unsigned	fake_conn_finish(struct MHD_Connection *c, char **body, size_t *len,
							 size_t max_bytes, size_t block);

/* True when s[0..n) is exactly one JSON value (RFC 8259). */
bool		fake_json_valid(const char *s, size_t n);

#endif
