/* See http_client.h. */
/* POSIX and GNU interfaces (clock_gettime, getaddrinfo, strdup, ...). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "http_client.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

bool
hc_url_parse(const char *url, HcUrl *u, StrBuf *err)
{
	const char *p,
			   *host_end,
			   *slash;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(url, "https://", 8) == 0)
	{
		sb_puts(err, "https URLs are not supported: the gateway serves plain HTTP");
		return false;
	}
	if (strncasecmp(url, "http://", 7) != 0)
	{
		sb_printf(err, "unsupported URL (expected http://host:port): %s", url);
		return false;
	}
	p = url + 7;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	if (*p == '[')
	{
		host_end = memchr(p, ']', (size_t) (slash - p));
		if (host_end == NULL)
		{
			sb_printf(err, "invalid URL: %s", url);
			return false;
		}
		u->host = mem_dup0(p + 1, (size_t) (host_end - p - 1));
		host_end++;
	}
	else
	{
		host_end = memchr(p, ':', (size_t) (slash - p));
		if (host_end == NULL)
			host_end = slash;
		u->host = mem_dup0(p, (size_t) (host_end - p));
	}
	if (host_end < slash && *host_end == ':')
		u->port = mem_dup0(host_end + 1, (size_t) (slash - host_end - 1));
	else
		u->port = mem_dup0("80", 2);
	{
		size_t		plen = strlen(slash);

		while (plen > 0 && slash[plen - 1] == '/')
			plen--;
		u->path = mem_dup0(slash, plen);
	}
	if (u->host[0] == '\0' || u->port[0] == '\0')
	{
		sb_printf(err, "invalid URL: %s", url);
		hc_url_free(u);
		return false;
	}
	return true;
}

void
hc_url_free(HcUrl *u)
{
	free(u->host);
	free(u->port);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

bool
hc_connect(HcConn *hc, const HcUrl *u, StrBuf *err)
{
	struct addrinfo hints = {0},
			   *res,
			   *ai;
	int			rc;

	memset(hc, 0, sizeof(*hc));
	hc->fd = -1;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc != 0)
	{
		sb_printf(err, "cannot resolve %s: %s", u->host, gai_strerror(rc));
		return false;
	}
	for (ai = res; ai; ai = ai->ai_next)
	{
		hc->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (hc->fd < 0)
			continue;
		if (connect(hc->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(hc->fd);
		hc->fd = -1;
	}
	freeaddrinfo(res);
	if (hc->fd < 0)
	{
		sb_printf(err, "cannot connect to %s:%s: %s", u->host, u->port, strerror(errno));
		return false;
	}
	return true;
}

void
hc_close(HcConn *hc)
{
	if (hc->fd >= 0)
		close(hc->fd);
	hc->fd = -1;
}

bool
hc_send(HcConn *hc, const char *data, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = send(hc->fd, data, len, MSG_NOSIGNAL);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return false;
		}
		data += n;
		len -= (size_t) n;
	}
	return true;
}

bool
hc_send_head(HcConn *hc, const HcUrl *u, const char *method,
			 const char *path_and_query, const char *extra, ssize_t body_len)
{
	StrBuf		h = STRBUF_INIT;
	bool		ok;
	bool		v6 = strchr(u->host, ':') != NULL;

	sb_printf(&h, "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: eventodb-cli\r\n",
			  method, u->path, path_and_query, v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
	if (extra)
		sb_puts(&h, extra);
	if (body_len < 0)
		sb_puts(&h, "Transfer-Encoding: chunked\r\n");
	else
		sb_printf(&h, "Content-Length: %zd\r\n", body_len);
	sb_puts(&h, "\r\n");
	ok = hc_send(hc, h.data, h.len);
	sb_free(&h);
	return ok;
}

bool
hc_send_chunk(HcConn *hc, const char *data, size_t len)
{
	char		head[32];

	if (len == 0)
		return true;
	snprintf(head, sizeof(head), "%zx\r\n", len);
	return hc_send(hc, head, strlen(head)) && hc_send(hc, data, len) && hc_send(hc, "\r\n", 2);
}

bool
hc_end_chunks(HcConn *hc)
{
	return hc_send(hc, "0\r\n\r\n", 5);
}

/* Makes at least one more byte available; false at EOF or error. */
static bool
fill(HcConn *hc)
{
	ssize_t		n;

	if (hc->off > 0)
	{
		memmove(hc->buf, hc->buf + hc->off, hc->len - hc->off);
		hc->len -= hc->off;
		hc->off = 0;
	}
	if (hc->len == sizeof(hc->buf))
		return false;
	do
		n = recv(hc->fd, hc->buf + hc->len, sizeof(hc->buf) - hc->len, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return false;
	hc->len += (size_t) n;
	return true;
}

/* One CRLF- (or LF-) terminated line, without its terminator, into sb. */
static bool
read_line(HcConn *hc, StrBuf *sb)
{
	for (;;)
	{
		char	   *lf = memchr(hc->buf + hc->off, '\n', hc->len - hc->off);

		if (lf)
		{
			size_t		n = (size_t) (lf - (hc->buf + hc->off));

			sb_reset(sb);
			sb_append(sb, hc->buf + hc->off, n > 0 && lf[-1] == '\r' ? n - 1 : n);
			hc->off += n + 1;
			return true;
		}
		if (!fill(hc))
			return false;
	}
}

bool
hc_read_head(HcConn *hc, StrBuf *err)
{
	StrBuf		line = STRBUF_INIT;
	bool		ok = false;
	bool		have_length = false;

	hc->chunked = hc->until_close = hc->close_after = hc->body_done = false;
	hc->remaining = 0;
	if (!read_line(hc, &line) || strncmp(line.data, "HTTP/1.", 7) != 0 || line.len < 12)
	{
		sb_puts(err, "no HTTP response from the server");
		goto out;
	}
	hc->status = atoi(line.data + 9);
	for (;;)
	{
		char	   *colon;
		const char *v;

		if (!read_line(hc, &line))
		{
			sb_puts(err, "truncated HTTP response header");
			goto out;
		}
		if (line.len == 0)
			break;
		colon = strchr(line.data, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line.data, "Content-Length") == 0)
		{
			char	   *end;

			errno = 0;
			hc->remaining = strtoll(v, &end, 10);
			if (errno != 0 || end == v || hc->remaining < 0)
			{
				sb_puts(err, "invalid Content-Length in the response");
				goto out;
			}
			have_length = true;
		}
		else if (strcasecmp(line.data, "Transfer-Encoding") == 0 && strcasestr(v, "chunked"))
			hc->chunked = true;
		else if (strcasecmp(line.data, "Connection") == 0 && strcasestr(v, "close"))
			hc->close_after = true;
	}
	if (hc->chunked)
		hc->remaining = 0;
	else if (!have_length)
		hc->until_close = true;
	else if (hc->remaining == 0)
		hc->body_done = true;
	if (hc->status == 204 || hc->status == 304)
		hc->body_done = true;
	ok = true;
out:
	sb_free(&line);
	return ok;
}

