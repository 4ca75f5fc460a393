/* See group_commit.h. Leader/follower: whoever finds a free slot takes the
 * waiting writes (its own among them) and runs them; the others sleep until
 * their write is answered or a slot frees up. */
#include "group_commit.h"

#include "config.h"
#include "coro.h"
#include "deadline.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "strbuf.h"
#include "write_batch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Writes in flight by default. Fewer slots make larger groups, more let
 * more transactions overlap their commits. With a thread per request
 * (threads mode), six alternating runs each on this 2-core class: 2 slots
 * gave the lowest database CPU per write and the highest median
 * throughput at 10 and at 40 clients (docs/benchmarks.md#gateway-overhead);
 * 4 rarely grouped at all. The HTTP loop answers a group's writers without
 * waking threads, and there 1 slot won: +19 % ops/s and -24 % database CPU
 * per write on the reference load (docs/benchmarks.md#the-http-loop). Two
 * groups in flight on one connection (libpq's pipeline mode, so the
 * database never idles between groups) did no better than one.
 */
#define DEFAULT_LEADERS_THREADS 2
#define DEFAULT_LEADERS_LOOP 1
/*
 * A write that waited this long for a slot runs (with whatever waits with
 * it) even though none is free: the slots may be held by writes waiting for
 * a lock, and those must not hold up every other writer of the gateway.
 */
#define MAX_QUEUE_WAIT_MS 20
/* Payload bytes per group: large writes go in smaller groups (or alone),
 * so a group stays far from PostgreSQL's 1 GB value limit and is not
 * copied around as one huge buffer. */
#define MAX_GROUP_BYTES ((size_t) 16 * 1024 * 1024)

/*
 * Every write waiting here - queued, or in the database - holds an HTTP
 * thread, and a lock held elsewhere (an open SQL transaction of a login
 * with write rights that wrote the stream) can keep it waiting for as long
 * as it likes. So the writes of one namespace may hold at most three
 * quarters of the HTTP threads: the rest stay free for reads and for other
 * namespaces. A write beyond that waits for one of them to end - honest
 * writes end within milliseconds - and is answered at once ("retry later")
 * when the oldest has waited STUCK_MS already: then they are held up, and
 * waiting behind them would only hold one more thread.
 */
#define STUCK_MS 2000

typedef struct Entered
{
	const char *ns;
	struct timespec since;
	struct Entered *next;
} Entered;

static Entered *entered;		/* writes inside group_commit_write */
/* no bound until group_commit_init() knows the number of HTTP threads */
static int	max_entered_per_ns = 1 << 30;
static pthread_cond_t gate_changed;

#define BUSY_MSG "too many writes of this namespace are waiting for locks; retry later"

typedef struct Pending
{
	const GcWrite *w;
	GcResult   *out;
	bool		taken;			/* by a leader, into a group */
	bool		done;
	bool		alone;			/* run it alone: its lock was busy, or the
								 * group failed as a whole */
	pthread_cond_t wake;		/* answered, or first in line for a free slot */
	Coro	   *co;				/* loop mode: the coroutine that waits instead */
	struct Pending *next;
} Pending;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static Pending *head,
		   *tail;
static int	in_flight;
static int	max_in_flight = DEFAULT_LEADERS_THREADS;
static unsigned long groups_run,
			writes_run,
			groups_replayed;

static pthread_condattr_t wake_attr;
static pthread_once_t wake_attr_once = PTHREAD_ONCE_INIT;

/* Waits time out on the monotonic clock: a clock step must not stall them. */
static void
init_wake_attr(void)
{
	pthread_condattr_init(&wake_attr);
	pthread_condattr_setclock(&wake_attr, CLOCK_MONOTONIC);
	pthread_cond_init(&gate_changed, &wake_attr);
}

/* The gate's waiters: threads on gate_changed, coroutines parked (coro.h). */
static CoroCond gate_waiters = {.cv = &gate_changed};

static int64_t
mono_ms(const struct timespec *t)
{
	return (int64_t) t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

/*
 * pthread_cond_(timed)wait on cv with mu held (until on CLOCK_MONOTONIC,
 * NULL = none) - or, for a coroutine, a park: the loop thread must go on
 * serving while a write waits.
 */
static int
wait_locked(pthread_cond_t *cv, Coro *co, const struct timespec *until)
{
	bool		woken;

	if (co == NULL)
		return until != NULL ? pthread_cond_timedwait(cv, &mu, until) : pthread_cond_wait(cv, &mu);
	pthread_mutex_unlock(&mu);
	woken = coro_park(until != NULL ? mono_ms(until) : -1);
	pthread_mutex_lock(&mu);
	return woken ? 0 : ETIMEDOUT;
}

static void
wake_pending(Pending *p)
{
	if (p->co != NULL)
		coro_wake(p->co);
	else
		pthread_cond_signal(&p->wake);
}

void
group_commit_init(void)
{
	pthread_once(&wake_attr_once, init_wake_attr);
	max_entered_per_ns = g_config.threads - g_config.threads / 4;
	if (max_entered_per_ns < 1)
		max_entered_per_ns = 1;

	max_in_flight = g_config.http_threads ? DEFAULT_LEADERS_THREADS : DEFAULT_LEADERS_LOOP;
	if (g_config.write_leaders >= 0)
		max_in_flight = g_config.write_leaders;
	else if (g_config.bad_write_leaders != NULL)
		log_warn("EVENTODB_WRITE_LEADERS=%s ignored (want 0..1024)", g_config.bad_write_leaders);
}

static PGresult *
write_single(const GcWrite *w, char **err)
{
	char		evbuf[24];
	const char *params[7] = {
		w->ns, w->stream, w->type, w->data, w->meta,
		(w->id != NULL && w->id_len > 0) ? w->id : NULL,
		NULL,
	};

	if (w->has_expected)
	{
		snprintf(evbuf, sizeof(evbuf), "%lld", (long long) w->expected);
		params[6] = evbuf;
	}
	return pool_exec("stream_write",
					 "SELECT eventodb.stream_write($1::text, $2::text, $3::text, "
					 "$4::jsonb, $5::jsonb, $6::text, $7::bigint)",
					 7, params, err);
}

static size_t
item_bytes(const GcWrite *w)
{
	return strlen(w->ns) + w->stream_len + w->type_len + w->data_len + w->meta_len + w->id_len;
}

static void
put_be(StrBuf *sb, uint64_t v, int bytes)
{
	char		b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (char) (v >> (8 * (bytes - 1 - i)));
	sb_append(sb, b, (size_t) bytes);
}

static void
put_field(StrBuf *sb, const char *s, size_t len)
{
	if (s == NULL)
	{
		put_be(sb, (uint32_t) -1, 4);
		return;
	}
	put_be(sb, (uint32_t) len, 4);
	sb_append(sb, s, len);
}

/* common/write_batch.h's layout */
static void
encode(StrBuf *sb, Pending **group, int n)
{
	put_be(sb, (uint32_t) n, 4);
	for (int i = 0; i < n; i++)
	{
		const GcWrite *w = group[i]->w;

		put_field(sb, w->ns, strlen(w->ns));
		put_field(sb, w->stream, w->stream_len);
		put_field(sb, w->type, w->type_len);
		put_field(sb, w->data, w->data_len);
		put_field(sb, w->meta, w->meta_len);
		put_field(sb, w->id, w->id_len);
		put_be(sb, w->has_expected ? 1 : 0, 1);
		put_be(sb, (uint64_t) (w->has_expected ? w->expected : 0), 8);
	}
}

static char *
field_copy(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL
		: mem_dup0(PQgetvalue(res, row, col), (size_t) PQgetlength(res, row, col));
}

/* A copy of s (NULL stays NULL); aborts when out of memory, as mem_dup0. */
static char *
dup_or_null(const char *s)
{
	return s != NULL ? mem_dup0(s, strlen(s)) : NULL;
}

/*
 * A write run alone, as a GcResult: its value, or the fields
 * errors_reply_sql() would answer with (the same reply, byte for byte).
 * Takes res and err.
 */
static void
result_from_single(GcResult *out, PGresult *res, char *err)
{
	const char *primary;

	if (res == NULL)
		out->message = dup_or_null(err ? err : "database unavailable");
	else if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		out->result = PQgetisnull(res, 0, 0) ? mem_dup0("null", 4) : field_copy(res, 0, 0);
	else
	{
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		if (primary == NULL)
			primary = PQresultErrorMessage(res);
		if (primary == NULL || *primary == '\0')
			primary = PQresStatus(PQresultStatus(res));
		out->message = dup_or_null(primary);
		out->sqlstate = dup_or_null(PQresultErrorField(res, PG_DIAG_SQLSTATE));
		out->detail = dup_or_null(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
	}
	PQclear(res);
	free(err);
}

static void
run_single(const GcWrite *w, GcResult *out)
{
	char	   *err = NULL;
	PGresult   *res = write_single(w, &err);

	result_from_single(out, res, err);
}

/* The reason a failed group gives every write when it cannot be replayed. */
static char *
group_failure(const PGresult *res, char *err)
{
	const char *primary;

	if (res == NULL)
		return err != NULL ? err : strdup("database unavailable");
	free(err);
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (primary == NULL || *primary == '\0')
		primary = PQresultErrorMessage(res);
	if (primary == NULL || *primary == '\0')
		primary = PQresStatus(PQresultStatus(res));
	return strdup(primary);
}

static void
run_group(Pending **group, int n)
{
	StrBuf		sb = STRBUF_INIT;
	char	   *err = NULL;
	bool		intact = false;
	PGresult   *res;
	int			len;
	const int	format = 1;

	metrics_group_commit(n);
	if (n == 1)
	{
		run_single(group[0]->w, group[0]->out);
		return;
	}
	encode(&sb, group, n);
	len = (int) sb.len;
	res = pool_exec_params("stream_write_batch",
						   "SELECT result, sqlstate, message, detail"
						   " FROM eventodb.stream_write_batch($1::bytea)",
						   1, (const char *const *) &sb.data, &len, &format, &intact, &err);
	sb_free(&sb);
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == n &&
		PQnfields(res) == 4)
	{
		for (int i = 0; i < n; i++)
		{
			GcResult   *o = group[i]->out;

			if (PQgetisnull(res, i, 0) && PQgetisnull(res, i, 1))
			{
				group[i]->alone = true;		/* left out: a lock it needs is busy */
				continue;
			}
			o->result = field_copy(res, i, 0);
			o->sqlstate = field_copy(res, i, 1);
			o->message = field_copy(res, i, 2);
			o->detail = field_copy(res, i, 3);
			if (o->result == NULL && o->message == NULL)
			{
				/* no answer for it: an error, as for an answer lost on the way */
				group_commit_result_free(o);
				o->message = dup_or_null("out of memory reading the write's result");
			}
		}
		PQclear(res);
		free(err);
		return;
	}
	if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR && intact &&
		PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL)
	{
		/* rolled back: nothing of the group was written */
		log_debug("group of %d writes failed (%s); replaying them one by one", n,
				  PQresultErrorField(res, PG_DIAG_SQLSTATE));
		for (int i = 0; i < n; i++)
			group[i]->alone = true;
		pthread_mutex_lock(&mu);
		groups_replayed++;
		pthread_mutex_unlock(&mu);
		PQclear(res);
		free(err);
		return;
	}
	/* cut off: the outcome is unknown, as it would be for a single write */
	{
		char	   *reason = group_failure(res, err);

		for (int i = 0; i < n; i++)
			group[i]->out->message = dup_or_null(reason);
		free(reason);
		PQclear(res);
	}
}

static int64_t
ms_since(const struct timespec *t, const struct timespec *now)
{
	return (int64_t) (now->tv_sec - t->tv_sec) * 1000 + (now->tv_nsec - t->tv_nsec) / 1000000;
}

/*
 * Lets the write in (linked into `entered`), or refuses it when its
 * namespace's writes hold all the threads they may and are held up.
 * Called and returns with mu held.
 */
static bool
gate_enter(Entered *me)
{
	for (;;)
	{
		struct timespec now;
		const Entered *oldest = NULL;
		int			same = 0;
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &now);
		for (const Entered *e = entered; e != NULL; e = e->next)
			if (strcmp(e->ns, me->ns) == 0)
			{
				same++;
				if (oldest == NULL || ms_since(&e->since, &oldest->since) > 0)
					oldest = e;
			}
		if (same < max_entered_per_ns)
		{
			me->since = now;
			me->next = entered;
			entered = me;
			return true;
		}
		if (ms_since(&oldest->since, &now) >= STUCK_MS)
			return false;
		until = oldest->since;
		until.tv_sec += STUCK_MS / 1000;
		until.tv_nsec += (long) (STUCK_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L)
		{
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		coro_cond_timedwait(&gate_waiters, &mu, CLOCK_MONOTONIC, &until);
	}
}

static void
gate_leave(Entered *me)
{
	for (Entered **p = &entered; *p != NULL; p = &(*p)->next)
		if (*p == me)
		{
			*p = me->next;
			break;
		}
	coro_cond_broadcast(&gate_waiters);
}

static void
write_grouped(const GcWrite *w, GcResult *out);

void
group_commit_write(const GcWrite *w, GcResult *out)
{
	Entered		me = {.ns = w->ns};
	bool		in;

	memset(out, 0, sizeof(*out));
	pthread_once(&wake_attr_once, init_wake_attr);
	pthread_mutex_lock(&mu);
	in = gate_enter(&me);
	pthread_mutex_unlock(&mu);
	if (!in)
	{
		out->message = dup_or_null(BUSY_MSG);
		return;
	}
	write_grouped(w, out);
	pthread_mutex_lock(&mu);
	gate_leave(&me);
	pthread_mutex_unlock(&mu);
}

static void
write_grouped(const GcWrite *w, GcResult *out)
{
	Pending		me = {.w = w, .out = out, .co = coro_self()};
	struct timespec deadline;
	bool		overdue = false;

	if (max_in_flight == 0)
	{
		run_single(w, out);
		return;
	}
	pthread_cond_init(&me.wake, &wake_attr);
	pthread_mutex_lock(&mu);
	if (tail != NULL)
		tail->next = &me;
	else
		head = &me;
	tail = &me;
	deadline = deadline_after(CLOCK_MONOTONIC, MAX_QUEUE_WAIT_MS);
	while (!me.done)
	{
		Pending    *group[WRITE_BATCH_MAX];
		int			n = 0;

		/* Only the first in line takes a free slot: it takes the line. */
		if (!overdue && (in_flight >= max_in_flight || head != &me))
		{
			if (wait_locked(&me.wake, me.co, &deadline) == ETIMEDOUT)
				overdue = true;
			continue;
		}
		if (me.taken)
		{
			/* in a group on its way: overdue or not, wait for it */
			wait_locked(&me.wake, me.co, NULL);
			continue;
		}
		for (size_t bytes = 0; head != NULL && n < WRITE_BATCH_MAX;)
		{
			bytes += item_bytes(head->w);
			if (n > 0 && bytes > MAX_GROUP_BYTES)
				break;
			head->taken = true;
			group[n++] = head;
			head = head->next;
		}
		if (head == NULL)
			tail = NULL;
		in_flight++;
		groups_run++;
		writes_run += (unsigned long) n;
		pthread_mutex_unlock(&mu);

		run_group(group, n);

		pthread_mutex_lock(&mu);
		in_flight--;
		/*
		 * The next leader first: in loop mode it then sends the next group
		 * before the loop answers this one's writers, so the database is
		 * not left idle while their responses go out.
		 */
		if (head != NULL)
			wake_pending(head);
		for (int i = 0; i < n; i++)
		{
			group[i]->done = true;
			if (group[i] != &me)
				wake_pending(group[i]);
		}
	}
	pthread_mutex_unlock(&mu);
	pthread_cond_destroy(&me.wake);
	if (me.alone)
		run_single(w, out);
}

void
group_commit_stats(unsigned long *groups, unsigned long *writes, unsigned long *replayed)
{
	pthread_mutex_lock(&mu);
	*groups = groups_run;
	*writes = writes_run;
	*replayed = groups_replayed;
	pthread_mutex_unlock(&mu);
}

void
group_commit_result_free(GcResult *r)
{
	free(r->result);
	free(r->sqlstate);
	free(r->message);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}
