/*
 * `eventodb import` (docs/configuration.md#commands): streams an NDJSON file (or stdin,
 * optionally gunzipped) to POST /import as a chunked body, then follows the
 * server's event stream: progress, the final count, or the first error.
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
#include "strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define USAGE "eventodb import --url URL --token TOKEN [--input FILE] [--gzip] [--force]"
#define SEND_BLOCK (64 * 1024)
/* Error bodies are short JSON envelopes; never hold more than this. */
#define MAX_ERROR_BODY (1024 * 1024)

/* --force wipes the namespace: ask on stdin, or on the terminal when stdin
 * carries the data itself. */
static bool
confirm_force(bool data_on_stdin)
{
	FILE	   *in = stdin;
	char		answer[64];
	bool		yes = false;

	if (data_on_stdin)
	{
		in = fopen("/dev/tty", "r");
		if (in == NULL)
		{
			fprintf(stderr, "--force needs a confirmation, but the data comes from stdin "
					"and there is no terminal; use --input FILE\n");
			return false;
		}
	}
	fprintf(stderr, "WARNING: --force deletes every message of the namespace before importing.\n"
			"Continue? [y/N]: ");
	fflush(stderr);
	if (fgets(answer, sizeof(answer), in) != NULL)
	{
		/* A piped answer is not echoed: end the prompt line ourselves. */
		if (!isatty(fileno(in)))
			fputc('\n', stderr);
		char	   *a = answer;
		size_t		n;

		while (isspace((unsigned char) *a))
			a++;
		n = strlen(a);
		while (n > 0 && isspace((unsigned char) a[n - 1]))
			a[--n] = '\0';
		yes = strcasecmp(a, "y") == 0 || strcasecmp(a, "yes") == 0;
	}
	if (in != stdin)
		fclose(in);
	if (!yes)
		fprintf(stderr, "Import cancelled.\n");
	return yes;
}

typedef struct Input
{
	int			fd;
	CliGz	   *gz;
} Input;

/* Bytes read, 0 at end, -1 on error. */
static ssize_t
input_read(Input *in, char *buf, size_t n)
{
	if (in->gz)
	{
		return cli_gz_read(in->gz, buf, (unsigned) n);
	}
	for (;;)
	{
		ssize_t		k = read(in->fd, buf, n);

		if (k < 0 && errno == EINTR)
			continue;
		return k;
	}
}

/* Streams the whole input; false when the server stopped reading. */
static bool
send_body(HcConn *hc, Input *in, bool *input_failed)
{
	char	   *buf = malloc(SEND_BLOCK);
	ssize_t		n;
	bool		ok = true;

	if (buf == NULL)
		abort();
	*input_failed = false;
	while ((n = input_read(in, buf, SEND_BLOCK)) > 0)
		if (!hc_send_chunk(hc, buf, (size_t) n))
		{
			ok = false;
			break;
		}
	if (n < 0)
		*input_failed = true;
	else if (ok)
		ok = hc_end_chunks(hc);
	free(buf);
	return ok;
}

/* Handles one "data: {...}" event; returns 1 done, -1 error, 0 continue. */
static int
handle_event(const char *json, size_t len, CliProgress *prog)
{
	char		jerr[JS_ERROR_MAX];
	size_t		start = js_skip_ws(json, len, 0);
	JsIter		it;
	JsSpan		key,
				val;
	StrBuf		k = STRBUF_INIT;
	const char *kname;
	StrBuf		code = STRBUF_INIT;
	StrBuf		message = STRBUF_INIT;
	StrBuf		elapsed = STRBUF_INIT;
	int64_t		imported = 0,
				line = 0;
	bool		done = false,
				is_error = false;
	int			result = 0;

	if (!js_validate(json, len, jerr) || start >= len || json[start] != '{')
		return 0;
	js_iter_begin(&it, json, len, js_value_at(json, len, start));
	while (js_iter_next(&it, &key, &val))
	{
		JsType		t = js_type(json, val);

		sb_reset(&k);
		js_string_decode(json, key, &k);
		/* an empty key decodes to nothing: k.data stays NULL */
		kname = k.data ? k.data : "";
		if (strcmp(kname, "error") == 0 && t == JS_STRING)
		{
			is_error = true;
			js_string_decode(json, val, &code);
		}
		else if (strcmp(kname, "message") == 0 && t == JS_STRING)
			js_string_decode(json, val, &message);
		else if (strcmp(kname, "line") == 0 && t == JS_NUMBER)
			js_int64(json, val, &line);
		else if (strcmp(kname, "imported") == 0 && t == JS_NUMBER)
			js_int64(json, val, &imported);
		else if (strcmp(kname, "done") == 0)
			done = t == JS_BOOL && json[val.off] == 't';
		else if (strcmp(kname, "elapsed") == 0 && t == JS_STRING)
			js_string_decode(json, val, &elapsed);
	}
	if (is_error)
	{
		cli_progress_end(prog);
		fprintf(stderr, "%s: %s", code.data ? code.data : "", message.data ? message.data : "");
		if (line != 0)
			fprintf(stderr, " (line %lld)", (long long) line);
		fputc('\n', stderr);
		result = -1;
	}
	else if (done)
	{
		cli_progress_end(prog);
		fprintf(stderr, "Imported %lld messages in %s\n", (long long) imported,
				elapsed.data ? elapsed.data : "?");
		result = 1;
	}
	else
		cli_progress_update(prog, (long long) imported);
	sb_free(&k);
	sb_free(&code);
	sb_free(&message);
	sb_free(&elapsed);
	return result;
}

