/*
 * The commit horizon (see horizon.h): published lower bounds in shared
 * memory, one list and one lock per partition of namespaces.
 *
 * A bound {namespace key, category, lower bound, owner} lives in a shared
 * pool and, while published, in its partition's list. It is linked,
 * unlinked or changed only under the exclusive partition lock; readers walk
 * the list under the shared lock, so while a reader holds partition p no
 * bound of p appears, disappears or changes.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xlog.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "horizon.h"
#include "read_horizon.h"
#include "store.h"

#define HORIZON_PARTITIONS 16
/* Bounds per backend in the pool, on average. */
#define HORIZON_POOL_PER_BACKEND 8
/* Categories of one namespace a transaction bounds separately; beyond that
 * one of its bounds widens to the whole namespace. */
#define HORIZON_CATEGORIES_PER_NS 16
#define HORIZON_TRANCHE "eventodb_horizon"

/*
 * Without shared memory (the library not preloaded) there are no bounds.
 * A writer then holds its namespace's drain lock in share mode from before
 * it draws a position to its end, and a whole-namespace reader waits once
 * for the writers of the moment (exclusive, released at once): everything
 * drawn before it looked is then committed or aborted. Category readers need
 * nothing more: the category lock of that mode orders a category's commits.
 * A private advisory tag, so no SQL advisory lock can hold it.
 */
#define DRAIN_LOCK_FIELD4 0xE5B2

/* The magic of a sequence page's special space (SEQ_MAGIC, sequence.c). */
#define SEQUENCE_PAGE_MAGIC 0x1717

typedef struct HorizonEntry
{
	uint64		key;			/* database << 32 | schema OID */
	bool		any_category;
	int64		category_hash;
	int64		lower;			/* <= every position drawn under this entry */
	int			owner;			/* pgprocno of the writer */
	TimestampTz since;			/* published (for eventodb.stat_namespaces) */
	int			prev;			/* partition list (or free list: next), -1 ends */
	int			next;
} HorizonEntry;

typedef struct HorizonShared
{
	slock_t		free_mutex;
	int			free_head;
	int			nentries;
	int			head[HORIZON_PARTITIONS];	/* under the partition lock */
	HorizonEntry entries[FLEXIBLE_ARRAY_MEMBER];
} HorizonShared;

/* This backend's published bounds (pool indexes), with copies to consult
 * without locking. */
typedef struct MyBound
{
	int			index;
	uint64		key;
	bool		any_category;
	int64		category_hash;
} MyBound;

int			eventodb_write_mode = WRITE_MODE_HORIZON;

static HorizonShared *shared = NULL;
static LWLockPadded *locks = NULL;

static MyBound *mine = NULL;
static int	nmine = 0;
static int	maxmine = 0;

static int
pool_size(void)
{
	return MaxBackends * HORIZON_POOL_PER_BACKEND;
}

static Size
horizon_shmem_size(void)
{
	return add_size(offsetof(HorizonShared, entries),
					mul_size(pool_size(), sizeof(HorizonEntry)));
}

void
horizon_shmem_request(void)
{
	RequestAddinShmemSpace(horizon_shmem_size());
	RequestNamedLWLockTranche(HORIZON_TRANCHE, HORIZON_PARTITIONS);
}

void
horizon_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("eventodb horizon", horizon_shmem_size(), &found);
	if (!found)
	{
		SpinLockInit(&shared->free_mutex);
		shared->nentries = pool_size();
		for (int i = 0; i < HORIZON_PARTITIONS; i++)
			shared->head[i] = -1;
		for (int i = 0; i < shared->nentries; i++)
			shared->entries[i].next = i + 1 < shared->nentries ? i + 1 : -1;
		shared->free_head = 0;
	}
	LWLockRelease(AddinShmemInitLock);
	locks = GetNamedLWLockTranche(HORIZON_TRANCHE);
}

bool
horizon_enabled(void)
{
	return shared != NULL;
}

static void
backend_exit(int code, Datum arg)
{
	horizon_clear();
}

static uint64
ns_key(const HorizonNs *ns)
{
	return ((uint64) MyDatabaseId << 32) | (uint64) ns->nsp;
}

