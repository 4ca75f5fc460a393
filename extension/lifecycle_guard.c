/*
 * The write path's questions to the lifecycle state (lifecycle.h), kept in
 * one file so each write path asks with one line. Without state tables in
 * the namespace the answers cost no SPI call: writes of namespaces that
 * never used delete or retention run exactly as before.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "echo.h"
#include "lifecycle.h"

/* The stream's row: version and deleted kind; false without one. */
static bool
stream_state(const StoreRef *s, const char *stream, int64 *version, bool *hard)
{
	static Oid	argtypes[1] = {TEXTOID};
	SPIPlanPtr	plan;
	Datum		values[1];
	bool		isnull;
	HeapTuple	row;
	TupleDesc	td;
	Datum		d;

	if (!lifecycle_storage_exists(lifecycle_schema_of(s)))
		return false;
	plan = lifecycle_plan(s, "lc_state",
						  "SELECT version, deleted = 'hard' FROM @S.lifecycle_streams"
						  " WHERE stream_name = $1", 1, argtypes);
	values[0] = CStringGetTextDatum(stream);
	/* Not read-only: like the version query, a fresh snapshot sees what the
	 * previous holder of the stream's write lock committed. */
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: stream lifecycle query failed");
	if (SPI_processed == 0)
		return false;
	row = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	*version = DatumGetInt64(SPI_getbinval(row, td, 1, &isnull));
	d = SPI_getbinval(row, td, 2, &isnull);
	*hard = !isnull && DatumGetBool(d);
	return true;
}

int64
lifecycle_version_floor(const StoreRef *s, const char *stream)
{
	int64		version;
	bool		hard;

	return stream_state(s, stream, &version, &hard) ? version : -1;
}

bool
lifecycle_is_tombstoned(const StoreRef *s, const char *stream)
{
	int64		version;
	bool		hard = false;

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
	*sqlstate = "EV020";
	*message = psprintf(LIFECYCLE_DELETED_MSG, echo_value(stream, strlen(stream)));
	return true;
}
