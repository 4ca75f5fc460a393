/*
 * The poke worker of one database (see poke_queue.h): takes committed runs
 * from the ring, and for each namespace NOTIFYs eventodb_poke for the rows
 * below the namespace's horizon, in global-position order, many per
 * transaction.
 *
 * Ordering: in every round the worker first computes the horizon H of each
 * namespace with pending runs, then takes the ring's runs again. A run whose
 * rows are below H belongs to a writer that withdrew its bound before H was
 * computed, and writers queue their runs before withdrawing - so all runs
 * below H are in hand when the worker pokes, and it never pokes a position
 * after a larger one. A reader that gets the poke computes its own horizon
 * later, and horizons only grow, so it sees the poked row.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "horizon.h"
#include "poke_queue.h"
#include "read_horizon.h"
#include "spi_pinned.h"
#include "stats.h"
#include "store.h"

/* Rows poked per namespace and round: bounds one transaction's NOTIFY list. */
#define ROUND_ROWS 10000
#define IDLE_WAKE_MS 1000
/* While there is work, rounds every POLL_MS without being woken; after
 * POLL_IDLE_ROUNDS rounds without progress the worker sleeps until a
 * writer wakes it. */
#define POLL_MS 1
#define POLL_IDLE_ROUNDS 20
/* Read marks (read_horizon.h) are stored at most this often: each is a
 * small transaction, and standbys only need them fresh, not every one. */
#define MARK_EVERY_MS 10

typedef struct PendingRun
{
	PokeRun		r;
	uint64		ord;
} PendingRun;

typedef struct NsState
{
	Oid			nsp;
	int64		released;		/* highest position poked (coarse runs skip below) */
	int64		released_before;	/* at the start of the round */
	bool		tried;			/* this round */
	bool		have_h;
	int64		h;
	int64		mark_due;		/* read mark to store (0: none yet) */
	int64		mark_stored;
} NsState;

static int	db_index;
static PokeDb *db;

static PendingRun *pend;
static int	npend,
			maxpend;
static PokeBarrier *bars;
static int	nbars,
			maxbars;
static NsState *nss;
static int	nns,
			maxns;
static uint64 drained;			/* ring ordinal up to which runs are taken */

/* Pokes sent for the namespace being released, and the newest one's age
 * (its message's time to now), for eventodb.stat_namespaces. */
static uint64 ns_pokes;
static int64 ns_poke_lag_us;

/* The pending runs as they were before a round's pokes: a round that fails
 * after changing them is undone, its NOTIFYs having gone with it. */
static PendingRun *backup;
static int	nbackup,
			maxbackup;
static bool backup_valid = false;

void		pokeq_worker_detach(int code, Datum arg);

static void *
grow(void *arr, int *max, Size elem)
{
	*max = *max == 0 ? 64 : *max * 2;
	return arr == NULL ? MemoryContextAlloc(TopMemoryContext, *max * elem)
		: repalloc(arr, *max * elem);
}

static NsState *
ns_state(Oid nsp)
{
	for (int i = 0; i < nns; i++)
		if (nss[i].nsp == nsp)
			return &nss[i];
	if (nns == maxns)
		nss = grow(nss, &maxns, sizeof(NsState));
	nss[nns].nsp = nsp;
	nss[nns].released = 0;
	nss[nns].have_h = false;
	nss[nns].mark_due = 0;
	nss[nns].mark_stored = 0;
	return &nss[nns++];
}

/* Moves queued runs and barriers into local memory, freeing ring space. */
static void
drain(void)
{
	SpinLockAcquire(&db->mutex);
	while (db->tail < db->head)
	{
		if (npend == maxpend)
		{
			SpinLockRelease(&db->mutex);
			pend = grow(pend, &maxpend, sizeof(PendingRun));
			SpinLockAcquire(&db->mutex);
			continue;
		}
		pend[npend].r = db->ring[db->tail % POKEQ_RING];
		pend[npend].ord = db->tail;
		npend++;
		db->tail++;
	}
	drained = db->tail;
	while (db->btail < db->bhead)
	{
		if (nbars == maxbars)
		{
			SpinLockRelease(&db->mutex);
			bars = grow(bars, &maxbars, sizeof(PokeBarrier));
			SpinLockAcquire(&db->mutex);
			continue;
		}
		bars[nbars++] = db->barriers[db->btail % POKEQ_BARRIERS];
		db->btail++;
	}
	SpinLockRelease(&db->mutex);
}

