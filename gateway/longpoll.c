/* See longpoll.h. */
#include "longpoll.h"

#include "deadline.h"
#include "http.h"

#include "log.h"
#include "strbuf.h"
#include "sub_sql.h"
#include "subwait.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* After a fetch that delivered nothing, wake-ups within this many ms wait
 * for a timer round at the end of the gap (subwait_due_at): under a stream
 * of writes that brings the waiter nothing it would otherwise fetch back
 * to back (push.c likewise). */
#define LONGPOLL_MIN_GAP_MS 5

const SqlContext longpoll_ctx = {.prefix = "Failed to fetch deliveries: ", .subscription = true};

typedef struct LongPoll
{
	SubWaiter	w;				/* first: a SubWaiter * is a LongPoll * */
	pthread_mutex_t mu;			/* guards the flags below */
	struct MHD_Connection *c;
	int			fd;				/* peeked at: a client that left gets no deliveries */
	char	   *ns;
	char	   *name;
	char	   *consumer;
	char	   *category;
	int64_t		max;
	int64_t		deadline_ms;
	int64_t		next_fetch_ms;	/* the timer's next refetch */
	int64_t		not_before_ms;	/* wake-ups before this wait for the tick */
	int			refresh_ms;
	bool		dirty;			/* something happened since the last fetch began */
	bool		suspended;		/* we suspended c and owe it a resume */
	bool		shutdown;
	bool		gone;			/* the client closed the connection */
} LongPoll;

static void
longpoll_free(LongPoll *lp)
{
	pthread_mutex_destroy(&lp->mu);
	free(lp->ns);
	free(lp->name);
	free(lp->consumer);
	free(lp->category);
	free(lp);
}

/* SubWake: runs under the registry lock. */
static void
longpoll_wake(SubWaiter *w, SubWakeKind why, const SubChange *change, int64_t now)
{
	LongPoll   *lp = (LongPoll *) w;

	(void) change;
	pthread_mutex_lock(&lp->mu);
	switch (why)
	{
		case SUBWAKE_TICK:
			if (lp->suspended && lp->fd >= 0 && http_peer_closed(lp->fd))
			{
				/* no fetch for it: what it got would wait for its lease */
				lp->gone = true;
				lp->dirty = true;
			}
			else if (now >= lp->deadline_ms || now >= lp->next_fetch_ms)
				lp->dirty = true;
			break;
		case SUBWAKE_SHUTDOWN:
			lp->shutdown = true;
			lp->dirty = true;
			break;
		case SUBWAKE_DUE:
			break;
		case SUBWAKE_POKE:
		case SUBWAKE_CHANGE:
			lp->dirty = true;
			break;
	}
	if (lp->dirty && lp->suspended &&
		(lp->shutdown || lp->gone || now >= lp->not_before_ms))
	{
		lp->suspended = false;
		http_resume(lp->c);
	}
	else if (lp->dirty && lp->suspended)
		subwait_due_at(lp->not_before_ms);
	pthread_mutex_unlock(&lp->mu);
}

static bool
fetched(const PGresult *res)
{
	return res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;
}

/* The answer of a fetch: its deliveries (column 1) as a JSON array. */
static enum MHD_Result
reply_fetch(struct MHD_Connection *c, PGresult *res, char *err)
{
	RpcCall		call = {.c = c};
	enum MHD_Result r;

	if (!fetched(res))
		r = errors_reply_sql(c, &longpoll_ctx, res, err);
	else
	{
		StrBuf		b = STRBUF_INIT;

		subsql_json_array(&b, res, 1);
		r = rpc_reply_buf(&call, &b);
	}
	PQclear(res);
	free(err);
	return r;
}

static void
detach(RpcDeferred *d)
{
	LongPoll   *lp = d->state;

	subwait_remove(&lp->w);
	d->resume = NULL;
	d->cancel = NULL;
	d->state = NULL;
	longpoll_free(lp);
}

static enum MHD_Result
finish(struct MHD_Connection *c, RpcDeferred *d, PGresult *res, char *err)
{
	detach(d);
	if (res == NULL && err == NULL)
	{
		RpcCall		call = {.c = c};

		return rpc_reply_json(&call, "[]", 2);
	}
	return reply_fetch(c, res, err);
}

/*
 * Fetches until something was delivered, the deadline passed or the
 * server stops; otherwise suspends until woken. A wake-up during a fetch
 * leaves dirty set, so it is never lost between the fetch and the suspend.
 */
