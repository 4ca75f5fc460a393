/*
 * Catch-up runs and heartbeats for /subscribe (docs/http-api.md#modes, #frames).
 * Catch-up queries run on two worker threads, not on MHD's, so opening a
 * subscription returns its headers and ": ready" at once and a burst of new
 * subscriptions cannot occupy the HTTP threads.
 */
/* POSIX and GNU interfaces (clock_gettime, getaddrinfo, strdup, ...). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "job_queue.h"
#include "log.h"
#include "pool.h"
#include "pokes.h"
#include "sqlstate.h"
#include "sse_sub.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CATCHUP_WORKERS 2
/* A catch-up that could not reach the database is tried again this much
 * later (the pool's own backoff spaces the connection attempts). */
#define CATCHUP_RETRY_MS 200
#define CATCHUP_PAGE 1000		/* rows of one catch-up query (the SQL's 1000) */
#ifndef HEARTBEAT_SECONDS
#define HEARTBEAT_SECONDS 20
#endif

typedef struct CatchRow
{
	int64_t		position;
	int64_t		gpos;
	char	   *stream;
	size_t		stream_len;
} CatchRow;

static JobQueue jobs = JOBQ_INIT(Sub, job_next);
static pthread_t workers[CATCHUP_WORKERS];
/* The heartbeat thread sleeps on hb_cond until the next beat or the stop. */
static pthread_mutex_t hb_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hb_cond = PTHREAD_COND_INITIALIZER;
static bool hb_stopping;
static int nworkers;
static pthread_t heartbeat_thread;
static bool heartbeat_started;

void
catchup_enqueue(Sub *s)
{
	sub_ref(s);
	s->job_from = s->tracker;
	s->job_barrier = s->awaiting_barrier;
	if (!jobq_push(&jobs, s))
	{
		/* Nobody will run it: the stream is ending anyway. */
		s->refs--;
	}
}

static void
rows_free(CatchRow *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].stream);
	free(rows);
}

/* The (stream_name, position, global_position) rows of a catch-up query. */
static CatchRow *
result_rows(const PGresult *res, size_t *nrows)
{
	int			n = PQntuples(res);
	CatchRow   *rows;

	*nrows = 0;
	if (n <= 0 || PQnfields(res) != 3)
		return NULL;
	rows = calloc((size_t) n, sizeof(CatchRow));
	if (rows == NULL)
		abort();
	for (int i = 0; i < n; i++)
	{
		CatchRow   *r = &rows[*nrows];

		if (PQgetisnull(res, i, 0) || PQgetisnull(res, i, 1) || PQgetisnull(res, i, 2))
			continue;
		r->stream_len = (size_t) PQgetlength(res, i, 0);
		r->stream = malloc(r->stream_len + 1);
		if (r->stream == NULL)
			abort();
		memcpy(r->stream, PQgetvalue(res, i, 0), r->stream_len + 1);
		r->position = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		r->gpos = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		(*nrows)++;
	}
	return rows;
}

/* A failure that says nothing about the subscription: no connection, one
 * lost (no SQLSTATE, class 08) or ended by a shutdown or a server still
 * starting (57P01-57P03): a failover or a restart - worth another run. */
static bool
unreachable(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return res == NULL || state == NULL ||
		strncmp(state, SQLSTATE_CLASS_CONNECTION, 2) == 0 ||
		strncmp(state, SQLSTATE_PREFIX_SHUTDOWN, 3) == 0;
}

/*
 * What stream_get / category_get return for the catch-up (docs/http-api.md#modes: 1000 from
 * the tracker; the consumer group only when size > 0), as positions only:
 * stream_positions / category_positions run the same statements without
 * rendering messages. An extension before 1.1 has neither, so the same rows
 * are then cut out of the rendered JSON by the database.
 */
static atomic_bool no_positions;

