/* See pool.h. One slot per HTTP worker thread, so a request never queues
 * behind another for a connection in the steady state; connections open
 * lazily and are checked for a server-side close before use (unless just
 * used, FRESH_MS), so a PostgreSQL restart costs no failed request once it
 * is back. */
#include "pool.h"

#include "coro.h"
#include "deadline.h"

#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define START_WAIT_MS 30000		/* test mode: how long requests wait for the DB */
#define SLOT_WAIT_MS 10000		/* all connections busy: how long to queue */
/*
 * A connection given back this recently is not checked for a server-side
 * close before its next use: under load the check (a poll()) was 3 % of
 * the gateway's CPU, and a server that restarts is down far longer, so a
 * connection it closed is always older than this by the time it is back.
 */
#define FRESH_MS 5
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000

typedef enum PoolState { POOL_UNINIT, POOL_STARTING, POOL_READY, POOL_FAILED } PoolState;

typedef struct Slot
{
	PGconn	   *conn;
	uint64_t	conn_id;		/* names conn for coro_wait_fd; never reused */
	bool		busy;
	int64_t		released_ms;	/* monotonic; when it was last given back */
	char	  **prepared;		/* statement names prepared on conn */
	size_t		nprepared;
} Slot;

typedef struct Pool
{
	pthread_mutex_t lock;
	pthread_cond_t changed;
	PoolState	state;
	char	   *start_failure;
	char	   *url;
	Slot	   *slots;
	int			nslots;
	int64_t		next_attempt_ms;	/* reconnect backoff, monotonic ms */
	int64_t		backoff_ms;
	char	   *last_connect_error;
	int			waiting;		/* requests in acquire()'s wait for a slot */
	CoroCond	waiters;		/* threads on `changed`, coroutines parked (coro.h) */
} Pool;

/* Numbers the connections the pools open (Slot.conn_id). */
static atomic_uint_fast64_t conn_ids;

/* The primary's pool, and the optional one of --read-db-url (pool_read_*). */
static Pool main_pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER,
.state = POOL_UNINIT, .waiters = {.cv = &main_pool.changed}};
static Pool read_pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER,
.state = POOL_UNINIT, .waiters = {.cv = &read_pool.changed}};

/* Wakes every waiter of p: threads and coroutines. p->lock held. */
static void
changed(Pool *p)
{
	coro_cond_broadcast(&p->waiters);
}

/* A wait on p's change (dl on CLOCK_REALTIME); p->lock held. */
static int
wait_changed(Pool *p, const struct timespec *dl)
{
	return coro_cond_timedwait(&p->waiters, &p->lock, CLOCK_REALTIME, dl);
}

/* libpq messages end in a newline and may span lines; logs want one line. */
static char *
one_line(const char *msg)
{
	char	   *s = strdup(msg ? msg : "unknown error");
	size_t		n;

	if (s == NULL)
		abort();
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	return s;
}

