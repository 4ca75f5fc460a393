/* See log.h. One line per message on stderr, written with a single write()
 * so lines of concurrent threads never interleave. */
#include "log.h"

#include "echo.h"
#include "jsonw.h"
#include "reqctx.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static LogLevel min_level = LOG_INFO;
static int	json_format = 0;

static const char *const level_json[] = {"debug", "info", "warn", "error"};
static const char *const level_console[] = {"DBG", "INF", "WRN", "ERR"};

void
log_configure(LogLevel level, int json)
{
	min_level = level;
	json_format = json;
}

void
log_msg(LogLevel level, const char *fmt, ...)
{
	StrBuf		msg = STRBUF_INIT;
	StrBuf		line = STRBUF_INIT;
	struct timeval tv;
	va_list		ap;
	int			n;
	ssize_t		w;
	size_t		off = 0;
	const ReqCtx *ctx;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	{
		char	   *tmp = malloc((size_t) n + 1);

		if (tmp == NULL)
			return;
		va_start(ap, fmt);
		vsnprintf(tmp, (size_t) n + 1, fmt, ap);
		va_end(ap);
		sb_append(&msg, tmp, (size_t) n);
		free(tmp);
	}
	/* a message may quote client input: no request writes megabytes here */
	echo_cap_tail(&msg, 0, LOG_MESSAGE_MAX);
	gettimeofday(&tv, NULL);
	ctx = reqctx_current();
	if (json_format)
	{
		/* stable keys (docs/operations.md): ts, level, msg, then the
		 * request's fields when the line belongs to one */
		sb_puts(&line, "{\"ts\":\"");
		jw_time_usec6(&line, (int64_t) tv.tv_sec * 1000000 + tv.tv_usec);
		sb_puts(&line, "\",\"level\":\"");
		sb_puts(&line, level_json[level]);
		sb_puts(&line, "\",\"msg\":");
		jw_string(&line, msg.data, msg.len);
		if (ctx != NULL)
		{
			sb_puts(&line, ",\"request_id\":\"");
			sb_puts(&line, ctx->id);
			sb_puts(&line, "\",\"http_method\":");
			jw_string(&line, ctx->http_method ? ctx->http_method : "",
					  ctx->http_method ? strnlen(ctx->http_method, LOG_FIELD_MAX) : 0);
			sb_puts(&line, ",\"op\":\"");
			sb_puts(&line, ctx->op);
			sb_putc(&line, '"');
		}
		sb_puts(&line, "}\n");
	}
	else
	{
		jw_time_usec(&line, (int64_t) tv.tv_sec * 1000000, false);
		sb_putc(&line, ' ');
		sb_puts(&line, level_console[level]);
		sb_putc(&line, ' ');
		if (ctx != NULL)
		{
			sb_puts(&line, "[req ");
			sb_puts(&line, ctx->id);
			sb_puts(&line, "] ");
		}
		sb_append(&line, msg.data, msg.len);
		sb_putc(&line, '\n');
	}
	while (off < line.len)
	{
		w = write(STDERR_FILENO, line.data + off, line.len - off);
		if (w <= 0)
			break;
		off += (size_t) w;
	}
	sb_free(&msg);
	sb_free(&line);
}
