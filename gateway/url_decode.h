/*
 * Percent-decoding of request URLs for libmicrohttpd
 * (docs/http-api.md#endpoints).
 *
 * libmicrohttpd hands the access handler the decoded path as a C string,
 * so a `%00` in it would end the path early: `/rpc%00/anything` would be
 * routed as `/rpc`. These two callbacks decode the path like
 * libmicrohttpd does except that `%00` stays as it is, so such a path
 * matches no route and gets 404 like any other unknown path. Query
 * arguments are decoded exactly as libmicrohttpd decodes them (`%00`
 * included): their lengths travel with them (http_query_n).
 */
#ifndef GW_URL_DECODE_H
#define GW_URL_DECODE_H

#include <microhttpd.h>
#include <stddef.h>

/* MHD_OPTION_URI_LOG_CALLBACK: notes where this request's path starts.
 * Returns NULL, so the access handler still starts with *con_cls NULL. */
void	   *url_decode_note_uri(void *cls, const char *uri, struct MHD_Connection *c);

/* MHD_OPTION_UNESCAPE_CALLBACK: decodes s in place, returns its new length. */
size_t		url_decode_unescape(void *cls, struct MHD_Connection *c, char *s);

/* The path decoding on its own: s in place, `%00` kept; the new length. */
size_t		url_decode_path(char *s);

#endif
