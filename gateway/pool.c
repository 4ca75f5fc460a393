/* See pool.h. One slot per HTTP worker thread, so a request never queues
 * behind another for a connection in the steady state; connections open
 * lazily and are checked for a server-side close before every use, so a
 * PostgreSQL restart costs no failed request once it is back. */
#include "pool.h"

#include "deadline.h"

#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define START_WAIT_MS 30000		/* test mode: how long requests wait for the DB */
#define SLOT_WAIT_MS 10000		/* all connections busy: how long to queue */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000

typedef enum PoolState { POOL_UNINIT, POOL_STARTING, POOL_READY, POOL_FAILED } PoolState;

typedef struct Slot
{
	PGconn	   *conn;
	bool		busy;
	char	  **prepared;		/* statement names prepared on conn */
	size_t		nprepared;
} Slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static PoolState state = POOL_UNINIT;
static char *start_failure;
static char *url;
static Slot *slots;
static int	nslots;
static int64_t next_attempt_ms;	/* reconnect backoff, monotonic ms */
static int64_t backoff_ms;
static char *last_connect_error;
static int	waiting;			/* requests in acquire()'s wait for a slot */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

bool
pool_init(const char *db_url, int size, char **err)
{
	PGconn	   *first;

	if (size < 1)
		size = 1;
	first = pool_connect(db_url, err);
	if (first == NULL)
		return false;
	pthread_mutex_lock(&lock);
	url = strdup(db_url);
	slots = calloc((size_t) size, sizeof(Slot));
	if (url == NULL || slots == NULL)
		abort();
	nslots = size;
	slots[0].conn = first;
	state = POOL_READY;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
	return true;
}

void
pool_mark_starting(void)
{
	pthread_mutex_lock(&lock);
	if (state == POOL_UNINIT)
		state = POOL_STARTING;
	pthread_mutex_unlock(&lock);
}

void
pool_fail_start(const char *why)
{
	pthread_mutex_lock(&lock);
	if (state != POOL_READY)
	{
		free(start_failure);
		start_failure = strdup(why);
		state = POOL_FAILED;
	}
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

void
pool_shutdown(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < nslots; i++)
		if (!slots[i].busy)
			slot_close(&slots[i]);
	state = POOL_FAILED;
	free(start_failure);
	start_failure = strdup("server is shutting down");
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

int
pool_open_count(void)
{
	int			n = 0;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < nslots; i++)
		if (slots[i].conn != NULL)
			n++;
	pthread_mutex_unlock(&lock);
	return n;
}

void
pool_usage(PoolUsage *u)
{
	pthread_mutex_lock(&lock);
	u->size = nslots;
	u->busy = 0;
	u->idle = 0;
	for (int i = 0; i < nslots; i++)
	{
		if (slots[i].busy)
			u->busy++;
		else if (slots[i].conn != NULL)
			u->idle++;
	}
	u->waiting = waiting;
	pthread_mutex_unlock(&lock);
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
acquire(char **err)
{
	Slot	   *got = NULL;
	struct timespec dl;
	int			rc = 0;

	pthread_mutex_lock(&lock);
	if (state == POOL_STARTING)
	{
		dl = deadline_after(CLOCK_REALTIME, START_WAIT_MS);
		while (state == POOL_STARTING && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&changed, &lock, &dl);
	}
	if (state != POOL_READY)
	{
		*err = state == POOL_STARTING ? fmt_error("database is still starting", NULL) :
			state == POOL_FAILED ? fmt_error("database unavailable", start_failure) :
			fmt_error("database not configured", NULL);
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	dl = deadline_after(CLOCK_REALTIME, SLOT_WAIT_MS);
	rc = 0;
	for (;;)
	{
		/* prefer a slot with an open connection */
		for (int i = 0; i < nslots && got == NULL; i++)
			if (!slots[i].busy && slots[i].conn != NULL)
				got = &slots[i];
		for (int i = 0; i < nslots && got == NULL; i++)
			if (!slots[i].busy)
				got = &slots[i];
		if (got != NULL || rc == ETIMEDOUT || state != POOL_READY)
			break;
		waiting++;
		rc = pthread_cond_timedwait(&changed, &lock, &dl);
		waiting--;
	}
	if (got != NULL)
		got->busy = true;
	else
		*err = fmt_error("all database connections are busy", NULL);
	pthread_mutex_unlock(&lock);
	return got;
}

static void
release(Slot *s)
{
	pthread_mutex_lock(&lock);
	s->busy = false;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
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
ensure_connected(Slot *s, char **err)
{
	char	   *why = NULL;
	PGconn	   *conn;
	int64_t		now;

	if (s->conn != NULL && !still_open(s->conn))
	{
		log_warn("database connection lost; reconnecting");
		slot_close(s);
	}
	if (s->conn != NULL)
		return true;
	pthread_mutex_lock(&lock);
	now = now_ms();
	if (now < next_attempt_ms)
	{
		*err = fmt_error("database connection unavailable", last_connect_error);
		pthread_mutex_unlock(&lock);
		return false;
	}
	pthread_mutex_unlock(&lock);

	conn = pool_connect(url, &why);

	pthread_mutex_lock(&lock);
	if (conn == NULL)
	{
		backoff_ms = backoff_ms == 0 ? BACKOFF_MIN_MS :
			(backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2);
		next_attempt_ms = now_ms() + backoff_ms;
		free(last_connect_error);
		last_connect_error = why;
		*err = fmt_error("database connection unavailable", why);
		pthread_mutex_unlock(&lock);
		log_warn("cannot connect to the database (retrying in %lld ms): %s",
				 (long long) backoff_ms, *err);
		return false;
	}
	if (backoff_ms != 0)
		log_info("database connection re-established");
	backoff_ms = 0;
	next_attempt_ms = 0;
	pthread_mutex_unlock(&lock);
	s->conn = conn;
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

PGresult *
pool_exec_params(const char *name, const char *sql, int nparams,
				 const char *const *values, const int *lengths, const int *formats,
				 bool *intact, char **err)
{
	Slot	   *s = acquire(err);
	PGresult   *res;

	if (intact != NULL)
		*intact = false;

	if (s == NULL)
		return NULL;
	if (!ensure_connected(s, err))
	{
		release(s);
		return NULL;
	}
	if (!is_prepared(s, name))
	{
		res = PQprepare(s->conn, name, sql, nparams, NULL);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			if (res == NULL)
				*err = one_line(PQerrorMessage(s->conn));
			check_broken(s);
			release(s);
			return res;
		}
		PQclear(res);
		remember_prepared(s, name);
	}
	res = PQexecPrepared(s->conn, name, nparams, values, lengths, formats, 0);
	if (res == NULL)
		*err = one_line(PQerrorMessage(s->conn));
	if (intact != NULL)
		*intact = PQstatus(s->conn) == CONNECTION_OK &&
			PQtransactionStatus(s->conn) == PQTRANS_IDLE;
	check_broken(s);
	release(s);
	return res;
}
