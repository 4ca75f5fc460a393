/*
 * See stats.h. A fixed open-addressing table of namespaces (database,
 * schema OID) in shared memory whose keys are claimed with compare-and-swap
 * and never removed, so the hot paths take no lock: one atomic add per
 * event after a backend-local cache hit. Counters are cumulative since the
 * last eventodb.stat_reset(); they count calls when they happen, whether or
 * not the transaction commits (as pg_stat_user_tables does for n_tup_ins).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "horizon.h"
#include "poke_queue.h"
#include "stats.h"

/* Namespaces tracked across the cluster; beyond that new ones go uncounted
 * (namespaces_untracked in eventodb.stat_poke_worker counts their events). */
#define STATS_SLOTS 4096
#define STATS_CACHE 64

typedef struct StatsNs
{
	pg_atomic_uint64 key;		/* database << 32 | schema OID; 0 = free */
	pg_atomic_uint64 writes;
	pg_atomic_uint64 conflicts;
	pg_atomic_uint64 imported;
	pg_atomic_uint64 reads;
	pg_atomic_uint64 messages_read;
	pg_atomic_uint64 last_gpos;
	pg_atomic_uint64 pokes;
	pg_atomic_uint64 poked_gpos;
	pg_atomic_uint64 poke_lag_us;
	pg_atomic_uint64 poked_at;	/* TimestampTz */
} StatsNs;

typedef struct StatsShared
{
	pg_atomic_uint64 reset_at;	/* TimestampTz */
	pg_atomic_uint64 overflow;	/* events of namespaces that found no slot */
	StatsNs		ns[STATS_SLOTS];
} StatsShared;

static StatsShared *shared = NULL;

/* This backend's recent lookups, direct-mapped by schema OID. */
static struct
{
	uint64		key;
	StatsNs    *slot;
}			cache[STATS_CACHE];

void
stats_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(StatsShared));
}

void
stats_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("eventodb stats", sizeof(StatsShared), &found);
	if (!found)
	{
		/* every field of every slot is an atomic: initialise them all */
		pg_atomic_uint64 *a = (pg_atomic_uint64 *) shared;

		for (size_t i = 0; i < sizeof(StatsShared) / sizeof(pg_atomic_uint64); i++)
			pg_atomic_init_u64(&a[i], 0);
		pg_atomic_write_u64(&shared->reset_at, (uint64) GetCurrentTimestamp());
	}
	LWLockRelease(AddinShmemInitLock);
}

static uint64
key_of(Oid nsp)
{
	return ((uint64) MyDatabaseId << 32) | (uint64) nsp;
}

/* The slot of nsp in this database, claimed on first use; NULL when the
 * table is full or there is no shared memory. */
static StatsNs *
slot_of(Oid nsp)
{
	uint64		key;
	int			c;
	uint32		h;

	if (shared == NULL || !OidIsValid(nsp))
		return NULL;
	key = key_of(nsp);
	c = (int) (nsp % STATS_CACHE);
	if (cache[c].key == key)
		return cache[c].slot;
	h = (uint32) ((key * UINT64CONST(0x9E3779B97F4A7C15)) >> 40);
	for (int probe = 0; probe < STATS_SLOTS; probe++)
	{
		StatsNs    *s = &shared->ns[(h + probe) % STATS_SLOTS];
		uint64		k = pg_atomic_read_u64(&s->key);

		if (k == 0)
		{
			uint64		expected = 0;

			if (pg_atomic_compare_exchange_u64(&s->key, &expected, key))
				k = key;
			else
				k = expected;	/* someone else claimed it meanwhile */
		}
		if (k == key)
		{
			cache[c].key = key;
			cache[c].slot = s;
			return s;
		}
	}
	pg_atomic_fetch_add_u64(&shared->overflow, 1);
	return NULL;
}

static StatsNs *
slot_of_schema(const char *schema)
{
	if (shared == NULL || schema == NULL)
		return NULL;
	return slot_of(get_namespace_oid(schema, true));
}

