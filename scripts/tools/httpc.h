/* Minimal HTTP/1.1 client for the benchmark tools: keep-alive connections,
 * Content-Length and chunked bodies, growable buffers. Blocking sockets; the SSE
 * fan-out tool reuses the URL and connect helpers with its own non-blocking reader. */
#ifndef EVENTODB_HTTPC_H
#define EVENTODB_HTTPC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hbuf {
    char *data;
    size_t len;
    size_t cap;
} hbuf;

void hbuf_reserve(hbuf *b, size_t extra);
void hbuf_append(hbuf *b, const void *p, size_t n);
void hbuf_puts(hbuf *b, const char *s);
void hbuf_printf(hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hbuf_free(hbuf *b);

typedef struct http_url {
    char *host;        /* without brackets */
    char *port;
    char *host_header; /* host[:port] as written in the URL */
} http_url;

/* Accepts http://host[:port][/...]; the path is ignored (endpoints are fixed). */
int http_url_parse(const char *url, http_url *out, const char **err);
void http_url_free(http_url *u);

/* Resolves and connects; returns a socket or -1 with errno set. */
int http_connect_fd(const http_url *u, bool nonblocking);

typedef struct http_conn {
    const http_url *url;
    int fd;
    int timeout_s;
    hbuf in;       /* unread bytes start at in_off */
    size_t in_off;
    uint64_t reconnects;
} http_conn;

typedef struct http_response {
    int status;    /* 0 when the exchange failed at the transport level */
    hbuf body;
    const char *transport_error;
} http_response;

void http_conn_init(http_conn *c, const http_url *u, int timeout_s);
void http_conn_close(http_conn *c);

/* Sends one complete request and reads its response. A request on a reused
 * connection that the server had already closed is retried once on a fresh one. */
int http_exchange(http_conn *c, const char *req, size_t req_len, http_response *r);

#endif