static void
drop_runs_of(Oid nsp)
{
	int			n = 0;

	for (int i = 0; i < npend; i++)
		if (pend[i].r.nsp != nsp)
			pend[n++] = pend[i];
	npend = n;
}

/* The namespace id pokes carry for a schema, NULL when it is not one. */
static char *
ns_id_of(const char *schema)
{
	static Oid	argtypes[1] = {TEXTOID};
	Oid			evo;
	Datum		values[1];
	bool		isnull;
	Datum		id;

	if (strcmp(schema, "message_store") == 0)
		return "default";
	evo = get_namespace_oid("eventodb", true);
	if (!OidIsValid(evo) || !OidIsValid(get_relname_relid("namespaces", evo)))
		return NULL;
	values[0] = CStringGetTextDatum(schema);
	if (SPI_execute_plan(plan_for("eventodb", "poke_ns_id",
								  "SELECT id FROM @S.namespaces WHERE schema_name = $1",
								  1, argtypes),
						 values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: namespace lookup failed");
	if (SPI_processed == 0)
		return NULL;
	id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : TextDatumGetCString(id);
}

/* NOTIFYs every row of [lo, hi]; returns the highest position poked. */
static int64
poke_rows(const char *schema, const char *ns_id, int64 lo, int64 hi, int64 released)
{
	static Oid	argtypes[2] = {INT8OID, INT8OID};
	SPIPlanPtr	plan = plan_for(schema, "poke_rows",
								"SELECT stream_name, position, global_position, time FROM @S.messages"
								" WHERE global_position >= $1 AND global_position <= $2"
								" ORDER BY global_position",
								2, argtypes);
	Datum		values[2] = {Int64GetDatum(lo), Int64GetDatum(hi)};
	StringInfoData payload;

	/* Not read-only: a snapshot taken now, after the horizon was computed. */
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: poke rows query failed");
	initStringInfo(&payload);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *stream = TextDatumGetCString(SPI_getbinval(row, td, 1, &isnull));
		int64		position = DatumGetInt64(SPI_getbinval(row, td, 2, &isnull));
		int64		gpos = DatumGetInt64(SPI_getbinval(row, td, 3, &isnull));

		resetStringInfo(&payload);
		store_poke_payload(&payload, ns_id, stream, position, gpos);
		Async_Notify(store_poke_channel(ns_id), payload.data);
		if (gpos > released)
			released = gpos;
		ns_pokes++;
		if (i + 1 == SPI_processed)
		{
			Datum		t = SPI_getbinval(row, td, 4, &isnull);

			/* message time is UTC without zone: the same microseconds */
			if (!isnull)
				ns_poke_lag_us = GetCurrentTimestamp() - (TimestampTz) DatumGetTimestamp(t);
		}
	}
	SPI_freetuptable(SPI_tuptable);
	return released;
}

static int
run_cmp(const void *a, const void *b)
{
	const PendingRun *x = a;
	const PendingRun *y = b;

	if (x->r.nsp != y->r.nsp)
		return x->r.nsp < y->r.nsp ? -1 : 1;
	if (x->r.lo != y->r.lo)
		return x->r.lo < y->r.lo ? -1 : 1;
	return 0;
}

/*
 * Pokes the rows of ns's runs below its horizon (at most ROUND_ROWS
 * positions past the first); runs [first, last) of the sorted pending
 * array are ns's. Returns whether rows below the horizon remain.
 */
static bool
release_namespace(NsState *ns, int first, int last)
{
	char	   *schema = get_namespace_name(ns->nsp);
	char	   *ns_id = schema ? ns_id_of(schema) : NULL;
	int64		limit;
	int64		cur_lo = 0,
				cur_hi = -1;

	if (ns_id == NULL)
	{
		for (int i = first; i < last; i++)
			pend[i].r.lo = pend[i].r.hi + 1;	/* dropped below */
		return false;
	}
	limit = Min(ns->h, pend[first].r.lo + ROUND_ROWS);
	ns_pokes = 0;
	for (int i = first; i < last; i++)
	{
		PokeRun    *r = &pend[i].r;
		int64		lo = r->coarse ? Max(r->lo, ns->released + 1) : r->lo;
		int64		hi = Min(r->hi, limit - 1);

		if (lo > hi)
		{
			if (r->coarse && hi == r->hi)
				r->lo = r->hi + 1;
			continue;
		}
		/* Adjacent or overlapping ranges go out as one query. */
		if (cur_hi >= cur_lo && lo <= cur_hi + 1)
			cur_hi = Max(cur_hi, hi);
		else
		{
			if (cur_hi >= cur_lo)
				ns->released = poke_rows(schema, ns_id, cur_lo, cur_hi, ns->released);
			cur_lo = lo;
			cur_hi = hi;
		}
		r->lo = hi + 1;
	}
	if (cur_hi >= cur_lo)
		ns->released = poke_rows(schema, ns_id, cur_lo, cur_hi, ns->released);
	/* counted when sent; a round that fails and is retried counts twice */
	stats_poked(ns->nsp, ns_pokes, ns->released, ns_poke_lag_us);
	for (int i = first; i < last; i++)
		if (pend[i].r.lo <= pend[i].r.hi && pend[i].r.lo < ns->h)
			return true;
	return false;
}

/*
 * Whether every run b waits for is poked: every run when done (the lowest
 * ordinal still pending) has passed b, else - for a barrier of one
 * namespace - every pending run of that namespace is at or after b.
 */
static bool
barrier_passed(const PokeBarrier *b, uint64 done)
{
	if (b->after <= done)
		return true;
	if (!OidIsValid(b->nsp) || b->after > drained)
		return false;
	for (int i = 0; i < npend; i++)
		if (pend[i].r.nsp == b->nsp && pend[i].ord < b->after)
			return false;
	return true;
}

/* NOTIFYs the barriers whose earlier runs are all poked; they leave the
 * list once the round commits (forget_barriers). */
static void
release_barriers(uint64 done)
{
	for (int i = 0; i < nbars; i++)
		if (barrier_passed(&bars[i], done))
			Async_Notify(bars[i].channel, bars[i].payload);
}

static void
forget_barriers(uint64 done)
{
	int			n = 0;

	for (int i = 0; i < nbars; i++)
		if (!barrier_passed(&bars[i], done))
			bars[n++] = bars[i];
	nbars = n;
}

static void
save_pending(void)
{
	if (npend > maxbackup)
	{
		maxbackup = npend;
		backup = backup == NULL
			? MemoryContextAlloc(TopMemoryContext, maxbackup * sizeof(PendingRun))
			: repalloc(backup, maxbackup * sizeof(PendingRun));
	}
	if (npend > 0)
		memcpy(backup, pend, npend * sizeof(PendingRun));
	nbackup = npend;
	for (int i = 0; i < nns; i++)
		nss[i].released_before = nss[i].released;
	backup_valid = true;
}

static void
restore_pending(void)
{
	if (!backup_valid)
		return;
	if (nbackup > 0)
		memcpy(pend, backup, nbackup * sizeof(PendingRun));
	npend = nbackup;
	for (int i = 0; i < nns; i++)
		nss[i].released = nss[i].released_before;
	backup_valid = false;
}

/*
 * DROP EXTENSION locks the registry and then every namespace's tables; a
 * round that held a namespace's table and then waited for the registry
 * (release_namespace reads it) would deadlock with it. So a round takes
 * the registry first, without waiting, and leaves every namespace to a
 * later round while DDL holds it.
 */
static bool
registry_lock(void)
{
	Oid			nsp = get_namespace_oid("eventodb", true);
	Oid			reg = OidIsValid(nsp) ? get_relname_relid("namespaces", nsp) : InvalidOid;

	return OidIsValid(reg) && ConditionalLockRelationOid(reg, AccessShareLock);
}

/* One round; returns whether more work is ready right away, and in
 * *progress whether it took or sent anything. */
static bool
poke_round(bool *progress)
{
	bool		more = false;
	uint64		done;
	uint64		tail_before = db->tail;
	int			n;
	int			nbars_before;
	bool		registry_ok;

	*progress = false;
	drain();
	*progress = db->tail != tail_before;
	if (npend == 0 && nbars == 0)
	{
		SpinLockAcquire(&db->mutex);
		db->done = drained;
		more = db->tail < db->head;
		SpinLockRelease(&db->mutex);
		return more;
	}

	StartTransactionCommand();
	spi_connect_pinned();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "poking");
	registry_ok = registry_lock();
	for (int i = 0; i < nns; i++)
		nss[i].tried = nss[i].have_h = false;
	for (int i = 0; i < npend; i++)
	{
		NsState    *ns = ns_state(pend[i].r.nsp);
		HorizonNs	hns;
		Oid			table;

		if (ns->tried)
			continue;
		ns->tried = true;
		hns.nsp = ns->nsp;
		hns.seq = get_relname_relid("messages_global_position_seq", ns->nsp);
		table = get_relname_relid("messages", ns->nsp);
		if (!OidIsValid(hns.seq) || !OidIsValid(table))
		{
			drop_runs_of(ns->nsp);
			i = -1;				/* the array changed: rescan */
			continue;
		}
		/* A namespace locked by DDL (delete, clear) waits for a later
		 * round; the others' pokes go on. */
		if (!registry_ok || !ConditionalLockRelationOid(table, AccessShareLock) ||
			!ConditionalLockRelationOid(hns.seq, AccessShareLock))
			continue;
		ns->h = horizon_read(&hns, true, 0);
		ns->have_h = true;
		ns->mark_due = ns->h;
		/* import_clear restarted the sequence: positions are reused. */
		if (ns->h <= ns->released)
			ns->released = 0;
	}
	drain();

	qsort(pend, npend, sizeof(PendingRun), run_cmp);
	save_pending();
	for (int first = 0; first < npend;)
	{
		int			last = first;
		NsState    *ns = ns_state(pend[first].r.nsp);

		while (last < npend && pend[last].r.nsp == ns->nsp)
			last++;
		if (ns->have_h && pend[first].r.lo < ns->h)
			more |= release_namespace(ns, first, last);
		first = last;
	}

	/* Runs fully poked leave; the rest keep their ordinals. */
	*progress |= drained != tail_before;
	n = 0;
	done = drained;
	for (int i = 0; i < npend; i++)
		if (pend[i].r.lo <= pend[i].r.hi)
		{
			pend[n++] = pend[i];
			done = Min(done, pend[i].ord);
		}
	*progress |= npend != n;
	npend = n;
	release_barriers(done);

	PopActiveSnapshot();
	spi_finish_pinned();
	CommitTransactionCommand();
	backup_valid = false;
	pgstat_report_activity(STATE_IDLE, NULL);
	nbars_before = nbars;
	forget_barriers(done);
	*progress |= nbars != nbars_before;

	SpinLockAcquire(&db->mutex);
	db->done = done;
	more |= db->tail < db->head;
	SpinLockRelease(&db->mutex);
	return more;
}

