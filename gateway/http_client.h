/*
 * A small HTTP/1.1 client over plain TCP for the export/import subcommands:
 * one request at a time, Content-Length or chunked request bodies, and
 * response bodies read incrementally (Content-Length, chunked or
 * until-close). The gateway speaks plain HTTP, so https:// is refused.
 */
#ifndef GW_HTTP_CLIENT_H
#define GW_HTTP_CLIENT_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct HcUrl
{
	char	   *host;
	char	   *port;
	char	   *path;			/* base path without trailing '/', may be "" */
} HcUrl;

bool		hc_url_parse(const char *url, HcUrl *u, StrBuf *err);
void		hc_url_free(HcUrl *u);

typedef struct HcConn
{
	int			fd;
	char		buf[16384];		/* receive buffer: bounded by its own size */
	size_t		len;
	size_t		off;
	/* response body framing */
	int			status;
	bool		chunked;
	bool		until_close;
	bool		close_after;
	long long	remaining;		/* content-length left, or chunk left */
	bool		body_done;
} HcConn;

bool		hc_connect(HcConn *hc, const HcUrl *u, StrBuf *err);
void		hc_close(HcConn *hc);

/* Sends the request line and headers. body_len < 0: chunked body follows
 * via hc_send_chunk()/hc_end_chunks(); otherwise exactly that many bytes
 * follow via hc_send(). `extra` holds further header lines (each ending in
 * CRLF) or is NULL. */
bool		hc_send_head(HcConn *hc, const HcUrl *u, const char *method,
						 const char *path_and_query, const char *extra,
						 ssize_t body_len);
bool		hc_send(HcConn *hc, const char *data, size_t len);
bool		hc_send_chunk(HcConn *hc, const char *data, size_t len);
bool		hc_end_chunks(HcConn *hc);

/* Reads status line and headers. */
bool		hc_read_head(HcConn *hc, StrBuf *err);

/* Reads up to max body bytes; 0 at end of body, -1 on error. */
ssize_t		hc_read_body(HcConn *hc, char *out, size_t max);

/* Reads the whole remaining body into sb (bounded by limit bytes). */
bool		hc_read_all(HcConn *hc, StrBuf *sb, size_t limit);

#endif
