/*
 * The gateway's read methods (PROTOCOL.md §6.2-§6.5): stream_get,
 * stream_last, stream_version, category_get. Each runs one saved plan over
 * the Message DB indexes and renders the response JSON from the rows.
 *
 * They differ from Message DB's readers on purpose (SQL-API.md §11.1):
 * names without '-' are ordinary streams, '' is the whole namespace, a
 * category or correlation containing '-' matches nothing, and consumer
 * groups take any size.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "gateway_read.h"
#include "horizon.h"
#include "names.h"
#include "namespace.h"
#include "render.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(ev_stream_get);
PG_FUNCTION_INFO_V1(ev_stream_last);
PG_FUNCTION_INFO_V1(ev_stream_version);
PG_FUNCTION_INFO_V1(ev_category_get);
PG_FUNCTION_INFO_V1(ev_in_consumer_group);

#define DEFAULT_BATCH 1000


enum
{
	COL_ID = 1, COL_STREAM, COL_TYPE, COL_POSITION, COL_GPOS,
	COL_DATA, COL_METADATA, COL_TIME
};

/*
 * One message array: [id, type, position, globalPosition, data, metadata,
 * time], with streamName after id for category messages (§6).
 */
static void
render_message(StringInfo buf, HeapTuple row, TupleDesc td, bool with_stream)
{
	bool		isnull;
	Datum		d;

	appendStringInfoChar(buf, '[');
	render_uuid(buf, DatumGetUUIDP(SPI_getbinval(row, td, COL_ID, &isnull)));
	if (with_stream)
	{
		appendStringInfoChar(buf, ',');
		render_text(buf, DatumGetTextPP(SPI_getbinval(row, td, COL_STREAM, &isnull)));
	}
	appendStringInfoChar(buf, ',');
	render_text(buf, DatumGetTextPP(SPI_getbinval(row, td, COL_TYPE, &isnull)));
	appendStringInfoChar(buf, ',');
	render_int64(buf, DatumGetInt64(SPI_getbinval(row, td, COL_POSITION, &isnull)));
	appendStringInfoChar(buf, ',');
	render_int64(buf, DatumGetInt64(SPI_getbinval(row, td, COL_GPOS, &isnull)));
	appendStringInfoChar(buf, ',');
	d = SPI_getbinval(row, td, COL_DATA, &isnull);
	render_jsonb_datum(buf, d, isnull);
	appendStringInfoChar(buf, ',');
	d = SPI_getbinval(row, td, COL_METADATA, &isnull);
	render_jsonb_datum(buf, d, isnull);
	appendStringInfoChar(buf, ',');
	render_time(buf, DatumGetTimestamp(SPI_getbinval(row, td, COL_TIME, &isnull)), true);
	appendStringInfoChar(buf, ']');
}

/*
 * Appends the JSON array of all rows of the plan. Rows are fetched through a
 * cursor in chunks and rendered in a per-chunk context, so an unlimited read
 * holds the rendered text, not every row twice.
 */
uint64
render_messages(StringInfo buf, SPIPlanPtr plan, Datum *values, const char *nulls,
				bool with_stream)
{
	uint64		rows = 0;

	Portal		portal = SPI_cursor_open(NULL, plan, values, nulls, true);
	MemoryContext chunk_cxt = AllocSetContextCreate(CurrentMemoryContext,
													"eventodb render", ALLOCSET_DEFAULT_SIZES);
	bool		first = true;

	appendStringInfoChar(buf, '[');
	for (;;)
	{
		MemoryContext old;

		SPI_cursor_fetch(portal, true, DEFAULT_BATCH);
		if (SPI_processed == 0)
			break;
		rows += SPI_processed;
		old = MemoryContextSwitchTo(chunk_cxt);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			if (!first)
				appendStringInfoChar(buf, ',');
			first = false;
			render_message(buf, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, with_stream);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(chunk_cxt);
		SPI_freetuptable(SPI_tuptable);
	}
	appendStringInfoChar(buf, ']');
	SPI_cursor_close(portal);
	MemoryContextDelete(chunk_cxt);
	return rows;
}

static text *
result_text(StringInfo buf)
{
	return cstring_to_text_with_len(buf->data, buf->len);
}

/*
 * stream_get(ns, stream_name, position, global_position, batch_size):
 * global_position NULL reads by stream position (batch -1 unlimited, 0
 * empty, below -1 LIMIT's own 2201W); otherwise by global position with
 * batch <= 0 unlimited.
 */
