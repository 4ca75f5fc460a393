/*
 * The LISTEN side of pokes (docs/architecture.md#pokes, docs/sql-api.md#pokes-and-write-mode): one dedicated
 * libpq connection, never inside a transaction, watched by one thread.
 * Notifications are delivered by PostgreSQL only after commit, so every
 * poke stands for a committed write (docs/architecture.md#invariants invariant 5). When the
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
#include "metrics.h"
#include "names.h"
#include "pool.h"
#include "sqlstate.h"
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
#define BACKOFF_MAX_MS 1000
/*
 * With no subscription and no waiting fetch in this gateway, the pokes
 * only matter for the namespace deletions they carry (the token cache):
 * the thread then collects them this long per wake-up instead of waking
 * once per commit - at thousands of writes a second those wake-ups were a
 * tenth of the gateway's CPU. Nothing is lost meanwhile: the notifications
 * wait in the socket, and a subscription that starts reads the store first.
 * Only a namespace's deletion notice (it names the key "deleted", which no
 * data poke does) is then read; the data pokes are counted and dropped.
 */
#define UNWATCHED_LINGER_MS 20

static char *url;
static PGconn *conn;
static atomic_bool listening;
/* This process's private channel for barriers (sse_sub.h): notifications
 * of all channels share one queue, delivered in commit order. */
static char sync_channel[64];
/* The extension's private channel of every namespace's pokes but the
 * default one's (eventodb.poke_channel(), docs/security.md); empty with an
 * extension that has none. Only the LISTEN thread uses it. */
static char private_channel[64];
static pthread_t thread;
static bool running;
static int wake_pipe[2] = {-1, -1};
static PokeHooks hooks;

