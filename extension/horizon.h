/*
 * The commit horizon: how category readers stay gap-free (docs/architecture.md#invariants,
 * invariant 1) without a per-category lock held through commit.
 *
 * Available only when the library is preloaded (shared_preload_libraries):
 * it needs shared memory. Without it, writers fall back to Message DB's
 * per-category lock held to commit (which keeps a category's commits in
 * order), and whole-namespace readers drain the writers of the moment
 * instead (horizon_for_category).
 *
 * A writer publishes, before drawing a global position in a namespace, a
 * lower bound that is <= every position it will draw there, and withdraws it
 * once its commit (or abort) is visible to every new snapshot. A category
 * reader computes the horizon H - the smallest published bound of its
 * namespace and category, capped by the highest position drawn so far + 1 -
 * before taking its snapshot, and returns only positions below H. The
 * argument is written out at horizon_read() in horizon.c.
 */
#ifndef EVENTODB_HORIZON_H
#define EVENTODB_HORIZON_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* eventodb.write_mode (postmaster start only). */
typedef enum WriteMode
{
	WRITE_MODE_HORIZON,			/* stream lock, horizon, pokes from the worker */
	WRITE_MODE_CATEGORY_LOCK	/* Message DB: category lock to commit, NOTIFY */
} WriteMode;

extern int	eventodb_write_mode;

/* A namespace as the horizon knows it: its schema and the sequence that
 * draws its global positions. */
typedef struct HorizonNs
{
	Oid			nsp;
	Oid			seq;
} HorizonNs;

/* Shared memory set-up, called from eventodb.c's hooks. */
void		horizon_shmem_request(void);
void		horizon_shmem_startup(void);

/* True when this backend has the shared state, i.e. the library was preloaded. */
bool		horizon_enabled(void);

/* The namespace stored in this schema; errors when it has no messages table. */
HorizonNs	horizon_ns(const char *schema);

/*
 * Writer side, right before an insert that draws a global position of ns:
 * publishes (current highest position of ns) + 1 as this transaction's
 * lower bound for the category with this hash, or for every category of ns
 * (imports). Once per (namespace, category) per transaction.
 */
void		horizon_publish(const HorizonNs *ns, bool any_category, int64 category_hash);

/*
 * Reader side: the first global position a read of ns (whole = every
 * category, else the category with this hash) must not return. Must be
 * called before the read's snapshot is taken. PG_INT64_MAX without shared
 * memory.
 */
int64		horizon_read(const HorizonNs *ns, bool whole, int64 category_hash);

/*
 * For category readers: the horizon of the namespace in schema for the
 * category (NULL: the whole namespace). Without shared memory: no bound for
 * a category, and for the whole namespace the highest position drawn + 1
 * after waiting for the transactions writing there at that moment.
 */
int64		horizon_for_category(const char *schema, const char *category, size_t len);

/*
 * Pushes the active snapshot a category read must run under (read-only
 * SPI): one taken after its horizon. Under REPEATABLE READ or SERIALIZABLE
 * the transaction's snapshot may predate the horizon, so such reads see the
 * latest committed state instead. The caller pops it.
 */
void		horizon_push_read_snapshot(void);

/* The highest global position drawn so far in ns (0 when none). */
int64		horizon_last_drawn(const HorizonNs *ns);

/*
 * Withdraws every bound of this backend. Called after the transaction's end
 * is visible to new snapshots (xact callback) and at backend exit. Returns
 * whether there were any.
 */
bool		horizon_clear(void);

/* Whether this transaction holds a published bound. */
bool		horizon_held(void);

/*
 * For the statistics views: calls fn once per namespace (schema OID) of
 * this database with writers in flight - the oldest bound's publication
 * time and the number of bounds.
 */
void		horizon_oldest_writers(void (*fn) (Oid nsp, TimestampTz since, int writers, void *arg),
								   void *arg);

#endif
