/*
 * The LISTEN side of pokes (DESIGN.md §6, SQL-API.md §11.2): one dedicated
 * libpq connection, never inside a transaction, watched by one thread.
 * Notifications are delivered by PostgreSQL only after commit, so every
 * poke stands for a committed write (DESIGN.md invariant 5). When the
 * connection drops, notifications are lost until it is back; the thread
 * reconnects with backoff and then has every subscription catch up again.
 */
/* POSIX and GNU interfaces (clock_gettime, getaddrinfo, strdup, ...). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pokes.h"

#include "auth.h"
#include "fanout.h"
#include "json_scan.h"
#include "log.h"
#include "pool.h"
#include "sse_hooks.h"
#include "subwait.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHANNEL "eventodb_poke"
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

static char *url;
static PGconn *conn;
static atomic_bool listening;
/* This process's private channel for barriers (sse_sub.h): notifications
 * of all channels share one queue, delivered in commit order. */
static char sync_channel[64];
static pthread_t thread;
static bool running;
static int wake_pipe[2] = {-1, -1};

typedef struct Poke
{
	StrBuf		ns;
	StrBuf		stream;
	int64_t		position;
	int64_t		gpos;
	bool		has_stream,
				has_position,
				has_gpos,
				truncated,
				deleted;
} Poke;

/* libpq's message without its trailing newline(s), for one-line logs. */
static const char *
pq_message(PGconn *c)
{
	static __thread char buf[512];
	size_t		n;

	snprintf(buf, sizeof(buf), "%s", PQerrorMessage(c));
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	return buf;
}

static PGconn *
listen_connect(void)
{
	/* Keepalives notice a silently vanished server; the URL may override. */
	const char *keys[] = {"dbname", "application_name", "keepalives",
	"keepalives_idle", "keepalives_interval", "keepalives_count", NULL};
	const char *vals[] = {url, "eventodb-listen", "1", "30", "10", "3", NULL};
	PGconn	   *c = PQconnectdbParams(keys, vals, 1);
	PGresult   *res;

	if (PQstatus(c) != CONNECTION_OK)
	{
		log_warn("pokes: cannot connect: %s", pq_message(c));
		PQfinish(c);
		return NULL;
	}
	for (int i = 0; i < 2; i++)
	{
		char		sql[96];

		/* Both names are our own identifiers: [a-z0-9_] only. */
		snprintf(sql, sizeof(sql), "LISTEN %s", i == 0 ? CHANNEL : sync_channel);
		res = PQexec(c, sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			log_warn("pokes: LISTEN failed: %s", pq_message(c));
			PQclear(res);
			PQfinish(c);
			return NULL;
		}
		PQclear(res);
	}
	if (PQsetnonblocking(c, 1) != 0)
		log_warn("pokes: cannot make the connection non-blocking");
	return c;
}

static bool
parse_poke(const char *text, size_t len, Poke *p)
{
	char		err[JS_ERROR_MAX];
	JsIter		it;
	JsSpan		key,
				val;
	StrBuf		k = STRBUF_INIT;
	const char *kname;
	size_t		start;

	if (!js_validate(text, len, err))
		return false;
	start = js_skip_ws(text, len, 0);
	if (start >= len || text[start] != '{')
		return false;
	js_iter_begin(&it, text, len, js_value_at(text, len, start));
	while (js_iter_next(&it, &key, &val))
	{
		JsType		t = js_type(text, val);

		sb_reset(&k);
		js_string_decode(text, key, &k);
		/* an empty key decodes to nothing: k.data stays NULL */
		kname = k.data ? k.data : "";
		if (strcmp(kname, "ns") == 0 && t == JS_STRING)
		{
			sb_reset(&p->ns);
			js_string_decode(text, val, &p->ns);
		}
		else if (strcmp(kname, "stream") == 0 && t == JS_STRING)
		{
			sb_reset(&p->stream);
			js_string_decode(text, val, &p->stream);
			p->has_stream = true;
		}
		else if (strcmp(kname, "position") == 0 && t == JS_NUMBER)
			p->has_position = js_int64(text, val, &p->position);
		else if (strcmp(kname, "globalPosition") == 0 && t == JS_NUMBER)
			p->has_gpos = js_int64(text, val, &p->gpos);
		else if (strcmp(kname, "truncated") == 0)
			p->truncated = t == JS_BOOL && text[val.off] == 't';
		else if (strcmp(kname, "deleted") == 0)
			p->deleted = t == JS_BOOL && text[val.off] == 't';
	}
	sb_free(&k);
	return p->ns.data != NULL;
}

