/*
 * The gateway's read methods (docs/http-api.md#stream-methods, #category-reads): stream_get,
 * stream_last, stream_version, category_get. Each runs one saved plan over
 * the Message DB indexes and renders the response JSON from the rows; the
 * plain stream reads of the default namespace scan the index directly
 * instead (read_direct.c).
 *
 * They differ from Message DB's readers on purpose (docs/sql-api.md#the-gateway-face-eventodb):
 * names without '-' are ordinary streams, '' is the whole namespace, a
 * category or correlation containing '-' matches nothing, and consumer
 * groups take any size.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "category_query.h"
#include "consumer_group.h"
#include "gateway_read.h"
#include "horizon.h"
#include "names.h"
#include "namespace.h"
#include "read.h"
#include "render.h"
#include "spi_pinned.h"
#include "stats.h"
#include "store.h"

PG_FUNCTION_INFO_V1(ev_stream_get);
PG_FUNCTION_INFO_V1(ev_stream_last);
PG_FUNCTION_INFO_V1(ev_stream_version);
PG_FUNCTION_INFO_V1(ev_category_get);
PG_FUNCTION_INFO_V1(ev_in_consumer_group);
PG_FUNCTION_INFO_V1(ev_stream_positions);
PG_FUNCTION_INFO_V1(ev_category_positions);

/*
 * What the SSE catch-up needs of the same rows (docs/http-api.md#modes): the
 * *_positions functions run the very statements of stream_get and
 * category_get with this column list instead, so they return the same rows
 * without rendering any message.
 */
#define POSITION_COLUMNS \
	"SELECT stream_name, position, global_position FROM @S.messages"

/*
 * One message array: [id, type, position, globalPosition, data, metadata,
 * time], with streamName after id for category messages (docs/http-api.md#the-rpc-envelope),
 * from a row in read.h's MessageCol order.
 */
static void
render_message(StringInfo buf, const Datum *v, const bool *isnull, bool with_stream)
{
	appendStringInfoChar(buf, '[');
	render_uuid(buf, DatumGetUUIDP(v[MSG_ID - 1]));
	if (with_stream)
	{
		appendStringInfoChar(buf, ',');
		render_text(buf, DatumGetTextPP(v[MSG_STREAM - 1]));
	}
	appendStringInfoChar(buf, ',');
	render_text(buf, DatumGetTextPP(v[MSG_TYPE - 1]));
	appendStringInfoChar(buf, ',');
	render_int64(buf, DatumGetInt64(v[MSG_POSITION - 1]));
	appendStringInfoChar(buf, ',');
	render_int64(buf, DatumGetInt64(v[MSG_GPOS - 1]));
	appendStringInfoChar(buf, ',');
	render_jsonb_datum(buf, v[MSG_DATA - 1], isnull[MSG_DATA - 1]);
	appendStringInfoChar(buf, ',');
	render_jsonb_datum(buf, v[MSG_METADATA - 1], isnull[MSG_METADATA - 1]);
	appendStringInfoChar(buf, ',');
	render_time(buf, DatumGetTimestamp(v[MSG_TIME - 1]), true);
	appendStringInfoChar(buf, ']');
}

/* A MESSAGE_COLUMNS row of SPI, rendered. */
static void
render_spi_message(StringInfo buf, HeapTuple row, TupleDesc td, bool with_stream)
{
	Datum		v[MSG_NCOLS];
	bool		isnull[MSG_NCOLS];

	for (int c = 0; c < MSG_NCOLS; c++)
		v[c] = SPI_getbinval(row, td, c + 1, &isnull[c]);
	render_message(buf, v, isnull, with_stream);
}

/* Where a direct read (read.h) renders its rows: a JSON array's elements. */
typedef struct RenderTo
{
	StringInfo	buf;
	bool		first;
} RenderTo;

static void
render_row(void *arg, const Datum *values, const bool *nulls)
{
	RenderTo   *to = arg;

	if (!to->first)
		appendStringInfoChar(to->buf, ',');
	to->first = false;
	render_message(to->buf, values, nulls, false);
}

/*
 * The default namespace's table is message_store.messages, which the
 * direct scans of read_direct.c serve without SPI and the executor; a read
 * they decline (permissions, a changed table) runs the saved plan.
 */
