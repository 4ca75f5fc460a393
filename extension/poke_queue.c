/*
 * The database slots, their run rings and the writer's side of deferred
 * pokes (see poke_queue.h).
 *
 * A committing writer needs ring space after its commit, when it can no
 * longer fail or wait for long; so it reserves the space in PRE_COMMIT
 * (where waiting and erroring are fine) and fills it at COMMIT, before it
 * withdraws its horizon bound. The worker computes a namespace's horizon
 * before it takes runs from the ring, so any run below that horizon is
 * already in the ring when the worker looks.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "commands/async.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "horizon.h"
#include "poke_queue.h"

#define POKEQ_TRANCHE "eventodb_pokes"
#define POKEQ_START_TIMEOUT_MS 10000
#define POKEQ_WAIT_TIMEOUT_MS 30000

typedef struct PokeQueueShared
{
	PokeDb		db[POKEQ_DATABASES];
} PokeQueueShared;

typedef struct PokeNote
{
	Oid			nsp;
	int64		gpos;
} PokeNote;

static PokeQueueShared *shared = NULL;
static LWLock *admin = NULL;

/* This backend's database slot (a cache; checked against dboid). */
static int	my_db = -1;

/* This transaction's deferred pokes, and the runs reserved for them. */
static PokeNote *notes = NULL;
static int	nnotes = 0;
static int	maxnotes = 0;
static PokeRun *runs = NULL;
static int	nruns = 0;
static int	reserved_db = -1;

void
pokeq_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(PokeQueueShared));
	RequestNamedLWLockTranche(POKEQ_TRANCHE, 1);
}

void
pokeq_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("eventodb pokes", sizeof(PokeQueueShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(PokeQueueShared));
		for (int i = 0; i < POKEQ_DATABASES; i++)
		{
			shared->db[i].state = POKEQ_FREE;
			shared->db[i].procno = -1;
			SpinLockInit(&shared->db[i].mutex);
		}
	}
	LWLockRelease(AddinShmemInitLock);
	admin = &GetNamedLWLockTranche(POKEQ_TRANCHE)[0].lock;
}

PokeDb *
pokeq_db(int index)
{
	return &shared->db[index];
}

static void
reset_ring(PokeDb *d)
{
	SpinLockAcquire(&d->mutex);
	d->head = d->tail = d->done = 0;
	d->reserved = 0;
	d->bhead = d->btail = 0;
	SpinLockRelease(&d->mutex);
}

/* The slot of this database, claiming one if needed. Admin lock held. */
static int
claim_slot(void)
{
	int			free_slot = -1;

	for (int i = 0; i < POKEQ_DATABASES; i++)
	{
		if (shared->db[i].state != POKEQ_FREE && shared->db[i].dboid == MyDatabaseId)
			return i;
		if (shared->db[i].state == POKEQ_FREE && free_slot < 0)
			free_slot = i;
	}
	/* Slots of databases dropped without our hook seeing it. */
	for (int i = 0; i < POKEQ_DATABASES && free_slot < 0; i++)
		if (shared->db[i].state == POKEQ_IDLE &&
			!SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(shared->db[i].dboid)))
			free_slot = i;
	if (free_slot < 0)
		return -1;
	shared->db[free_slot].dboid = MyDatabaseId;
	shared->db[free_slot].state = POKEQ_IDLE;
	shared->db[free_slot].procno = -1;
	shared->db[free_slot].exit_requested = false;
	reset_ring(&shared->db[free_slot]);
	return free_slot;
}

/* Makes sure slot i has a worker running or on its way. Admin lock held. */
static bool
start_worker(int i)
{
	PokeDb	   *d = &shared->db[i];
	BackgroundWorker bgw;

	if (d->exit_requested)
		return false;
	if (d->state == POKEQ_RUNNING)
		return true;
	if (d->state == POKEQ_STARTING &&
		!TimestampDifferenceExceeds(d->started_at, GetCurrentTimestamp(), POKEQ_START_TIMEOUT_MS))
		return true;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "eventodb");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "eventodb_poke_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "eventodb poke worker for database %u", MyDatabaseId);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "eventodb poke worker");
	bgw.bgw_main_arg = Int32GetDatum(i);
	memcpy(bgw.bgw_extra, &MyDatabaseId, sizeof(Oid));
	bgw.bgw_notify_pid = 0;
	if (!RegisterDynamicBackgroundWorker(&bgw, NULL))
		return false;
	d->state = POKEQ_STARTING;
	d->started_at = GetCurrentTimestamp();
	return true;
}

