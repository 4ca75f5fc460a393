/*
 * `eventodb export` (docs/configuration.md#commands): pages category.get from position 0
 * in batches of 1000 for each listed category (or once for "" = the whole
 * namespace) and writes one NDJSON record per message with the keys
 * id, stream, type, pos, gpos, data, meta, time. The values are copied from
 * the server's rendering (already in the original's JSON style); only the
 * time is re-written, truncated to whole seconds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cli.h"

#include "cli_flags.h"
#include "cli_gzip.h"
#include "cli_progress.h"
#include "http_client.h"
#include "json_scan.h"
#include "jsonw.h"
#include "rfc3339.h"
#include "strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define EXPORT_BATCH 1000
/* A page holds at most 1000 messages; this only stops a runaway server. */
#define MAX_RESPONSE ((size_t) 2 << 30)

#define USAGE "eventodb export --url URL --token TOKEN [--categories a,b] " \
	"[--since DATE] [--until DATE] [--gzip] [--output FILE]"

typedef struct Output
{
	FILE	   *f;
	CliGz	   *gz;
	bool		failed;
} Output;

typedef struct Rpc
{
	HcUrl		url;
	char	   *auth_header;	/* "Authorization: Bearer ...\r\n" or NULL */
	HcConn		conn;
	bool		connected;
} Rpc;

static void
out_write(Output *o, const char *data, size_t len)
{
	if (o->failed || len == 0)
		return;
	if (o->gz)
	{
		while (len > 0 && !o->failed)
		{
			unsigned	k = len > (1u << 30) ? (1u << 30) : (unsigned) len;

			o->failed = !cli_gz_write(o->gz, data, k);
			data += k;
			len -= k;
		}
	}
	else if (fwrite(data, 1, len, o->f) != len)
		o->failed = true;
}

static bool
out_close(Output *o)
{
	bool		ok = !o->failed;

	if (o->gz)
		ok = cli_gz_close(o->gz) && ok;
	else if (o->f == stdout)
		ok = fflush(stdout) == 0 && ok;
	else if (o->f)
		ok = fclose(o->f) == 0 && ok;
	return ok;
}

/* One POST /rpc on a kept-alive connection, reconnecting once when the
 * server has closed it in between. */
static bool
rpc_call(Rpc *r, const char *body, size_t len, int *status, StrBuf *resp, StrBuf *err)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		bool		reused = r->connected;

		if (!r->connected)
		{
			if (!hc_connect(&r->conn, &r->url, err))
				return false;
			r->connected = true;
		}
		sb_reset(resp);
		if (hc_send_head(&r->conn, &r->url, "POST", "/rpc",
						 r->auth_header ? r->auth_header : "Content-Type: application/json\r\n",
						 (ssize_t) len) &&
			hc_send(&r->conn, body, len) &&
			hc_read_head(&r->conn, err) &&
			hc_read_all(&r->conn, resp, MAX_RESPONSE))
		{
			*status = r->conn.status;
			if (r->conn.close_after || r->conn.until_close)
			{
				hc_close(&r->conn);
				r->connected = false;
			}
			return true;
		}
		hc_close(&r->conn);
		r->connected = false;
		if (!reused)
			break;
		sb_reset(err);
	}
	if (err->len == 0)
		sb_puts(err, "connection to the server failed");
	return false;
}

static bool
parse_date_arg(const char *v, Rfc3339 *out)
{
	return rfc3339_parse(v, strlen(v), out, NULL) || rfc3339_parse_date(v, strlen(v), out);
}

