/*
 * category_position_at: where to start reading a category (or the whole
 * namespace) to see everything written from a given time on
 * (docs/writes-and-reads.md).
 *
 * A message's time is its transaction's start, and positions are drawn
 * later, so time and global position are only roughly in the same order: a
 * long transaction can start before the time and draw a position after
 * messages that started later. The answer is therefore the smallest
 * position whose time is at or after the given one, found by walking the
 * positions in order (the primary key, or the category index) until the
 * first such row - exact, at the cost of the rows before it. The walk stops
 * at the commit horizon, like every category read: a writer still in flight
 * there could commit a smaller position later.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "horizon.h"
#include "namespace.h"
#include "spi_pinned.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(ev_category_position_at);

/*
 * category_position_at(ns, category, at timestamptz) -> the global position
 * of the first message of the category ('' or NULL: every category) with
 * time >= at, or NULL when there is none (yet).
 */
Datum
ev_category_position_at(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[3] = {TIMESTAMPTZOID, INT8OID, TEXTOID};
	bool		by_category = !PG_ARGISNULL(1) && VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) > 0;
	StoreRef	ref;
	SPIPlanPtr	plan;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		found = false;
	int64		result = 0;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the time must not be NULL")));
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	/* a category never contains '-' (as category_get) */
	if (by_category &&
		memchr(VARDATA_ANY(PG_GETARG_TEXT_PP(1)), '-', VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1))) != NULL)
	{
		spi_finish_pinned();
		PG_RETURN_NULL();
	}
	if (by_category)
	{
		text	   *c = PG_GETARG_TEXT_PP(1);

		/* the range form keeps the category index's order (gateway_read.c) */
		plan = plan_for(ref.schema, "gw_position_at_category",
						"SELECT global_position FROM @S.messages"
						" WHERE message_store.category(stream_name) >= $3"
						" AND message_store.category(stream_name) <= $3"
						" AND global_position < $2"
						" AND time >= pg_catalog.timezone('UTC', $1)"
						" ORDER BY message_store.category(stream_name), global_position LIMIT 1",
						3, argtypes);
		values[1] = Int64GetDatum(horizon_for_category(ref.schema, VARDATA_ANY(c),
													   VARSIZE_ANY_EXHDR(c)));
		values[2] = PointerGetDatum(c);
	}
	else
	{
		plan = plan_for(ref.schema, "gw_position_at",
						"SELECT global_position FROM @S.messages"
						" WHERE global_position < $2"
						" AND time >= pg_catalog.timezone('UTC', $1)"
						" AND $3 IS NULL"
						" ORDER BY global_position LIMIT 1",
						3, argtypes);
		values[1] = Int64GetDatum(horizon_for_category(ref.schema, NULL, 0));
		nulls[2] = 'n';
	}
	values[0] = PG_GETARG_DATUM(2);
	horizon_push_read_snapshot();
	if (SPI_execute_plan(plan, values, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: position lookup failed");
	PopActiveSnapshot();
	if (SPI_processed == 1)
	{
		bool		isnull;

		result = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		found = true;
	}
	stats_read(ref.schema, SPI_processed);
	spi_finish_pinned();
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_INT64(result);
}