static void
raise_to(pg_atomic_uint64 *v, int64 x)
{
	uint64		cur = pg_atomic_read_u64(v);

	if (x <= 0)
		return;
	while (cur < (uint64) x && !pg_atomic_compare_exchange_u64(v, &cur, (uint64) x))
		;
}

void
stats_write(Oid nsp, int64 gpos)
{
	StatsNs    *s = slot_of(nsp);

	if (s == NULL)
		return;
	pg_atomic_fetch_add_u64(&s->writes, 1);
	raise_to(&s->last_gpos, gpos);
}

void
stats_conflict(const char *schema)
{
	StatsNs    *s = slot_of_schema(schema);

	if (s != NULL)
		pg_atomic_fetch_add_u64(&s->conflicts, 1);
}

void
stats_read(const char *schema, uint64 rows)
{
	StatsNs    *s = slot_of_schema(schema);

	if (s == NULL)
		return;
	pg_atomic_fetch_add_u64(&s->reads, 1);
	if (rows > 0)
		pg_atomic_fetch_add_u64(&s->messages_read, rows);
}

void
stats_import(const char *schema, uint64 n, int64 max_gpos)
{
	StatsNs    *s = slot_of_schema(schema);

	if (s == NULL)
		return;
	pg_atomic_fetch_add_u64(&s->imported, n);
	raise_to(&s->last_gpos, max_gpos);
}

void
stats_poked(Oid nsp, uint64 n, int64 gpos, int64 lag_us)
{
	StatsNs    *s = slot_of(nsp);

	if (s == NULL || n == 0)
		return;
	pg_atomic_fetch_add_u64(&s->pokes, n);
	raise_to(&s->poked_gpos, gpos);
	pg_atomic_write_u64(&s->poke_lag_us, (uint64) (lag_us > 0 ? lag_us : 0));
	pg_atomic_write_u64(&s->poked_at, (uint64) GetCurrentTimestamp());
}

/* ---- SQL ---- */

PG_FUNCTION_INFO_V1(ev_stat_namespaces);
PG_FUNCTION_INFO_V1(ev_stat_poke_worker);
PG_FUNCTION_INFO_V1(ev_stat_reset);

#define NS_COLS 14

typedef struct NsRow
{
	Oid			nsp;
	Datum		values[NS_COLS];
	bool		nulls[NS_COLS];
} NsRow;

typedef struct NsRows
{
	NsRow	   *rows;
	int			n;
	int			max;
} NsRows;

static NsRow *
row_for(NsRows *r, Oid nsp)
{
	NsRow	   *row;

	for (int i = 0; i < r->n; i++)
		if (r->rows[i].nsp == nsp)
			return &r->rows[i];
	if (r->n == r->max)
	{
		r->max = r->max == 0 ? 16 : r->max * 2;
		r->rows = r->rows == NULL ? palloc(r->max * sizeof(NsRow))
			: repalloc(r->rows, r->max * sizeof(NsRow));
	}
	row = &r->rows[r->n++];
	row->nsp = nsp;
	for (int c = 0; c < NS_COLS; c++)
	{
		row->values[c] = Int64GetDatum(0);
		row->nulls[c] = false;
	}
	row->values[0] = ObjectIdGetDatum(nsp);
	row->nulls[8] = row->nulls[10] = true;	/* poke lag, last poke */
	row->values[11] = Int32GetDatum(0);
	row->nulls[12] = true;		/* oldest writer */
	row->values[13] = TimestampTzGetDatum((TimestampTz) pg_atomic_read_u64(&shared->reset_at));
	return row;
}

static void
add_writers(Oid nsp, TimestampTz since, int writers, void *arg)
{
	NsRow	   *row = row_for(arg, nsp);

	row->values[11] = Int32GetDatum(writers);
	row->values[12] = TimestampTzGetDatum(since);
	row->nulls[12] = false;
}

/*
 * (schema_oid, writes, conflicts, imported, reads, messages_read,
 *  last_global_position, pokes_sent, poke_lag_us, last_poked_position,
 *  last_poke_at, writers_in_flight, oldest_writer_since, stats_reset)
 * for every namespace of this database seen since start-up.
 */