Datum
ev_stream_get(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[3] = {TEXTOID, INT8OID, INT8OID};
	StringInfoData buf;
	StoreRef	ref;
	SPIPlanPtr	plan;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	int64		batch = PG_ARGISNULL(4) ? DEFAULT_BATCH : PG_GETARG_INT64(4);

	initStringInfo(&buf);
	SPI_connect();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	values[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';
	if (PG_ARGISNULL(3))
	{
		plan = plan_for(ref.schema, "gw_stream_get",
						MESSAGE_COLUMNS
						" WHERE stream_name = $1 AND position >= $2"
						" ORDER BY position LIMIT $3",
						3, argtypes);
		values[1] = Int64GetDatum(PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2));
		values[2] = Int64GetDatum(batch);
		nulls[2] = batch == -1 ? 'n' : ' ';
	}
	else
	{
		plan = plan_for(ref.schema, "gw_stream_get_global",
						MESSAGE_COLUMNS
						" WHERE stream_name = $1 AND global_position >= $2"
						" ORDER BY position LIMIT $3",
						3, argtypes);
		values[1] = PG_GETARG_DATUM(3);
		values[2] = Int64GetDatum(batch);
		nulls[2] = batch <= 0 ? 'n' : ' ';
	}
	stats_read(ref.schema, render_messages(&buf, plan, values, nulls, false));
	SPI_finish();
	PG_RETURN_TEXT_P(result_text(&buf));
}