/* Appends one export line for a category message; false to skip it. */
static bool
render_message(const char *text, size_t len, JsSpan msg, const Rfc3339 *since,
			   const Rfc3339 *until, StrBuf *line, int64_t *gpos)
{
	static const char *const keys[] = {"id", "stream", "type", "pos", "gpos", "data", "meta"};
	JsSpan		el[8];
	JsSpan		key;
	JsIter		it;
	int			n = 0;
	StrBuf		tstr = STRBUF_INIT;
	Rfc3339		t;
	bool		have_time;

	js_iter_begin(&it, text, len, msg);
	while (n < 8 && js_iter_next(&it, &key, &el[n]))
		n++;
	if (n < 8 || !js_int64(text, el[4], gpos) || js_type(text, el[7]) != JS_STRING)
		return false;
	js_string_decode(text, el[7], &tstr);
	have_time = rfc3339_parse(tstr.data ? tstr.data : "", tstr.len, &t, NULL);
	if (have_time && ((since && rfc3339_cmp(t, *since) < 0) ||
					  (until && rfc3339_cmp(t, *until) >= 0)))
	{
		sb_free(&tstr);
		return false;
	}
	sb_reset(line);
	for (int i = 0; i < 7; i++)
	{
		sb_puts(line, i == 0 ? "{\"" : ",\"");
		sb_puts(line, keys[i]);
		sb_puts(line, "\":");
		sb_append(line, text + el[i].off, el[i].len);
	}
	sb_puts(line, ",\"time\":");
	if (have_time)
	{
		sb_putc(line, '"');
		rfc3339_format(line, t, false);
		sb_putc(line, '"');
	}
	else
		sb_append(line, text + el[7].off, el[7].len);
	sb_puts(line, "}\n");
	sb_free(&tstr);
	return true;
}

/* Exports one category; returns false after printing the error. */
static bool
export_category(Rpc *r, const char *category, const Rfc3339 *since, const Rfc3339 *until,
				Output *out, CliProgress *prog, long long *count)
{
	int64_t		position = 0;
	StrBuf		body = STRBUF_INIT;
	StrBuf		resp = STRBUF_INIT;
	StrBuf		err = STRBUF_INIT;
	StrBuf		line = STRBUF_INIT;
	bool		ok = false;

	for (;;)
	{
		int			status = 0;
		char		jerr[JS_ERROR_MAX];
		size_t		start;
		JsIter		it;
		JsSpan		key,
					msg;
		size_t		page = 0;
		int64_t		last = -1;

		sb_reset(&body);
		sb_puts(&body, "[\"category.get\",");
		jw_string(&body, category, strlen(category));
		sb_printf(&body, ",{\"position\":%lld,\"batchSize\":%d}]",
				  (long long) position, EXPORT_BATCH);
		if (!rpc_call(r, body.data, body.len, &status, &resp, &err))
		{
			cli_progress_end(prog);
			fprintf(stderr, "export failed: %s\n", err.data);
			goto out;
		}
		if (status != 200)
		{
			cli_progress_end(prog);
			fprintf(stderr, "server error (HTTP %d): %s\n", status, resp.data ? resp.data : "");
			goto out;
		}
		start = js_skip_ws(resp.data, resp.len, 0);
		if (!js_validate(resp.data, resp.len, jerr) || start >= resp.len || resp.data[start] != '[')
		{
			cli_progress_end(prog);
			fprintf(stderr, "export failed: unexpected response from the server\n");
			goto out;
		}
		js_iter_begin(&it, resp.data, resp.len, js_value_at(resp.data, resp.len, start));
		while (js_iter_next(&it, &key, &msg))
		{
			int64_t		gpos = -1;

			page++;
			if (js_type(resp.data, msg) != JS_ARRAY)
				continue;
			if (render_message(resp.data, resp.len, msg, since, until, &line, &gpos))
			{
				out_write(out, line.data, line.len);
				(*count)++;
			}
			else
			{
				JsIter		e;
				JsSpan		k,
							v;
				int			i = 0;

				/* Skipped by the time filter: still advance past it. */
				js_iter_begin(&e, resp.data, resp.len, msg);
				while (js_iter_next(&e, &k, &v))
					if (i++ == 4)
						js_int64(resp.data, v, &gpos);
			}
			if (gpos > last)
				last = gpos;
		}
		if (out->failed)
		{
			cli_progress_end(prog);
			fprintf(stderr, "export failed: cannot write output: %s\n", strerror(errno));
			goto out;
		}
		cli_progress_update(prog, *count);
		if (page == 0)
			break;
		if (last < position)
		{
			cli_progress_end(prog);
			fprintf(stderr, "export failed: the server returned no usable positions\n");
			goto out;
		}
		if (last == INT64_MAX)
			break;				/* nothing can follow; last + 1 would overflow */
		position = last + 1;
	}
	ok = true;
out:
	sb_free(&body);
	sb_free(&resp);
	sb_free(&err);
	sb_free(&line);
	return ok;
}

