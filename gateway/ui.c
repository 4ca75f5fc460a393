/* See ui.h. */
#include "ui.h"

#include "config.h"
#include "http.h"
#include "log.h"

#include <string.h>

/*
 * Everything the console runs comes from here: no inline script or style,
 * no other origin, not framable. EventSource and fetch need connect-src
 * 'self' only; the live chart draws on a canvas.
 */
#define UI_CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

static const char method_not_allowed[] =
"{\"error\":{\"code\":\"INVALID_REQUEST\",\"message\":\"Only GET and HEAD allowed\"}}\n";

static const UiAsset *
asset_of(const char *url)
{
	const char *name;

	if (strncmp(url, "/ui/", 4) != 0)
		return NULL;
	name = url + 4;
	if (*name == '\0')
		name = "index.html";
	for (size_t i = 0; i < ui_asset_count; i++)
		if (strcmp(ui_assets[i].name, name) == 0)
			return &ui_assets[i];
	return NULL;
}

bool
ui_serves(const char *url)
{
	return strcmp(url, "/ui") == 0 || asset_of(url) != NULL;
}

/* RFC 9110 §13.1.2: "*" or a list of entity tags, one of which is ours. */
static bool
etag_matches(const char *if_none_match, const char *etag)
{
	size_t		n = strlen(etag);
	const char *p = if_none_match;

	while (*p != '\0')
	{
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;				/* weak comparison is what If-None-Match uses */
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return true;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return false;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const UiAsset *a, const char *body,
	  size_t len, const char *content_type, const char *location)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
	{
		log_error("cannot create an HTTP response (out of memory)");
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_SERVER, "EventoDB/" EVENTODB_VERSION);
	if (content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (a != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
	if (location != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	/* revalidate every time: the ETag makes that a 304 until the binary changes */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "Content-Security-Policy", UI_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	/* the console's SSE URL carries the token (EventSource sends no headers) */
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	ret = http_queue(c, status, r);
	return ret;
}

enum MHD_Result
ui_handle(struct MHD_Connection *c, const char *url, const char *method)
{
	const UiAsset *a;
	const char *inm;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, 405, NULL, method_not_allowed, sizeof(method_not_allowed) - 1,
					 "application/json", NULL);
	if (strcmp(url, "/ui") == 0)
		return reply(c, 301, NULL, "", 0, NULL, "/ui/");
	a = asset_of(url);
	if (a == NULL)
		return MHD_NO;			/* ui_serves() said otherwise */
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && etag_matches(inm, a->etag))
		return reply(c, 304, a, "", 0, NULL, NULL);
	return reply(c, 200, a, (const char *) a->body, a->len, a->content_type, NULL);
}
