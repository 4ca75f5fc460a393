/* See read_pager.h. */
#include "read_pager.h"

#include "config.h"
#include "http.h"
#include "job_queue.h"
#include "json_scan.h"
#include "log.h"
#include "pool.h"
#include "read_route.h"
#include "strbuf.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Pages after the first are smaller: each holds a database connection and
 * a page worker for its query, and short queries let the reads take turns
 * (read on libmicrohttpd's threads, 16 readers gave another tenant a p99
 * of 40-45 ms with 250 and 50-150 ms with 1000).
 */
#define NEXT_ROWS 250
/* A page of larger messages shrinks towards this many bytes. */
#define PAGE_BYTES (1024 * 1024)
/* What libmicrohttpd asks of the reader at a time. */
#define SEND_BLOCK (64 * 1024)

/*
 * A streamed read. Pages after the first are read by the pager's worker
 * threads, never by libmicrohttpd's: a worker thread serves many
 * connections, and a page query on it would hold all of them up. While a
 * page is on its way the connection is suspended; the worker resumes it.
 * The next page is read while the current one is being sent.
 *
 * The reading state (next .. sent) belongs to whoever reads the page in
 * flight - at most one at a time; the rest is guarded by mu.
 */
typedef struct Pager
{
	PagedRead	q;				/* strings owned */
	int64_t		next;			/* position of the next page */
	int64_t		remaining;		/* messages still wanted; -1 = no limit */
	int64_t		rows;			/* messages per page */
	bool		filter_global;	/* drop messages below q.global_position */
	bool		done;			/* no page left to read */
	bool		any;			/* a message was written */
	int64_t		sent;			/* messages written */

	pthread_mutex_t mu;
	struct MHD_Connection *conn;
	int			refs;			/* libmicrohttpd's + a page job's */
	bool		fetching;		/* a page job is queued or running */
	bool		ready_full;		/* ready holds the next page */
	bool		failed;			/* a page could not be read */
	bool		suspended;		/* we suspended conn and owe it a resume */
	bool		released;		/* libmicrohttpd is done with the response */
	bool		ended;			/* "]\n" queued */
	StrBuf		ready;			/* the page read ahead */
	StrBuf		out;			/* bytes not yet handed to libmicrohttpd */
	size_t		off;
	struct Pager *job_next;		/* in the job queue */
} Pager;

/* Page jobs: a few threads, so unlimited reads use at most that many
 * database connections at once, whatever their number. */
#define PAGER_WORKERS 2

static JobQueue jobs = JOBQ_INIT(Pager, job_next);

/* Guards nworkers, and makes starting workers and stopping the queue one
 * step each: a worker started is one pager_shutdown joins. */
static pthread_mutex_t workers_mu = PTHREAD_MUTEX_INITIALIZER;
static int	nworkers;
static pthread_t workers[PAGER_WORKERS];

/* One page as the database rendered it. */
typedef struct Page
{
	PGresult   *res;
	const char *text;
	size_t		len;
	int64_t		asked;			/* rows asked for */
} Page;

bool
pager_needed(int64_t limit)
{
	return limit == -1 || limit > PAGER_ROWS;
}

