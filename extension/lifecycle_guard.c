/*
 * The write path's questions to the lifecycle state (lifecycle.h), kept in
 * one file so each write path asks with one line. Without state tables in
 * the namespace the answers cost two syscache lookups: writes of
 * namespaces that never used delete or retention run as before.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "echo.h"
#include "lifecycle.h"
#include "sqlstate.h"

/*
 * The stream's row: version and deleted kind; false without one.
 *
 * Read by a direct index scan, not SPI: the write path of every role that
 * may write messages must get the answer - Message DB's role
 * message_store, for one, has no rights on schema eventodb_default - and
 * the lookup costs a probe of the primary key instead of a query. The
 * snapshot is the one a statement would take (a fresh one in READ
 * COMMITTED), so a writer sees what the previous holder of the stream's
 * write lock committed.
 */
static bool
stream_state(const StoreRef *s, const char *stream, int64 *version, bool *hard)
{
	Oid			nsp = get_namespace_oid(lifecycle_schema_of(s), true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("lifecycle_streams", nsp) : InvalidOid;
	Oid			indexid;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Snapshot	snap;
	bool		found = false;

	if (!OidIsValid(relid))
		return false;
	indexid = get_relname_relid("lifecycle_streams_pkey", nsp);
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(stream));
	snap = RegisterSnapshot(GetTransactionSnapshot());
	scan = systable_beginscan(rel, indexid, OidIsValid(indexid), snap, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	td = RelationGetDescr(rel);
		bool		isnull;
		Datum		d;

		*version = DatumGetInt64(heap_getattr(tup, 2, td, &isnull));
		d = heap_getattr(tup, 3, td, &isnull);
		*hard = !isnull && strcmp(TextDatumGetCString(d), "hard") == 0;
		found = true;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return found;
}

int64
lifecycle_version_floor(const StoreRef *s, const char *stream)
{
	int64		version;
	bool		hard;

	return stream_state(s, stream, &version, &hard) ? version : -1;
}

/*
 * Only a namespace that ever hard-deleted a stream has the partial index of
 * tombstones (lifecycle_storage.c), so the others' writes skip the probe.
 * Invalidations are taken in first: a writer that waited for the stream
 * lock of the first hard delete must see the index it created.
 */
bool
lifecycle_is_tombstoned(const StoreRef *s, const char *stream)
{
	int64		version;
	bool		hard = false;
	Oid			nsp;

	AcceptInvalidationMessages();
	nsp = get_namespace_oid(lifecycle_schema_of(s), true);
	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid(LIFECYCLE_TOMBSTONE_INDEX, nsp)))
		return false;
	return stream_state(s, stream, &version, &hard) && hard;
}

void
lifecycle_guard_write(const StoreRef *s, const char *stream)
{
	if (stream != NULL && lifecycle_is_tombstoned(s, stream))
		ereport(ERROR,
				(errcode(ERRCODE_EV_STREAM_DELETED),
				 errmsg(LIFECYCLE_DELETED_MSG, echo_value(stream, strlen(stream))),
				 errhint(LIFECYCLE_DELETED_HINT)));
}

bool
lifecycle_refuse_item(const StoreRef *s, const char *stream, const char **sqlstate,
					  char **message)
{
	if (stream == NULL || !lifecycle_is_tombstoned(s, stream))
		return false;
	*sqlstate = SQLSTATE_EV_STREAM_DELETED;
	*message = psprintf(LIFECYCLE_DELETED_MSG, echo_value(stream, strlen(stream)));
	return true;
}