static PGresult *
run_catchup(bool stream_mode, const char *const *values, char **err)
{
	PGresult   *res;
	const char *state;

	if (!atomic_load(&no_positions))
	{
		if (stream_mode)
			res = pool_exec("sse_stream_catchup",
							"SELECT * FROM eventodb.stream_positions($1::text, $2::text, "
							"$3::bigint, NULL::bigint, 1000::bigint)", 3, values, err);
		else
			res = pool_exec("sse_category_catchup",
							"SELECT * FROM eventodb.category_positions($1::text, $2::text, "
							"$3::bigint, 1000::bigint, NULL::text, $4::bigint, $5::bigint)",
							5, values, err);
		state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (state == NULL || strcmp(state, SQLSTATE_UNDEFINED_FUNCTION) != 0)
			return res;
		PQclear(res);
		atomic_store(&no_positions, true);
	}
	if (stream_mode)
		return pool_exec("sse_stream_catchup_json",
						 "SELECT $2::text, (m->>2)::bigint, (m->>3)::bigint FROM "
						 "jsonb_array_elements(eventodb.stream_get($1::text, $2::text, $3::bigint, "
						 "NULL::bigint, 1000::bigint)::jsonb) AS m", 3, values, err);
	return pool_exec("sse_category_catchup_json",
					 "SELECT m->>1, (m->>3)::bigint, (m->>4)::bigint FROM "
					 "jsonb_array_elements(eventodb.category_get($1::text, $2::text, $3::bigint, "
					 "1000::bigint, NULL::text, $4::bigint, $5::bigint)::jsonb) AS m",
					 5, values, err);
}

/* Runs the docs/http-api.md#modes catch-up query; no rows on any failure (test mode with an
 * unknown namespace catches up nothing, silently, docs/http-api.md#test-mode), and *retry set when
 * the database could not be reached. */
static CatchRow *
query_rows(const Sub *s, int64_t from, size_t *nrows, bool *retry)
{
	char		from_s[24],
				member_s[24],
				size_s[24];
	const char *values[5];
	PGresult   *res;
	char	   *err = NULL;
	CatchRow   *rows = NULL;
	bool		grouped = s->fe.kind == FAN_CATEGORY && s->fe.size > 0;

	*nrows = 0;
	*retry = false;
	/* PostgreSQL text cannot hold NUL: such a namespace cannot exist. */
	if (memchr(s->ns, '\0', s->fe.ns_len) != NULL)
		return NULL;
	if (grouped && s->fe.member < 0)
		return NULL;			/* docs/http-api.md#validation: accepted, matches no stream */
	if (s->name && memchr(s->name, '\0', s->fe.name_len) != NULL)
		return NULL;			/* no stream or category can hold NUL */
	snprintf(from_s, sizeof(from_s), "%" PRId64, from);
	values[0] = s->ns;
	values[1] = s->fe.kind == FAN_ALL ? "" : s->name;
	values[2] = from_s;
	snprintf(member_s, sizeof(member_s), "%" PRId64, s->fe.member);
	snprintf(size_s, sizeof(size_s), "%" PRId64, s->fe.size);
	values[3] = grouped ? member_s : NULL;
	values[4] = grouped ? size_s : NULL;
	res = run_catchup(s->fe.kind == FAN_STREAM, values, &err);
	*retry = unreachable(res) && PQresultStatus(res) != PGRES_TUPLES_OK;
	if (res == NULL)
	{
		log_warn("sse catch-up failed: %s", err ? err : "no connection");
		free(err);
		return NULL;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (state && strcmp(state, SQLSTATE_EV_NOT_FOUND) == 0)
			log_debug("sse catch-up: namespace not found");
		else
			log_warn("sse catch-up failed: %s", PQresultErrorMessage(res));
	}
	else
		rows = result_rows(res, nrows);
	PQclear(res);
	return rows;
}

/* A catch-up's rows, as sub_go_live asks about them. */
typedef struct CatchRows
{
	const CatchRow *rows;
	size_t		n;
} CatchRows;

