/*
 * Message DB's get_category_messages (docs/sql-api.md#get_category_messages): validation in its
 * exact order, then a direct scan of the category index for the plain and
 * the correlation read (read_direct.c), else one of four saved plans
 * (correlation and consumer group each on or off) of the category read the gateway runs too
 * (category_query.h), or dynamic SQL when a `condition` is given. The
 * consumer group filter is one C call per row (common/consumer_group.c).
 *
 * Every query also stops below the commit horizon ($7 of the saved plans,
 * a literal in a condition's dynamic SQL; horizon.h), read before the
 * query's snapshot: a page never ends past a message that is
 * still to commit with a smaller global position (docs/architecture.md#invariants, invariant
 * 1). The debug notices show Message DB's command, without that bound.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "category_query.h"
#include "horizon.h"
#include "msgdb_settings.h"
#include "names.h"
#include "read.h"
#include "spi_pinned.h"
#include "stats.h"
#include "store.h"

PG_FUNCTION_INFO_V1(msgdb_get_category_messages);

#define NPARAMS 7

typedef struct CategoryArgs
{
	char	   *category;		/* NULL: SQL NULL */
	int64		position;
	int64		batch;
	char	   *correlation;
	bool		member_null;
	int64		member;
	bool		size_null;
	int64		size;
	char	   *condition;
} CategoryArgs;

static char *
opt_text(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static const char *
opt_int8(bool isnull, int64 v)
{
	return isnull ? "<NULL>" : psprintf(INT64_FORMAT, v);
}

static void
group_error(const CategoryArgs *a, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_RAISE_EXCEPTION),
			 errmsg("%s (Consumer Group Member: %s, Consumer Group Size: %s)", what,
					opt_int8(a->member_null, a->member),
					opt_int8(a->size_null, a->size))));
}

/* Checks of docs/sql-api.md#get_category_messages steps 1-6, in that order. */
static void
validate(const CategoryArgs *a)
{
	if (a->category != NULL && !names_is_category(a->category, strlen(a->category)))
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("Must be a category: %s", a->category)));
	if (a->correlation != NULL && strchr(a->correlation, '-') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("Correlation must be a category (Correlation: %s)", a->correlation)));
	if (a->member_null != a->size_null)
		group_error(a, "Consumer group member and size must be specified");
	if (!a->member_null)
	{
		if (a->size < 1)
			group_error(a, "Consumer group size must not be less than 1");
		if (a->member < 0)
			group_error(a, "Consumer group member must not be less than 0");
		if (a->member >= a->size)
			group_error(a, "Consumer group member must be less than the group size");
	}
	if (a->condition != NULL && !msgdb_sql_condition_activated())
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("Retrieval with SQL condition is not activated")));
}

#define MSGDB_SELECT \
	"SELECT id::varchar, stream_name::varchar, type::varchar, position," \
	" global_position, data::varchar, metadata::varchar, time" \
	" FROM message_store.messages AS messages"
/* Message DB's assignment; hash_64 is the shared C one (common/md5.c). */
#define MSGDB_GROUP \
	"pg_catalog.mod(@message_store.hash_64(message_store.cardinal_id(stream_name)), $6) = $5"

/*
 * The statement the saved plans run: the category read both faces share
 * (category_query.h), with Message DB's parameter numbers.
 */
char *
msgdb_category_sql(bool by_correlation, bool by_group)
{
	CategoryQuery q = {
		.select = MSGDB_SELECT,
		.category = 1,
		.position = 2,
		.limit = 3,
		.correlation = by_correlation ? 4 : 0,
		.group = by_group ? MSGDB_GROUP : NULL,
		.horizon = 7,
	};

	return category_query_sql(&q);
}

/*
 * Message DB's own command, laid out as its: the condition ends its line (a
 * "--" in it comments out no more), LIMIT $3 only when the batch is not -1,
 * and the parameters are $1-$6. Shown by the debug notices; run when a
 * condition is given, then with the commit horizon as a literal bound after
 * the condition, so that error positions within the condition stay Message
 * DB's and the condition cannot name a parameter Message DB lacks.
 */
static char *
msgdb_sql(const CategoryArgs *a, const int64 *horizon)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, MSGDB_SELECT
						   " WHERE message_store.category(stream_name) = $1"
						   " AND global_position >= $2");
	if (a->correlation != NULL)
		appendStringInfoString(&sql,
							   " AND message_store.category(metadata->>'correlationStreamName') = $4");
	if (!a->member_null)
		appendStringInfoString(&sql, " AND " MSGDB_GROUP);
	if (a->condition != NULL)
		appendStringInfo(&sql, " AND (%s)\n", a->condition);
	if (horizon != NULL)
		appendStringInfo(&sql, " AND global_position < " INT64_FORMAT, *horizon);
	appendStringInfoString(&sql, " ORDER BY global_position");
	if (a->batch != -1)
		appendStringInfoString(&sql, " LIMIT $3");
	return sql.data;
}