static bool
is_message_store(const StoreRef *ref)
{
	return strcmp(ref->schema, store_message_store.schema) == 0;
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
			render_spi_message(buf, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, with_stream);
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

/*
 * Makes the plan's (stream_name, position, global_position) rows the set
 * result of a *_positions function; returns how many.
 */
static uint64
positions_into_result(FunctionCallInfo fcinfo, SPIPlanPtr plan, Datum *values,
					  const char *nulls)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_execute_plan(plan, values, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: positions query failed");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		row[3];
		bool		isnull[3];

		for (int c = 0; c < 3; c++)
			row[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1,
								   &isnull[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, isnull);
	}
	return SPI_processed;
}

/* Runs a read into the JSON text buf, or into the positions set when buf
 * is NULL; returns the number of rows. */
static uint64
read_rows(FunctionCallInfo fcinfo, StringInfo buf, SPIPlanPtr plan, Datum *values,
		  const char *nulls, bool with_stream)
{
	if (buf == NULL)
		return positions_into_result(fcinfo, plan, values, nulls);
	return render_messages(buf, plan, values, nulls, with_stream);
}

static text *
result_text(StringInfo buf)
{
	return cstring_to_text_with_len(buf->data, buf->len);
}

/*
 * stream_get by position of the default namespace by a direct scan
 * (read.h), rendered into buf; false, buf untouched, when the saved plan
 * must run: another namespace, the global-position path, a NULL stream,
 * a batch below -1 (LIMIT's own error), or a caller the scan declines.
 */
static bool
stream_read_direct(FunctionCallInfo fcinfo, const StoreRef *ref, int64 batch, StringInfo buf,
				   uint64 *rows)
{
	RenderTo	to = {buf, true};
	int			start = buf->len;

	if (!PG_ARGISNULL(3) || PG_ARGISNULL(1) || batch < -1 || !is_message_store(ref))
		return false;
	appendStringInfoChar(buf, '[');
	if (!read_stream_each(PG_GETARG_DATUM(1), PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2),
						  batch, render_row, &to, rows))
	{
		buf->len = start;
		buf->data[start] = '\0';
		return false;
	}
	appendStringInfoChar(buf, ']');
	return true;
}

