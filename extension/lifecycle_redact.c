/*
 * message_redact (docs/lifecycle.md, "Redaction"): a message's data and
 * metadata are replaced by a marker naming the reason and the time; its id,
 * type, positions and time stay, so readers, subscriptions and versions see
 * the same sequence.
 *
 * The UPDATE leaves the original in a dead row version (and, for a large
 * payload, dead TOAST chunks) until VACUUM removes them; WAL, replicas and
 * backups keep their copies. The answer says so (vacuumNeeded), and the
 * reference says what the operator must still do.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "lifecycle.h"
#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"

PG_FUNCTION_INFO_V1(ev_message_redact);

/* A reason is an audit note, not a payload. */
#define REASON_MAX 1000

/*
 * The marker is built by the statement from the reason parameter; the
 * redaction is logged in the same statement, so both or neither happen.
 */
static const char *const redact_sql =
"WITH marker AS ("
"  SELECT pg_catalog.jsonb_build_object('$redacted', pg_catalog.jsonb_build_object("
"    'reason', $2::text,"
"    'redactedAt', pg_catalog.to_char(now() AT TIME ZONE 'utc',"
"                                     'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))) AS m),"
" r AS (UPDATE @M.messages SET data = (SELECT m FROM marker), metadata = (SELECT m FROM marker)"
"  WHERE global_position = $1 RETURNING id, stream_name, position),"
" log AS (INSERT INTO @S.lifecycle_redactions AS l"
"  SELECT $1, r.stream_name, r.position, $2, now() AT TIME ZONE 'utc' FROM r"
"  ON CONFLICT (global_position) DO UPDATE SET reason = EXCLUDED.reason,"
"  redacted_at = EXCLUDED.redacted_at)"
" SELECT id, stream_name, position, now() AT TIME ZONE 'utc' FROM r";

/*
 * message_redact(ns, global_position, reason) -> {"globalPosition":g,
 * "id":u,"position":p,"reason":r,"redactedAt":t,"streamName":s,
 * "vacuumNeeded":true}; EV021 when no message has that global position.
 */
Datum
ev_message_redact(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[2] = {INT8OID, TEXTOID};
	int64		gpos;
	text	   *reason;
	StoreRef	ref;
	Datum		values[2];
	HeapTuple	row;
	TupleDesc	td;
	bool		isnull;
	StringInfoData buf;

	if (PG_ARGISNULL(1) || PG_GETARG_INT64(1) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("globalPosition must be a positive number")));
	gpos = PG_GETARG_INT64(1);
	if (PG_ARGISNULL(2) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(2)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must be a non-empty string")));
	reason = PG_GETARG_TEXT_PP(2);
	if (VARSIZE_ANY_EXHDR(reason) > REASON_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must be at most %d bytes", REASON_MAX)));

	/* Made before SPI_connect: the answer outlives SPI's memory. */
	initStringInfo(&buf);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, RowExclusiveLock);
	lifecycle_storage_ensure(&ref);
	values[0] = Int64GetDatum(gpos);
	values[1] = PointerGetDatum(reason);
	if (SPI_execute_plan(lifecycle_plan(&ref, "lc_redact", redact_sql, 2, argtypes),
						 values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: redaction failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_EV_MESSAGE_NOT_FOUND),
				 errmsg("message not found at global position " INT64_FORMAT, gpos)));
	row = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;

	appendStringInfoString(&buf, "{\"globalPosition\":");
	render_int64(&buf, gpos);
	appendStringInfoString(&buf, ",\"id\":");
	render_uuid(&buf, DatumGetUUIDP(SPI_getbinval(row, td, 1, &isnull)));
	appendStringInfoString(&buf, ",\"position\":");
	render_int64(&buf, DatumGetInt64(SPI_getbinval(row, td, 3, &isnull)));
	appendStringInfoString(&buf, ",\"reason\":");
	render_text(&buf, reason);
	appendStringInfoString(&buf, ",\"redactedAt\":");
	render_time(&buf, DatumGetTimestamp(SPI_getbinval(row, td, 4, &isnull)), true);
	appendStringInfoString(&buf, ",\"streamName\":");
	render_text(&buf, DatumGetTextPP(SPI_getbinval(row, td, 2, &isnull)));
	appendStringInfoString(&buf, ",\"vacuumNeeded\":true}");
	spi_finish_pinned();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
