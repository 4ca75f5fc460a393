/*
 * Read marks (see read_horizon.h): written by the poke worker with SPI,
 * read on standbys by a direct primary-key lookup - no SPI, so it works
 * inside any caller, and no ACL check, so every role that may read a
 * category may learn its bound.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "fmgr.h"
#include "horizon.h"
#include "namespace.h"
#include "read_horizon.h"
#include "spi_pinned.h"
#include "store.h"

#define MARK_TABLE "read_horizons"
#define MARK_INDEX "read_horizons_pkey"

static Oid
mark_relid(const char *relname)
{
	Oid			evo = get_namespace_oid("eventodb", true);

	return OidIsValid(evo) ? get_relname_relid(relname, evo) : InvalidOid;
}

bool
read_horizon_table_exists(void)
{
	return OidIsValid(mark_relid(MARK_TABLE));
}

void
read_horizon_store(const char *schema, int64 safe_below)
{
	static Oid	argtypes[2] = {NAMEOID, INT8OID};
	Datum		values[2];
	NameData	name;

	namestrcpy(&name, schema);
	values[0] = NameGetDatum(&name);
	values[1] = Int64GetDatum(safe_below);
	/* Set, not raised: a cleared namespace restarts its positions. The clock,
	 * not now(): a background worker's statement start time stays stale. */
	if (SPI_execute_plan(plan_for("eventodb", "read_horizon_store",
								  "INSERT INTO @S.read_horizons AS r (schema_name, safe_below, published_at)"
								  " VALUES ($1, $2, clock_timestamp())"
								  " ON CONFLICT (schema_name) DO UPDATE"
								  " SET safe_below = excluded.safe_below, published_at = excluded.published_at",
								  2, argtypes),
						 values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: storing the read mark of \"%s\" failed", schema);
}

int64
read_horizon_mark(const char *schema)
{
	Oid			relid = mark_relid(MARK_TABLE);
	Oid			indexid = mark_relid(MARK_INDEX);
	Relation	rel;
	ScanKeyData key;
	NameData	name;
	Snapshot	snap;
	SysScanDesc scan;
	HeapTuple	tup;
	int64		mark = 1;

	if (!OidIsValid(relid) || !OidIsValid(indexid))
		return 1;
	namestrcpy(&name, schema);
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_NAMEEQ, NameGetDatum(&name));
	/* The latest snapshot: the freshest mark, and older than the read's. */
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, indexid, true, snap, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 2, RelationGetDescr(rel), &isnull);

		if (!isnull)
			mark = DatumGetInt64(d);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return mark;
}

/*
 * eventodb.read_horizon(ns): the first global position a category read of
 * ns may not return if it started now - on a standby its mark, on the
 * primary its commit horizon. The gateway asks a standby for it before
 * reading a category there right after its own write (read-your-writes).
 */
PG_FUNCTION_INFO_V1(ev_read_horizon);
Datum
ev_read_horizon(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	int64		h;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	h = horizon_for_category(ref.schema, NULL, 0);
	spi_finish_pinned();
	PG_RETURN_INT64(h);
}
