/*
 * Deferred pokes (horizon write mode): writers no longer NOTIFY inside their
 * transaction - NOTIFY takes a cluster-wide lock held through commit. At
 * commit, once the commit is visible, a writer hands the global positions it
 * wrote (as runs [lo, hi]) to its database's poke worker through a ring in
 * shared memory. The worker reads those rows once the namespace's horizon
 * has passed them and NOTIFYs eventodb_poke for each, in global-position
 * order, in batches (poke_worker.c).
 *
 * Only the write path hands runs over, so imports (which insert without it)
 * never poke; rows of aborted transactions or subtransactions are simply
 * not there when the worker reads, so they never poke either.
 */
#ifndef EVENTODB_POKE_QUEUE_H
#define EVENTODB_POKE_QUEUE_H

#include "postgres.h"

#include "storage/spin.h"
#include "utils/timestamp.h"

#define POKEQ_DATABASES 16		/* databases with a poke worker at once */
#define POKEQ_RING 8192			/* runs queued per database */
#define POKEQ_BARRIERS 64
#define POKEQ_BARRIER_PAYLOAD 256

/* Consecutive global positions of one namespace written by one transaction;
 * coarse: may include other rows (a huge transaction's runs, merged). */
typedef struct PokeRun
{
	Oid			nsp;
	bool		coarse;
	int64		lo;
	int64		hi;
} PokeRun;

/* A NOTIFY to send once every run queued before it has been poked. */
typedef struct PokeBarrier
{
	uint64		after;			/* runs queued before it: ordinals < after */
	Oid			nsp;			/* only runs of this namespace's schema count;
								 * InvalidOid: every run */
	char		channel[NAMEDATALEN];
	char		payload[POKEQ_BARRIER_PAYLOAD];
} PokeBarrier;

typedef enum PokeDbState
{
	POKEQ_FREE,					/* no database */
	POKEQ_IDLE,					/* database known, no worker */
	POKEQ_STARTING,				/* worker registered, not attached yet */
	POKEQ_RUNNING
} PokeDbState;

typedef struct PokeDb
{
	/* Under the admin lock. */
	Oid			dboid;
	PokeDbState state;
	TimestampTz started_at;
	int			procno;			/* the worker's PGPROC, -1 when none */
	bool		exit_requested;

	/* Set by the worker when it waits for its latch; writers wake it only
	 * then (while busy it polls: a signal per commit costs writers CPU). */
	volatile bool sleeping;

	/* Under mutex. Ordinals count runs ever queued in this database. */
	slock_t		mutex;
	uint64		head;			/* next ordinal to queue */
	uint64		tail;			/* next ordinal the worker takes */
	uint64		done;			/* every run with a smaller ordinal is poked */
	uint32		reserved;		/* ring places promised to committing writers */
	uint64		bhead;
	uint64		btail;
	PokeRun		ring[POKEQ_RING];
	PokeBarrier barriers[POKEQ_BARRIERS];
} PokeDb;

/* ---- poke_queue.c: shared state and the writer side ---- */

void		pokeq_shmem_request(void);
void		pokeq_shmem_startup(void);

/*
 * Whether writes of this database can leave their pokes to the worker
 * (horizon mode, a database slot, a worker running or starting). Starts the
 * worker when needed.
 */
bool		pokeq_available(void);

/* A write at global position gpos of namespace nsp, to poke after commit. */
void		pokeq_note(Oid nsp, int64 gpos);

/* Transaction end (xact callbacks, in this order of events). */
void		pokeq_pre_commit(void);
void		pokeq_commit(void);
void		pokeq_abort(void);
/* Wakes this database's worker (after the horizon moved). */
void		pokeq_wake(void);

/*
 * NOTIFY channel/payload after every poke of runs queued so far - of the
 * namespace stored in schema nsp only, or of all when nsp is InvalidOid:
 * a barrier of one namespace must not wait for another one's horizon.
 */
void		pokeq_barrier(const char *channel, const char *payload, Oid nsp);
/* Waits until every run queued so far is poked; false on timeout. */
bool		pokeq_sync(int timeout_ms);

/*
 * Database DDL that needs no other connection to the database: asks its
 * worker to leave and waits for it. forget: the database goes away.
 */
void		pokeq_release_database(Oid dboid, bool forget);

/* ---- for the worker ---- */
PokeDb	   *pokeq_db(int index);
void		pokeq_worker_attach(int index, Oid dboid);

/* ---- db_guard.c: database DDL sends the worker away first ---- */
void		db_guard_install(void);

/* ---- poke_worker.c ---- */
PGDLLEXPORT void eventodb_poke_worker_main(Datum arg);

#endif