static void
notices(const CategoryArgs *a, const char *sql)
{
	ereport(NOTICE, (errmsg_internal("\xc2\xbb get_category_messages")));
	ereport(NOTICE, (errmsg_internal("category ($1): %s", msgdb_or_null(a->category))));
	ereport(NOTICE, (errmsg_internal("position ($2): " INT64_FORMAT, a->position)));
	ereport(NOTICE, (errmsg_internal("batch_size ($3): " INT64_FORMAT, a->batch)));
	ereport(NOTICE, (errmsg_internal("correlation ($4): %s", msgdb_or_null(a->correlation))));
	ereport(NOTICE, (errmsg_internal("consumer_group_member ($5): %s",
									 opt_int8(a->member_null, a->member))));
	ereport(NOTICE, (errmsg_internal("consumer_group_size ($6): %s",
									 opt_int8(a->size_null, a->size))));
	ereport(NOTICE, (errmsg_internal("condition: %s", msgdb_or_null(a->condition))));
	ereport(NOTICE, (errmsg_internal("Generated Command: %s", sql)));
}

Datum
msgdb_get_category_messages(PG_FUNCTION_ARGS)
{
	static const char *const keys[2][2] = {
		{"msgdb_category", "msgdb_category_group"},
		{"msgdb_category_corr", "msgdb_category_corr_group"},
	};
	CategoryArgs a;
	ReadParam	params[NPARAMS];
	Oid			types[NPARAMS];
	char	   *sql;
	SPIPlanPtr	plan;
	uint64		rows;

	a.category = opt_text(fcinfo, 0);
	a.position = PG_ARGISNULL(1) ? 1 : PG_GETARG_INT64(1);
	a.batch = PG_ARGISNULL(2) ? 1000 : PG_GETARG_INT64(2);
	a.correlation = opt_text(fcinfo, 3);
	a.member_null = PG_ARGISNULL(4);
	a.member = a.member_null ? 0 : PG_GETARG_INT64(4);
	a.size_null = PG_ARGISNULL(5);
	a.size = a.size_null ? 0 : PG_GETARG_INT64(5);
	a.condition = opt_text(fcinfo, 6);

	validate(&a);
	if (msgdb_debug_enabled("message_store.debug_get"))
		notices(&a, msgdb_sql(&a, NULL));

	/* Message DB passes the size as consumer_group_size::smallint when it
	 * runs the query - after the notices (docs/sql-api.md#get_category_messages quirks). */
	if (!a.size_null && (a.size > PG_INT16_MAX || a.size < PG_INT16_MIN))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("smallint out of range")));

	params[0] = (ReadParam) {TEXTOID, PG_GETARG_DATUM(0), PG_ARGISNULL(0)};
	params[1] = (ReadParam) {INT8OID, Int64GetDatum(a.position), false};
	params[2] = (ReadParam) {INT8OID, Int64GetDatum(a.batch), a.batch == -1};
	params[3] = (ReadParam) {TEXTOID, PG_GETARG_DATUM(3), PG_ARGISNULL(3)};
	params[4] = (ReadParam) {INT8OID, Int64GetDatum(a.member), a.member_null};
	params[5] = (ReadParam) {INT2OID, Int16GetDatum((int16) a.size), a.size_null};
	params[6] = (ReadParam) {INT8OID, Int64GetDatum(PG_INT64_MAX), false};
	for (int i = 0; i < NPARAMS; i++)
		types[i] = params[i].type;

	if (a.category != NULL)
		params[6].value = Int64GetDatum(horizon_for_category(store_message_store.schema,
															 a.category, strlen(a.category)));
	horizon_push_read_snapshot();
	/* The plain read scans the index itself; below -1 the SQL's LIMIT raises the error. */
	if (a.category != NULL && a.member_null && a.condition == NULL && a.batch >= -1 &&
		read_category_direct(fcinfo, PG_GETARG_DATUM(0), a.position,
							 DatumGetInt64(params[6].value), a.correlation != NULL,
							 PG_GETARG_DATUM(3), a.batch, &rows))
		stats_read(store_message_store.schema, rows);
	else
	{
		int64		horizon = DatumGetInt64(params[6].value);

		sql = a.condition == NULL ?
			msgdb_category_sql(a.correlation != NULL, !a.member_null) : msgdb_sql(&a, &horizon);
		if (a.condition == NULL)
		{
			spi_connect_pinned();
			plan = plan_for(store_message_store.schema,
							keys[a.correlation != NULL][!a.member_null], sql, NPARAMS, types);
			read_into_result_active(fcinfo, plan, params, NPARAMS);
			spi_finish_pinned();
		}
		else
		{
			/* Message DB binds $3 even for -1, when its command has no LIMIT.
			 * The caller's SQL, in the caller's search path, as Message DB
			 * runs it (docs/security.md#the-search-path). */
			params[2].isnull = false;
			SPI_connect();
			read_dynamic_into_result(fcinfo, sql, params, NPARAMS - 1, true);
			SPI_finish();
		}
	}
	PopActiveSnapshot();
	return (Datum) 0;
}
