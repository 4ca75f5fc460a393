/*
 * Who waits on persistent subscriptions in this gateway (docs/subscriptions.md#how-messages-are-handed-out): fetches with waitMs (longpoll.c) and /push connections (push.c).
 * Each registers a SubWaiter for its (namespace, subscription, source
 * category) and is woken
 *
 *   - by a poke of its namespace whose stream is in its category (any
 *     stream for category ""), from the LISTEN thread (pokes.c);
 *   - by a change made through this gateway that can free capacity or make
 *     messages deliverable: ack, nack, release, reset, replayParked
 *     (rpc_subscription.c), and by the deletion of its namespace;
 *   - by a tick every SUBWAIT_TICK_MS, so lease expiries, acks made over
 *     SQL or another gateway, heartbeats and deadlines are noticed.
 *
 * One mutex guards the registry; wake callbacks run under it, so one must
 * be quick (set a flag, resume a connection, queue a job) and a waiter that
 * subwait_remove() has returned for is never called again.
 */
#ifndef GW_SUBWAIT_H
#define GW_SUBWAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUBWAIT_TICK_MS 50

typedef enum SubWakeKind
{
	SUBWAKE_POKE,				/* a write into the source (or the namespace went away) */
	SUBWAKE_CHANGE,				/* ack/nack/release/reset/replay through this gateway */
	SUBWAKE_TICK,				/* the periodic tick */
	SUBWAKE_DUE,				/* a round asked for with subwait_due_at() */
	SUBWAKE_SHUTDOWN			/* the server is stopping */
} SubWakeKind;

/* What a SUBWAKE_CHANGE did: the delivery ids it ended (may be none). */
typedef struct SubChange
{
	const char *const *ids;
	const size_t *id_lens;
	size_t		nids;
} SubChange;

typedef struct SubWaiter SubWaiter;

typedef void (*SubWake) (SubWaiter *w, SubWakeKind why, const SubChange *change,
						 int64_t now_ms);

struct SubWaiter
{
	/* Set by the owner before subwait_add(), constant afterwards. */
	const char *ns;
	size_t		ns_len;
	const char *name;			/* subscription name */
	size_t		name_len;
	const char *category;		/* the source; "" = every stream */
	size_t		category_len;
	SubWake		wake;

	/* Owned by the registry. */
	SubWaiter  *prev,
			   *next;
	bool		registered;
};

bool		subwait_start(void);
/* Wakes every waiter with SUBWAKE_SHUTDOWN and stops the tick. */
void		subwait_shutdown(void);

/* false once the server is stopping: the caller must not wait then */
bool		subwait_add(SubWaiter *w);
void		subwait_remove(SubWaiter *w);

/* A committed write of namespace ns into stream (pokes.c). */
/* Whether anyone waits at all (then pokes matter to this registry). */
bool		subwait_any(void);
void		subwait_poke(const char *ns, size_t ns_len, const char *stream, size_t stream_len);

/* The namespace was deleted: its waiters find out by fetching. */
void		subwait_namespace_gone(const char *ns, size_t ns_len);

/* A change to subscription (ns, name) went through this gateway. */
void		subwait_changed(const char *ns, size_t ns_len, const char *name, size_t name_len,
							const SubChange *change);

/*
 * Asks for a SUBWAKE_DUE round of every waiter at when_ms (monotonic_ms,
 * deadline.h), for a wake-up a waiter put off: without it the next
 * tick would serve it, up to SUBWAIT_TICK_MS later. Also from a wake
 * callback.
 */
void		subwait_due_at(int64_t when_ms);

/* Calls fn for every waiter with the registry lock held. */
void		subwait_foreach(void (*fn) (SubWaiter *w, void *arg), void *arg);


#endif
