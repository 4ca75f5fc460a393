/*
 * Retention passes (docs/lifecycle.md, "Retention"): remove the messages
 * the rules expire, in batches of bounded size, so a pass holds no lock a
 * writer or reader waits for - DELETE takes row locks on rows nobody else
 * locks, and the table lock it takes (ROW EXCLUSIVE) conflicts with neither
 * inserts nor reads.
 *
 * Removal never changes a stream's version: the statement that deletes a
 * stream's newest message first records its position in lifecycle_streams
 * (lifecycle_guard.c reads it back once no message is left). Subscriptions
 * and category readers page by global position, so a removed position is
 * a gap they pass over like any position of another category.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "lifecycle.h"
#include "namespace.h"
#include "spi_pinned.h"

PG_FUNCTION_INFO_V1(ev_retention_run);

/*
 * Wraps a "doomed" query (global_position, stream_name, position) into the
 * statement that records versions and deletes. doomed is MATERIALIZED so
 * both parts see one set; the version subquery runs on the statement's
 * snapshot, before the delete.
 */
#define DELETE_DOOMED(doomed) \
	"WITH doomed AS MATERIALIZED (" doomed ")," \
	" kept AS (INSERT INTO @S.lifecycle_streams AS l (stream_name, version)" \
	"  SELECT d.stream_name, pg_catalog.max(d.position) FROM doomed d GROUP BY d.stream_name" \
	"  HAVING pg_catalog.max(d.position) >= (SELECT pg_catalog.max(x.position)" \
	"    FROM @M.messages x WHERE x.stream_name = d.stream_name)" \
	"  ON CONFLICT (stream_name) DO UPDATE SET version = GREATEST(l.version, EXCLUDED.version))" \
	" DELETE FROM @M.messages WHERE global_position IN (SELECT global_position FROM doomed)"

#define NOW_UTC "(now() AT TIME ZONE 'utc')"

/* A stream's rule: the first $5 messages of the stream, those below
 * truncate-before ($4), older than max-age ($2 s) or beyond max-count ($3)
 * from its newest. NULL limits make their test NULL, i.e. not removed. */
static const char *const stream_pass_sql = DELETE_DOOMED(
	"SELECT w.global_position, w.stream_name, w.position FROM ("
	" SELECT global_position, stream_name, position, time FROM @M.messages"
	" WHERE stream_name = $1 ORDER BY position LIMIT $5) w"
	" WHERE w.position < $4"
	" OR w.time < " NOW_UTC " - $2 * interval '1 second'"
	" OR w.position <= (SELECT pg_catalog.max(x.position) FROM @M.messages x"
	"   WHERE x.stream_name = $1) - $3");

/* A category's max-age: among its oldest $3 messages (by global position,
 * the category index's order), those older than $2 seconds. */
static const char *const category_age_sql = DELETE_DOOMED(
	"SELECT w.global_position, w.stream_name, w.position FROM ("
	" SELECT global_position, stream_name, position, time FROM @M.messages"
	" WHERE message_store.category(stream_name) = $1"
	" ORDER BY global_position LIMIT $3) w"
	" WHERE w.time < " NOW_UTC " - $2 * interval '1 second'");

/* A category's max-count, per stream: $4 messages after the cursor ($3),
 * those more than $2 below their stream's newest. */
static const char *const category_count_sql = DELETE_DOOMED(
	"SELECT w.global_position, w.stream_name, w.position FROM ("
	" SELECT global_position, stream_name, position FROM @M.messages"
	" WHERE message_store.category(stream_name) = $1 AND global_position > $3"
	" ORDER BY global_position LIMIT $4) w"
	" WHERE w.position <= (SELECT pg_catalog.max(x.position) FROM @M.messages x"
	"   WHERE x.stream_name = w.stream_name) - $2");

/* Where the next max-count window of a category starts: after the last of
 * this one, or from the start again once a window was not full. */
static const char *const category_cursor_sql =
"UPDATE @S.lifecycle_categories SET count_scan_from = COALESCE(("
" SELECT CASE WHEN pg_catalog.count(*) < $3 THEN 0 ELSE pg_catalog.max(global_position) END"
" FROM (SELECT global_position FROM @M.messages"
"  WHERE message_store.category(stream_name) = $1 AND global_position > $2"
"  ORDER BY global_position LIMIT $3) w), 0)"
" WHERE category = $1 RETURNING count_scan_from";