/* stream_last(ns, stream_name, type) -> one message array, or null. */
Datum
ev_stream_last(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[2] = {TEXTOID, TEXTOID};
	StringInfoData buf;
	StoreRef	ref;
	SPIPlanPtr	plan;
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	initStringInfo(&buf);
	SPI_connect();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (PG_ARGISNULL(2))
		plan = plan_for(ref.schema, "gw_stream_last",
						MESSAGE_COLUMNS
						" WHERE stream_name = $1"
						" ORDER BY position DESC LIMIT 1",
						2, argtypes);
	else
		plan = plan_for(ref.schema, "gw_stream_last_type",
						MESSAGE_COLUMNS
						" WHERE stream_name = $1 AND type = $2"
						" ORDER BY position DESC LIMIT 1",
						2, argtypes);
	values[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';
	values[1] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[1] = PG_ARGISNULL(2) ? 'n' : ' ';
	if (SPI_execute_plan(plan, values, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: stream_last query failed");
	stats_read(ref.schema, SPI_processed);
	if (SPI_processed == 0)
		appendStringInfoString(&buf, "null");
	else
		render_message(&buf, SPI_tuptable->vals[0], SPI_tuptable->tupdesc, false);
	SPI_finish();
	PG_RETURN_TEXT_P(result_text(&buf));
}

/* stream_version(ns, stream_name) -> highest position, NULL when empty. */
Datum
ev_stream_version(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	int64		version = -1;

	SPI_connect();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (!PG_ARGISNULL(1))
		version = store_stream_version(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	stats_read(ref.schema, 0);
	SPI_finish();
	if (version < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(version);
}

static bool
text_has_dash(text *t)
{
	return memchr(VARDATA_ANY(t), '-', VARSIZE_ANY_EXHDR(t)) != NULL;
}

/*
 * One statement per combination of filters, each a plain ordered index scan
 * that stops after the batch, or at the commit horizon $7 (horizon.h): the
 * category index from (category, position) for a category, the primary key
 * for ''.
 *
 * Plans are generic, so the planner cannot know how small a category is; an
 * equality on the category would let it walk the primary key in order and
 * filter - a whole-table scan for a rare category. Written as a range with
 * ORDER BY category, global_position, only the category index delivers the
 * order (both bounds still position the scan at (category, position)).
 */
static SPIPlanPtr
category_plan(const char *schema, bool by_category, bool by_correlation, bool by_group)
{
	static Oid	argtypes[7] = {INT8OID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID};
	char		key[NAMEDATALEN];
	StringInfoData sql;

	snprintf(key, sizeof(key), "gw_category_%c%c%c",
			 by_category ? 'c' : '-', by_correlation ? 'r' : '-', by_group ? 'g' : '-');
	initStringInfo(&sql);
	appendStringInfoString(&sql, MESSAGE_COLUMNS " WHERE global_position >= $1"
						   " AND global_position < $7");
	if (by_category)
		appendStringInfoString(&sql,
							   " AND message_store.category(stream_name) >= $2"
							   " AND message_store.category(stream_name) <= $2");
	if (by_correlation)
		appendStringInfoString(&sql,
							   " AND message_store.category(metadata->>'correlationStreamName') = $3");
	if (by_group)
		appendStringInfoString(&sql, " AND eventodb.in_consumer_group(stream_name, $4, $5)");
	if (by_category)
		appendStringInfoString(&sql,
							   " ORDER BY message_store.category(stream_name), global_position LIMIT $6");
	else
		appendStringInfoString(&sql, " ORDER BY global_position LIMIT $6");
	return plan_for(schema, key, sql.data, 7, argtypes);
}

/*
 * in_consumer_group(stream_name, member, size): Message DB's assignment
 * abs(hash_64(cardinal_id)) mod size = member (SQL-API.md §9.2) in one C
 * call. A name without '-' has no cardinal id and belongs to no member.
 * Being a boolean function, the planner guesses it keeps a third of the
 * rows, which keeps the ordered index scan (a guess of 0.5 % for "= $4"
 * made it read and sort the whole rest of the category).
 */
Datum
ev_in_consumer_group(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	int64		member = PG_GETARG_INT64(1);
	int64		size = PG_GETARG_INT64(2);
	size_t		off,
				len;
	int64		h;

	if (!names_cardinal_id(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), &off, &len))
		PG_RETURN_BOOL(false);
	h = store_hash64(VARDATA_ANY(name) + off, len);
	/* Message DB's @ fails there too; never wrap silently. */
	if (h == PG_INT64_MIN)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	if (size <= 0)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((h < 0 ? -h : h) % size == member);
}

/*
 * category_get(ns, category, position, batch_size, correlation, member, size)
 */
Datum
ev_category_get(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	StoreRef	ref;
	bool		by_category = !PG_ARGISNULL(1) && VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) > 0;
	bool		by_correlation = !PG_ARGISNULL(4);
	bool		by_group = !PG_ARGISNULL(5) && !PG_ARGISNULL(6);
	int64		batch = PG_ARGISNULL(3) ? DEFAULT_BATCH : PG_GETARG_INT64(3);
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	initStringInfo(&buf);
	SPI_connect();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (by_group && PG_GETARG_INT64(6) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("consumer group size must be positive")));

	/* A category never contains '-', so such a name or correlation matches
	 * nothing (no error, unlike Message DB). */
	if ((by_category && text_has_dash(PG_GETARG_TEXT_PP(1))) ||
		(by_correlation && text_has_dash(PG_GETARG_TEXT_PP(4))))
		appendStringInfoString(&buf, "[]");
	else
	{
		values[0] = Int64GetDatum(PG_ARGISNULL(2) ? 1 : PG_GETARG_INT64(2));
		values[1] = by_category ? PG_GETARG_DATUM(1) : (Datum) 0;
		nulls[1] = by_category ? ' ' : 'n';
		values[2] = by_correlation ? PG_GETARG_DATUM(4) : (Datum) 0;
		nulls[2] = by_correlation ? ' ' : 'n';
		values[3] = by_group ? PG_GETARG_DATUM(5) : (Datum) 0;
		nulls[3] = by_group ? ' ' : 'n';
		values[4] = by_group ? PG_GETARG_DATUM(6) : (Datum) 0;
		nulls[4] = by_group ? ' ' : 'n';
		values[5] = Int64GetDatum(batch);
		nulls[5] = batch == -1 ? 'n' : ' ';
		if (by_category)
		{
			text	   *c = PG_GETARG_TEXT_PP(1);

			values[6] = Int64GetDatum(horizon_for_category(ref.schema, VARDATA_ANY(c),
														   VARSIZE_ANY_EXHDR(c)));
		}
		else
			values[6] = Int64GetDatum(horizon_for_category(ref.schema, NULL, 0));
		/* Invariant 1 (DESIGN.md §3): the snapshot is taken after the horizon. */
		horizon_push_read_snapshot();
		stats_read(ref.schema,
				   render_messages(&buf,
								   category_plan(ref.schema, by_category, by_correlation, by_group),
								   values, nulls, true));
		PopActiveSnapshot();
	}
	SPI_finish();
	PG_RETURN_TEXT_P(result_text(&buf));
}