static bool
marks_due(void)
{
	for (int i = 0; i < nns; i++)
		if (nss[i].mark_due > 0 && nss[i].mark_due != nss[i].mark_stored)
			return true;
	return false;
}

/*
 * Stores the namespaces' horizons that changed as read marks, in a
 * transaction of its own, at most every MARK_EVERY_MS. A horizon H was
 * computed after every writer below it withdrew its bound, i.e. after its
 * commit or abort was in WAL; this transaction commits later, so a standby
 * that sees the mark has replayed all of them. Returns whether marks still
 * wait (the caller keeps polling instead of sleeping).
 */
static bool
publish_marks(void)
{
	static TimestampTz last = 0;
	MemoryContext cxt = CurrentMemoryContext;
	TimestampTz now;

	if (!marks_due())
		return false;
	now = GetCurrentTimestamp();
	if (!TimestampDifferenceExceeds(last, now, MARK_EVERY_MS))
		return true;
	last = now;
	PG_TRY();
	{
		StartTransactionCommand();
		spi_connect_pinned();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "storing read marks");
		/*
		 * Committed without waiting for the WAL flush (the worker runs with
		 * synchronous_commit off, see eventodb_poke_worker_main): the pokes must not
		 * queue behind it, and a mark lost in a crash only leaves an older,
		 * lower - still safe - one in place.
		 */
		/* Before the 1.1 update there is no table: nothing to store. */
		if (read_horizon_table_exists())
			for (int i = 0; i < nns; i++)
			{
				char	   *schema;

				if (nss[i].mark_due <= 0 || nss[i].mark_due == nss[i].mark_stored)
					continue;
				schema = get_namespace_name(nss[i].nsp);
				if (schema != NULL)
					read_horizon_store(schema, nss[i].mark_due);
			}
		PopActiveSnapshot();
		spi_finish_pinned();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		for (int i = 0; i < nns; i++)
			nss[i].mark_stored = nss[i].mark_due;
	}
	PG_CATCH();
	{
		/* Logged and retried later; marks only lag meanwhile. */
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	return marks_due();
}