/* stream_read's rows by the saved plan (into buf, or positions); returns how many. */
static uint64
stream_by_plan(FunctionCallInfo fcinfo, const StoreRef *ref, int64 batch, StringInfo buf)
{
	static Oid	argtypes[3] = {TEXTOID, INT8OID, INT8OID};
	SPIPlanPtr	plan;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		positions = buf == NULL;

	values[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';
	if (PG_ARGISNULL(3))
	{
		plan = plan_for(ref->schema, positions ? "gw_stream_pos" : "gw_stream_get",
						positions ?
						POSITION_COLUMNS
						" WHERE stream_name = $1 AND position >= $2"
						" ORDER BY position LIMIT $3" :
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
		plan = plan_for(ref->schema, positions ? "gw_stream_pos_global" : "gw_stream_get_global",
						positions ?
						POSITION_COLUMNS
						" WHERE stream_name = $1 AND global_position >= $2"
						" ORDER BY position LIMIT $3" :
						MESSAGE_COLUMNS
						" WHERE stream_name = $1 AND global_position >= $2"
						" ORDER BY position LIMIT $3",
						3, argtypes);
		values[1] = PG_GETARG_DATUM(3);
		values[2] = Int64GetDatum(batch);
		nulls[2] = batch <= 0 ? 'n' : ' ';
	}
	return read_rows(fcinfo, buf, plan, values, nulls, false);
}

/*
 * stream_get(ns, stream_name, position, global_position, batch_size):
 * global_position NULL reads by stream position (batch -1 unlimited, 0
 * empty, below -1 LIMIT's own 2201W); otherwise by global position with
 * batch <= 0 unlimited. Renders into buf, or returns positions when buf is
 * NULL (stream_positions).
 */
static void
stream_read(FunctionCallInfo fcinfo, StringInfo buf)
{
	StoreRef	ref;
	int64		batch = PG_ARGISNULL(4) ? DEFAULT_BATCH : PG_GETARG_INT64(4);
	uint64		rows;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (buf == NULL || !stream_read_direct(fcinfo, &ref, batch, buf, &rows))
		rows = stream_by_plan(fcinfo, &ref, batch, buf);
	stats_read(ref.schema, rows);
	spi_finish_pinned();
}

Datum
ev_stream_get(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	initStringInfo(&buf);
	stream_read(fcinfo, &buf);
	PG_RETURN_TEXT_P(result_text(&buf));
}

/* stream_positions: stream_get's rows as (stream_name, position,
 * global_position), for the SSE catch-up. */
Datum
ev_stream_positions(PG_FUNCTION_ARGS)
{
	stream_read(fcinfo, NULL);
	return (Datum) 0;
}

/* stream_last's row by the saved plan, rendered into buf; returns rows (0 or 1). */
static uint64
last_by_plan(FunctionCallInfo fcinfo, const StoreRef *ref, StringInfo buf)
{
	static Oid	argtypes[2] = {TEXTOID, TEXTOID};
	SPIPlanPtr	plan;
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	if (PG_ARGISNULL(2))
		plan = plan_for(ref->schema, "gw_stream_last",
						MESSAGE_COLUMNS
						" WHERE stream_name = $1"
						" ORDER BY position DESC LIMIT 1",
						2, argtypes);
	else
		plan = plan_for(ref->schema, "gw_stream_last_type",
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
	if (SPI_processed > 0)
		render_spi_message(buf, SPI_tuptable->vals[0], SPI_tuptable->tupdesc, false);
	return SPI_processed;
}

/* stream_last(ns, stream_name, type) -> one message array, or null. */
Datum
ev_stream_last(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	StoreRef	ref;
	RenderTo	to = {&buf, true};
	uint64		rows;

	initStringInfo(&buf);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	/* the default namespace by a direct scan (read.h), unless it declines */
	if (PG_ARGISNULL(1) || !is_message_store(&ref) ||
		!read_last_each(PG_GETARG_DATUM(1), !PG_ARGISNULL(2),
						PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2),
						render_row, &to, &rows))
		rows = last_by_plan(fcinfo, &ref, &buf);
	stats_read(ref.schema, rows);
	if (rows == 0)
		appendStringInfoString(&buf, "null");
	spi_finish_pinned();
	PG_RETURN_TEXT_P(result_text(&buf));
}

/*
 * stream_version(ns, stream_name) -> highest position, NULL when empty. As
 * the original (max(position), then -1 as "none"), an imported stream whose
 * highest position is below -1 reports it.
 */
Datum
ev_stream_version(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	int64		version = -1;
	bool		found = false;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (!PG_ARGISNULL(1))
		version = store_stream_version_found(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)), &found);
	stats_read(ref.schema, 0);
	spi_finish_pinned();
	if (!found || version == -1)
		PG_RETURN_NULL();
	PG_RETURN_INT64(version);
}

static bool
text_has_dash(text *t)
{
	return memchr(VARDATA_ANY(t), '-', VARSIZE_ANY_EXHDR(t)) != NULL;
}

void
category_args(FunctionCallInfo fcinfo, CategoryArgs *a)
{
	a->by_category = !PG_ARGISNULL(1) && VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) > 0;
	a->by_correlation = !PG_ARGISNULL(4);
	a->by_group = !PG_ARGISNULL(5) && !PG_ARGISNULL(6);
	a->batch = PG_ARGISNULL(3) ? DEFAULT_BATCH : PG_GETARG_INT64(3);
}

bool
category_args_check(FunctionCallInfo fcinfo, const CategoryArgs *a)
{
	if (a->by_group && PG_GETARG_INT64(6) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("consumer group size must be positive")));
	return !((a->by_category && text_has_dash(PG_GETARG_TEXT_PP(1))) ||
			 (a->by_correlation && text_has_dash(PG_GETARG_TEXT_PP(4))));
}