/* Follows the event stream; returns the exit status. */
static int
read_events(HcConn *hc, CliProgress *prog)
{
	StrBuf		line = STRBUF_INIT;
	char		buf[16384];
	ssize_t		n;
	int			result = 0;

	while (result == 0 && (n = hc_read_body(hc, buf, sizeof(buf))) > 0)
	{
		const char *p = buf;
		const char *end = buf + n;

		while (result == 0 && p < end)
		{
			const char *lf = memchr(p, '\n', (size_t) (end - p));

			if (lf == NULL)
			{
				sb_append(&line, p, (size_t) (end - p));
				break;
			}
			sb_append(&line, p, (size_t) (lf - p));
			p = lf + 1;
			if (line.len >= 6 && strncmp(line.data, "data: ", 6) == 0)
				result = handle_event(line.data + 6, line.len - 6, prog);
			sb_reset(&line);
		}
	}
	sb_free(&line);
	if (result == 0)
	{
		cli_progress_end(prog);
		fprintf(stderr, "import failed: the server ended the stream without a result\n");
		return 1;
	}
	return result > 0 ? 0 : 1;
}

int
cli_import_main(int argc, char **argv)
{
	const char *url = "http://localhost:8080";
	const char *token = "";
	const char *input = "";
	bool		gzip = false;
	bool		force = false;
	CliFlag		flags[] = {
		{"url", false, "EventoDB server URL", &url, NULL},
		{"token", false, "namespace token", &token, NULL},
		{"input", false, "input file (default: stdin)", &input, NULL},
		{"gzip", true, "the input is gzip-compressed", NULL, &gzip},
		{"force", true, "delete all messages of the namespace first (asks for confirmation)", NULL, &force},
	};
	int			rc = cli_flags_parse(USAGE, flags, 5, argc, argv);
	HcUrl		u;
	HcConn		hc;
	StrBuf		err = STRBUF_INIT;
	StrBuf		extra = STRBUF_INIT;
	Input		in = {.fd = -1};
	CliProgress prog;
	bool		input_failed = false;
	int			status = 1;

	if (rc >= 0)
		return rc;
	if (!hc_url_parse(url, &u, &err))
	{
		fprintf(stderr, "%s\n", err.data);
		sb_free(&err);
		return 2;
	}
	if (force && !confirm_force(input[0] == '\0'))
		goto out;
	in.fd = input[0] ? open(input, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (in.fd < 0)
	{
		fprintf(stderr, "cannot open %s: %s\n", input, strerror(errno));
		goto out;
	}
	if (gzip)
	{
		in.gz = cli_gz_open(in.fd == STDIN_FILENO ? dup(STDIN_FILENO) : in.fd, "rb");
		in.fd = -1;				/* owned by the gzip stream now (or closed) */
		if (in.gz == NULL)
			goto out;
	}

	if (!hc_connect(&hc, &u, &err))
	{
		fprintf(stderr, "import failed: %s\n", err.data);
		goto out;
	}
	if (token[0])
		sb_printf(&extra, "Authorization: Bearer %s\r\n", token);
	sb_puts(&extra, "Content-Type: application/x-ndjson\r\n");
	cli_progress_init(&prog, "Imported");
	if (!hc_send_head(&hc, &u, "POST", force ? "/import?force=true" : "/import", extra.data, -1) ||
		!send_body(&hc, &in, &input_failed))
	{
		if (input_failed)
		{
			fprintf(stderr, "import failed: cannot read the input\n");
			hc_close(&hc);
			goto out;
		}
		/* The server may have answered early (e.g. 413): read that below. */
	}
	else if (input_failed)
	{
		fprintf(stderr, "import failed: cannot read the input\n");
		hc_close(&hc);
		goto out;
	}
	if (!hc_read_head(&hc, &err))
		fprintf(stderr, "import failed: %s\n", err.data);
	else if (hc.status != 200)
	{
		StrBuf		body = STRBUF_INIT;

		hc_read_all(&hc, &body, MAX_ERROR_BODY);
		while (body.len > 0 && (body.data[body.len - 1] == '\n' || body.data[body.len - 1] == '\r'))
			body.data[--body.len] = '\0';
		fprintf(stderr, "server error (HTTP %d): %s\n", hc.status, body.data ? body.data : "");
		sb_free(&body);
	}
	else
		status = read_events(&hc, &prog);
	hc_close(&hc);
out:
	if (in.gz)
		cli_gz_close(in.gz);
	if (in.fd >= 0 && in.fd != STDIN_FILENO)
		close(in.fd);
	hc_url_free(&u);
	sb_free(&err);
	sb_free(&extra);
	return status;
}
