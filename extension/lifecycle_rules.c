/*
 * Retention rules (docs/lifecycle.md, "Retention"): set and read a stream's
 * or a category's limits. A set replaces the whole rule; NULL clears a
 * limit. The rules are enforced by retention passes (lifecycle_retention.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "lifecycle.h"
#include "names.h"
#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"

PG_FUNCTION_INFO_V1(ev_stream_set_retention);
PG_FUNCTION_INFO_V1(ev_stream_retention);
PG_FUNCTION_INFO_V1(ev_category_set_retention);
PG_FUNCTION_INFO_V1(ev_category_retention);

/* A limit argument: NULL (none) or at least min. */
static void
check_limit(FunctionCallInfo fcinfo, int argno, int64 min, const char *message)
{
	if (!PG_ARGISNULL(argno) && PG_GETARG_INT64(argno) < min)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", message)));
}

static char *
category_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;

	if (PG_ARGISNULL(argno) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(argno)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("categoryName must be a non-empty string")));
	t = PG_GETARG_TEXT_PP(argno);
	if (!names_is_category(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("categoryName must be a non-empty string without '-'")));
	return text_to_cstring(t);
}

static void
render_limit(StringInfo buf, const char *key, bool isnull, int64 v)
{
	appendStringInfo(buf, "\"%s\":", key);
	if (isnull)
		appendStringInfoString(buf, "null");
	else
		render_int64(buf, v);
}

/* Limits of the first row of SPI_tuptable (columns 1..n), or all NULL. */
static void
fetch_limits(int n, bool *isnull, int64 *v)
{
	for (int i = 0; i < n; i++)
	{
		isnull[i] = true;
		v[i] = 0;
		if (SPI_processed == 1)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1,
										  &isnull[i]);

			if (!isnull[i])
				v[i] = DatumGetInt64(d);
		}
	}
}

/* {"maxAge":a,"maxCount":c,"streamName":s,"truncateBefore":t} */
static text *
render_stream_rule(const char *stream, const bool *isnull, const int64 *v)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	render_limit(&buf, "maxAge", isnull[0], v[0]);
	appendStringInfoChar(&buf, ',');
	render_limit(&buf, "maxCount", isnull[1], v[1]);
	appendStringInfoString(&buf, ",\"streamName\":");
	render_cstring(&buf, stream);
	appendStringInfoChar(&buf, ',');
	render_limit(&buf, "truncateBefore", isnull[2], v[2]);
	appendStringInfoChar(&buf, '}');
	return cstring_to_text_with_len(buf.data, buf.len);
}

/* {"categoryName":c,"maxAge":a,"maxCount":n} */
static text *
render_category_rule(const char *category, const bool *isnull, const int64 *v)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"categoryName\":");
	render_cstring(&buf, category);
	appendStringInfoChar(&buf, ',');
	render_limit(&buf, "maxAge", isnull[0], v[0]);
	appendStringInfoChar(&buf, ',');
	render_limit(&buf, "maxCount", isnull[1], v[1]);
	appendStringInfoChar(&buf, '}');
	return cstring_to_text_with_len(buf.data, buf.len);
}

static void
check_stream_limits(FunctionCallInfo fcinfo)
{
	check_limit(fcinfo, 2, 1, "maxAge must be a positive number of seconds");
	check_limit(fcinfo, 3, 1, "maxCount must be a positive number");
	check_limit(fcinfo, 4, 0, "truncateBefore must be a position (0 or more)");
}

/*
 * stream_set_retention(ns, stream_name, max_age, max_count,
 * truncate_before) -> the rule as stream_retention answers it.
 */