/*
 * A payload too long for NOTIFY names only the global position: read that
 * message to learn its stream and position.
 */
static bool
fetch_truncated(Poke *p)
{
	char		gpos_s[24];
	const char *values[3];
	char	   *err = NULL;
	PGresult   *res;
	bool		ok = false;

	if (memchr(p->ns.data, '\0', p->ns.len) != NULL)
		return false;
	snprintf(gpos_s, sizeof(gpos_s), "%" PRId64, p->gpos);
	values[0] = p->ns.data;
	values[1] = "";
	values[2] = gpos_s;
	res = pool_exec("pokes_fetch_truncated",
					"SELECT eventodb.category_get($1::text, $2::text, $3::bigint, "
					"1::bigint, NULL::text, NULL::bigint, NULL::bigint)",
					3, values, &err);
	if (res == NULL)
	{
		log_warn("pokes: cannot read message %" PRId64 ": %s", p->gpos, err ? err : "no connection");
		free(err);
		return false;
	}
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
	{
		const char *text = PQgetvalue(res, 0, 0);
		size_t		len = (size_t) PQgetlength(res, 0, 0);
		char		jerr[JS_ERROR_MAX];
		JsIter		outer,
					inner;
		JsSpan		key,
					msg,
					el;
		size_t		start = js_skip_ws(text, len, 0);

		if (js_validate(text, len, jerr) && start < len && text[start] == '[')
		{
			js_iter_begin(&outer, text, len, js_value_at(text, len, start));
			if (js_iter_next(&outer, &key, &msg) && js_type(text, msg) == JS_ARRAY)
			{
				int64_t		gpos = -1;
				int			idx = 0;

				js_iter_begin(&inner, text, len, msg);
				while (js_iter_next(&inner, &key, &el))
				{
					if (idx == 1 && js_type(text, el) == JS_STRING)
					{
						sb_reset(&p->stream);
						js_string_decode(text, el, &p->stream);
						p->has_stream = true;
					}
					else if (idx == 3)
						p->has_position = js_int64(text, el, &p->position);
					else if (idx == 4)
						js_int64(text, el, &gpos);
					idx++;
				}
				/* The row must be the one notified, not a later one. */
				ok = p->has_stream && p->has_position && gpos == p->gpos;
			}
		}
	}
	else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warn("pokes: cannot read message %" PRId64 ": %s", p->gpos,
				 PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

static void
handle_notification(const char *payload)
{
	Poke		p = {0};

	if (!parse_poke(payload, strlen(payload), &p))
	{
		log_warn("pokes: unreadable notification ignored");
		goto out;
	}
	if (p.deleted)
	{
		sse_end_namespace(p.ns.data, p.ns.len);
		subwait_namespace_gone(p.ns.data, p.ns.len);
		fanout_forget_ns(p.ns.data, p.ns.len);
		auth_forget_namespace(p.ns.data, p.ns.len);
		goto out;
	}
	if (!p.has_gpos)
		goto out;
	if (p.truncated && !fetch_truncated(&p))
		goto out;
	if (!p.has_stream || !p.has_position)
		goto out;
	fanout_publish(p.ns.data, p.ns.len, p.stream.data ? p.stream.data : "",
				   p.stream.len, p.position, p.gpos);
	subwait_poke(p.ns.data, p.ns.len, p.stream.data ? p.stream.data : "", p.stream.len);
out:
	sb_free(&p.ns);
	sb_free(&p.stream);
}

/* Sleeps ms unless woken for shutdown; returns false when stopping. */
static bool
nap(int ms)
{
	struct pollfd pfd = {.fd = wake_pipe[0], .events = POLLIN};

	if (poll(&pfd, 1, ms) > 0)
		return false;
	return __atomic_load_n(&running, __ATOMIC_ACQUIRE);
}

/* Drains notifications until the connection fails or shutdown. */
static void
listen_loop(void)
{
	for (;;)
	{
		struct pollfd pfd[2] = {
			{.fd = PQsocket(conn), .events = POLLIN},
			{.fd = wake_pipe[0], .events = POLLIN},
		};
		PGnotify   *n;

		if (pfd[0].fd < 0)
			return;
		if (poll(pfd, 2, -1) < 0)
		{
			if (errno == EINTR)
				continue;
			log_error("pokes: poll failed: %s", strerror(errno));
			return;
		}
		if (pfd[1].revents)
			return;
		if (!PQconsumeInput(conn))
		{
			log_warn("pokes: LISTEN connection lost: %s", pq_message(conn));
			return;
		}
		sse_batch_begin();
		while ((n = PQnotifies(conn)) != NULL)
		{
			if (strcmp(n->relname, CHANNEL) == 0)
				handle_notification(n->extra);
			else if (strcmp(n->relname, sync_channel) == 0)
				sse_barrier_passed(strtoull(n->extra, NULL, 10));
			PQfreemem(n);
		}
		sse_batch_end();
		if (PQstatus(conn) != CONNECTION_OK)
			return;
	}
}

static void *
pokes_main(void *arg)
{
	int			backoff = BACKOFF_MIN_MS;

	(void) arg;
	while (__atomic_load_n(&running, __ATOMIC_ACQUIRE))
	{
		if (conn == NULL)
		{
			conn = listen_connect();
			if (conn == NULL)
			{
				if (!nap(backoff))
					break;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			backoff = BACKOFF_MIN_MS;
			log_info("pokes: LISTEN connection re-established");
			atomic_store(&listening, true);
			sse_connection_restored();
		}
		listen_loop();
		atomic_store(&listening, false);
		PQfinish(conn);
		conn = NULL;
	}
	return NULL;
}

/*
 * When writes poke through the extension's deferred poke worker, a plain
 * NOTIFY could overtake pokes of earlier commits, so the barrier goes
 * through eventodb.poke_barrier(), which notifies only after those. An
 * extension without it pokes inside the writing transaction, where
 * pg_notify() is ordered correctly by itself.
 */
static atomic_bool no_poke_barrier;

static PGresult *
notify_barrier(const char *const *values, char **err)
{
	PGresult   *res;
	const char *state;

	if (!atomic_load(&no_poke_barrier))
	{
		res = pool_exec("pokes_barrier",
						"SELECT eventodb.poke_barrier($1::text, $2::text)", 2, values, err);
		if (res == NULL || PQresultStatus(res) == PGRES_TUPLES_OK)
			return res;
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state == NULL || strcmp(state, "42883") != 0)
			return res;
		PQclear(res);
		atomic_store(&no_poke_barrier, true);
	}
	return pool_exec("pokes_barrier_notify", "SELECT pg_notify($1::text, $2::text)",
					 2, values, err);
}

bool
pokes_send_barrier(uint64_t seq)
{
	char		seq_s[24];
	const char *values[2] = {sync_channel, seq_s};
	char	   *err = NULL;
	PGresult   *res;
	bool		ok;

	if (!atomic_load(&listening))
		return false;
	snprintf(seq_s, sizeof(seq_s), "%" PRIu64, seq);
	res = notify_barrier(values, &err);
	if (res == NULL)
	{
		free(err);
		return false;
	}
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		log_warn("sse: barrier failed: %s", PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

bool
pokes_start(const char *db_url)
{
	unsigned char rnd[8];

	url = strdup(db_url);
	if (url == NULL || pipe(wake_pipe) != 0)
		return false;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(sync_channel, sizeof(sync_channel), "eventodb_sync_%ld_%02x%02x%02x%02x%02x%02x%02x%02x",
			 (long) getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	fcntl(wake_pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(wake_pipe[1], F_SETFD, FD_CLOEXEC);
	conn = listen_connect();
	if (conn == NULL)
		log_warn("pokes: no LISTEN connection yet; retrying in the background");
	else
	{
		/* The server may already be accepting subscriptions that saw no
		 * notification so far: let them catch up from their trackers. */
		atomic_store(&listening, true);
		sse_connection_restored();
	}
	running = true;
	if (pthread_create(&thread, NULL, pokes_main, NULL) != 0)
	{
		running = false;
		if (conn)
			PQfinish(conn);
		conn = NULL;
		return false;
	}
	return true;
}

void
pokes_stop(void)
{
	char		b = 1;

	if (!running)
		return;
	__atomic_store_n(&running, false, __ATOMIC_RELEASE);
	atomic_store(&listening, false);
	if (write(wake_pipe[1], &b, 1) < 0)
		log_warn("pokes: cannot wake the LISTEN thread");
	pthread_join(thread, NULL);
	if (conn)
		PQfinish(conn);
	conn = NULL;
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	wake_pipe[0] = wake_pipe[1] = -1;
	free(url);
	url = NULL;
}