/* A round that survives errors: logged, and after repeated failures the
 * pending runs are dropped rather than retried forever. */
static bool
guarded_round(bool *progress, int *failures)
{
	MemoryContext cxt = CurrentMemoryContext;
	bool		more = false;

	*progress = false;
	PG_TRY();
	{
		more = poke_round(progress);
		*failures = 0;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		restore_pending();
		if (++*failures >= 3)
		{
			ereport(WARNING,
					(errmsg("eventodb: dropping %d pending poke runs after repeated failures", npend)));
			npend = 0;
			*failures = 0;
		}
		pg_usleep(100 * 1000L);
	}
	PG_END_TRY();
	return more;
}

/*
 * Asked to leave (db_guard.c: DDL that needs the database to itself): the
 * runs and barriers taken from the ring but not sent yet go back to its
 * front, for the next worker of this database. They stand for committed
 * writes, and the DDL may fail after all (or be refused) and leave the
 * database in use.
 */
static void
give_back_pending(void)
{
	int			lost_runs = 0;
	int			lost_bars = 0;

	SpinLockAcquire(&db->mutex);
	for (int i = npend - 1; i >= 0 && lost_runs == 0; i--)
	{
		if (db->head - db->tail + 1 + db->reserved > POKEQ_RING)
			lost_runs = i + 1;
		else
		{
			db->tail--;
			db->ring[db->tail % POKEQ_RING] = pend[i].r;
		}
	}
	for (int i = nbars - 1; i >= 0 && lost_bars == 0; i--)
	{
		if (db->bhead - db->btail + 1 > POKEQ_BARRIERS)
			lost_bars = i + 1;
		else
		{
			db->btail--;
			db->barriers[db->btail % POKEQ_BARRIERS] = bars[i];
		}
	}
	SpinLockRelease(&db->mutex);
	npend = nbars = 0;
	if (lost_runs > 0 || lost_bars > 0)
		ereport(WARNING,
				(errmsg("eventodb: poke worker leaving with a full queue: %d poke runs and %d barriers dropped",
						lost_runs, lost_bars)));
}

