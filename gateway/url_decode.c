/* See url_decode.h. */
#include "url_decode.h"

#include "hex.h"

#include <stdbool.h>

/*
 * libmicrohttpd parses a request line in one go on one thread: it calls the
 * URI log callback with the raw request target, then unescapes each query
 * key and value, then the path - in place, starting at that same pointer.
 * So the pointer noted here tells the unescape callback which of its calls
 * is the path, without any per-connection state.
 */
static _Thread_local const char *path_start;

void *
url_decode_note_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void) cls;
	(void) c;
	path_start = uri;
	return NULL;
}

/*
 * As MHD_http_unescape: `%` and two hex digits (either case) become that
 * byte, any other `%` stays; `+` is left alone (libmicrohttpd turns it into
 * a space in query arguments only, before this runs). The one difference:
 * `%00` is kept, as a NUL would cut the C string the router compares.
 */
size_t
url_decode_path(char *s)
{
	char	   *r = s,
			   *w = s;

	while (*r != '\0')
	{
		int			hi,
					lo;

		if (r[0] == '%' && (hi = hex_digit(r[1])) >= 0 && (lo = hex_digit(r[2])) >= 0 &&
			(hi | lo) != 0)
		{
			*w++ = (char) (hi << 4 | lo);
			r += 3;
		}
		else
			*w++ = *r++;
	}
	*w = '\0';
	return (size_t) (w - s);
}

size_t
url_decode_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void) cls;
	(void) c;
	if (s == path_start)
	{
		path_start = NULL;
		return url_decode_path(s);
	}
	return MHD_http_unescape(s);
}