static void
pager_destroy(Pager *p)
{
	free((char *) p->q.ns);
	free((char *) p->q.name);
	free((char *) p->q.correlation);
	free((char *) p->q.types);
	sb_free(&p->ready);
	sb_free(&p->out);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static void
pager_unref_locked(Pager *p)
{
	bool		last = --p->refs == 0;

	pthread_mutex_unlock(&p->mu);
	if (last)
		pager_destroy(p);
}

/* libmicrohttpd's free callback: no resume may reach conn after this. */
static void
pager_release(void *cls)
{
	Pager	   *p = cls;

	pthread_mutex_lock(&p->mu);
	p->released = true;
	p->suspended = false;
	pager_unref_locked(p);
}

static const char *
int_text(char *buf, int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

/* Reads the next page; NULL result with *err when no connection. */
static PGresult *
query_page(Pager *p, int64_t asked, char **err)
{
	char		pbuf[24],
				gbuf[24],
				bbuf[24],
				mbuf[24],
				sbuf[24];

	if (p->q.kind == PAGED_CATEGORY)
	{
		const char *params[8] = {
			p->q.ns, p->q.name, int_text(pbuf, p->next), int_text(bbuf, asked),
			p->q.correlation,
			p->q.grouped ? int_text(mbuf, p->q.member) : NULL,
			p->q.grouped ? int_text(sbuf, p->q.size) : NULL,
			p->q.types,
		};

		/* type-filtered reads (docs/writes-and-reads.md) */
		if (p->q.types != NULL)
			return read_exec_category(p->q.ns, "pager_category_get_types",
							 "SELECT eventodb.category_get_types($1::text, $2::text, $3::bigint, "
							 "$4::bigint, $5::text, $6::bigint, $7::bigint, $8::text[])",
							 8, params, err);
		return read_exec_category(p->q.ns, "pager_category_get",
						 "SELECT eventodb.category_get($1::text, $2::text, $3::bigint, "
						 "$4::bigint, $5::text, $6::bigint, $7::bigint)",
						 7, params, err);
	}
	else
	{
		/* the first page of the globalPosition path is that path itself;
		 * later pages continue by position and filter (see next_page) */
		bool		global = p->q.kind == PAGED_STREAM_GLOBAL && !p->filter_global;
		const char *params[5] = {
			p->q.ns, p->q.name, int_text(pbuf, p->next),
			global ? int_text(gbuf, p->q.global_position) : NULL,
			int_text(bbuf, asked),
		};

		return read_exec(p->q.ns, "pager_stream_get",
						 "SELECT eventodb.stream_get($1::text, $2::text, $3::bigint, "
						 "$4::bigint, $5::bigint)",
						 5, params, err);
	}
}

static bool
page_ok(const PGresult *res)
{
	return res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		!PQgetisnull(res, 0, 0);
}

static int64_t
page_rows_asked(const Pager *p)
{
	/* a filtered page may keep fewer than it reads: always read whole ones */
	if (p->remaining >= 0 && p->remaining < p->rows && !p->filter_global)
		return p->remaining;
	return p->rows;
}

/*
 * Appends the page's messages to p->out and moves the pager on. False (with
 * *why) when the page cannot be read - a bug in the renderer, never input.
 */
static bool
take_page(Pager *p, const Page *pg, StrBuf *dst, const char **why)
{
	char		err[JS_ERROR_MAX];
	int			pos_idx = p->q.kind == PAGED_CATEGORY ? 3 : 2;
	int64_t		returned = 0,
				last_pos = 0,
				last_gpos = 0;
	JsIter		outer;
	JsSpan		key,
				msg;
	size_t		start;

	if (!js_validate(pg->text, pg->len, err))
	{
		*why = "unreadable page";
		return false;
	}
	start = js_skip_ws(pg->text, pg->len, 0);
	if (start >= pg->len || pg->text[start] != '[')
	{
		*why = "page is not an array";
		return false;
	}
	js_iter_begin(&outer, pg->text, pg->len, js_value_at(pg->text, pg->len, start));
	while (js_iter_next(&outer, &key, &msg))
	{
		JsIter		inner;
		JsSpan		el;
		int			idx = 0;
		bool		ok_pos = false,
					ok_gpos = false;
		int64_t		pos = 0,
					gpos = 0;

		returned++;
		if (js_type(pg->text, msg) == JS_ARRAY)
		{
			js_iter_begin(&inner, pg->text, pg->len, msg);
			while (js_iter_next(&inner, &key, &el) && idx <= pos_idx + 1)
			{
				if (idx == pos_idx)
					ok_pos = js_int64(pg->text, el, &pos);
				else if (idx == pos_idx + 1)
					ok_gpos = js_int64(pg->text, el, &gpos);
				idx++;
			}
		}
		if (!ok_pos || !ok_gpos)
		{
			*why = "message without positions";
			return false;
		}
		last_pos = pos;
		last_gpos = gpos;
		if (p->remaining == 0 || (p->filter_global && gpos < p->q.global_position))
			continue;
		if (p->any)
			sb_putc(dst, ',');
		sb_append(dst, pg->text + msg.off, msg.len);
		p->any = true;
		p->sent++;
		if (p->remaining > 0)
			p->remaining--;
	}

	/* the next page starts after the last message read */
	if (returned < pg->asked || p->remaining == 0)
		p->done = true;
	else if (p->q.kind == PAGED_CATEGORY)
	{
		if (last_gpos == INT64_MAX)
			p->done = true;
		p->next = last_gpos + (last_gpos < INT64_MAX);
	}
	else
	{
		if (last_pos == INT64_MAX)
			p->done = true;
		p->next = last_pos + (last_pos < INT64_MAX);
		/* globalPosition path: the messages after the last one by position
		 * whose global position is still high enough (exact also when an
		 * import stored positions out of order) */
		p->filter_global = p->q.kind == PAGED_STREAM_GLOBAL;
	}

	/* aim at PAGE_BYTES per page whatever the size of the messages */
	if (pg->len > PAGE_BYTES && p->rows > 1)
	{
		int64_t		r = (int64_t) ((double) p->rows * PAGE_BYTES / (double) pg->len);

		p->rows = r < 1 ? 1 : r;
	}
	else if (pg->len < PAGE_BYTES / 4 && p->rows < NEXT_ROWS)
		p->rows = p->rows * 2 > NEXT_ROWS ? NEXT_ROWS : p->rows * 2;
	if (p->rows > NEXT_ROWS)
		p->rows = NEXT_ROWS;
	return true;
}

/* Reads one more page into dst; false when the answer cannot go on. */
static bool
next_page(Pager *p, StrBuf *dst)
{
	char	   *err = NULL;
	Page		pg = {.asked = page_rows_asked(p)};
	const char *why = NULL;
	bool		ok;

	pg.res = query_page(p, pg.asked, &err);
	if (!page_ok(pg.res))
	{
		log_warn("paged read: page after %" PRId64 " messages failed (%s); closing the connection",
				 p->sent, pg.res ? PQresultErrorMessage(pg.res) : err ? err : "no connection");
		PQclear(pg.res);
		free(err);
		return false;
	}
	pg.text = PQgetvalue(pg.res, 0, 0);
	pg.len = (size_t) PQgetlength(pg.res, 0, 0);
	ok = take_page(p, &pg, dst, &why);
	if (!ok)
		log_error("paged read: %s after %" PRId64 " messages; closing the connection",
				  why, p->sent);
	PQclear(pg.res);
	return ok;
}

/* Queues the read-ahead of the next page (p->mu held). */
static void
schedule_locked(Pager *p)
{
	if (p->fetching || p->ready_full || p->done || p->failed)
		return;
	/* the worker's job_done takes p->mu before it looks at fetching or refs */
	if (!jobq_push(&jobs, p))
	{
		p->failed = true;
		return;
	}
	p->fetching = true;
	p->refs++;
}

/* A page job's end: hands the page over and wakes the connection. */
static void
job_done(Pager *p, StrBuf *page, bool ok)
{
	pthread_mutex_lock(&p->mu);
	if (ok)
	{
		sb_free(&p->ready);
		p->ready = *page;
		p->ready_full = true;
	}
	else
	{
		sb_free(page);
		p->failed = true;
	}
	p->fetching = false;
	if (p->suspended && !p->released)
	{
		p->suspended = false;
		http_resume(p->conn);
	}
	pager_unref_locked(p);
}

static void *
pager_worker(void *arg)
{
	(void) arg;
	for (;;)
	{
		Pager	   *p;
		StrBuf		page = STRBUF_INIT;
		bool		released;

		p = jobq_pop(&jobs);
		if (p == NULL)
			return NULL;

		pthread_mutex_lock(&p->mu);
		released = p->released;
		pthread_mutex_unlock(&p->mu);
		/* a client that left needs no more pages */
		job_done(p, &page, !released && next_page(p, &page));
	}
}

static bool
workers_started(void)
{
	bool		ok;

	pthread_mutex_lock(&workers_mu);
	while (nworkers < PAGER_WORKERS && !jobq_stopping(&jobs) &&
		   pthread_create(&workers[nworkers], NULL, pager_worker, NULL) == 0)
		nworkers++;
	ok = nworkers > 0 && !jobq_stopping(&jobs);
	pthread_mutex_unlock(&workers_mu);
	if (!ok)
		log_error("paged read: no page worker thread");
	return ok;
}

void
pager_shutdown(void)
{
	Pager	   *queued;

	pthread_mutex_lock(&workers_mu);
	queued = jobq_stop_take(&jobs);
	pthread_mutex_unlock(&workers_mu);
	/* queued reads end here: their connections are resumed to close */
	while (queued != NULL)
	{
		Pager	   *p = queued;
		StrBuf		none = STRBUF_INIT;

		queued = p->job_next;
		job_done(p, &none, false);
	}
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	nworkers = 0;
}

static ssize_t
pager_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	Pager	   *p = cls;
	ssize_t		n;

	(void) pos;
	pthread_mutex_lock(&p->mu);
	while (p->off == p->out.len)
	{
		StrBuf		t;

		sb_reset(&p->out);
		p->off = 0;
		if (p->ended)
		{
			pthread_mutex_unlock(&p->mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (p->ready_full)
		{
			/* send the page read ahead, and read the one after it */
			t = p->out;
			p->out = p->ready;
			p->ready = t;
			p->ready_full = false;
			schedule_locked(p);
			continue;
		}
		if (p->failed)
		{
			pthread_mutex_unlock(&p->mu);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (!p->fetching && p->done)
		{
			sb_puts(&p->out, "]\n");
			p->ended = true;
			continue;
		}
		schedule_locked(p);
		if (p->failed)
			continue;
		/* the page is on its way: the worker resumes us */
		p->suspended = true;
		MHD_suspend_connection(p->conn);
		pthread_mutex_unlock(&p->mu);
		return 0;
	}
	n = (ssize_t) (p->out.len - p->off < max ? p->out.len - p->off : max);
	memcpy(buf, p->out.data + p->off, (size_t) n);
	p->off += (size_t) n;
	pthread_mutex_unlock(&p->mu);
	return n;
}

static char *
dup_or_null(const char *s, size_t len)
{
	return s != NULL ? mem_dup0(s, len) : NULL;
}

enum MHD_Result
pager_reply(struct MHD_Connection *c, const SqlContext *ctx, const PagedRead *q)
{
	Pager	   *p = calloc(1, sizeof(Pager));
	char	   *err = NULL;
	Page		pg;
	const char *why = NULL;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (p == NULL)
		return errors_reply_backend(c, ctx, "out of memory");
	pthread_mutex_init(&p->mu, NULL);
	p->conn = c;
	p->refs = 1;
	p->q = *q;
	p->q.ns = strdup(q->ns);
	p->q.name = dup_or_null(q->name, q->name_len);
	p->q.correlation = dup_or_null(q->correlation, q->correlation_len);
	p->q.types = q->types != NULL ? strdup(q->types) : NULL;
	if (p->q.ns == NULL || p->q.name == NULL || (q->correlation != NULL && p->q.correlation == NULL) ||
		(q->types != NULL && p->q.types == NULL))
	{
		pager_destroy(p);
		return errors_reply_backend(c, ctx, "out of memory");
	}
	p->next = q->position;
	p->remaining = q->limit;
	p->rows = PAGER_ROWS;

	/* the first page here: its errors are the single call's (docs/http-api.md#streamget, #categoryget) */
	pg.asked = page_rows_asked(p);
	pg.res = query_page(p, pg.asked, &err);
	if (!page_ok(pg.res))
	{
		ret = errors_reply_sql(c, ctx, pg.res, err);
		PQclear(pg.res);
		free(err);
		pager_destroy(p);
		return ret;
	}
	pg.text = PQgetvalue(pg.res, 0, 0);
	pg.len = (size_t) PQgetlength(pg.res, 0, 0);
	sb_putc(&p->out, '[');
	if (!take_page(p, &pg, &p->out, &why))
	{
		ret = errors_reply_backend(c, ctx, why);
		PQclear(pg.res);
		pager_destroy(p);
		return ret;
	}
	if (p->done)
	{
		/* the whole answer: as the single call sends it */
		StrBuf		b = STRBUF_INIT;

		sb_append(&b, pg.text, pg.len);
		sb_putc(&b, '\n');
		PQclear(pg.res);
		pager_destroy(p);
		ret = http_reply(c, 200, "application/json", b.data, b.len);
		sb_free(&b);
		return ret;
	}
	PQclear(pg.res);
	if (!workers_started())
	{
		pager_destroy(p);
		return errors_reply_backend(c, ctx, "no thread to read the answer with");
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SEND_BLOCK, pager_read, p,
											 pager_release);
	if (resp == NULL)
	{
		pager_destroy(p);
		log_error("cannot create an HTTP response (out of memory)");
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "EventoDB/" EVENTODB_VERSION);
	/* read the second page while the first is being sent */
	pthread_mutex_lock(&p->mu);
	schedule_locked(p);
	pthread_mutex_unlock(&p->mu);
	ret = http_queue(c, 200, resp);
	return ret;
}
