/*
 * ns_streams and ns_categories (docs/http-api.md#nsstreams, #nscategories): what a namespace
 * holds, in byte order (COLLATE "C") so paging is deterministic whatever the
 * database collation, with a literal prefix (no LIKE wildcards) - both
 * deliberate deviations of docs/http-api.md#deviations-from-the-original.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"

PG_FUNCTION_INFO_V1(ev_ns_streams);
PG_FUNCTION_INFO_V1(ev_ns_categories);

#define DEFAULT_LIMIT 100

typedef void (*RowFields) (StringInfo buf, HeapTuple row, TupleDesc td);

/*
 * The rows of the query just run as a JSON array of objects, whose fields
 * fields() writes; ends SPI. buf was made before SPI_connect, so it and
 * the text outlive SPI's memory.
 */
static Datum
rows_json(StringInfo buf, RowFields fields)
{
	SPITupleTable *tt = SPI_tuptable;
	text	   *out;

	appendStringInfoChar(buf, '[');
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoChar(buf, '{');
		fields(buf, tt->vals[i], tt->tupdesc);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
	spi_finish_pinned();
	out = cstring_to_text_with_len(buf->data, buf->len);
	PG_RETURN_TEXT_P(out);
}

static void
stream_fields(StringInfo buf, HeapTuple row, TupleDesc td)
{
	bool		isnull;

	appendStringInfoString(buf, "\"lastActivity\":");
	render_time(buf, DatumGetTimestamp(SPI_getbinval(row, td, 3, &isnull)), false);
	appendStringInfoString(buf, ",\"stream\":");
	render_text(buf, DatumGetTextPP(SPI_getbinval(row, td, 1, &isnull)));
	appendStringInfoString(buf, ",\"version\":");
	render_int64(buf, DatumGetInt64(SPI_getbinval(row, td, 2, &isnull)));
}

static void
category_fields(StringInfo buf, HeapTuple row, TupleDesc td)
{
	bool		isnull;

	appendStringInfoString(buf, "\"category\":");
	render_text(buf, DatumGetTextPP(SPI_getbinval(row, td, 1, &isnull)));
	appendStringInfoString(buf, ",\"messageCount\":");
	render_int64(buf, DatumGetInt64(SPI_getbinval(row, td, 2, &isnull)));
	appendStringInfoString(buf, ",\"streamCount\":");
	render_int64(buf, DatumGetInt64(SPI_getbinval(row, td, 3, &isnull)));
}

/* ns_streams(ns, prefix, cursor, lim) -> [{"lastActivity","stream","version"}] */
Datum
ev_ns_streams(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[3] = {TEXTOID, TEXTOID, INT8OID};
	StringInfoData buf;
	StoreRef	ref;
	SPIPlanPtr	plan;
	Datum		values[3];

	initStringInfo(&buf);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	plan = plan_for(ref.schema, "gw_ns_streams",
					"SELECT stream_name, pg_catalog.max(position), pg_catalog.max(time)"
					" FROM @S.messages"
					" WHERE pg_catalog.starts_with(stream_name, $1)"
					" AND ($2 = '' OR stream_name COLLATE \"C\" > $2)"
					" GROUP BY stream_name"
					" ORDER BY stream_name COLLATE \"C\" LIMIT $3",
					3, argtypes);
	values[0] = PG_ARGISNULL(1) ? CStringGetTextDatum("") : PG_GETARG_DATUM(1);
	values[1] = PG_ARGISNULL(2) ? CStringGetTextDatum("") : PG_GETARG_DATUM(2);
	values[2] = Int64GetDatum(PG_ARGISNULL(3) ? DEFAULT_LIMIT : (int64) PG_GETARG_INT32(3));
	if (SPI_execute_plan(plan, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: ns_streams query failed");
	return rows_json(&buf, stream_fields);
}

/* ns_categories(ns) -> [{"category","messageCount","streamCount"}] */
Datum
ev_ns_categories(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	StoreRef	ref;
	SPIPlanPtr	plan;

	initStringInfo(&buf);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	plan = plan_for(ref.schema, "gw_ns_categories",
					"SELECT message_store.category(stream_name) COLLATE \"C\" AS category,"
					" pg_catalog.count(*), pg_catalog.count(DISTINCT stream_name)"
					" FROM @S.messages GROUP BY 1 ORDER BY 1",
					0, NULL);
	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: ns_categories query failed");
	return rows_json(&buf, category_fields);
}
