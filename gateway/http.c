/* See http.h. */
#include "http.h"

#include "config.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "reqctx.h"
#include "strbuf.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

/* close: the connection ends after the response (libmicrohttpd closes it
 * after a response that says "Connection: close"). */
static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *content_type,
	  const char *body, size_t len, bool close)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
	{
		log_error("cannot create an HTTP response (out of memory)");
		return MHD_NO;
	}
	if (content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_SERVER, "EventoDB/" EVENTODB_VERSION);
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	reqctx_set_status(status);
	return http_queue(c, status, r);
}

enum MHD_Result
http_reply(struct MHD_Connection *c, unsigned status, const char *content_type,
		   const char *body, size_t len)
{
	return reply(c, status, content_type, body, len, false);
}

static HttpCapture *(*capture_source) (struct MHD_Connection *c);

void
http_set_capture_source(HttpCapture *(*source) (struct MHD_Connection *c))
{
	capture_source = source;
}

enum MHD_Result
http_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *resp)
{
	HttpCapture *cap = capture_source != NULL ? capture_source(c) : NULL;
	enum MHD_Result ret;

	if (cap != NULL && cap->armed)
	{
		if (cap->resp != NULL)
		{
			/* a second response to one request: libmicrohttpd refuses it too */
			MHD_destroy_response(resp);
			return MHD_NO;
		}
		cap->status = status;
		cap->resp = resp;
		return MHD_YES;
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void (*resume_hook) (void);

void
http_set_resume_hook(void (*hook) (void))
{
	resume_hook = hook;
}

void
http_resume(struct MHD_Connection *c)
{
	MHD_resume_connection(c);
	if (resume_hook != NULL)
		resume_hook();
}

void
http_suspend(struct MHD_Connection *c)
{
	HttpCapture *cap = capture_source != NULL ? capture_source(c) : NULL;

	if (cap != NULL && cap->armed)
		cap->stay_suspended = true;	/* it is; the handler's wake-up resumes it */
	else
		MHD_suspend_connection(c);
}

enum MHD_Result
http_error(struct MHD_Connection *c, unsigned status, const char *code,
		   const char *message, const char *details_json)
{
	return http_error_n(c, status, code, message, strlen(message), details_json);
}

/* The envelope as http_error_n describes it; close: the connection ends after it. */
static enum MHD_Result
error_reply(struct MHD_Connection *c, unsigned status, const char *code,
			const char *message, size_t message_len, const char *details_json, bool close)
{
	StrBuf		sb = STRBUF_INIT;
	enum MHD_Result ret;

	metrics_error(code);
	sb_puts(&sb, "{\"error\":{\"code\":");
	jw_string(&sb, code, strlen(code));
	sb_puts(&sb, ",\"message\":");
	jw_string(&sb, message, message_len);
	if (details_json != NULL)
	{
		sb_puts(&sb, ",\"details\":");
		sb_puts(&sb, details_json);
	}
	sb_puts(&sb, "}}\n");
	ret = reply(c, status, "application/json", sb.data, sb.len, close);
	sb_free(&sb);
	return ret;
}

enum MHD_Result
http_error_n(struct MHD_Connection *c, unsigned status, const char *code,
			 const char *message, size_t message_len, const char *details_json)
{
	return error_reply(c, status, code, message, message_len, details_json, false);
}

enum MHD_Result
http_error_close(struct MHD_Connection *c, unsigned status, const char *code,
				 const char *message)
{
	return error_reply(c, status, code, message, strlen(message), NULL, true);
}

/* State of one exact-name query lookup: the first occurrence wins. */
typedef struct QueryLookup
{
	const char *name;
	size_t		name_len;
	const char *value;
	size_t		value_len;
	bool		found;
} QueryLookup;

static enum MHD_Result
query_match(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_len,
			const char *value, size_t value_len)
{
	QueryLookup *q = cls;

	(void) kind;
	if (key_len != q->name_len || memcmp(key, q->name, key_len) != 0)
		return MHD_YES;
	q->value = value;
	q->value_len = value ? value_len : 0;
	q->found = true;
	return MHD_NO;				/* stop: first occurrence wins */
}

/*
 * Go's url.Values are case-sensitive; libmicrohttpd's lookup functions are
 * not (they would let "?FORCE=true" clear a namespace). So walk the arguments
 * and compare names byte for byte.
 */
bool
http_query_n(struct MHD_Connection *c, const char *name,
			 const char **value, size_t *value_len)
{
	QueryLookup q = {name, strlen(name), NULL, 0, false};

	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, query_match, &q);
	if (!q.found || q.value == NULL || q.value_len == 0)
	{
		*value = NULL;
		*value_len = 0;
		return false;
	}
	*value = q.value;
	*value_len = q.value_len;
	return true;
}

const char *
http_query(struct MHD_Connection *c, const char *name)
{
	const char *v;
	size_t		len;

	return http_query_n(c, name, &v, &len) ? v : NULL;
}

void
http_event_stream_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "EventoDB/" EVENTODB_VERSION);
	/*
	 * docs/http-api.md#frames, #bulk-import-import name the header; MHD omits
	 * it for HTTP/1.1 unless asked, and then writes its own fixed
	 * "Connection: Keep-Alive". Adding "Connection: keep-alive" ourselves
	 * does nothing: MHD drops that token from application headers.
	 */
	MHD_set_response_options(resp, MHD_RF_SEND_KEEP_ALIVE_HEADER, MHD_RO_END);
}

bool
http_peer_closed(int fd)
{
	char		b;
	ssize_t		n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}
