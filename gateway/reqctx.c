/* See reqctx.h. */
#include "reqctx.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static _Thread_local ReqCtx *current;
static atomic_uint_fast64_t next_seq = 1;
static atomic_uint_fast32_t prefix;		/* 0 until drawn */

/* Ids must differ across restarts of the gateway: a random prefix. */
static uint32_t
id_prefix(void)
{
	uint32_t	p = (uint32_t) atomic_load_explicit(&prefix, memory_order_relaxed);

	if (p == 0)
	{
		if (getrandom(&p, sizeof(p), GRND_NONBLOCK) != (ssize_t) sizeof(p))
			p = (uint32_t) time(NULL) ^ ((uint32_t) getpid() << 16);
		if (p == 0)
			p = 1;
		atomic_store(&prefix, p);
	}
	return p;
}

int64_t
reqctx_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
reqctx_init(ReqCtx *ctx, const char *op, const char *http_method, bool streaming)
{
	uint64_t	seq = atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed);

	snprintf(ctx->id, sizeof(ctx->id), "%08" PRIx32 "-%" PRIx64, id_prefix(), seq);
	ctx->op = op;
	ctx->http_method = http_method;
	ctx->status = 0;
	ctx->started_us = reqctx_now_us();
	ctx->streaming = streaming;
}

ReqCtx *
reqctx_current(void)
{
	return current;
}

void
reqctx_enter(ReqCtx *ctx)
{
	current = ctx;
}

void
reqctx_leave(void)
{
	current = NULL;
}

void
reqctx_set_op(const char *op)
{
	if (current != NULL)
		current->op = op;
}

void
reqctx_set_status(unsigned status)
{
	if (current != NULL && current->status == 0)
		current->status = status;
}