PGconn *
pool_connect(const char *db_url, char **err)
{
	/*
	 * Defaults first so values in the URL override them. Over TCP, a
	 * vanished server (partition, dead host) is noticed within about a
	 * minute instead of the kernel's two hours, so no request hangs on it.
	 */
	const char *const keys[] = {
		"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout", "dbname", "fallback_application_name", NULL
	};
	const char *const vals[] = {"5", "30", "10", "3", "30000", db_url, "eventodb", NULL};
	PGconn	   *conn = PQconnectdbParams(keys, vals, 1);

	if (conn == NULL)
	{
		*err = strdup("out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		*err = one_line(PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static void
slot_set(Slot *s, PGconn *conn)
{
	s->conn = conn;
	s->conn_id = atomic_fetch_add(&conn_ids, 1) + 1;
}

static void
slot_close(Slot *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
	for (size_t i = 0; i < s->nprepared; i++)
		free(s->prepared[i]);
	free(s->prepared);
	s->prepared = NULL;
	s->nprepared = 0;
}

static bool
init_pool(Pool *p, const char *db_url, int size, char **err)
{
	PGconn	   *first;

	if (size < 1)
		size = 1;
	first = pool_connect(db_url, err);
	if (first == NULL)
		return false;
	pthread_mutex_lock(&p->lock);
	p->url = strdup(db_url);
	p->slots = calloc((size_t) size, sizeof(Slot));
	if (p->url == NULL || p->slots == NULL)
		abort();
	p->nslots = size;
	slot_set(&p->slots[0], first);
	p->state = POOL_READY;
	changed(p);
	pthread_mutex_unlock(&p->lock);
	return true;
}

bool
pool_init(const char *db_url, int size, char **err)
{
	return init_pool(&main_pool, db_url, size, err);
}

void
pool_mark_starting(void)
{
	Pool	   *p = &main_pool;

	pthread_mutex_lock(&p->lock);
	if (p->state == POOL_UNINIT)
		p->state = POOL_STARTING;
	pthread_mutex_unlock(&p->lock);
}

void
pool_fail_start(const char *why)
{
	Pool	   *p = &main_pool;

	pthread_mutex_lock(&p->lock);
	if (p->state != POOL_READY)
	{
		free(p->start_failure);
		p->start_failure = strdup(why);
		p->state = POOL_FAILED;
	}
	changed(p);
	pthread_mutex_unlock(&p->lock);
}

static void
shutdown_pool(Pool *p)
{
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->nslots; i++)
		if (!p->slots[i].busy)
			slot_close(&p->slots[i]);
	p->state = POOL_FAILED;
	free(p->start_failure);
	p->start_failure = strdup("server is shutting down");
	changed(p);
	pthread_mutex_unlock(&p->lock);
}

void
pool_shutdown(void)
{
	shutdown_pool(&main_pool);
	shutdown_pool(&read_pool);
}

int
pool_open_count(void)
{
	Pool	   *p = &main_pool;
	int			n = 0;

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->nslots; i++)
		if (p->slots[i].conn != NULL)
			n++;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void
pool_usage(PoolUsage *u)
{
	Pool	   *p = &main_pool;

	pthread_mutex_lock(&p->lock);
	u->size = p->nslots;
	u->busy = 0;
	u->idle = 0;
	for (int i = 0; i < p->nslots; i++)
	{
		if (p->slots[i].busy)
			u->busy++;
		else if (p->slots[i].conn != NULL)
			u->idle++;
	}
	u->waiting = p->waiting;
	pthread_mutex_unlock(&p->lock);
}

static char *
fmt_error(const char *prefix, const char *detail)
{
	StrBuf		sb = STRBUF_INIT;

	sb_puts(&sb, prefix);
	if (detail)
	{
		sb_puts(&sb, ": ");
		sb_puts(&sb, detail);
	}
	return sb_steal(&sb);
}

/* Waits for readiness and a free slot; returns it busy, or NULL + *err. */
static Slot *
acquire(Pool *p, char **err)
{
	Slot	   *got = NULL;
	struct timespec dl;
	int			rc = 0;

	pthread_mutex_lock(&p->lock);
	if (p->state == POOL_STARTING)
	{
		dl = deadline_after(CLOCK_REALTIME, START_WAIT_MS);
		while (p->state == POOL_STARTING && rc != ETIMEDOUT)
			rc = wait_changed(p, &dl);
	}
	if (p->state != POOL_READY)
	{
		*err = p->state == POOL_STARTING ? fmt_error("database is still starting", NULL) :
			p->state == POOL_FAILED ? fmt_error("database unavailable", p->start_failure) :
			fmt_error("database not configured", NULL);
		pthread_mutex_unlock(&p->lock);
		return NULL;
	}
	dl = deadline_after(CLOCK_REALTIME, SLOT_WAIT_MS);
	rc = 0;
	for (;;)
	{
		/* prefer a slot with an open connection */
		for (int i = 0; i < p->nslots && got == NULL; i++)
			if (!p->slots[i].busy && p->slots[i].conn != NULL)
				got = &p->slots[i];
		for (int i = 0; i < p->nslots && got == NULL; i++)
			if (!p->slots[i].busy)
				got = &p->slots[i];
		if (got != NULL || rc == ETIMEDOUT || p->state != POOL_READY)
			break;
		p->waiting++;
		rc = wait_changed(p, &dl);
		p->waiting--;
	}
	if (got != NULL)
		got->busy = true;
	else
		*err = fmt_error("all database connections are busy", NULL);
	pthread_mutex_unlock(&p->lock);
	return got;
}

static void
release(Pool *p, Slot *s)
{
	pthread_mutex_lock(&p->lock);
	s->busy = false;
	s->released_ms = monotonic_ms();
	changed(p);
	pthread_mutex_unlock(&p->lock);
}

/*
 * An idle connection has nothing to read unless the server said goodbye
 * (restart, pg_terminate_backend): then there is a FATAL message and an
 * EOF, which libpq notices over two reads. Costs one poll() when healthy.
 */
static bool
still_open(PGconn *conn)
{
	for (int i = 0; i < 4; i++)
	{
		struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};

		if (pfd.fd < 0)
			return false;
		if (poll(&pfd, 1, 0) <= 0)
			break;
		if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK)
			return false;
	}
	return PQstatus(conn) == CONNECTION_OK;
}