static bool
ensure_worker(void)
{
	bool		ok;
	int			i;

	LWLockAcquire(admin, LW_EXCLUSIVE);
	i = claim_slot();
	ok = i >= 0 && start_worker(i);
	LWLockRelease(admin);
	my_db = i;
	return ok;
}

bool
pokeq_available(void)
{
	static bool warned = false;
	PokeDb	   *d;

	if (shared == NULL || eventodb_write_mode != WRITE_MODE_HORIZON)
		return false;

	/*
	 * A hot standby writes nothing (its writers fail as read-only), so it
	 * needs no worker; and one registered here would wait for a promotion
	 * and then run beside the one the first write after it registers - one
	 * more for every call (write_mode() probes, misrouted writes). After a
	 * promotion the first write starts the worker.
	 */
	if (RecoveryInProgress())
		return true;
	if (my_db >= 0)
	{
		d = &shared->db[my_db];
		if (d->dboid == MyDatabaseId && d->state == POKEQ_RUNNING && !d->exit_requested)
			return true;
	}
	if (ensure_worker())
		return true;
	if (!warned)
		ereport(LOG,
				(errmsg("eventodb: no poke worker for database %u; its writes take the category lock",
						MyDatabaseId),
				 my_db < 0
				 ? errdetail("All %d database slots are taken by databases with a poke worker.",
							 POKEQ_DATABASES)
				 : errdetail("No background worker could be registered (max_worker_processes = %d).",
							 max_worker_processes)));
	warned = true;
	return false;
}

void
pokeq_note(Oid nsp, int64 gpos)
{
	if (nnotes == maxnotes)
	{
		maxnotes = maxnotes == 0 ? 64 : maxnotes * 2;
		notes = notes == NULL
			? MemoryContextAlloc(TopMemoryContext, maxnotes * sizeof(PokeNote))
			: repalloc(notes, maxnotes * sizeof(PokeNote));
	}
	notes[nnotes].nsp = nsp;
	notes[nnotes].gpos = gpos;
	nnotes++;
}

static int
note_cmp(const void *a, const void *b)
{
	const PokeNote *x = a;
	const PokeNote *y = b;

	if (x->nsp != y->nsp)
		return x->nsp < y->nsp ? -1 : 1;
	if (x->gpos != y->gpos)
		return x->gpos < y->gpos ? -1 : 1;
	return 0;
}

/* The notes as runs of consecutive positions; one coarse run per namespace
 * when there are too many to queue (duplicates are dropped by the worker). */
static void
build_runs(void)
{
	qsort(notes, nnotes, sizeof(PokeNote), note_cmp);
	runs = MemoryContextAlloc(TopTransactionContext, nnotes * sizeof(PokeRun));
	nruns = 0;
	for (int i = 0; i < nnotes; i++)
	{
		PokeRun    *last = nruns > 0 ? &runs[nruns - 1] : NULL;

		if (last && last->nsp == notes[i].nsp && notes[i].gpos <= last->hi + 1)
		{
			if (notes[i].gpos > last->hi)
				last->hi = notes[i].gpos;
			continue;
		}
		runs[nruns].nsp = notes[i].nsp;
		runs[nruns].coarse = false;
		runs[nruns].lo = runs[nruns].hi = notes[i].gpos;
		nruns++;
	}
	if (nruns > POKEQ_RING / 4)
	{
		int			n = 0;

		for (int i = 0; i < nruns; i++)
		{
			if (n > 0 && runs[n - 1].nsp == runs[i].nsp)
			{
				runs[n - 1].hi = runs[i].hi;
				runs[n - 1].coarse = true;
				continue;
			}
			runs[n++] = runs[i];
		}
		nruns = n;
	}
}