static int
partition_of(uint64 key)
{
	return (int) (((key >> 32) * 0x9E3779B1u ^ (uint32) key) % HORIZON_PARTITIONS);
}

static void
drain_tag(LOCKTAG *tag, Oid nsp)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, nsp, 0, DRAIN_LOCK_FIELD4);
}

HorizonNs
horizon_ns(const char *schema)
{
	HorizonNs	ns;

	ns.nsp = get_namespace_oid(schema, false);
	ns.seq = get_relname_relid("messages_global_position_seq", ns.nsp);
	if (!OidIsValid(ns.seq))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("eventodb: schema \"%s\" has no global position sequence", schema)));
	return ns;
}

/*
 * The highest value the sequence has handed out (0 when none), read from
 * its page under a share lock: nextval updates the page under an exclusive
 * lock for every value it returns (our sequences have CACHE 1), so this is
 * exact and ordered with every draw.
 */
static int64
sequence_last_drawn(Relation seqrel)
{
	Buffer		buf = ReadBuffer(seqrel, 0);
	Page		page;
	ItemId		lp;
	HeapTupleHeader tup;
	Form_pg_sequence_data seq;
	int64		last;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (*(uint32 *) PageGetSpecialPointer(page) != SEQUENCE_PAGE_MAGIC)
		elog(ERROR, "eventodb: bad magic number in sequence \"%s\"",
			 RelationGetRelationName(seqrel));
	lp = PageGetItemId(page, FirstOffsetNumber);
	tup = (HeapTupleHeader) PageGetItem(page, lp);
	seq = (Form_pg_sequence_data) ((char *) tup + tup->t_hoff);
	last = seq->is_called ? seq->last_value : seq->last_value - 1;
	UnlockReleaseBuffer(buf);
	return last;
}

int64
horizon_last_drawn(const HorizonNs *ns)
{
	Relation	seqrel = relation_open(ns->seq, AccessShareLock);
	int64		last = sequence_last_drawn(seqrel);

	relation_close(seqrel, AccessShareLock);
	return last;
}

/* Whether a bound of ours already covers (namespace, category); counts
 * our bounds of the namespace and remembers one of them. */
static bool
already_bounded(uint64 key, bool any_category, int64 category_hash, int *count, int *some)
{
	*count = 0;
	*some = -1;
	for (int i = 0; i < nmine; i++)
	{
		if (mine[i].key != key)
			continue;
		if (mine[i].any_category || (!any_category && mine[i].category_hash == category_hash))
			return true;
		(*count)++;
		*some = i;
	}
	return false;
}

static int
pool_take(void)
{
	int			i;

	SpinLockAcquire(&shared->free_mutex);
	i = shared->free_head;
	if (i >= 0)
		shared->free_head = shared->entries[i].next;
	SpinLockRelease(&shared->free_mutex);
	if (i < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("eventodb: too many categories written by transactions in flight"),
				 errhint("At most %d per server process on average.", HORIZON_POOL_PER_BACKEND)));
	return i;
}

static void
pool_return(int i)
{
	SpinLockAcquire(&shared->free_mutex);
	shared->entries[i].next = shared->free_head;
	shared->free_head = i;
	SpinLockRelease(&shared->free_mutex);
}

/* Room for one more of our bounds, made before one is linked: nothing may
 * fail between linking a bound and remembering it. */
static void
reserve_mine(void)
{
	static bool exit_hooked = false;

	if (!exit_hooked)
	{
		/* A transaction ended by exit aborts: its rows never show. */
		before_shmem_exit(backend_exit, (Datum) 0);
		exit_hooked = true;
	}
	if (nmine == maxmine)
	{
		maxmine = maxmine == 0 ? 16 : maxmine * 2;
		mine = mine == NULL
			? MemoryContextAlloc(TopMemoryContext, maxmine * sizeof(MyBound))
			: repalloc(mine, maxmine * sizeof(MyBound));
	}
}

static void
remember(int index, const HorizonEntry *e)
{
	mine[nmine].index = index;
	mine[nmine].key = e->key;
	mine[nmine].any_category = e->any_category;
	mine[nmine].category_hash = e->category_hash;
	nmine++;
}

