/*
 * See push.h. One PushConn per stream:
 *
 *   open --fetch--> frames queued --MHD reads--> suspended when empty
 *     ^ pokes, acks/nacks here, timer: fetch again (SQL caps at capacity)
 *   client gone (EOF seen by the tick, write failure, MHD closes)
 *     --> release the ids pushed on this connection, wake siblings
 *   subscription or namespace gone (EV010/EV002 on a fetch) --> end stream
 *
 * A connection has at most one job (fetch or release) queued or running,
 * so its fetches and its final release never overlap: a release covers
 * every delivery the connection was given.
 */
#include "push.h"

#include "deadline.h"
#include "errors.h"
#include "http.h"
#include "job_queue.h"
#include "log.h"
#include "metrics.h"
#include "sqlstate.h"
#include "strbuf.h"
#include "sub_names.h"
#include "sub_sql.h"
#include "subwait.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PUSH_WORKERS 2
#define PUSH_REFRESH_MS 500		/* timer refetch: deletions end streams within 1 s */
#define PUSH_FETCH_MAX 1000		/* SQL hands out at most the free capacity */
#define PUSH_OUT_MAX (8 * 1024 * 1024)	/* unsent bytes beyond which we stop fetching */
/*
 * After a fetch that delivered nothing (consumer at capacity, or nothing
 * deliverable to it), pokes within this many ms wait for a timer round at
 * the end of the gap (subwait_due_at):
 * under a stream of writes a full consumer would otherwise fetch back to
 * back, each fetch taking the subscription's row lock.
 */
#define PUSH_MIN_GAP_MS 5
/*
 * Delivery ids remembered per connection for the release on disconnect.
 * A consumer has at most 1000 in flight; ids acked through this gateway are
 * forgotten at once, so only a delivery that stays in flight while this
 * many newer ones were pushed is forgotten (its lease then ends it).
 */
#define PUSH_IDS_MAX 2000
#define DEFAULT_HEARTBEAT_MS 15000
#define SHUTDOWN_RELEASE_MS 5000
#define SHUTDOWN_GRACE_MS 1000

static const SqlContext push_ctx = {.prefix = "Failed to open push stream: ", .subscription = true};

typedef struct PushConn
{
	SubWaiter	w;				/* first: a SubWaiter * is a PushConn * */
	pthread_mutex_t mu;			/* guards everything below */
	int			refs;			/* the MHD response + a queued or running job */
	struct MHD_Connection *conn;
	int			fd;				/* peeked at for the client's close */
	char	   *ns;
	char	   *name;
	char	   *consumer;
	char	   *category;
	int			heartbeat_ms;
	int			refresh_ms;

	StrBuf		out;			/* SSE bytes not yet handed to MHD */
	size_t		out_off;
	int64_t		last_write_ms;
	int64_t		next_fetch_ms;
	int64_t		last_fetch_ms;	/* when the last fetch answered */
	bool		last_empty;		/* and it delivered nothing */

	bool		suspended;		/* we suspended conn and owe it a resume */
	bool		ending;			/* send what is queued, then end the stream */
	bool		closed;			/* the response is gone: never touch conn or fd */
	bool		gone;			/* the client left or the server stops: release */
	bool		released;		/* released, or nothing to release */
	bool		want_fetch;
	bool		queued;			/* a job is queued or running */
	bool		failing;		/* the last fetch failed (logged once) */

	char	  **ids;			/* ring of PUSH_IDS_MAX; NULL slots are holes */
	size_t		ids_head,
				ids_n;

	struct PushConn *job_next;
} PushConn;

static JobQueue jobs = JOBQ_INIT(PushConn, job_next);
static pthread_t workers[PUSH_WORKERS];
static int	nworkers;
static atomic_bool shutting_down;
static atomic_int unreleased;	/* connections whose release is still owed */
static atomic_int open_streams;	/* responses not yet freed */

/* ---- connection state (callers hold pc->mu unless noted) ---- */

static void
pc_free(PushConn *pc)
{
	if (pc->ids)
	{
		for (size_t i = 0; i < PUSH_IDS_MAX; i++)
			free(pc->ids[i]);
		free(pc->ids);
	}
	sb_free(&pc->out);
	pthread_mutex_destroy(&pc->mu);
	free(pc->ns);
	free(pc->name);
	free(pc->consumer);
	free(pc->category);
	free(pc);
}

/* Caller does not hold pc->mu. */
static void
pc_unref(PushConn *pc)
{
	bool		last;

	pthread_mutex_lock(&pc->mu);
	last = --pc->refs == 0;
	pthread_mutex_unlock(&pc->mu);
	if (last)
		pc_free(pc);
}