static void
set_worker_latch(PokeDb *d)
{
	int			procno = d->procno;

	if (procno >= 0)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

/* Waits (interruptibly) for cond; the worker is woken on each try. */
typedef bool (*PokeCond) (PokeDb *d, void *arg);

static bool
wait_for(PokeDb *d, PokeCond cond, void *arg, int timeout_ms)
{
	TimestampTz start = GetCurrentTimestamp();

	for (;;)
	{
		if (cond(d, arg))
			return true;
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), timeout_ms))
			return false;
		if (d->state != POKEQ_RUNNING && d->state != POKEQ_STARTING)
			ensure_worker();
		set_worker_latch(d);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

static bool
try_reserve(PokeDb *d, void *arg)
{
	uint32		n = *(uint32 *) arg;
	bool		ok;

	SpinLockAcquire(&d->mutex);
	ok = d->head - d->tail + d->reserved + n <= POKEQ_RING;
	if (ok)
		d->reserved += n;
	SpinLockRelease(&d->mutex);
	return ok;
}

void
pokeq_pre_commit(void)
{
	uint32		n;

	if (nnotes == 0)
		return;
	build_runs();
	if (my_db < 0 || shared->db[my_db].dboid != MyDatabaseId)
		elog(ERROR, "eventodb: deferred pokes without a database slot");
	n = nruns;
	if (!wait_for(&shared->db[my_db], try_reserve, &n, POKEQ_WAIT_TIMEOUT_MS))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("eventodb: the poke queue of this database stays full"),
				 errhint("Check that the \"eventodb poke worker\" process of this database is running.")));
	reserved_db = my_db;
}

/* Ends the transaction's reservation: its runs enter the ring (commit) or
 * give their places back (abort). */
static void
end_reservation(bool queue)
{
	PokeDb	   *d;

	if (reserved_db >= 0)
	{
		d = &shared->db[reserved_db];
		SpinLockAcquire(&d->mutex);
		if (queue)
		{
			for (int i = 0; i < nruns; i++)
				d->ring[(d->head + i) % POKEQ_RING] = runs[i];
			d->head += nruns;
		}
		d->reserved -= nruns;
		SpinLockRelease(&d->mutex);
	}
	reserved_db = -1;
	nnotes = 0;
	nruns = 0;
	runs = NULL;
}

void
pokeq_commit(void)
{
	end_reservation(true);
}

void
pokeq_abort(void)
{
	end_reservation(false);
}

static PokeDb *
this_database(void)
{
	if (shared == NULL)
		return NULL;
	if (my_db >= 0 && shared->db[my_db].dboid == MyDatabaseId &&
		shared->db[my_db].state != POKEQ_FREE)
		return &shared->db[my_db];
	for (int i = 0; i < POKEQ_DATABASES; i++)
		if (shared->db[i].state != POKEQ_FREE && shared->db[i].dboid == MyDatabaseId)
			return &shared->db[i];
	return NULL;
}

void
pokeq_wake(void)
{
	PokeDb	   *d = this_database();

	if (d == NULL)
		return;
	/* Pairs with the worker's barrier between announcing its sleep and its
	 * last look: either it sees our runs and withdrawn bounds, or we see it
	 * sleeping. */
	pg_memory_barrier();
	if (d->sleeping)
		set_worker_latch(d);
}

static bool
try_barrier(PokeDb *d, void *arg)
{
	const PokeBarrier *b = arg;
	bool		ok;

	SpinLockAcquire(&d->mutex);
	ok = d->bhead - d->btail < POKEQ_BARRIERS;
	if (ok)
	{
		PokeBarrier *slot = &d->barriers[d->bhead % POKEQ_BARRIERS];

		memcpy(slot->channel, b->channel, sizeof(slot->channel));
		memcpy(slot->payload, b->payload, sizeof(slot->payload));
		slot->nsp = b->nsp;
		slot->after = d->head;
		d->bhead++;
	}
	SpinLockRelease(&d->mutex);
	return ok;
}