void
horizon_publish(const HorizonNs *ns, bool any_category, int64 category_hash)
{
	uint64		key;
	int			part;
	int			count;
	int			some;
	int			index = -1;
	Relation	seqrel;

	if (shared == NULL)
	{
		LOCKTAG		tag;

		drain_tag(&tag, ns->nsp);
		(void) LockAcquire(&tag, ShareLock, false, false);
		return;
	}
	key = ns_key(ns);
	part = partition_of(key);
	if (already_bounded(key, any_category, category_hash, &count, &some))
		return;

	/*
	 * A bound for the whole namespace, or one category too many, widens a
	 * bound we hold for the namespace; it stays valid (it is <= anything
	 * drawn after it, ours included).
	 */
	if (some >= 0 && (any_category || count >= HORIZON_CATEGORIES_PER_NS))
	{
		LWLockAcquire(&locks[part].lock, LW_EXCLUSIVE);
		shared->entries[mine[some].index].any_category = true;
		LWLockRelease(&locks[part].lock);
		mine[some].any_category = true;
		return;
	}

	/* Opened (and locked) before the LWLock: no lock waits while holding it. */
	seqrel = relation_open(ns->seq, AccessShareLock);
	reserve_mine();
	index = pool_take();
	PG_TRY();
	{
		HorizonEntry *e = &shared->entries[index];

		LWLockAcquire(&locks[part].lock, LW_EXCLUSIVE);

		/*
		 * Read under the partition lock, so that every reader either sees
		 * this entry or read the sequence before we did - and then we draw
		 * above what it read (the argument at horizon_read).
		 */
		e->lower = sequence_last_drawn(seqrel) + 1;
		e->key = key;
		e->any_category = any_category;
		e->category_hash = category_hash;
		e->owner = MyProc->pgprocno;
		e->since = GetCurrentTimestamp();
		e->prev = -1;
		e->next = shared->head[part];
		if (e->next >= 0)
			shared->entries[e->next].prev = index;
		shared->head[part] = index;
		LWLockRelease(&locks[part].lock);
	}
	PG_CATCH();
	{
		pool_return(index);
		PG_RE_THROW();
	}
	PG_END_TRY();
	remember(index, &shared->entries[index]);
	relation_close(seqrel, AccessShareLock);
}

/*
 * Why a reader that gets H here and then takes its snapshot sees every
 * message below H that will ever commit - so resuming from its last
 * position + 1 never skips one:
 *
 * Take any writer W that draws position g in this namespace and commits
 * after the reader's snapshot. W published its bound L <= g before drawing
 * g, under the exclusive partition lock; the reader reads the sequence and
 * scans the bounds under the shared lock. Either
 *  - W published before the reader's scan: W is still in flight (it
 *    withdraws its bound only after its commit is visible to new snapshots,
 *    and it commits after the reader's snapshot), so the scan saw L and
 *    H <= L <= g; or
 *  - W published after the scan: W read the sequence after the reader did,
 *    so g > (what W read) >= (what the reader read) = H - 1 or more, i.e.
 *    g >= H.
 * Either way g >= H: the message is not one the reader could have skipped.
 * Messages below H are therefore all committed or aborted by the time the
 * reader takes its snapshot. Scanning only bounds of the reader's category
 * (or widened ones) is enough, since only those writers produce its rows.
 *
 * H never decreases for a namespace (bounds are published at the current
 * highest position + 1), so a poke sent once H has passed a message means
 * every later read sees it.
 *
 * Not covered: rows inserted without the write path (plain INSERT, imports
 * below the sequence) and sequences with CACHE > 1. Reads on a hot standby
 * use the mark the poke worker publishes instead (read_horizon.h).
 */
int64
horizon_read(const HorizonNs *ns, bool whole, int64 category_hash)
{
	uint64		key;
	int			part;
	Relation	seqrel;
	int64		h;

	if (shared == NULL)
		return PG_INT64_MAX;
	key = ns_key(ns);
	part = partition_of(key);
	seqrel = relation_open(ns->seq, AccessShareLock);
	LWLockAcquire(&locks[part].lock, LW_SHARED);
	h = sequence_last_drawn(seqrel) + 1;
	for (int i = shared->head[part]; i >= 0; i = shared->entries[i].next)
	{
		HorizonEntry *e = &shared->entries[i];

		/* Our own uncommitted rows are in our snapshot already. */
		if (e->key == key && e->owner != MyProc->pgprocno &&
			(whole || e->any_category || e->category_hash == category_hash) &&
			e->lower < h)
			h = e->lower;
	}
	LWLockRelease(&locks[part].lock);
	relation_close(seqrel, AccessShareLock);
	return h;
}