/* Whether the rows (a CatchRows) hold the message at gpos. */
static bool
rows_contain_gpos(const void *arg, int64_t gpos)
{
	const CatchRow *rows = ((const CatchRows *) arg)->rows;
	size_t		lo = 0,
				hi = ((const CatchRows *) arg)->n;

	/* category_get returns ascending global positions. */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (rows[mid].gpos == gpos)
			return true;
		if (rows[mid].gpos < gpos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void
run_barrier(Sub *s)
{
	uint64_t	seq;
	bool		sent;

	/* Marked before sending, so a reconnect racing the send releases it. */
	s->barrier_sent = true;
	seq = s->barrier;
	pthread_mutex_unlock(&s->mu);
	sent = pokes_send_barrier(seq, s->ns, s->fe.ns_len);
	pthread_mutex_lock(&s->mu);
	if (!sent && s->awaiting_barrier && !s->closed && !s->ending)
		sub_release_barrier(s);
	pthread_mutex_unlock(&s->mu);
}

/* Applies one catch-up result to s (docs/http-api.md#modes), then lets it go live with the
 * pokes held meanwhile, or queues the next run. Caller holds s->mu. */
static void
apply_rows(Sub *s, const CatchRow *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		const CatchRow *r = &rows[i];
		const char *stream = r->stream;
		size_t		slen = r->stream_len;

		switch (s->fe.kind)
		{
			case FAN_STREAM:
				if (r->position < s->tracker)
					continue;
				s->tracker = r->position + 1;
				break;
			case FAN_CATEGORY:
				if (r->gpos < s->tracker)
					continue;
				s->tracker = r->gpos + 1;
				break;
			case FAN_ALL:
				if (r->gpos >= s->tracker)
					s->tracker = r->gpos + 1;
				break;
		}
		sub_poke(s, stream, slen, r->position, r->gpos, 2 * SSE_QUEUE_FRAMES);
	}
	if (s->rerun)
	{
		/* The LISTEN connection dropped, or held pokes were discarded,
		 * while this run was in flight. */
		s->rerun = false;
		s->to_end = true;
		catchup_enqueue(s);
	}
	else if (s->to_end && n >= CATCHUP_PAGE)
		catchup_enqueue(s);		/* the next page, from the new tracker */
	else
	{
		s->to_end = false;
		/* all mode: a held poke of a message the rows carried was sent */
		CatchRows	sent = {rows, n};

		sub_go_live(s, s->fe.kind == FAN_ALL ? rows_contain_gpos : NULL, &sent);
	}
	sub_wake(s);
}

/*
 * Runs the catch-up of every Sub in group[0..n) with one query: they were
 * queued for the same query (same namespace, mode, name, consumer group and
 * start), so each gets exactly the rows its own query would have returned.
 * A burst of subscriptions to one category thus costs one query and one
 * parse, not one per subscriber.
 */
static void
run_group(Sub **group, size_t n)
{
	CatchRow   *rows = NULL;
	size_t		nrows = 0;
	bool		any = false;
	bool		retry = false;
	Sub		   *first = NULL;

	if (n == 1 && group[0]->job_barrier)
	{
		Sub		   *s = group[0];

		pthread_mutex_lock(&s->mu);
		if (s->closed || s->ending || !s->awaiting_barrier)
			pthread_mutex_unlock(&s->mu);
		else
			run_barrier(s);		/* unlocks */
		return;
	}
	for (size_t i = 0; i < n; i++)
	{
		Sub		   *s = group[i];

		pthread_mutex_lock(&s->mu);
		if (!s->closed && !s->ending)
		{
			any = true;
			if (first == NULL)
				first = s;
		}
		pthread_mutex_unlock(&s->mu);
	}
	if (!any)
		return;

	/* Name, kind and group are constant; the start is the job's. */
	rows = query_rows(first, group[0]->job_from, &nrows, &retry);
	if (retry)
	{
		/*
		 * Going live now would skip what was written while the database
		 * was out of reach (after a failover: everything the new primary
		 * took before the LISTEN connection found it). The subscriptions
		 * stay in catch-up, holding their live pokes, and run again.
		 */
		struct timespec pause = {0, CATCHUP_RETRY_MS * 1000000L};

		for (size_t i = 0; i < n; i++)
		{
			Sub		   *s = group[i];

			pthread_mutex_lock(&s->mu);
			if (!s->closed && !s->ending)
			{
				s->rerun = false;
				s->to_end = true;
				catchup_enqueue(s);
			}
			pthread_mutex_unlock(&s->mu);
		}
		nanosleep(&pause, NULL);
		return;
	}

	for (size_t i = 0; i < n; i++)
	{
		Sub		   *s = group[i];

		pthread_mutex_lock(&s->mu);
		if (!s->closed && !s->ending)
			apply_rows(s, rows, nrows);
		pthread_mutex_unlock(&s->mu);
	}
	rows_free(rows, nrows);
}

/* Under the job queue's lock (see job_from in sse_sub.h). */
static bool
same_query(const void *head, const void *item)
{
	const Sub  *a = head;
	const Sub  *b = item;

	return !a->job_barrier && !b->job_barrier &&
		a->fe.kind == b->fe.kind && a->job_from == b->job_from &&
		a->fe.member == b->fe.member && a->fe.size == b->fe.size &&
		a->fe.ns_len == b->fe.ns_len &&
		memcmp(a->fe.ns, b->fe.ns, a->fe.ns_len) == 0 &&
		(a->fe.kind == FAN_ALL ||
		 (a->fe.name_len == b->fe.name_len &&
		  memcmp(a->fe.name, b->fe.name, a->fe.name_len) == 0));
}

/* The jobs one query answers (grows, kept across jobs). */
typedef struct Group
{
	Sub		  **subs;
	size_t		n;
	size_t		cap;
} Group;

/* Under the job queue's lock, like same_query. */
static void
group_add(void *item, void *arg)
{
	Group	   *g = arg;

	if (g->n == g->cap)
	{
		Sub		  **ng;

		g->cap = g->cap ? g->cap * 2 : 16;
		ng = realloc(g->subs, g->cap * sizeof(Sub *));
		if (ng == NULL)
			abort();
		g->subs = ng;
	}
	g->subs[g->n++] = item;
}

static void *
worker_main(void *arg)
{
	Group		g = {NULL, 0, 0};
	bool		stop;

	(void) arg;
	for (;;)
	{
		/* the head and every queued job sharing its query (none shares a
		 * barrier's) */
		g.n = 0;
		if (jobq_pop_alike(&jobs, same_query, group_add, &g, &stop) == 0)
			break;
		if (!stop)
			run_group(g.subs, g.n);
		for (size_t i = 0; i < g.n; i++)
			sub_unref(g.subs[i]);
	}
	free(g.subs);
	return NULL;
}

static void
ping_one(FanEntry *e, void *arg)
{
	Sub		   *s = (Sub *) e;

	(void) arg;
	pthread_mutex_lock(&s->mu);
	/*
	 * A client that has not drained its queue needs no keep-alive bytes;
	 * one still waiting for its ": ready" (all mode's barrier) gets none
	 * before it: the go signal is the first frame (docs/http-api.md#frames).
	 */
	if (!s->ending && !s->closed && !s->awaiting_barrier && s->out.len == s->out_off)
	{
		/* docs/http-api.md#frames: a comment, never containing the word "ready". */
		sub_frame(s, ": ping\n\n", 8, 2 * SSE_QUEUE_FRAMES);
		sub_wake(s);
	}
	pthread_mutex_unlock(&s->mu);
}

static void *
heartbeat_main(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&hb_mu);
	while (!hb_stopping)
	{
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += HEARTBEAT_SECONDS;
		while (!hb_stopping && pthread_cond_timedwait(&hb_cond, &hb_mu, &until) == 0)
			;
		if (hb_stopping)
			break;
		pthread_mutex_unlock(&hb_mu);
		fanout_foreach(NULL, 0, ping_one, NULL);
		pthread_mutex_lock(&hb_mu);
	}
	pthread_mutex_unlock(&hb_mu);
	return NULL;
}

static void
heartbeat_set_stopping(bool stop)
{
	pthread_mutex_lock(&hb_mu);
	hb_stopping = stop;
	pthread_cond_broadcast(&hb_cond);
	pthread_mutex_unlock(&hb_mu);
}

bool
catchup_start(void)
{
	jobq_reopen(&jobs);
	heartbeat_set_stopping(false);
	for (nworkers = 0; nworkers < CATCHUP_WORKERS; nworkers++)
		if (pthread_create(&workers[nworkers], NULL, worker_main, NULL) != 0)
		{
			log_error("sse: cannot start catch-up worker");
			return false;
		}
	if (pthread_create(&heartbeat_thread, NULL, heartbeat_main, NULL) != 0)
	{
		log_error("sse: cannot start heartbeat thread");
		return false;
	}
	heartbeat_started = true;
	return true;
}

void
catchup_stop(void)
{
	jobq_stop(&jobs);
	heartbeat_set_stopping(true);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	nworkers = 0;
	if (heartbeat_started)
		pthread_join(heartbeat_thread, NULL);
	heartbeat_started = false;
}