static void
pc_wake(PushConn *pc)
{
	if (pc->suspended && !pc->closed)
	{
		pc->suspended = false;
		http_resume(pc->conn);
	}
}

static void
pc_frame(PushConn *pc, const char *bytes, size_t len, int64_t now)
{
	sb_append(&pc->out, bytes, len);
	pc->last_write_ms = now;
}

static void
mark_released(PushConn *pc)
{
	if (!pc->released)
	{
		pc->released = true;
		atomic_fetch_sub(&unreleased, 1);
	}
}

static void
ids_add(PushConn *pc, const char *id, size_t len)
{
	size_t		slot;

	if (pc->ids == NULL)
	{
		pc->ids = calloc(PUSH_IDS_MAX, sizeof(char *));
		if (pc->ids == NULL)
			abort();
	}
	if (pc->ids_n == PUSH_IDS_MAX)
	{
		/* full: the oldest is forgotten (see PUSH_IDS_MAX) */
		free(pc->ids[pc->ids_head]);
		pc->ids[pc->ids_head] = NULL;
		pc->ids_head = (pc->ids_head + 1) % PUSH_IDS_MAX;
		pc->ids_n--;
	}
	slot = (pc->ids_head + pc->ids_n) % PUSH_IDS_MAX;
	pc->ids[slot] = mem_dup0(id, len);
	pc->ids_n++;
}

/* Ids ended through this gateway need no release. */
static void
ids_forget(PushConn *pc, const SubChange *ch)
{
	if (pc->ids == NULL || ch == NULL)
		return;
	for (size_t k = 0; k < ch->nids; k++)
		for (size_t i = 0; i < pc->ids_n; i++)
		{
			char	  **slot = &pc->ids[(pc->ids_head + i) % PUSH_IDS_MAX];

			if (*slot != NULL && strlen(*slot) == ch->id_lens[k] &&
				memcmp(*slot, ch->ids[k], ch->id_lens[k]) == 0)
			{
				free(*slot);
				*slot = NULL;
				break;
			}
		}
}

/* The remembered ids as a text[] literal. */
static char *
ids_literal(PushConn *pc)
{
	StrBuf		sb = STRBUF_INIT;
	bool		first = true;

	sb_putc(&sb, '{');
	for (size_t i = 0; pc->ids != NULL && i < pc->ids_n; i++)
	{
		const char *id = pc->ids[(pc->ids_head + i) % PUSH_IDS_MAX];

		if (id == NULL)
			continue;
		if (!first)
			sb_putc(&sb, ',');
		first = false;
		subsql_array_element(&sb, id, strlen(id));
	}
	sb_putc(&sb, '}');
	return sb_steal(&sb);
}

/* ---- jobs ---- */

static void
enqueue(PushConn *pc)
{
	if (pc->queued || (pc->released && (pc->closed || pc->ending)))
		return;
	/* the worker takes pc->mu before it looks at queued or refs */
	if (jobq_push(&jobs, pc))
	{
		pc->queued = true;
		pc->refs++;
	}
}

static void push_wake(SubWaiter *w, SubWakeKind why, const SubChange *change, int64_t now);

typedef struct Sibling
{
	const PushConn *of;
} Sibling;

/* Runs under the registry lock: other open streams of the same consumer. */
static void
wake_sibling(SubWaiter *w, void *arg)
{
	const PushConn *of = ((Sibling *) arg)->of;
	PushConn   *pc = (PushConn *) w;

	if (w->wake != push_wake || pc == of || strcmp(pc->ns, of->ns) != 0 ||
		strcmp(pc->name, of->name) != 0 || strcmp(pc->consumer, of->consumer) != 0)
		return;
	pthread_mutex_lock(&pc->mu);
	if (!pc->gone && !pc->ending)
	{
		pc->want_fetch = true;
		enqueue(pc);
	}
	pthread_mutex_unlock(&pc->mu);
}