Datum
ev_stat_namespaces(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	NsRows		r = {NULL, 0, 0};

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		PG_RETURN_VOID();
	for (int i = 0; i < STATS_SLOTS; i++)
	{
		StatsNs    *s = &shared->ns[i];
		uint64		k = pg_atomic_read_u64(&s->key);
		NsRow	   *row;

		if (k == 0 || (Oid) (k >> 32) != MyDatabaseId)
			continue;
		row = row_for(&r, (Oid) k);
		row->values[1] = Int64GetDatum((int64) pg_atomic_read_u64(&s->writes));
		row->values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&s->conflicts));
		row->values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&s->imported));
		row->values[4] = Int64GetDatum((int64) pg_atomic_read_u64(&s->reads));
		row->values[5] = Int64GetDatum((int64) pg_atomic_read_u64(&s->messages_read));
		row->values[6] = Int64GetDatum((int64) pg_atomic_read_u64(&s->last_gpos));
		row->values[7] = Int64GetDatum((int64) pg_atomic_read_u64(&s->pokes));
		row->values[9] = Int64GetDatum((int64) pg_atomic_read_u64(&s->poked_gpos));
		if (pg_atomic_read_u64(&s->poked_at) != 0)
		{
			row->values[8] = Int64GetDatum((int64) pg_atomic_read_u64(&s->poke_lag_us));
			row->nulls[8] = false;
			row->values[10] = TimestampTzGetDatum((TimestampTz) pg_atomic_read_u64(&s->poked_at));
			row->nulls[10] = false;
		}
	}
	horizon_oldest_writers(add_writers, &r);
	for (int i = 0; i < r.n; i++)
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, r.rows[i].values, r.rows[i].nulls);
	PG_RETURN_VOID();
}

static const char *const worker_states[] = {"none", "idle", "starting", "running"};

/* (state, queued_runs, started_at, stats_overflow) of this database's poke worker. */
Datum
ev_stat_poke_worker(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[4];
	bool		nulls[4] = {false, false, true, false};
	PokeDbState state = POKEQ_FREE;
	uint64		queued = 0;
	TimestampTz started = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		PG_RETURN_VOID();
	for (int i = 0; i < POKEQ_DATABASES; i++)
	{
		PokeDb	   *d = pokeq_db(i);

		/* state and database are the admin lock's; a torn read is harmless here */
		if (d == NULL || d->dboid != MyDatabaseId || d->state == POKEQ_FREE)
			continue;
		state = d->state;
		started = d->started_at;
		SpinLockAcquire(&d->mutex);
		queued = d->head - d->done;
		SpinLockRelease(&d->mutex);
		break;
	}
	values[0] = CStringGetTextDatum(worker_states[state]);
	values[1] = Int64GetDatum((int64) queued);
	if (state == POKEQ_RUNNING && started != 0)
	{
		values[2] = TimestampTzGetDatum(started);
		nulls[2] = false;
	}
	values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&shared->overflow));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	PG_RETURN_VOID();
}

/* Zeroes every counter of every database (like pg_stat_reset_shared). */
Datum
ev_stat_reset(PG_FUNCTION_ARGS)
{
	if (shared == NULL)
		PG_RETURN_VOID();
	for (int i = 0; i < STATS_SLOTS; i++)
	{
		StatsNs    *s = &shared->ns[i];

		pg_atomic_write_u64(&s->writes, 0);
		pg_atomic_write_u64(&s->conflicts, 0);
		pg_atomic_write_u64(&s->imported, 0);
		pg_atomic_write_u64(&s->reads, 0);
		pg_atomic_write_u64(&s->messages_read, 0);
		pg_atomic_write_u64(&s->pokes, 0);
		pg_atomic_write_u64(&s->poke_lag_us, 0);
		pg_atomic_write_u64(&s->poked_at, 0);
		/* positions are state, not counts: last_gpos and poked_gpos stay */
	}
	pg_atomic_write_u64(&shared->overflow, 0);
	pg_atomic_write_u64(&shared->reset_at, (uint64) GetCurrentTimestamp());
	PG_RETURN_VOID();
}