void
pokeq_barrier(const char *channel, const char *payload, Oid nsp)
{
	PokeBarrier b;

	if (!pokeq_available())
	{
		/* Pokes travel inside the writers' transactions: commit order. */
		Async_Notify(channel, payload);
		return;
	}
	if (strlen(channel) >= sizeof(b.channel) || strlen(payload) >= sizeof(b.payload))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("eventodb: barrier channel or payload too long")));
	memset(&b, 0, sizeof(b));
	strlcpy(b.channel, channel, sizeof(b.channel));
	strlcpy(b.payload, payload, sizeof(b.payload));
	b.nsp = nsp;
	if (!wait_for(&shared->db[my_db], try_barrier, &b, POKEQ_WAIT_TIMEOUT_MS))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("eventodb: the poke barrier queue of this database stays full")));
	set_worker_latch(&shared->db[my_db]);
}

static bool
all_done(PokeDb *d, void *arg)
{
	uint64		target = *(uint64 *) arg;
	bool		ok;

	SpinLockAcquire(&d->mutex);
	ok = d->done >= target;
	SpinLockRelease(&d->mutex);
	return ok;
}

bool
pokeq_sync(int timeout_ms)
{
	PokeDb	   *d = this_database();
	uint64		target;

	if (d == NULL)
		return true;
	SpinLockAcquire(&d->mutex);
	target = d->head;
	SpinLockRelease(&d->mutex);
	return wait_for(d, all_done, &target, timeout_ms);
}

void
pokeq_worker_attach(int index, Oid dboid)
{
	PokeDb	   *d = &shared->db[index];
	bool		ours;

	LWLockAcquire(admin, LW_EXCLUSIVE);

	/*
	 * Not when another worker already runs the slot: a start that took longer
	 * than POKEQ_START_TIMEOUT_MS (a loaded, just promoted server) had a
	 * second one registered, and two workers would drain one ring.
	 */
	ours = d->dboid == dboid && d->state != POKEQ_FREE && d->state != POKEQ_RUNNING &&
		!d->exit_requested;
	if (ours)
	{
		d->state = POKEQ_RUNNING;
		d->procno = MyProc->pgprocno;
	}
	LWLockRelease(admin);
	if (!ours)
		proc_exit(0);
}

/* before_shmem_exit of the worker: the slot is free for a new worker. */
void		pokeq_worker_detach(int code, Datum arg);

void
pokeq_worker_detach(int code, Datum arg)
{
	PokeDb	   *d = &shared->db[DatumGetInt32(arg)];

	LWLockAcquire(admin, LW_EXCLUSIVE);
	if (d->procno == MyProc->pgprocno || d->state == POKEQ_STARTING)
	{
		d->procno = -1;
		if (d->state != POKEQ_FREE)
			d->state = POKEQ_IDLE;
	}
	LWLockRelease(admin);
}

void
pokeq_release_database(Oid dboid, bool forget)
{
	PokeDb	   *d = NULL;
	TimestampTz start = GetCurrentTimestamp();

	if (shared == NULL || !OidIsValid(dboid))
		return;
	LWLockAcquire(admin, LW_EXCLUSIVE);
	for (int i = 0; i < POKEQ_DATABASES; i++)
		if (shared->db[i].state != POKEQ_FREE && shared->db[i].dboid == dboid)
			d = &shared->db[i];
	if (d != NULL)
	{
		d->exit_requested = true;
		set_worker_latch(d);
	}
	LWLockRelease(admin);
	if (d == NULL)
		return;

	while ((d->state == POKEQ_RUNNING || d->state == POKEQ_STARTING) &&
		   !TimestampDifferenceExceeds(start, GetCurrentTimestamp(), POKEQ_START_TIMEOUT_MS))
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	LWLockAcquire(admin, LW_EXCLUSIVE);
	if (d->dboid == dboid)
	{
		d->exit_requested = false;
		if (forget)
		{
			d->state = POKEQ_FREE;
			d->dboid = InvalidOid;
			reset_ring(d);
		}
		else if (d->state == POKEQ_STARTING)
			d->state = POKEQ_IDLE;
	}
	LWLockRelease(admin);
}