/* Caller holds pc->mu; it is released during the SQL call. */
static void
run_release(PushConn *pc)
{
	char	   *ids = ids_literal(pc);
	char	   *err = NULL;
	PGresult   *res;
	Sibling		sib = {pc};

	/* counted as released (push_shutdown waits for it) once the SQL is done */
	pc->released = true;
	pthread_mutex_unlock(&pc->mu);
	res = subsql_release(pc->ns, pc->name, pc->consumer, ids, &err);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		/* EV010/EV002: the subscription went away with its deliveries */
		if (!subsql_state_is(res, SQLSTATE_EV_SUB_NOT_FOUND) && !subsql_state_is(res, SQLSTATE_EV_NOT_FOUND))
			log_warn("push: cannot release the deliveries of consumer %s on subscription %s: %s",
					 pc->consumer, pc->name,
					 res ? PQresultErrorMessage(res) : (err ? err : "no connection"));
	}
	PQclear(res);
	free(err);
	free(ids);
	atomic_fetch_sub(&unreleased, 1);
	/* the release made the consumer inactive: its other streams fetch
	 * again, which makes it active once more (docs/subscriptions.md#over-http) */
	if (!atomic_load(&shutting_down))
		subwait_foreach(wake_sibling, &sib);
	pthread_mutex_lock(&pc->mu);
}

/* Caller holds pc->mu; it is released during the SQL call. */
static void
run_fetch(PushConn *pc)
{
	char	   *err = NULL;
	PGresult   *res;
	int64_t		now;

	pc->want_fetch = false;
	pthread_mutex_unlock(&pc->mu);
	res = subsql_fetch(pc->ns, pc->name, pc->consumer, PUSH_FETCH_MAX, &err);
	now = monotonic_ms();
	pthread_mutex_lock(&pc->mu);
	pc->next_fetch_ms = now + pc->refresh_ms;
	pc->last_fetch_ms = now;
	pc->last_empty = true;
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		int			n = PQntuples(res);

		pc->last_empty = n == 0;
		pc->failing = false;
		for (int i = 0; i < n; i++)
		{
			ids_add(pc, PQgetvalue(res, i, 0), (size_t) PQgetlength(res, i, 0));
			sb_puts(&pc->out, "event: message\ndata: ");
			sb_append(&pc->out, PQgetvalue(res, i, 1), (size_t) PQgetlength(res, i, 1));
			pc_frame(pc, "\n\n", 2, now);
		}
		if (n > 0)
			pc_wake(pc);
	}
	else if (subsql_state_is(res, SQLSTATE_EV_SUB_NOT_FOUND) || subsql_state_is(res, SQLSTATE_EV_NOT_FOUND))
	{
		/* docs/subscriptions.md#over-http: the subscription or its namespace was deleted */
		pc->ending = true;
		mark_released(pc);
		pc_wake(pc);
	}
	else if (!pc->failing)
	{
		pc->failing = true;
		log_warn("push: fetch for consumer %s on subscription %s failed: %s",
				 pc->consumer, pc->name,
				 res ? PQresultErrorMessage(res) : (err ? err : "no connection"));
	}
	PQclear(res);
	free(err);
}

/* Caller holds pc->mu. */
static bool
throttled(const PushConn *pc, int64_t now)
{
	return pc->last_empty && now - pc->last_fetch_ms < PUSH_MIN_GAP_MS;
}

static void *
worker_main(void *arg)
{
	(void) arg;
	for (;;)
	{
		PushConn   *pc;
		int64_t		due;

		pc = jobq_pop(&jobs);
		if (pc == NULL)
			return NULL;

		pthread_mutex_lock(&pc->mu);
		due = 0;
		for (;;)
		{
			bool		can_fetch = pc->want_fetch && !pc->gone && !pc->ending && !pc->closed &&
				pc->out.len - pc->out_off <= PUSH_OUT_MAX;

			if (pc->gone && !pc->released)
				run_release(pc);
			else if (can_fetch && !throttled(pc, monotonic_ms()))
				run_fetch(pc);
			else
			{
				if (can_fetch)	/* put off: fetch when the gap is over */
					due = pc->last_fetch_ms + PUSH_MIN_GAP_MS;
				break;
			}
		}
		pc->queued = false;
		pthread_mutex_unlock(&pc->mu);
		pc_unref(pc);
		if (due != 0)
			subwait_due_at(due);
	}
}

/* ---- wake-ups (subwait.h): run under the registry lock ---- */

static void
push_wake(SubWaiter *w, SubWakeKind why, const SubChange *change, int64_t now)
{
	PushConn   *pc = (PushConn *) w;

	pthread_mutex_lock(&pc->mu);
	switch (why)
	{
		case SUBWAKE_CHANGE:
			ids_forget(pc, change);
			/* fall through */
		case SUBWAKE_POKE:
			pc->want_fetch = true;
			enqueue(pc);
			break;
		case SUBWAKE_TICK:
			if (!pc->closed && !pc->gone && pc->fd >= 0 && http_peer_closed(pc->fd))
			{
				/* docs/subscriptions.md#over-http: release within 1 s, without waiting for a heartbeat */
				pc->gone = true;
				pc->ending = true;
				enqueue(pc);
				pc_wake(pc);
				break;
			}
			if (now >= pc->next_fetch_ms || (pc->want_fetch && !throttled(pc, now)))
			{
				pc->want_fetch = true;
				enqueue(pc);
			}
			if (!pc->ending && now - pc->last_write_ms >= pc->heartbeat_ms)
			{
				pc_frame(pc, ": ping\n\n", 8, now);
				pc_wake(pc);
			}
			break;
		case SUBWAKE_DUE:
			if (pc->want_fetch && !throttled(pc, now))
				enqueue(pc);
			break;
		case SUBWAKE_SHUTDOWN:
			break;				/* push_shutdown() has done it all */
	}
	pthread_mutex_unlock(&pc->mu);
}