void
category_params(FunctionCallInfo fcinfo, const char *schema, const CategoryArgs *a,
				Datum *values, char *nulls)
{
	text	   *c = a->by_category ? PG_GETARG_TEXT_PP(1) : NULL;

	values[0] = Int64GetDatum(PG_ARGISNULL(2) ? 1 : PG_GETARG_INT64(2));
	values[1] = a->by_category ? PointerGetDatum(c) : (Datum) 0;
	nulls[1] = a->by_category ? ' ' : 'n';
	values[2] = a->by_correlation ? PG_GETARG_DATUM(4) : (Datum) 0;
	nulls[2] = a->by_correlation ? ' ' : 'n';
	values[3] = a->by_group ? PG_GETARG_DATUM(5) : (Datum) 0;
	nulls[3] = a->by_group ? ' ' : 'n';
	values[4] = a->by_group ? PG_GETARG_DATUM(6) : (Datum) 0;
	nulls[4] = a->by_group ? ' ' : 'n';
	values[5] = Int64GetDatum(a->batch);
	nulls[5] = a->batch == -1 ? 'n' : ' ';
	values[6] = Int64GetDatum(horizon_for_category(schema, c ? VARDATA_ANY(c) : NULL,
												   c ? VARSIZE_ANY_EXHDR(c) : 0));
}

/*
 * One statement per combination of filters (category_query.h), stopping
 * after the batch or at the commit horizon $7 (horizon.h): the category
 * index from (category, position) for a category, the primary key for ''.
 */
char *
gw_category_sql(bool by_category, bool by_correlation, bool by_group, bool positions)
{
	CategoryQuery q = {
		.select = positions ? POSITION_COLUMNS : MESSAGE_COLUMNS,
		.position = 1,
		.category = by_category ? 2 : 0,
		.correlation = by_correlation ? 3 : 0,
		/* The shared rule (common/consumer_group.h) in one C call; as a
		 * boolean function the planner guesses it keeps a third of the
		 * rows, which keeps the ordered index scan. */
		.group = by_group ? "eventodb.in_consumer_group(stream_name, $4, $5)" : NULL,
		.limit = 6,
		.horizon = 7,
	};

	return category_query_sql(&q);
}

static SPIPlanPtr
category_plan(const char *schema, bool by_category, bool by_correlation, bool by_group,
			  bool positions)
{
	static Oid	argtypes[7] = {INT8OID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID};
	char		key[NAMEDATALEN];

	snprintf(key, sizeof(key), "gw_category_%c%c%c%s",
			 by_category ? 'c' : '-', by_correlation ? 'r' : '-', by_group ? 'g' : '-',
			 positions ? "_pos" : "");
	return plan_for(schema, key,
					gw_category_sql(by_category, by_correlation, by_group, positions),
					7, argtypes);
}

/*
 * in_consumer_group(stream_name, member, size): Message DB's assignment
 * abs(hash_64(cardinal_id)) mod size = member (docs/sql-api.md#hash_64) in one C
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
	int64_t		h,
				mine;

	if (!group_stream_hash(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), &h))
		PG_RETURN_BOOL(false);
	if (!group_member_of(h, size, &mine))
	{
		/* Message DB's @ fails there too; never wrap silently. */
		if (h == PG_INT64_MIN)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("bigint out of range")));
		PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(mine == member);
}

/*
 * category_get(ns, category, position, batch_size, correlation, member,
 * size), rendered into buf, or as positions when buf is NULL
 * (category_positions).
 */
static void
category_read(FunctionCallInfo fcinfo, StringInfo buf)
{
	StoreRef	ref;
	CategoryArgs a;
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	category_args(fcinfo, &a);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (!category_args_check(fcinfo, &a))
	{
		if (buf)
			appendStringInfoString(buf, "[]");
		else
			InitMaterializedSRF(fcinfo, 0);
	}
	else
	{
		category_params(fcinfo, ref.schema, &a, values, nulls);
		/* Invariant 1 (docs/architecture.md#invariants): the snapshot is taken after the horizon. */
		horizon_push_read_snapshot();
		stats_read(ref.schema,
				   read_rows(fcinfo, buf,
							 category_plan(ref.schema, a.by_category, a.by_correlation,
										   a.by_group, buf == NULL),
							 values, nulls, true));
		PopActiveSnapshot();
	}
	spi_finish_pinned();
}

Datum
ev_category_get(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	initStringInfo(&buf);
	category_read(fcinfo, &buf);
	PG_RETURN_TEXT_P(result_text(&buf));
}

/* category_positions: category_get's rows as (stream_name, position,
 * global_position), for the SSE catch-up. */
Datum
ev_category_positions(PG_FUNCTION_ARGS)
{
	category_read(fcinfo, NULL);
	return (Datum) 0;
}