typedef struct Poke
{
	StrBuf		ns;
	StrBuf		stream;
	int64_t		position;
	int64_t		gpos;
	bool		has_stream,
				has_position,
				has_gpos,
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

/*
 * The private poke channel's name, read on the LISTEN connection; false
 * when it cannot be read now (the caller retries). A database whose
 * extension has no private channel (version 1.0) pokes on CHANNEL only.
 */
static bool
read_private_channel(PGconn *c)
{
	PGresult   *res = PQexec(c, "SELECT eventodb.poke_channel()");
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	bool		ok = true;

	private_channel[0] = '\0';
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
	{
		const char *v = PQgetvalue(res, 0, 0);
		size_t		n = strlen(v);

		/* our own identifier: [a-z0-9_] only, so it can go into LISTEN as is */
		if (n > 0 && n < sizeof(private_channel) && strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") == n)
			memcpy(private_channel, v, n + 1);
		else
		{
			log_warn("pokes: eventodb.poke_channel() returned an unusable name");
			ok = false;
		}
	}
	else if (state == NULL || (strcmp(state, SQLSTATE_UNDEFINED_FUNCTION) != 0 && strcmp(state, SQLSTATE_INVALID_SCHEMA_NAME) != 0))
	{
		log_warn("pokes: cannot read the private poke channel: %s", pq_message(c));
		ok = false;
	}
	PQclear(res);
	return ok;
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
	if (!read_private_channel(c))
	{
		PQfinish(c);
		return NULL;
	}
	for (int i = 0; i < 3; i++)
	{
		const char *channel = i == 0 ? CHANNEL : i == 1 ? sync_channel : private_channel;
		char		sql[96];

		if (*channel == '\0')
			continue;
		/* All three names are our own identifiers: [a-z0-9_] only. */
		snprintf(sql, sizeof(sql), "LISTEN %s", channel);
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
		else if (strcmp(kname, "deleted") == 0)
			p->deleted = t == JS_BOOL && text[val.off] == 't';
	}
	sb_free(&k);
	return p->ns.data != NULL;
}

/*
 * Pokes are hints (docs/security.md, "Pokes"): any database login may
 * NOTIFY this channel, so nothing a payload claims reaches a subscriber
 * unchecked. The data pokes of one drained batch are collected; for each
 * namespace with subscriptions their global positions are looked up in
 * committed state (eventodb.category_get over the whole namespace, which
 * returns only messages below the namespace's commit horizon), and only the
 * ones found are published - with the stream and position read there, not
 * the payload's. A forged position thus never moves a tracker or the
 * namespace's high-water mark, and a truncated payload needs no extra step.
 * A "deleted" notice ends streams only once eventodb.namespace_exists says
 * the namespace is gone.
 */

/* Positions one verification query covers: a cluster of pokes whose
 * global positions lie within this span is checked by one read of at
 * most that many rows. */
#define VERIFY_SPAN 1000

typedef struct Claim
{
	Poke		p;
	size_t		category_len;	/* of the claimed stream; 0: none claimed */
	bool		verified;
	size_t		order;			/* arrival */
} Claim;

typedef struct Batch
{
	Claim	   *claims;
	size_t		n,
				cap;
} Batch;

static void
batch_add(Batch *b, Poke *p)
{
	if (b->n == b->cap)
	{
		size_t		nc = b->cap ? b->cap * 2 : 64;
		Claim	   *nl = realloc(b->claims, nc * sizeof(Claim));

		if (nl == NULL)
			abort();
		b->claims = nl;
		b->cap = nc;
	}
	b->claims[b->n].p = *p;
	b->claims[b->n].category_len = p->stream.data ? names_category_len(p->stream.data, p->stream.len) : 0;
	b->claims[b->n].verified = false;
	b->claims[b->n].order = b->n;
	b->n++;
	memset(p, 0, sizeof(*p));
}

static bool
same_ns(const Claim *a, const Claim *b)
{
	/* an empty name may come with a NULL pointer, which memcmp must not see */
	return a->p.ns.len == b->p.ns.len &&
		(a->p.ns.len == 0 || memcmp(a->p.ns.data, b->p.ns.data, a->p.ns.len) == 0);
}

static bool
same_category(const Claim *a, const Claim *b)
{
	return a->category_len == b->category_len &&
		(a->category_len == 0 ||
		 memcmp(a->p.stream.data, b->p.stream.data, a->category_len) == 0);
}

static int
by_ns_category_gpos(const void *x, const void *y)
{
	const Claim *a = x,
			   *b = y;
	int			c = names_compare(a->p.ns.data, a->p.ns.len, b->p.ns.data, b->p.ns.len);

	if (c != 0)
		return c;
	c = names_compare(a->p.stream.data, a->category_len, b->p.stream.data, b->category_len);
	if (c != 0)
		return c;
	if (a->p.gpos != b->p.gpos)
		return a->p.gpos < b->p.gpos ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int
by_order(const void *x, const void *y)
{
	const Claim *a = x,
			   *b = y;

	return a->order < b->order ? -1 : a->order > b->order;
}

/*
 * Marks the claims c[0..n) (one namespace and claimed category, ascending
 * gpos, all within VERIFY_SPAN) found in committed state, taking stream and
 * position from the rows. The read is of the claimed category, below that
 * category's horizon: a writer holding Message DB's category lock pokes
 * right after its commit, when another category's writer may still hold
 * back the namespace's horizon. Claims without a stream (a payload too long
 * for NOTIFY) are read over the whole namespace. False when the read
 * failed (the claims stay unverified); a namespace that is gone is no
 * failure.
 */
static bool
verify_cluster(Claim *c, size_t n)
{
	char		from_s[24],
				count_s[24];
	const char *values[4];
	char	   *err = NULL;
	PGresult   *res;
	char	   *category;
	const char *text;
	size_t		len,
				start,
				k = 0;
	char		jerr[JS_ERROR_MAX];
	JsIter		outer;
	JsSpan		key,
				msg;
	StrBuf		row_stream = STRBUF_INIT;

	snprintf(from_s, sizeof(from_s), "%" PRId64, c[0].p.gpos);
	snprintf(count_s, sizeof(count_s), "%" PRId64, c[n - 1].p.gpos - c[0].p.gpos + 1);
	category = strndup(c[0].category_len ? c[0].p.stream.data : "", c[0].category_len);
	if (category == NULL)
		abort();
	values[0] = c[0].p.ns.data;
	values[1] = category;
	values[2] = from_s;
	values[3] = count_s;
	res = pool_exec("pokes_verify",
					"SELECT eventodb.category_get($1::text, $2::text, $3::bigint, "
					"$4::bigint, NULL::text, NULL::bigint, NULL::bigint)",
					4, values, &err);
	free(category);
	if (res == NULL)
	{
		log_warn("pokes: cannot check pokes against the store: %s", err ? err : "no connection");
		free(err);
		return false;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* a poke for a namespace that does not exist (any more) */
		bool		gone = state != NULL && strcmp(state, SQLSTATE_EV_NOT_FOUND) == 0;

		if (!gone)
			log_warn("pokes: cannot check pokes against the store: %s",
					 PQresultErrorMessage(res));
		PQclear(res);
		return gone;
	}
	text = PQgetvalue(res, 0, 0);
	len = (size_t) PQgetlength(res, 0, 0);
	start = js_skip_ws(text, len, 0);
	if (js_validate(text, len, jerr) && start < len && text[start] == '[')
	{
		js_iter_begin(&outer, text, len, js_value_at(text, len, start));
		while (js_iter_next(&outer, &key, &msg) && k < n)
		{
			JsIter		inner;
			JsSpan		el;
			int			idx = 0;
			int64_t		gpos = -1,
						position = 0;
			bool		has_pos = false;
			JsSpan		stream = {0};
			bool		has_stream = false;

			if (js_type(text, msg) != JS_ARRAY)
				continue;
			js_iter_begin(&inner, text, len, msg);
			while (js_iter_next(&inner, &key, &el))
			{
				if (idx == 1 && js_type(text, el) == JS_STRING)
				{
					stream = el;
					has_stream = true;
				}
				else if (idx == 3)
					has_pos = js_int64(text, el, &position);
				else if (idx == 4)
					js_int64(text, el, &gpos);
				idx++;
			}
			if (!has_stream || !has_pos)
				continue;
			while (k < n && c[k].p.gpos < gpos)
				k++;
			sb_reset(&row_stream);
			js_string_decode(text, stream, &row_stream);
			for (size_t j = k; j < n && c[j].p.gpos == gpos; j++)
			{
				/* a claim naming another message than the one stored at its
				 * global position is forged: dropped, or a subscriber would
				 * get this message twice once its real poke comes */
				if (c[j].p.has_stream && c[j].p.has_position &&
					(c[j].p.position != position || c[j].p.stream.len != row_stream.len ||
					 (row_stream.len > 0 &&
					  memcmp(c[j].p.stream.data, row_stream.data, row_stream.len) != 0)))
					continue;
				sb_reset(&c[j].p.stream);
				sb_append(&c[j].p.stream, row_stream.data ? row_stream.data : "", row_stream.len);
				c[j].p.position = position;
				c[j].verified = true;
			}
		}
	}
	sb_free(&row_stream);
	PQclear(res);
	return true;
}

/* One message is published once per batch, however many claims name it
 * (a replayed payload): c[0..n) is in gpos, then arrival, order. */
static void
drop_repeats(Claim *c, size_t n)
{
	bool		any = false;
	int64_t		last = 0;

	for (size_t j = 0; j < n; j++)
	{
		if (!c[j].verified)
			continue;
		if (any && c[j].p.gpos == last)
			c[j].verified = false;
		any = true;
		last = c[j].p.gpos;
	}
}

/* Whether ns has open subscriptions; pokes of one without need no check. */
static bool
ns_watched(const Claim *c)
{
	return fanout_ns_watched(c->p.ns.data, c->p.ns.len);
}

/* Checks the collected pokes and publishes the ones found, in arrival order. */
static void
batch_flush(Batch *b)
{
	bool		unchecked = false;

	if (b->n == 0)
		return;
	qsort(b->claims, b->n, sizeof(Claim), by_ns_category_gpos);
	for (size_t i = 0; i < b->n;)
	{
		size_t		end = i;

		while (end < b->n && same_ns(&b->claims[i], &b->claims[end]))
			end++;
		if (memchr(b->claims[i].p.ns.data, '\0', b->claims[i].p.ns.len) != NULL)
			;					/* PostgreSQL text cannot hold NUL: no such namespace */
		else if (!ns_watched(&b->claims[i]))
		{
			/* nobody to tell; a later subscription reads from the store */
			fanout_forget_ns(b->claims[i].p.ns.data, b->claims[i].p.ns.len);
			for (size_t j = i; j < end; j++)
				subwait_poke(b->claims[j].p.ns.data, b->claims[j].p.ns.len,
							 b->claims[j].p.stream.data ? b->claims[j].p.stream.data : "",
							 b->claims[j].p.stream.len);
		}
		else
			for (size_t j = i; j < end;)
			{
				size_t		k = j;

				while (k < end && same_category(&b->claims[j], &b->claims[k]) &&
					   b->claims[k].p.gpos - b->claims[j].p.gpos < VERIFY_SPAN)
					k++;
				/* no category or stream holds NUL either */
				/* a failed read is tried once more (the pool replaces a
				 * broken connection) before the pokes are given up */
				if (b->claims[j].p.gpos > 0 &&
					memchr(b->claims[j].p.stream.data ? b->claims[j].p.stream.data : "", '\0',
						   b->claims[j].category_len) == NULL &&
					!verify_cluster(&b->claims[j], k - j) &&
					!verify_cluster(&b->claims[j], k - j))
					unchecked = true;
				drop_repeats(&b->claims[j], k - j);
				j = k;
			}
		i = end;
	}
	qsort(b->claims, b->n, sizeof(Claim), by_order);
	for (size_t i = 0; i < b->n; i++)
	{
		Poke	   *p = &b->claims[i].p;

		if (b->claims[i].verified)
		{
			fanout_publish(p->ns.data, p->ns.len, p->stream.data ? p->stream.data : "",
						   p->stream.len, p->position, p->gpos);
			subwait_poke(p->ns.data, p->ns.len, p->stream.data ? p->stream.data : "",
						 p->stream.len);
		}
		sb_free(&p->ns);
		sb_free(&p->stream);
	}
	b->n = 0;
	if (unchecked)
	{
		/* as after a lost LISTEN connection: every subscription reads
		 * from its tracker, so no committed message goes unannounced */
		log_warn("pokes: some pokes could not be checked; every subscription catches up from the store");
		hooks.connection_restored();
	}
}

/* A "deleted" notice stands only when the namespace is really gone. */
static bool
namespace_gone(const Poke *p)
{
	const char *values[1] = {p->ns.data};
	char	   *err = NULL;
	PGresult   *res;
	bool		gone = false;

	if (memchr(p->ns.data, '\0', p->ns.len) != NULL)
		return false;
	res = pool_exec("pokes_namespace_exists", "SELECT eventodb.namespace_exists($1::text)",
					1, values, &err);
	if (res == NULL)
	{
		log_warn("pokes: cannot check a namespace deletion: %s", err ? err : "no connection");
		free(err);
		return false;
	}
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		gone = PQgetvalue(res, 0, 0)[0] == 'f';
	else
		log_warn("pokes: cannot check a namespace deletion: %s", PQresultErrorMessage(res));
	PQclear(res);
	return gone;
}

static void
handle_notification(const char *payload, Batch *b)
{
	Poke		p = {0};

	if (!parse_poke(payload, strlen(payload), &p))
	{
		log_warn("pokes: unreadable notification ignored");
		goto out;
	}
	if (p.deleted)
	{
		/* A re-check of cached tokens costs one query: no proof needed. */
		auth_forget_namespace(p.ns.data, p.ns.len);
		batch_flush(b);
		if (namespace_gone(&p))
		{
			hooks.namespace_deleted(p.ns.data, p.ns.len);
			subwait_namespace_gone(p.ns.data, p.ns.len);
			fanout_forget_ns(p.ns.data, p.ns.len);
		}
		goto out;
	}
	if (!p.has_gpos)
		goto out;
	metrics_poke_received();
	batch_add(b, &p);
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
	static Batch batch;
	bool		watched,
				was_watched = true;

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
		/* after the input is read: the pokes below are of commits made before */
		watched = fanout_count() > 0 || subwait_any();
		if (!watched && was_watched)
			fanout_forget_all();	/* what unwatched pokes did one namespace at a time */
		was_watched = watched;
		hooks.batch_begin();
		while ((n = PQnotifies(conn)) != NULL)
		{
			if (strcmp(n->relname, CHANNEL) == 0 ||
				(private_channel[0] != '\0' && strcmp(n->relname, private_channel) == 0))
			{
				if (watched || strstr(n->extra, "\"deleted\"") != NULL)
					handle_notification(n->extra, &batch);
				else
					metrics_poke_received();	/* nobody to tell, nothing to check */
			}
			else if (strcmp(n->relname, sync_channel) == 0)
			{
				/* pokes before a barrier are published before it passes */
				batch_flush(&batch);
				hooks.barrier_passed(strtoull(n->extra, NULL, 10));
			}
			PQfreemem(n);
		}
		batch_flush(&batch);
		hooks.batch_end();
		if (PQstatus(conn) != CONNECTION_OK)
			return;
		if (!watched && !nap(UNWATCHED_LINGER_MS))
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
			hooks.connection_restored();
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
/* An extension before 1.1 has no barrier of one namespace: all of them. */
static atomic_bool no_ns_barrier;

/*
 * One form of the barrier, unless an older extension was seen to lack it
 * (*missing). True when *res is the answer (a result or a failure); false
 * when the form is missing, now or before, and the next one is to be tried.
 */
static bool
try_barrier(atomic_bool *missing, const char *stmt, const char *sql, int nparams,
			const char *const *values, char **err, PGresult **res)
{
	const char *state;

	if (atomic_load(missing))
		return false;
	*res = pool_exec(stmt, sql, nparams, values, err);
	if (*res == NULL || PQresultStatus(*res) == PGRES_TUPLES_OK)
		return true;
	state = PQresultErrorField(*res, PG_DIAG_SQLSTATE);
	if (state == NULL || strcmp(state, SQLSTATE_UNDEFINED_FUNCTION) != 0)
		return true;
	PQclear(*res);
	*res = NULL;
	atomic_store(missing, true);
	return false;
}

static PGresult *
notify_barrier(const char *const *values, char **err)
{
	PGresult   *res;

	if (values[2] != NULL &&
		try_barrier(&no_ns_barrier, "pokes_barrier_ns",
					"SELECT eventodb.poke_barrier($1::text, $2::text, $3::text)",
					3, values, err, &res))
		return res;
	if (try_barrier(&no_poke_barrier, "pokes_barrier",
					"SELECT eventodb.poke_barrier($1::text, $2::text)", 2, values, err, &res))
		return res;
	return pool_exec("pokes_barrier_notify", "SELECT pg_notify($1::text, $2::text)",
					 2, values, err);
}

bool
pokes_send_barrier(uint64_t seq, const char *ns, size_t ns_len)
{
	char		seq_s[24];
	/* PostgreSQL text cannot hold NUL: such a namespace waits for all */
	const char *values[3] = {sync_channel, seq_s,
	memchr(ns, '\0', ns_len) == NULL ? ns : NULL};
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
pokes_start(const char *db_url, const PokeHooks *h)
{
	unsigned char rnd[8];

	hooks = *h;
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
		hooks.connection_restored();
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