/* ---- MHD callbacks ---- */

static ssize_t
push_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	PushConn   *pc = cls;
	ssize_t		n;

	(void) pos;
	pthread_mutex_lock(&pc->mu);
	if (pc->out.len > pc->out_off)
	{
		size_t		avail = pc->out.len - pc->out_off;
		size_t		k = avail < max ? avail : max;

		memcpy(buf, pc->out.data + pc->out_off, k);
		pc->out_off += k;
		if (pc->out_off == pc->out.len)
		{
			if (pc->out.cap > 16384)
				sb_free(&pc->out);
			else
				sb_reset(&pc->out);
			pc->out_off = 0;
		}
		n = (ssize_t) k;
	}
	else if (pc->ending)
		n = MHD_CONTENT_READER_END_OF_STREAM;
	else
	{
		pc->suspended = true;
		MHD_suspend_connection(pc->conn);
		n = 0;
	}
	pthread_mutex_unlock(&pc->mu);
	return n;
}

static void
push_free(void *cls)
{
	PushConn   *pc = cls;

	/* After this no wake-up reaches pc; a queued job still may. */
	subwait_remove(&pc->w);
	pthread_mutex_lock(&pc->mu);
	pc->closed = true;
	pc->suspended = false;
	pc->fd = -1;
	if (!pc->released)
	{
		/* a write failed, or the stream ended some other way: docs/subscriptions.md#over-http */
		pc->gone = true;
		enqueue(pc);
		if (!pc->queued)
			mark_released(pc);	/* no worker will run (stopping) */
	}
	pthread_mutex_unlock(&pc->mu);
	atomic_fetch_sub(&open_streams, 1);
	metrics_stream_closed(METRICS_PUSH);
	pc_unref(pc);
}

/* ---- request (docs/subscriptions.md#over-http) ---- */

/* heartbeatMs: a base-10 integer (optional sign) in 1000-60000. */
static bool
parse_heartbeat(const char *v, size_t len, int *out)
{
	size_t		i = 0;
	bool		neg = false;
	long long	x = 0;

	if (len > 0 && (v[0] == '+' || v[0] == '-'))
	{
		neg = v[0] == '-';
		i = 1;
	}
	if (i == len)
		return false;
	for (; i < len; i++)
	{
		if (v[i] < '0' || v[i] > '9')
			return false;
		if (x < 1000000)		/* beyond the range anyway: stop growing */
			x = x * 10 + (v[i] - '0');
	}
	if (neg)
		x = -x;
	if (x < 1000 || x > 60000)
		return false;
	*out = (int) x;
	return true;
}

static enum MHD_Result
bad(struct MHD_Connection *c, const char *message)
{
	return http_error(c, 400, "INVALID_REQUEST", message, NULL);
}