/* Makes sure s->conn is usable; false + *err when it cannot be. */
static bool
ensure_connected(Pool *p, Slot *s, char **err)
{
	char	   *why = NULL;
	PGconn	   *conn;
	int64_t		now;

	if (s->conn != NULL && monotonic_ms() - s->released_ms >= FRESH_MS && !still_open(s->conn))
	{
		log_warn("database connection lost; reconnecting");
		slot_close(s);
	}
	if (s->conn != NULL)
		return true;
	pthread_mutex_lock(&p->lock);
	now = monotonic_ms();
	if (now < p->next_attempt_ms)
	{
		*err = fmt_error("database connection unavailable", p->last_connect_error);
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	pthread_mutex_unlock(&p->lock);

	conn = pool_connect(p->url, &why);

	pthread_mutex_lock(&p->lock);
	if (conn == NULL)
	{
		p->backoff_ms = p->backoff_ms == 0 ? BACKOFF_MIN_MS :
			(p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2);
		p->next_attempt_ms = monotonic_ms() + p->backoff_ms;
		free(p->last_connect_error);
		p->last_connect_error = why;
		*err = fmt_error("database connection unavailable", why);
		pthread_mutex_unlock(&p->lock);
		log_warn("cannot connect to the database (retrying in %lld ms): %s",
				 (long long) p->backoff_ms, *err);
		return false;
	}
	if (p->backoff_ms != 0)
		log_info("database connection re-established");
	p->backoff_ms = 0;
	p->next_attempt_ms = 0;
	pthread_mutex_unlock(&p->lock);
	slot_set(s, conn);
	return true;
}

static bool
is_prepared(const Slot *s, const char *name)
{
	for (size_t i = 0; i < s->nprepared; i++)
		if (strcmp(s->prepared[i], name) == 0)
			return true;
	return false;
}

static void
remember_prepared(Slot *s, const char *name)
{
	char	  **p = realloc(s->prepared, (s->nprepared + 1) * sizeof(char *));

	if (p == NULL || (p[s->nprepared] = strdup(name)) == NULL)
		abort();
	s->prepared = p;
	s->nprepared++;
}

/* Drops the connection when a failed call left it broken. */
static void
check_broken(Slot *s)
{
	if (s->conn != NULL && PQstatus(s->conn) != CONNECTION_OK)
	{
		log_warn("database connection broken; it will be re-opened");
		slot_close(s);
	}
}

PGresult *
pool_exec(const char *name, const char *sql, int nparams,
		  const char *const *values, char **err)
{
	return pool_exec_params(name, sql, nparams, values, NULL, NULL, NULL, err);
}

/*
 * In a coroutine (loop mode, coro.h): the results of the command just sent,
 * waiting for them by yielding instead of blocking. As PQexec: the last
 * result, NULL when the connection failed.
 */
static PGresult *
await_result(Slot *s)
{
	PGconn	   *conn = s->conn;
	PGresult   *last = NULL,
			   *r;
	int			fd = PQsocket(conn);

	for (;;)
	{
		while (PQisBusy(conn))
		{
			if (coro_wait_fd(fd, s->conn_id, EPOLLIN, -1) < 0)
			{
				/* the loop cannot watch fd (out of memory): wait here instead */
				struct pollfd pfd = {.fd = fd, .events = POLLIN};

				log_warn("HTTP loop cannot wait for a database answer (%s); waiting blocked",
						 strerror(errno));
				(void) poll(&pfd, 1, -1);
			}
			if (!PQconsumeInput(conn))
			{
				PQclear(last);
				return NULL;
			}
		}
		r = PQgetResult(conn);
		if (r == NULL)
			return last;
		/* an error result is kept over any that follows it, as PQexec does */
		if (last != NULL && PQresultStatus(last) == PGRES_FATAL_ERROR)
			PQclear(r);
		else
		{
			PQclear(last);
			last = r;
		}
	}
}

static PGresult *
prepare(Slot *s, const char *name, const char *sql, int nparams)
{
	if (!coro_active())
		return PQprepare(s->conn, name, sql, nparams, NULL);
	return PQsendPrepare(s->conn, name, sql, nparams, NULL) ? await_result(s) : NULL;
}

static PGresult *
exec_prepared(Slot *s, const char *name, int nparams, const char *const *values,
			  const int *lengths, const int *formats)
{
	if (!coro_active())
		return PQexecPrepared(s->conn, name, nparams, values, lengths, formats, 0);
	return PQsendQueryPrepared(s->conn, name, nparams, values, lengths, formats, 0) ?
		await_result(s) : NULL;
}

/* Prepares (once per connection) and runs one statement on s->conn. */
static PGresult *
slot_exec(Slot *s, const char *name, const char *sql, int nparams,
		  const char *const *values, const int *lengths, const int *formats, char **err)
{
	PGresult   *res;

	if (!is_prepared(s, name))
	{
		res = prepare(s, name, sql, nparams);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			if (res == NULL)
				*err = one_line(PQerrorMessage(s->conn));
			return res;
		}
		PQclear(res);
		remember_prepared(s, name);
	}
	res = exec_prepared(s, name, nparams, values, lengths, formats);
	if (res == NULL)
		*err = one_line(PQerrorMessage(s->conn));
	return res;
}