static enum MHD_Result
longpoll_step(struct MHD_Connection *c, RpcDeferred *d)
{
	LongPoll   *lp = d->state;

	for (;;)
	{
		PGresult   *res;
		char	   *err = NULL;
		int64_t		now,
					started;
		bool		stop,
					woken;

		pthread_mutex_lock(&lp->mu);
		stop = lp->shutdown || lp->gone;
		lp->dirty = false;
		pthread_mutex_unlock(&lp->mu);
		if (stop)
			return finish(c, d, NULL, NULL);
		started = monotonic_ms();
		res = subsql_fetch(lp->ns, lp->name, lp->consumer, lp->max, &err);
		now = monotonic_ms();
		if (!fetched(res) || PQntuples(res) > 0 || now >= lp->deadline_ms)
			return finish(c, d, res, err);
		PQclear(res);
		free(err);

		pthread_mutex_lock(&lp->mu);
		if (lp->shutdown)
		{
			pthread_mutex_unlock(&lp->mu);
			return finish(c, d, NULL, NULL);
		}
		if (lp->dirty && now - started >= LONGPOLL_MIN_GAP_MS)
		{
			pthread_mutex_unlock(&lp->mu);
			continue;
		}
		/* a wake-up during a quick empty fetch, or soon after it, is
		 * served by a later wake-up or the tick (dirty stays set) */
		lp->not_before_ms = now + LONGPOLL_MIN_GAP_MS;
		lp->next_fetch_ms = now + lp->refresh_ms;
		lp->suspended = true;
		woken = lp->dirty;
		http_suspend(c);
		pthread_mutex_unlock(&lp->mu);
		/* lp may be gone by now: only the time is passed on */
		if (woken)
			subwait_due_at(now + LONGPOLL_MIN_GAP_MS);
		return MHD_YES;
	}
}

static void
longpoll_cancel(RpcDeferred *d)
{
	if (d->state != NULL)
		detach(d);
}

enum MHD_Result
longpoll_fetch(RpcCall *call, const char *ns, const char *name, const char *consumer,
			   int64_t max, int64_t wait_ms)
{
	char	   *err = NULL;
	PGresult   *res = subsql_fetch(ns, name, consumer, max, &err);
	PGresult   *src;
	LongPoll   *lp;
	char	   *category;
	int			ack_ms;

	if (!fetched(res) || PQntuples(res) > 0 || wait_ms <= 0 || call->deferred == NULL)
		return reply_fetch(call->c, res, err);
	PQclear(res);
	free(err);
	err = NULL;

	/* the source (category) decides which pokes concern this wait */
	if (!subsql_source_info(ns, name, true, &category, &ack_ms, &src, &err))
		return reply_fetch(call->c, src, err);
	lp = calloc(1, sizeof(LongPoll));
	if (lp == NULL)
		abort();
	pthread_mutex_init(&lp->mu, NULL);
	lp->c = call->c;
	{
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(call->c, MHD_CONNECTION_INFO_CONNECTION_FD);

		lp->fd = ci != NULL ? ci->connect_fd : -1;
	}
	lp->ns = strdup(ns);
	lp->name = strdup(name);
	lp->consumer = strdup(consumer);
	lp->category = category;
	if (!lp->ns || !lp->name || !lp->consumer)
		abort();
	lp->max = max;
	lp->refresh_ms = subsql_refresh_ms(ack_ms, LONGPOLL_REFRESH_MS);
	lp->deadline_ms = monotonic_ms() + wait_ms;
	lp->w.ns = lp->ns;
	lp->w.ns_len = strlen(lp->ns);
	lp->w.name = lp->name;
	lp->w.name_len = strlen(lp->name);
	lp->w.category = lp->category;
	lp->w.category_len = strlen(lp->category);
	lp->w.wake = longpoll_wake;
	if (!subwait_add(&lp->w))
	{
		RpcCall		c = {.c = call->c};

		longpoll_free(lp);
		return rpc_reply_json(&c, "[]", 2);	/* the server is stopping */
	}
	call->deferred->resume = longpoll_step;
	call->deferred->cancel = longpoll_cancel;
	call->deferred->state = lp;
	/* a suspended request must not time out; the reply restores the idle timeout */
	MHD_set_connection_option(call->c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int) 0);
	/* a poke between the first fetch and the registration is not lost:
	 * this fetches again before waiting */
	return longpoll_step(call->c, call->deferred);
}