static int64
run_delete(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	if (SPI_execute_plan(plan, values, nulls, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "eventodb: retention delete failed");
	return (int64) SPI_processed;
}

/* Copies the rows of a rule query out of SPI's tuple table. */
typedef struct Rule
{
	char	   *name;
	bool		isnull[3];
	int64		v[3];
} Rule;

static Rule *
load_rules(SPIPlanPtr plan, int nlimits, int *n)
{
	Rule	   *rules;

	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: reading retention rules failed");
	*n = (int) SPI_processed;
	rules = palloc0(sizeof(Rule) * (*n + 1));
	for (int i = 0; i < *n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;

		rules[i].name = SPI_getvalue(row, td, 1);
		for (int j = 0; j < nlimits; j++)
		{
			Datum		d = SPI_getbinval(row, td, j + 2, &rules[i].isnull[j]);

			rules[i].v[j] = rules[i].isnull[j] ? 0 : DatumGetInt64(d);
		}
	}
	return rules;
}

static int64
stream_pass(const StoreRef *ref, int64 budget)
{
	static Oid	types[5] = {TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID};
	SPIPlanPtr	list = lifecycle_plan(ref, "lc_stream_rules",
									  "SELECT stream_name, max_age, max_count, truncate_before"
									  " FROM @S.lifecycle_streams WHERE (max_age IS NOT NULL"
									  " OR max_count IS NOT NULL OR truncate_before IS NOT NULL)"
									  " AND deleted IS DISTINCT FROM 'hard'", 0, NULL);
	SPIPlanPtr	del = lifecycle_plan(ref, "lc_stream_pass", stream_pass_sql, 5, types);
	int			n;
	Rule	   *rules = load_rules(list, 3, &n);
	int64		removed = 0;

	for (int i = 0; i < n && removed < budget; i++)
	{
		Datum		values[5];
		char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

		values[0] = CStringGetTextDatum(rules[i].name);
		for (int j = 0; j < 3; j++)
		{
			values[j + 1] = Int64GetDatum(rules[i].v[j]);
			nulls[j + 1] = rules[i].isnull[j] ? 'n' : ' ';
		}
		values[4] = Int64GetDatum(budget - removed);
		removed += run_delete(del, values, nulls);
	}
	return removed;
}

static int64
category_pass(const StoreRef *ref, int64 budget)
{
	static Oid	age_types[3] = {TEXTOID, INT8OID, INT8OID};
	static Oid	count_types[4] = {TEXTOID, INT8OID, INT8OID, INT8OID};
	static Oid	cursor_types[3] = {TEXTOID, INT8OID, INT8OID};
	SPIPlanPtr	list = lifecycle_plan(ref, "lc_category_rules",
									  "SELECT category, max_age, max_count, count_scan_from"
									  " FROM @S.lifecycle_categories"
									  " WHERE max_age IS NOT NULL OR max_count IS NOT NULL", 0, NULL);
	int			n;
	Rule	   *rules = load_rules(list, 3, &n);
	int64		removed = 0;

	for (int i = 0; i < n && removed < budget; i++)
	{
		Datum		name = CStringGetTextDatum(rules[i].name);

		if (!rules[i].isnull[0])
		{
			Datum		values[3] = {name, Int64GetDatum(rules[i].v[0]),
			Int64GetDatum(budget - removed)};

			removed += run_delete(lifecycle_plan(ref, "lc_category_age", category_age_sql,
												 3, age_types), values, NULL);
		}
		/*
		 * From the cursor to the end of the category and, when the window
		 * got there with budget left, once more from the start: a pass
		 * that removes nothing has examined every message of the category.
		 */
		for (int64 from = rules[i].v[2], lap = 0;
			 !rules[i].isnull[1] && removed < budget && lap < 2; from = 0, lap++)
		{
			Datum		values[4] = {name, Int64GetDatum(rules[i].v[1]),
				Int64GetDatum(from), Int64GetDatum(budget - removed)};
			Datum		cursor[3] = {name, Int64GetDatum(from), Int64GetDatum(budget - removed)};
			bool		isnull;
			int64		next;

			/* The cursor first: the delete empties the window it measures. */
			if (SPI_execute_plan(lifecycle_plan(ref, "lc_category_cursor", category_cursor_sql,
												3, cursor_types), cursor, NULL, false, 0)
				!= SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
				elog(ERROR, "eventodb: retention cursor update failed");
			next = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											   &isnull));
			removed += run_delete(lifecycle_plan(ref, "lc_category_count", category_count_sql,
												 4, count_types), values, NULL);
			if (next != 0 || from == 0)
				break;			/* the window ended before the category did, or covered it */
		}
	}
	return removed;
}

int64
lifecycle_retention_pass(const StoreRef *ref, int64 max_rows)
{
	int64		removed;

	if (!lifecycle_storage_exists(lifecycle_schema_of(ref)) || max_rows <= 0)
		return 0;
	removed = stream_pass(ref, max_rows);
	if (removed < max_rows)
		removed += category_pass(ref, max_rows - removed);
	return removed;
}

/* retention_run(ns, max_rows) -> messages removed by one pass. */
Datum
ev_retention_run(PG_FUNCTION_ARGS)
{
	int64		max_rows = PG_ARGISNULL(1) ? 1000 : PG_GETARG_INT64(1);
	StoreRef	ref;
	int64		removed;

	if (max_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must be a positive number")));
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, RowExclusiveLock);
	removed = lifecycle_retention_pass(&ref, max_rows);
	spi_finish_pinned();
	PG_RETURN_INT64(removed);
}