int
cli_export_main(int argc, char **argv)
{
	const char *url = "http://localhost:8080";
	const char *token = "";
	const char *categories = "";
	const char *since_s = "";
	const char *until_s = "";
	const char *output = "";
	bool		gzip = false;
	CliFlag		flags[] = {
		{"url", false, "EventoDB server URL", &url, NULL},
		{"token", false, "namespace token", &token, NULL},
		{"categories", false, "comma-separated categories (default: all)", &categories, NULL},
		{"since", false, "only messages at or after this time (RFC 3339 or YYYY-MM-DD)", &since_s, NULL},
		{"until", false, "only messages before this time (RFC 3339 or YYYY-MM-DD)", &until_s, NULL},
		{"gzip", true, "gzip the output", NULL, &gzip},
		{"output", false, "output file (default: stdout)", &output, NULL},
	};
	int			rc = cli_flags_parse(USAGE, flags, 7, argc, argv);
	Rfc3339		since,
				until;
	Rpc			r = {0};
	StrBuf		err = STRBUF_INIT;
	Output		out = {0};
	CliProgress prog;
	long long	count = 0;
	bool		ok = true;
	char	   *list;
	char	   *save = NULL;
	int			ncat = 0;

	if (rc >= 0)
		return rc;
	if (since_s[0] && !parse_date_arg(since_s, &since))
	{
		fprintf(stderr, "invalid --since value (want RFC 3339 or YYYY-MM-DD): %s\n", since_s);
		return 2;
	}
	if (until_s[0] && !parse_date_arg(until_s, &until))
	{
		fprintf(stderr, "invalid --until value (want RFC 3339 or YYYY-MM-DD): %s\n", until_s);
		return 2;
	}
	if (!hc_url_parse(url, &r.url, &err))
	{
		fprintf(stderr, "%s\n", err.data);
		sb_free(&err);
		return 2;
	}
	if (token[0])
	{
		StrBuf		h = STRBUF_INIT;

		sb_printf(&h, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", token);
		r.auth_header = sb_steal(&h);
	}

	if (output[0])
	{
		int			fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

		if (fd < 0)
		{
			fprintf(stderr, "cannot open %s: %s\n", output, strerror(errno));
			ok = false;
			goto done;
		}
		if (gzip)
			out.gz = cli_gz_open(fd, "wb");
		else
			out.f = fdopen(fd, "w");
		if (out.gz == NULL && out.f == NULL)
		{
			ok = false;
			goto done;
		}
	}
	else if (gzip)
	{
		out.gz = cli_gz_open(dup(STDOUT_FILENO), "wb");
		if (out.gz == NULL)
		{
			ok = false;
			goto done;
		}
	}
	else
		out.f = stdout;

	cli_progress_init(&prog, "Exported");
	list = strdup(categories);
	if (list == NULL)
		abort();
	for (char *tok = strtok_r(list, ",", &save); ok && tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok == '\0')
			continue;
		ncat++;
		ok = export_category(&r, tok, since_s[0] ? &since : NULL,
							 until_s[0] ? &until : NULL, &out, &prog, &count);
	}
	free(list);
	if (ok && ncat == 0)
		ok = export_category(&r, "", since_s[0] ? &since : NULL,
							 until_s[0] ? &until : NULL, &out, &prog, &count);
	cli_progress_end(&prog);
	if (!out_close(&out))
	{
		if (ok)
			fprintf(stderr, "export failed: cannot write output\n");
		ok = false;
	}
	out.f = NULL;
	out.gz = NULL;
	if (ok)
		fprintf(stderr, "Exported %lld messages in %.1fs\n", count, cli_progress_elapsed(&prog));
done:
	if (out.gz || (out.f && out.f != stdout))
		out_close(&out);
	if (r.connected)
		hc_close(&r.conn);
	hc_url_free(&r.url);
	free(r.auth_header);
	sb_free(&err);
	return ok ? 0 : 1;
}
