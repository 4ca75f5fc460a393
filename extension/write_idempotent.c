/*
 * The replay lookup of stream_write_idempotent (gateway_write.c) and
 * stream_write_many: stream.write with {"idempotent":true}
 * (docs/writes-and-reads.md). A client that retries a write whose answer it
 * lost (timeout, dropped connection) gets the positions the first attempt
 * got, not a duplicate-key error - and never a second copy.
 *
 * The retry is recognised after the stream's write lock is held: every
 * write of that stream has then committed or aborted, so the lookup's fresh
 * snapshot sees the first attempt if it committed. The replay is answered
 * before the expected-version check, because the first attempt moved the
 * version the retry still expects.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "echo.h"
#include "gateway_write.h"
#include "namespace.h"
#include "render.h"
#include "stats.h"
#include "write_idempotent.h"

bool
write_find_replay(const StoreRef *ref, const pg_uuid_t *id,
				  const char *stream, const char *type, Datum data,
				  int64 *position, int64 *global_position)
{
	static Oid	argtypes[4] = {UUIDOID, TEXTOID, TEXTOID, JSONBOID};
	SPIPlanPtr	plan;
	Datum		values[4];
	HeapTuple	row;
	TupleDesc	td;
	bool		isnull;
	bool		same;

	plan = plan_for(ref->schema, "replay",
					"SELECT stream_name = $2 AND type = $3 AND data IS NOT DISTINCT FROM $4,"
					" position, global_position, stream_name"
					" FROM @S.messages WHERE id = $1",
					4, argtypes);
	values[0] = UUIDPGetDatum(id);
	values[1] = CStringGetTextDatum(stream);
	values[2] = CStringGetTextDatum(type);
	values[3] = data;
	/* not read-only: a snapshot taken now, after the stream lock */
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: message id lookup failed");
	if (SPI_processed == 0)
		return false;
	row = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	same = DatumGetBool(SPI_getbinval(row, td, 1, &isnull)) && !isnull;
	*position = DatumGetInt64(SPI_getbinval(row, td, 2, &isnull));
	*global_position = DatumGetInt64(SPI_getbinval(row, td, 3, &isnull));
	if (!same)
	{
		StringInfoData id_text;
		StringInfoData detail;

		initStringInfo(&id_text);
		render_uuid(&id_text, id);
		initStringInfo(&detail);
		appendStringInfoString(&detail, "{\"globalPosition\":");
		render_int64(&detail, *global_position);
		appendStringInfoString(&detail, ",\"id\":");
		appendStringInfoString(&detail, id_text.data);
		appendStringInfoString(&detail, ",\"position\":");
		render_int64(&detail, *position);
		appendStringInfoString(&detail, ",\"streamName\":");
		render_text(&detail, DatumGetTextPP(SPI_getbinval(row, td, 4, &isnull)));
		appendStringInfoChar(&detail, '}');
		ereport(ERROR,
				(errcode(ERRCODE_EV_ID_CONFLICT),
				 errmsg("Message id %s is already used by a message with another stream, type or data",
						id_text.data),
				 errdetail_internal("%s", detail.data)));
	}
	return true;
}