Datum
ev_stream_set_retention(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[4] = {TEXTOID, INT8OID, INT8OID, INT8OID};
	char	   *stream = lifecycle_stream_arg(fcinfo, 1);
	StoreRef	ref;
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull[3];
	int64		v[3];

	check_stream_limits(fcinfo);
	for (int i = 0; i < 3; i++)
	{
		isnull[i] = PG_ARGISNULL(i + 2);
		v[i] = isnull[i] ? 0 : PG_GETARG_INT64(i + 2);
		values[i + 1] = Int64GetDatum(v[i]);
		nulls[i + 1] = isnull[i] ? 'n' : ' ';
	}
	values[0] = CStringGetTextDatum(stream);

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	lifecycle_storage_ensure(&ref);
	if (lifecycle_is_tombstoned(&ref, stream))
		lifecycle_raise_deleted(stream);
	if (SPI_execute_plan(lifecycle_plan(&ref, "lc_set_stream_rule",
										"INSERT INTO @S.lifecycle_streams AS l"
										" (stream_name, max_age, max_count, truncate_before)"
										" VALUES ($1, $2, $3, $4) ON CONFLICT (stream_name) DO UPDATE SET"
										" max_age = EXCLUDED.max_age, max_count = EXCLUDED.max_count,"
										" truncate_before = EXCLUDED.truncate_before",
										4, argtypes),
						 values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: storing the stream's retention failed");
	spi_finish_pinned();
	PG_RETURN_TEXT_P(render_stream_rule(stream, isnull, v));
}

/* stream_retention(ns, stream_name): the rule; all null when none. */
Datum
ev_stream_retention(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[1] = {TEXTOID};
	char	   *stream = lifecycle_stream_arg(fcinfo, 1);
	StoreRef	ref;
	Datum		values[1] = {CStringGetTextDatum(stream)};
	bool		isnull[3] = {true, true, true};
	int64		v[3] = {0, 0, 0};

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (lifecycle_storage_exists(lifecycle_schema_of(&ref)))
	{
		if (lifecycle_is_tombstoned(&ref, stream))
			lifecycle_raise_deleted(stream);
		if (SPI_execute_plan(lifecycle_plan(&ref, "lc_get_stream_rule",
											"SELECT max_age, max_count, truncate_before"
											" FROM @S.lifecycle_streams WHERE stream_name = $1",
											1, argtypes),
							 values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "eventodb: reading the stream's retention failed");
		fetch_limits(3, isnull, v);
	}
	spi_finish_pinned();
	PG_RETURN_TEXT_P(render_stream_rule(stream, isnull, v));
}

/* category_set_retention(ns, category, max_age, max_count) -> the rule. */
Datum
ev_category_set_retention(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[3] = {TEXTOID, INT8OID, INT8OID};
	char	   *category = category_arg(fcinfo, 1);
	StoreRef	ref;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull[2];
	int64		v[2];

	check_limit(fcinfo, 2, 1, "maxAge must be a positive number of seconds");
	check_limit(fcinfo, 3, 1, "maxCount must be a positive number");
	for (int i = 0; i < 2; i++)
	{
		isnull[i] = PG_ARGISNULL(i + 2);
		v[i] = isnull[i] ? 0 : PG_GETARG_INT64(i + 2);
		values[i + 1] = Int64GetDatum(v[i]);
		nulls[i + 1] = isnull[i] ? 'n' : ' ';
	}
	values[0] = CStringGetTextDatum(category);

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	lifecycle_storage_ensure(&ref);
	if (SPI_execute_plan(lifecycle_plan(&ref, "lc_set_category_rule",
										"INSERT INTO @S.lifecycle_categories AS l"
										" (category, max_age, max_count) VALUES ($1, $2, $3)"
										" ON CONFLICT (category) DO UPDATE SET"
										" max_age = EXCLUDED.max_age, max_count = EXCLUDED.max_count",
										3, argtypes),
						 values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: storing the category's retention failed");
	spi_finish_pinned();
	PG_RETURN_TEXT_P(render_category_rule(category, isnull, v));
}

/* category_retention(ns, category): the rule; all null when none. */
Datum
ev_category_retention(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[1] = {TEXTOID};
	char	   *category = category_arg(fcinfo, 1);
	StoreRef	ref;
	Datum		values[1] = {CStringGetTextDatum(category)};
	bool		isnull[2] = {true, true};
	int64		v[2] = {0, 0};

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (lifecycle_storage_exists(lifecycle_schema_of(&ref)))
	{
		if (SPI_execute_plan(lifecycle_plan(&ref, "lc_get_category_rule",
											"SELECT max_age, max_count FROM @S.lifecycle_categories"
											" WHERE category = $1", 1, argtypes),
							 values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "eventodb: reading the category's retention failed");
		fetch_limits(2, isnull, v);
	}
	spi_finish_pinned();
	PG_RETURN_TEXT_P(render_category_rule(category, isnull, v));
}
