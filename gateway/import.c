/*
 * /import (docs/http-api.md#bulk-import-import). The response is an event stream produced by a
 * content-reader callback: each call with nothing left to send reads lines
 * up to the next full batch, inserts it and queues the resulting event, so
 * events reach the client as batches complete and at most one batch of
 * rendered records exists besides the body itself.
 */
/* POSIX and GNU interfaces (clock_gettime, getaddrinfo, strdup, ...). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "import.h"

#include "config.h"
#include "echo.h"
#include "http.h"
#include "import_record.h"
#include "jsonw.h"
#include "log.h"
#include "coro.h"
#include "metrics.h"
#include "pool.h"
#include "sqlstate.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IMPORT_BATCH 1000
/* bufio.Scanner's limit in the original: a line and its LF must fit 1 MiB. */
#define IMPORT_MAX_LINE (1024 * 1024)

typedef struct Import
{
	char	   *ns;				/* NUL-terminated copy */
	size_t		ns_len;
	char	   *body;
	size_t		len;
	size_t		off;
	long long	line;			/* lines read so far */
	long long	imported;
	StrBuf		batch;			/* "[rec,rec,..." */
	int			nbatch;
	int64_t		last_gpos;		/* gpos of the batch's last record */
	StrBuf		out;
	size_t		out_off;
	bool		finished;
	struct timespec started;
	/* loop mode: a batch runs in a coroutine while the connection waits */
	struct MHD_Connection *conn;
	bool		stepping;
	bool		suspended;
} Import;

static void
frame_error(Import *im, const char *code, const char *message, size_t mlen, long long line)
{
	StrBuf		m = STRBUF_INIT;

	metrics_error(code);
	/* the message may quote the client's record or the database's
	 * echo of it (echo.h) */
	echo_append_max(&m, message, mlen, ECHO_MESSAGE_MAX);
	sb_puts(&im->out, "data: {\"error\":");
	jw_string(&im->out, code, strlen(code));
	sb_puts(&im->out, ",\"message\":");
	jw_string(&im->out, m.data ? m.data : "", m.len);
	sb_free(&m);
	if (line != 0)
		sb_printf(&im->out, ",\"line\":%lld", line);
	sb_puts(&im->out, "}\n\n");
	im->finished = true;
}

static void
frame_done(Import *im)
{
	struct timespec now;
	double		elapsed;

	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (double) (now.tv_sec - im->started.tv_sec) +
		(double) (now.tv_nsec - im->started.tv_nsec) / 1e9;
	sb_printf(&im->out, "data: {\"done\":true,\"imported\":%lld,\"elapsed\":\"%.1fs\"}\n\n",
			  im->imported, elapsed);
	im->finished = true;
}

/* Inserts the pending batch in one transaction; on failure queues the
 * error event (line = last line read, docs/http-api.md#bulk-import-import) and returns false. */
static bool
flush_batch(Import *im)
{
	const char *values[2];
	char	   *err = NULL;
	PGresult   *res;
	bool		ok = false;

	sb_putc(&im->batch, ']');
	if (memchr(im->ns, '\0', im->ns_len) != NULL)
	{
		/* PostgreSQL text cannot hold NUL: such a namespace cannot exist. */
		frame_error(im, "IMPORT_FAILED", "namespace not found", 19, im->line);
		return false;
	}
	values[0] = im->ns;
	values[1] = im->batch.data;
	res = pool_exec("import_batch", "SELECT eventodb.import_batch($1::text, $2::text)",
					2, values, &err);
	if (res == NULL)
	{
		const char *m = err ? err : "no database connection";

		frame_error(im, "IMPORT_FAILED", m, strlen(m), im->line);
		free(err);
		return false;
	}
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		im->imported += im->nbatch;
		metrics_import_records(im->nbatch);
		ok = true;
	}
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		if (msg == NULL)
			msg = PQresultErrorMessage(res);
		/* Any unique violation: the extension words it with the gpos. */
		frame_error(im, state && strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0 ? "POSITION_EXISTS" : "IMPORT_FAILED",
					msg, strlen(msg), im->line);
	}
	PQclear(res);
	sb_reset(&im->batch);
	im->nbatch = 0;
	return ok;
}

/*
 * The length of the white space rune at s[0..n), 0 if none. White space is
 * Go's unicode.IsSpace: ASCII \t \n \v \f \r and space, U+0085, U+00A0 and
 * the Zs/Zl/Zp runes U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F
 * and U+3000. Each of these is a complete UTF-8 sequence starting with a
 * lead byte, so matching its bytes is what decoding the rune would find.
 */
static size_t
space_at(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		return 1;
	if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
		return 2;
	if (n < 3)
		return 0;
	if ((s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) ||
		(s[0] == 0xE2 && s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF)) ||
		(s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) ||
		(s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80))
		return 3;
	return 0;
}

/*
 * The original passes bytes.TrimSpace(line) to the JSON decoder and skips
 * the line when nothing is left (docs/http-api.md#bulk-import-import), so
 * Unicode white space around a record, or alone on a line, is trimmed too.
 * At the end the last rune is the one ending there: a 1-, 2- or 3-byte
 * sequence from space_at's list (its lead byte stops Go's backward decode).
 */
static void
trim_space(const char **line, size_t *len)
{
	const unsigned char *s = (const unsigned char *) *line;
	size_t		n = *len,
				k;

	while ((k = space_at(s, n)) > 0)
		s += k, n -= k;
	for (;;)
	{
		k = 0;
		for (size_t w = 1; w <= 3 && w <= n && k == 0; w++)
			if (space_at(s + n - w, w) == w)
				k = w;
		if (k == 0)
			break;
		n -= k;
	}
	*line = (const char *) s;
	*len = n;
}

