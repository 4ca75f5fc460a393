/* See http.h. */
#include "http.h"

#include "config.h"
#include "jsonw.h"
#include "log.h"
#include "strbuf.h"

#include <string.h>

enum MHD_Result
http_reply(struct MHD_Connection *c, unsigned status, const char *content_type,
		   const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
	{
		log_error("cannot create an HTTP response (out of memory)");
		return MHD_NO;
	}
	if (content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_SERVER, "EventoDB/" EVENTODB_VERSION);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
http_error(struct MHD_Connection *c, unsigned status, const char *code,
		   const char *message, const char *details_json)
{
	return http_error_n(c, status, code, message, strlen(message), details_json);
}

enum MHD_Result
http_error_n(struct MHD_Connection *c, unsigned status, const char *code,
			 const char *message, size_t message_len, const char *details_json)
{
	StrBuf		sb = STRBUF_INIT;
	enum MHD_Result ret;

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
	ret = http_reply(c, status, "application/json", sb.data, sb.len);
	sb_free(&sb);
	return ret;
}

const char *
http_query(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);

	return (v != NULL && *v != '\0') ? v : NULL;
}