void
horizon_oldest_writers(void (*fn) (Oid nsp, TimestampTz since, int writers, void *arg), void *arg)
{
	Oid		   *nsps;
	TimestampTz *sinces;
	int		   *counts;

	if (shared == NULL)
		return;
	/* room for every bound, so nothing is allocated under a lock */
	nsps = palloc(shared->nentries * sizeof(Oid));
	sinces = palloc(shared->nentries * sizeof(TimestampTz));
	counts = palloc(shared->nentries * sizeof(int));
	for (int part = 0; part < HORIZON_PARTITIONS; part++)
	{
		int			n = 0;

		LWLockAcquire(&locks[part].lock, LW_SHARED);
		for (int i = shared->head[part]; i >= 0; i = shared->entries[i].next)
		{
			HorizonEntry *e = &shared->entries[i];
			int			j;

			if ((Oid) (e->key >> 32) != MyDatabaseId)
				continue;
			for (j = 0; j < n && nsps[j] != (Oid) e->key; j++)
				;
			if (j == n)
			{
				nsps[n] = (Oid) e->key;
				sinces[n] = e->since;
				counts[n] = 0;
				n++;
			}
			counts[j]++;
			if (e->since < sinces[j])
				sinces[j] = e->since;
		}
		LWLockRelease(&locks[part].lock);
		for (int j = 0; j < n; j++)
			fn(nsps[j], sinces[j], counts[j], arg);
	}
	pfree(nsps);
	pfree(sinces);
	pfree(counts);
}

int64
horizon_for_category(const char *schema, const char *category, size_t len)
{
	HorizonNs	ns;

	/*
	 * A hot standby has no bounds of the primary's writers: it reads below
	 * the mark the primary published through WAL, looked up before the
	 * read's snapshot is taken (read_horizon.h).
	 */
	if (RecoveryInProgress())
		return read_horizon_mark(schema);
	if (shared == NULL && category != NULL)
		return PG_INT64_MAX;
	ns = horizon_ns(schema);
	if (shared == NULL)
	{
		int64		last = horizon_last_drawn(&ns);
		LOCKTAG		tag;

		drain_tag(&tag, ns.nsp);
		(void) LockAcquire(&tag, ExclusiveLock, true, false);
		LockRelease(&tag, ExclusiveLock, true);
		return last + 1;
	}
	return horizon_read(&ns, category == NULL, category ? store_hash64(category, len) : 0);
}

void
horizon_push_read_snapshot(void)
{
	CommandCounterIncrement();
	PushActiveSnapshot(IsolationUsesXactSnapshot() ? GetLatestSnapshot() : GetTransactionSnapshot());
}

bool
horizon_held(void)
{
	return nmine > 0;
}

bool
horizon_clear(void)
{
	if (shared == NULL || nmine == 0)
		return false;
	/* Unlinked partition by partition; back to the pool once unreachable. */
	for (int i = 0; i < nmine; i++)
	{
		int			part;

		if (mine[i].index < 0)
			continue;
		part = partition_of(mine[i].key);
		LWLockAcquire(&locks[part].lock, LW_EXCLUSIVE);
		for (int j = i; j < nmine; j++)
		{
			HorizonEntry *e;

			if (mine[j].index < 0 || partition_of(mine[j].key) != part)
				continue;
			e = &shared->entries[mine[j].index];
			if (e->prev >= 0)
				shared->entries[e->prev].next = e->next;
			else
				shared->head[part] = e->next;
			if (e->next >= 0)
				shared->entries[e->next].prev = e->prev;
		}
		LWLockRelease(&locks[part].lock);
		for (int j = i; j < nmine; j++)
		{
			if (mine[j].index < 0 || partition_of(mine[j].key) != part)
				continue;
			pool_return(mine[j].index);
			mine[j].index = -1;
		}
	}
	nmine = 0;
	return true;
}