ssize_t
hc_read_body(HcConn *hc, char *out, size_t max)
{
	size_t		n;

	if (hc->body_done || max == 0)
		return 0;
	if (hc->chunked && hc->remaining == 0)
	{
		StrBuf		line = STRBUF_INIT;
		char	   *end;
		unsigned long long size;

		if (!read_line(hc, &line))
		{
			sb_free(&line);
			return -1;
		}
		errno = 0;
		size = strtoull(line.data, &end, 16);
		/* A size beyond what a long long holds is garbage, not a body. */
		if (end == line.data || errno != 0 || size > (unsigned long long) LLONG_MAX)
		{
			sb_free(&line);
			return -1;
		}
		if (size == 0)
		{
			/* Trailers up to the blank line. */
			do
			{
				if (!read_line(hc, &line))
					break;
			} while (line.len > 0);
			sb_free(&line);
			hc->body_done = true;
			return 0;
		}
		sb_free(&line);
		hc->remaining = (long long) size;
	}
	if (hc->off == hc->len && !fill(hc))
	{
		if (hc->until_close)
		{
			hc->body_done = true;
			return 0;
		}
		return -1;
	}
	n = hc->len - hc->off;
	if (n > max)
		n = max;
	if (!hc->until_close && (long long) n > hc->remaining)
		n = (size_t) hc->remaining;
	memcpy(out, hc->buf + hc->off, n);
	hc->off += n;
	if (!hc->until_close)
	{
		hc->remaining -= (long long) n;
		if (hc->remaining == 0)
		{
			if (hc->chunked)
			{
				StrBuf		crlf = STRBUF_INIT;
				bool		ok = read_line(hc, &crlf);

				sb_free(&crlf);
				if (!ok)
					return -1;
			}
			else
				hc->body_done = true;
		}
	}
	return (ssize_t) n;
}

bool
hc_read_all(HcConn *hc, StrBuf *sb, size_t limit)
{
	char		chunk[16384];
	ssize_t		n;

	while ((n = hc_read_body(hc, chunk, sizeof(chunk))) > 0)
	{
		if (sb->len + (size_t) n > limit)
			return false;
		sb_append(sb, chunk, (size_t) n);
	}
	return n == 0;
}