PGresult *
pool_exec_params(const char *name, const char *sql, int nparams,
				 const char *const *values, const int *lengths, const int *formats,
				 bool *intact, char **err)
{
	Pool	   *p = &main_pool;
	Slot	   *s = acquire(p, err);
	PGresult   *res;

	if (intact != NULL)
		*intact = false;

	if (s == NULL)
		return NULL;
	if (!ensure_connected(p, s, err))
	{
		release(p, s);
		return NULL;
	}
	res = slot_exec(s, name, sql, nparams, values, lengths, formats, err);
	/* a statement that failed to prepare never ran: not "intact" */
	if (intact != NULL && is_prepared(s, name))
		*intact = PQstatus(s->conn) == CONNECTION_OK &&
			PQtransactionStatus(s->conn) == PQTRANS_IDLE;
	check_broken(s);
	release(p, s);
	return res;
}

bool
pool_read_init(const char *db_url, int size, char **err)
{
	return init_pool(&read_pool, db_url, size, err);
}

bool
pool_read_enabled(void)
{
	bool		on;

	pthread_mutex_lock(&read_pool.lock);
	on = read_pool.state == POOL_READY;
	pthread_mutex_unlock(&read_pool.lock);
	return on;
}

PGresult *
pool_read_exec(const char *check_name, const char *check_sql, int ncheck,
			   const char *const *check_values, bool *behind, const char *name,
			   const char *sql, int nparams, const char *const *values, char **err)
{
	Pool	   *p = &read_pool;
	Slot	   *s = acquire(p, err);
	PGresult   *res = NULL;

	*behind = false;
	if (s == NULL)
		return NULL;
	if (!ensure_connected(p, s, err))
	{
		release(p, s);
		return NULL;
	}
	if (check_name != NULL)
	{
		/* Asked on the connection that reads: it is this server's state. */
		res = slot_exec(s, check_name, check_sql, ncheck, check_values, NULL, NULL, err);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		{
			check_broken(s);
			release(p, s);
			if (res != NULL && *err == NULL)
				*err = one_line(PQresultErrorMessage(res));
			PQclear(res);
			return NULL;
		}
		*behind = strcmp(PQgetvalue(res, 0, 0), "t") != 0;
		PQclear(res);
		res = NULL;
	}
	if (!*behind)
		res = slot_exec(s, name, sql, nparams, values, NULL, NULL, err);
	check_broken(s);
	release(p, s);
	return res;
}