enum MHD_Result
push_handle(struct MHD_Connection *c, const AuthResult *auth, const char *http_method)
{
	const char *name,
			   *consumer,
			   *hb;
	size_t		name_len,
				consumer_len,
				hb_len;
	int			heartbeat_ms = DEFAULT_HEARTBEAT_MS;
	const char *ns = auth->ns;
	char	   *err = NULL;
	PGresult   *src;
	char	   *category;
	int			ack_ms;
	PushConn   *pc;
	struct MHD_Response *resp;
	const union MHD_ConnectionInfo *ci;
	enum MHD_Result ret;
	int64_t		now;

	if (strcmp(http_method, "GET") != 0)
		return http_error(c, 405, "INVALID_REQUEST", "Only GET method allowed", NULL);
	if (!http_query_n(c, "subscription", &name, &name_len) || !sub_name_valid(name, name_len))
		return bad(c, "subscription must be 1-100 characters of [A-Za-z0-9._:-]");
	if (!http_query_n(c, "consumer", &consumer, &consumer_len) ||
		!sub_consumer_valid(consumer, consumer_len))
		return bad(c, "consumer must be 1-100 printable ASCII characters");
	if (http_query_n(c, "heartbeatMs", &hb, &hb_len) && !parse_heartbeat(hb, hb_len, &heartbeat_ms))
		return bad(c, "heartbeatMs must be an integer between 1000 and 60000");

	if (memchr(auth->ns, '\0', auth->ns_len) != NULL)
		return errors_reply_backend(c, &push_ctx, "namespace not found");
	if (!subsql_source_info(ns, name, false, &category, &ack_ms, &src, &err))
	{
		ret = errors_reply_sql(c, &push_ctx, src, err);
		PQclear(src);
		free(err);
		return ret;
	}

	pc = calloc(1, sizeof(PushConn));
	if (pc == NULL)
		abort();
	pthread_mutex_init(&pc->mu, NULL);
	pc->refs = 1;
	pc->conn = c;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	pc->fd = ci != NULL ? ci->connect_fd : -1;
	pc->ns = mem_dup0(ns, auth->ns_len);
	pc->name = mem_dup0(name, name_len);
	pc->consumer = mem_dup0(consumer, consumer_len);
	pc->category = category;
	pc->heartbeat_ms = heartbeat_ms;
	pc->refresh_ms = subsql_refresh_ms(ack_ms, PUSH_REFRESH_MS);
	pc->w.ns = pc->ns;
	pc->w.ns_len = auth->ns_len;
	pc->w.name = pc->name;
	pc->w.name_len = name_len;
	pc->w.category = pc->category;
	pc->w.category_len = strlen(pc->category);
	pc->w.wake = push_wake;
	atomic_fetch_add(&unreleased, 1);

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, push_read, pc, push_free);
	if (resp == NULL)
	{
		mark_released(pc);
		pc_unref(pc);
		return MHD_NO;
	}
	atomic_fetch_add(&open_streams, 1);
	metrics_stream_opened(METRICS_PUSH);
	http_event_stream_headers(resp);
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	/* no write timeout: a stream may stay quiet for a long time */
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int) 0);

	now = monotonic_ms();
	pthread_mutex_lock(&pc->mu);
	pc_frame(pc, ": ready\n\n", 9, now);
	pc->next_fetch_ms = now + pc->refresh_ms;
	pthread_mutex_unlock(&pc->mu);
	if (atomic_load(&shutting_down) || !subwait_add(&pc->w))
	{
		pthread_mutex_lock(&pc->mu);
		pc->ending = true;
		mark_released(pc);
		pthread_mutex_unlock(&pc->mu);
	}
	else
	{
		pthread_mutex_lock(&pc->mu);
		pc->want_fetch = true;
		enqueue(pc);
		pthread_mutex_unlock(&pc->mu);
	}
	ret = http_queue(c, 200, resp);
	return ret;
}

/* ---- lifecycle ---- */

bool
push_init(void)
{
	for (int i = 0; i < PUSH_WORKERS; i++)
	{
		if (pthread_create(&workers[i], NULL, worker_main, NULL) != 0)
		{
			log_error("push: cannot start worker threads");
			return false;
		}
		nworkers++;
	}
	return true;
}

static void
release_one(SubWaiter *w, void *arg)
{
	PushConn   *pc = (PushConn *) w;

	(void) arg;
	if (w->wake != push_wake)
		return;
	pthread_mutex_lock(&pc->mu);
	if (!pc->released)
	{
		pc->gone = true;
		enqueue(pc);
	}
	pthread_mutex_unlock(&pc->mu);
}

static void
end_one(SubWaiter *w, void *arg)
{
	PushConn   *pc = (PushConn *) w;

	(void) arg;
	if (w->wake != push_wake)
		return;
	pthread_mutex_lock(&pc->mu);
	pc->ending = true;
	pc_wake(pc);
	pthread_mutex_unlock(&pc->mu);
}

static void
pause_ms(int ms)
{
	struct timespec ts = {0, (long) ms * 1000 * 1000};

	nanosleep(&ts, NULL);
}

void
push_shutdown(void)
{
	atomic_store(&shutting_down, true);
	subwait_foreach(release_one, NULL);
	for (int i = 0; i < SHUTDOWN_RELEASE_MS / 10 && atomic_load(&unreleased) > 0; i++)
		pause_ms(10);
	subwait_foreach(end_one, NULL);
	/* readers get their terminating chunk before the sockets close */
	for (int i = 0; i < SHUTDOWN_GRACE_MS / 10 && atomic_load(&open_streams) > 0; i++)
		pause_ms(10);
}

void
push_stop(void)
{
	jobq_stop(&jobs);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	nworkers = 0;
}
