#define _GNU_SOURCE
#include "httpc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("out of memory\n", stderr);
        abort();
    }
    return q;
}

void hbuf_reserve(hbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void hbuf_append(hbuf *b, const void *p, size_t n)
{
    hbuf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void hbuf_puts(hbuf *b, const char *s)
{
    hbuf_append(b, s, strlen(s));
}

void hbuf_printf(hbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        hbuf_reserve(b, (size_t) n);
        vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap2);
        b->len += (size_t) n;
    }
    va_end(ap2);
}

void hbuf_free(hbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static char *dup_range(const char *p, size_t n)
{
    char *s = xrealloc(NULL, n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int http_url_parse(const char *url, http_url *out, const char **err)
{
    memset(out, 0, sizeof *out);
    if (strncmp(url, "http://", 7) != 0) {
        *err = "URL must start with http://";
        return -1;
    }
    const char *p = url + 7;
    size_t auth_len = strcspn(p, "/?#");
    if (auth_len == 0) {
        *err = "URL has no host";
        return -1;
    }
    out->host_header = dup_range(p, auth_len);
    const char *end = p + auth_len;
    const char *port = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', auth_len);
        if (!rb) {
            *err = "unterminated [ in URL";
            http_url_free(out);
            return -1;
        }
        out->host = dup_range(p + 1, (size_t) (rb - p - 1));
        if (rb + 1 < end && rb[1] == ':')
            port = rb + 2;
    } else {
        const char *colon = memchr(p, ':', auth_len);
        out->host = dup_range(p, (size_t) ((colon ? colon : end) - p));
        if (colon)
            port = colon + 1;
    }
    out->port = port && port < end ? dup_range(port, (size_t) (end - port)) : dup_range("80", 2);
    return 0;
}

void http_url_free(http_url *u)
{
    free(u->host);
    free(u->port);
    free(u->host_header);
    memset(u, 0, sizeof *u);
}

int http_connect_fd(const http_url *u, bool nonblocking)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        errno = EHOSTUNREACH;
        return -1;
    }
    int fd = -1;
    int saved = ECONNREFUSED;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0),
                    a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || (nonblocking && errno == EINPROGRESS))
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        errno = saved;
    return fd;
}

void http_conn_init(http_conn *c, const http_url *u, int timeout_s)
{
    memset(c, 0, sizeof *c);
    c->url = u;
    c->fd = -1;
    c->timeout_s = timeout_s;
}

void http_conn_close(http_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->in.len = 0;
    c->in_off = 0;
}

static int open_conn(http_conn *c)
{
    c->fd = http_connect_fd(c->url, false);
    if (c->fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = c->timeout_s};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    c->in.len = 0;
    c->in_off = 0;
    return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

/* Reads more bytes into c->in; -1 on error or end of stream. */
static int fill(http_conn *c, bool *got_any)
{
    if (c->in_off > 0 && c->in_off == c->in.len) {
        c->in.len = c->in_off = 0;
    } else if (c->in_off > 65536) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    hbuf_reserve(&c->in, 16384);
    for (;;) {
        ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (n > 0) {
            c->in.len += (size_t) n;
            c->in.data[c->in.len] = '\0';
            *got_any = true;
            return 0;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

static size_t avail(const http_conn *c)
{
    return c->in.len - c->in_off;
}

static const char *unread(const http_conn *c)
{
    return c->in.data + c->in_off;
}

/* Returns the length of the line at the read position including CRLF, reading as needed. */
static int read_line(http_conn *c, bool *got_any, size_t *line_len)
{
    for (;;) {
        const char *nl = avail(c) ? memchr(unread(c), '\n', avail(c)) : NULL;
        if (nl) {
            *line_len = (size_t) (nl - unread(c)) + 1;
            return 0;
        }
        if (avail(c) > (1u << 20) || fill(c, got_any) < 0)
            return -1;
    }
}

static int read_exact(http_conn *c, bool *got_any, size_t n, hbuf *to)
{
    while (avail(c) < n)
        if (fill(c, got_any) < 0)
            return -1;
    if (to)
        hbuf_append(to, unread(c), n);
    c->in_off += n;
    return 0;
}

static bool header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static bool value_has(const char *line, size_t len, const char *token)
{
    const char *v = memchr(line, ':', len);
    size_t n = strlen(token);
    for (const char *p = v; p && p + n <= line + len; p++)
        if (strncasecmp(p, token, n) == 0)
            return true;
    return false;
}

static int read_chunked(http_conn *c, bool *got_any, hbuf *body)
{
    for (;;) {
        size_t ll;
        if (read_line(c, got_any, &ll) < 0)
            return -1;
        char *end;
        unsigned long long size = strtoull(unread(c), &end, 16);
        if (end == unread(c))
            return -1;
        c->in_off += ll;
        if (size == 0)
            break;
        if (read_exact(c, got_any, (size_t) size, body) < 0 || read_exact(c, got_any, 2, NULL) < 0)
            return -1;
    }
    for (;;) { /* trailers end with an empty line */
        size_t ll;
        if (read_line(c, got_any, &ll) < 0)
            return -1;
        bool empty = ll <= 2;
        c->in_off += ll;
        if (empty)
            return 0;
    }
}

static int read_response(http_conn *c, http_response *r, bool *got_any, bool *must_close)
{
    size_t ll;
    if (read_line(c, got_any, &ll) < 0)
        return -1;
    if (ll < 12 || strncmp(unread(c), "HTTP/1.", 7) != 0)
        return -1;
    r->status = atoi(unread(c) + 9);
    c->in_off += ll;

    long long content_length = -1;
    bool chunked = false;
    for (;;) {
        if (read_line(c, got_any, &ll) < 0)
            return -1;
        const char *line = unread(c);
        if (ll <= 2) {
            c->in_off += ll;
            break;
        }
        if (header_is(line, ll, "content-length"))
            content_length = atoll(memchr(line, ':', ll) + 1);
        else if (header_is(line, ll, "transfer-encoding"))
            chunked = value_has(line, ll, "chunked");
        else if (header_is(line, ll, "connection"))
            *must_close = value_has(line, ll, "close");
        c->in_off += ll;
    }

    if (chunked)
        return read_chunked(c, got_any, &r->body);
    if (content_length >= 0)
        return read_exact(c, got_any, (size_t) content_length, &r->body);
    /* Neither length nor chunking: the body runs to the end of the connection. */
    *must_close = true;
    while (fill(c, got_any) == 0) {
    }
    hbuf_append(&r->body, unread(c), avail(c));
    c->in_off = c->in.len;
    return 0;
}

int http_exchange(http_conn *c, const char *req, size_t req_len, http_response *r)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        r->status = 0;
        r->body.len = 0;
        if (r->body.data)
            r->body.data[0] = '\0';
        r->transport_error = NULL;
        bool reused = c->fd >= 0;
        if (!reused && open_conn(c) < 0) {
            r->transport_error = "connect failed";
            return -1;
        }
        bool got_any = false, must_close = false;
        if (send_all(c->fd, req, req_len) < 0) {
            r->transport_error = "send failed";
        } else if (read_response(c, r, &got_any, &must_close) < 0) {
            r->transport_error = got_any ? "truncated response" : "no response";
            r->status = 0;
        } else {
            if (must_close)
                http_conn_close(c);
            return 0;
        }
        http_conn_close(c);
        if (!(reused && !got_any))
            return -1;
        c->reconnects++;
    }
    return -1;
}
