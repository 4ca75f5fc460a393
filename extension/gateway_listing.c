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

PG_FUNCTION_INFO_V1(ev_ns_streams);
PG_FUNCTION_INFO_V1(ev_ns_categories);

#define DEFAULT_LIMIT 100

/* ns_streams(ns, prefix, cursor, lim) -> [{"lastActivity","stream","version"}] */
Datum
ev_ns_streams(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[3] = {TEXTOID, TEXTOID, INT8OID};
	StringInfoData buf;
	StoreRef	ref;
	SPIPlanPtr	plan;
	Datum		values[3];
	SPITupleTable *tt;

	initStringInfo(&buf);
	SPI_connect();
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
	tt = SPI_tuptable;
	appendStringInfoChar(&buf, '[');
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = tt->vals[i];
		bool		isnull;

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, "{\"lastActivity\":");
		render_time(&buf, DatumGetTimestamp(SPI_getbinval(row, tt->tupdesc, 3, &isnull)), false);
		appendStringInfoString(&buf, ",\"stream\":");
		render_text(&buf, DatumGetTextPP(SPI_getbinval(row, tt->tupdesc, 1, &isnull)));
		appendStringInfoString(&buf, ",\"version\":");
		render_int64(&buf, DatumGetInt64(SPI_getbinval(row, tt->tupdesc, 2, &isnull)));
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/* ns_categories(ns) -> [{"category","messageCount","streamCount"}] */
Datum
ev_ns_categories(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	StoreRef	ref;
	SPIPlanPtr	plan;
	SPITupleTable *tt;

	initStringInfo(&buf);
	SPI_connect();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	plan = plan_for(ref.schema, "gw_ns_categories",
					"SELECT message_store.category(stream_name) COLLATE \"C\" AS category,"
					" pg_catalog.count(*), pg_catalog.count(DISTINCT stream_name)"
					" FROM @S.messages GROUP BY 1 ORDER BY 1",
					0, NULL);
	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: ns_categories query failed");
	tt = SPI_tuptable;
	appendStringInfoChar(&buf, '[');
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = tt->vals[i];
		bool		isnull;

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, "{\"category\":");
		render_text(&buf, DatumGetTextPP(SPI_getbinval(row, tt->tupdesc, 1, &isnull)));
		appendStringInfoString(&buf, ",\"messageCount\":");
		render_int64(&buf, DatumGetInt64(SPI_getbinval(row, tt->tupdesc, 2, &isnull)));
		appendStringInfoString(&buf, ",\"streamCount\":");
		render_int64(&buf, DatumGetInt64(SPI_getbinval(row, tt->tupdesc, 3, &isnull)));
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