void
eventodb_poke_worker_main(Datum arg)
{
	Oid			dboid;
	int			failures = 0;
	int			idle = 0;

	db_index = DatumGetInt32(arg);
	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	db = pokeq_db(db_index);

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	before_shmem_exit(pokeq_worker_detach, Int32GetDatum(db_index));

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pokeq_worker_attach(db_index, dboid);
	/* Its NOTIFYs are hints, and their commit writes nothing durable. */
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("eventodb poke worker");

	for (;;)
	{
		bool		more;
		bool		progress;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (db->exit_requested)
		{
			give_back_pending();
			break;
		}
		more = guarded_round(&progress, &failures);
		if (publish_marks())
			progress = true;
		if (more)
			continue;
		idle = progress ? 0 : idle + 1;
		if (idle < POLL_IDLE_ROUNDS)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 POLL_MS, PG_WAIT_EXTENSION);
			continue;
		}

		/*
		 * Announce the sleep, then look once more: a writer that queued
		 * runs or withdrew a bound before seeing the announcement is seen
		 * by this round (pokeq_wake has the other half).
		 */
		db->sleeping = true;
		pg_memory_barrier();
		more = guarded_round(&progress, &failures);
		if (publish_marks())
			progress = true;
		if (!more && !progress)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 IDLE_WAKE_MS, PG_WAIT_EXTENSION);
		db->sleeping = false;
		idle = 0;
	}
	proc_exit(0);
}