/* Reads up to one full batch and queues exactly one event. */
static void
import_step(Import *im)
{
	StrBuf		why = STRBUF_INIT;

	for (;;)
	{
		const char *start = im->body + im->off;
		size_t		rest = im->len - im->off;
		const char *lf;
		size_t		linelen;
		int64_t		gpos = 0;
		ImportRecordResult r;

		if (rest == 0)
		{
			if (im->nbatch == 0 || flush_batch(im))
				frame_done(im);
			break;
		}
		lf = memchr(start, '\n', rest < IMPORT_MAX_LINE ? rest : IMPORT_MAX_LINE);
		linelen = lf ? (size_t) (lf - start) : rest;
		if (linelen >= IMPORT_MAX_LINE)
		{
			/* The partial batch is discarded, as the original does. */
			static const char msg[] = "error reading input: bufio.Scanner: token too long";

			frame_error(im, "READ_ERROR", msg, sizeof(msg) - 1, im->line);
			break;
		}
		im->off += linelen + (lf ? 1 : 0);
		im->line++;
		trim_space(&start, &linelen);	/* the trailing CR too */
		if (linelen == 0)
			continue;

		sb_reset(&why);
		if (im->nbatch == 0)
			sb_putc(&im->batch, '[');
		else
			sb_putc(&im->batch, ',');
		r = import_record(start, linelen, &im->batch, &gpos, &why);
		if (r != RECORD_OK)
		{
			StrBuf		m = STRBUF_INIT;

			if (r == RECORD_INVALID_JSON)
				sb_printf(&m, "malformed JSON at line %lld: ", im->line);
			else
				sb_printf(&m, "invalid record at line %lld: invalid time format: ", im->line);
			sb_append(&m, why.data ? why.data : "", why.len);
			frame_error(im, r == RECORD_INVALID_JSON ? "INVALID_JSON" : "INVALID_RECORD",
						m.data, m.len, im->line);
			sb_free(&m);
			break;
		}
		im->nbatch++;
		im->last_gpos = gpos;
		if (im->nbatch == IMPORT_BATCH)
		{
			int64_t		last = im->last_gpos;

			if (flush_batch(im))
				sb_printf(&im->out, "data: {\"imported\":%lld,\"gpos\":%lld}\n\n",
						  im->imported, (long long) last);
			break;
		}
	}
	sb_free(&why);
}

/* One step as a coroutine (loop mode): its end resumes the connection. */
static void
step_coroutine(void *arg)
{
	Import	   *im = arg;

	import_step(im);
	im->stepping = false;
	if (im->suspended)
	{
		im->suspended = false;
		http_resume(im->conn);
	}
}

static ssize_t
import_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	Import	   *im = cls;
	size_t		k;

	(void) pos;
	if (im->stepping)
		return 0;				/* resumed early: the step is still running */
	if (im->out.len == im->out_off)
	{
		sb_reset(&im->out);
		im->out_off = 0;
		if (im->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		im->stepping = true;
		if (!coro_spawn(step_coroutine, im, NULL))
		{
			/* the loop serves others while the batch is written */
			im->suspended = true;
			MHD_suspend_connection(im->conn);
			return 0;
		}
	}
	k = im->out.len - im->out_off;
	if (k > max)
		k = max;
	memcpy(buf, im->out.data + im->out_off, k);
	im->out_off += k;
	return (ssize_t) k;
}

static void
import_free(void *cls)
{
	Import	   *im = cls;

	free(im->body);
	free(im->ns);
	sb_free(&im->batch);
	sb_free(&im->out);
	free(im);
}

/* docs/http-api.md#bulk-import-import: failure is a plain 500 before any event is sent. */
static bool
clear_namespace(struct MHD_Connection *c, const char *ns, size_t ns_len,
				enum MHD_Result *ret)
{
	const char *values[1] = {ns};
	char	   *err = NULL;
	PGresult   *res;
	const char *msg;

	if (memchr(ns, '\0', ns_len) != NULL)
	{
		*ret = http_error(c, 500, "CLEAR_FAILED", "namespace not found", NULL);
		return false;
	}
	res = pool_exec("import_clear", "SELECT eventodb.import_clear($1::text)", 1, values, &err);
	if (res == NULL)
	{
		*ret = http_error(c, 500, "CLEAR_FAILED", err ? err : "no database connection", NULL);
		free(err);
		return false;
	}
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		PQclear(res);
		return true;
	}
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	*ret = http_error(c, 500, "CLEAR_FAILED", msg ? msg : PQresultErrorMessage(res), NULL);
	PQclear(res);
	return false;
}

enum MHD_Result
import_handle(struct MHD_Connection *c, const AuthResult *auth,
			  char *body, size_t len, bool force)
{
	Import	   *im;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	struct timespec started;

	clock_gettime(CLOCK_MONOTONIC, &started);
	if (force)
	{
		char	   *ns = mem_dup0(auth->ns, auth->ns_len);

		if (!clear_namespace(c, ns, auth->ns_len, &ret))
		{
			free(ns);
			free(body);
			return ret;
		}
		free(ns);
	}

	im = calloc(1, sizeof(Import));
	if (im == NULL)
		abort();
	im->ns = mem_dup0(auth->ns, auth->ns_len);
	im->ns_len = auth->ns_len;
	im->body = body;
	im->len = body ? len : 0;
	im->started = started;
	im->conn = c;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
											 import_read, im, import_free);
	if (resp == NULL)
	{
		import_free(im);
		return MHD_NO;
	}
	http_event_stream_headers(resp);
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	ret = http_queue(c, 200, resp);
	return ret;
}
