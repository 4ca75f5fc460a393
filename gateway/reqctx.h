/*
 * The request a thread is serving: its id (in every log line it writes,
 * docs/operations.md), the operation for the metrics' method label and the
 * status it was answered with. server.c sets it around each call from
 * libmicrohttpd; code that runs outside a request sees NULL.
 */
#ifndef GW_REQCTX_H
#define GW_REQCTX_H

#include <stdbool.h>
#include <stdint.h>

#define REQCTX_ID_MAX 32		/* "<8 hex>-<up to 16 hex>" and the NUL */

typedef struct ReqCtx
{
	char		id[REQCTX_ID_MAX];
	const char *op;				/* metrics label: an RPC method or an endpoint */
	const char *http_method;	/* libmicrohttpd's copy, valid for the request */
	unsigned	status;			/* 0 until a response is queued */
	int64_t		started_us;		/* monotonic */
	bool		streaming;		/* /subscribe, /push: not a request-response */
} ReqCtx;

/* Fills a new context: a fresh id, the start time. */
void		reqctx_init(ReqCtx *ctx, const char *op, const char *http_method, bool streaming);

/* The calling thread's request, or NULL. */
ReqCtx	   *reqctx_current(void);
void		reqctx_enter(ReqCtx *ctx);
void		reqctx_leave(void);

/* Set by the code that knows them; no-ops outside a request. */
void		reqctx_set_op(const char *op);	/* a string that outlives the request */
void		reqctx_set_status(unsigned status);

int64_t		reqctx_now_us(void);

#endif
