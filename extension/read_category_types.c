/*
 * category_get_types: category_get restricted to a list of message types
 * (docs/writes-and-reads.md), and the index that serves it.
 *
 * With the type index (category, type, global position) of
 * type_index_create, a read of one type is one ordered index range scan that
 * stops after the batch, whatever the share of the type in the category;
 * several types are read one range per type (at most a batch each) and
 * merged. Without the index the category index is walked from the position
 * and filtered, stopping after the batch: correct, but paying for every
 * message of the category it passes. The index is opt-in because every
 * write then maintains one more index.
 *
 * Horizon, snapshot and the other filters are category_get's
 * (gateway_read.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "catalog/namespace.h"
#include "utils/lsyscache.h"

#include "gateway_read.h"
#include "horizon.h"
#include "read_types.h"
#include "namespace.h"
#include "spi_pinned.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(ev_category_get_types);
PG_FUNCTION_INFO_V1(ev_type_index_create);
PG_FUNCTION_INFO_V1(ev_type_index_drop);

#define TYPES_MAX 100

/*
 * The other filters, over the relation aliased m; by_range: the category and
 * position bounds are in the row range already.
 */
static void
append_filters(StringInfo sql, bool by_range, bool by_correlation, bool by_group)
{
	appendStringInfoString(sql, by_range ? " AND true" : " AND m.global_position >= $1 AND m.global_position < $7");
	if (by_correlation)
		appendStringInfoString(sql,
							   " AND message_store.category(m.metadata->>'correlationStreamName') = $3");
	if (by_group)
		appendStringInfoString(sql, " AND eventodb.in_consumer_group(m.stream_name, $4, $5)");
}

/*
 * The messages of one type ($t) of the category from $1 to the horizon $7,
 * written as a range of rows of the type index, (category, type, global
 * position) from ($2, $t, $1) to ($2, $t, $7): plans are generic, and only
 * this form makes the planner see that the type index alone gives the
 * order and stops after the batch (an equality on category and type let it
 * walk the primary key and filter; ranges on each column, the category
 * index and sort). Only with the index: without it, this range would make
 * the category index read and sort the whole category.
 */
#define TYPE_RANGE(t) \
	" WHERE (message_store.category(m.stream_name), m.type, m.global_position) >= ($2, " t ", $1)" \
	" AND (message_store.category(m.stream_name), m.type, m.global_position) < ($2, " t ", $7)"
#define TYPE_ORDER \
	" ORDER BY message_store.category(m.stream_name), m.type, m.global_position LIMIT $6"

/*
 * With the type index, one type: the range itself; several: the range of
 * each distinct type, a batch at most from each, merged by global position.
 * Otherwise (no index, no type, or the whole namespace '' with no category to
 * range over) category_get's ordered walk with the types as a filter,
 * stopping after the batch.
 */
static SPIPlanPtr
types_plan(const char *schema, bool by_category, bool by_correlation, bool by_group, int ntypes,
		   bool indexed)
{
	static Oid	argtypes[8] = {INT8OID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID,
	TEXTARRAYOID};
	char		key[NAMEDATALEN];
	StringInfoData sql;

	/* the filtered walk serves every read the type ranges cannot */
	if (!by_category || !indexed)
		ntypes = Min(ntypes, 1);
	snprintf(key, sizeof(key), "gw_category_types_%c%c%c%c%c",
			 by_category ? 'c' : '-', by_correlation ? 'r' : '-', by_group ? 'g' : '-',
			 ntypes == 0 ? '0' : ntypes > 1 ? 'n' : '1', indexed ? 'i' : '-');
	initStringInfo(&sql);
	if (!by_category || ntypes == 0 || !indexed)
	{
		appendStringInfoString(&sql, MESSAGE_COLUMNS " m WHERE true");
		if (by_category)
			appendStringInfoString(&sql,
								   " AND message_store.category(m.stream_name) >= $2"
								   " AND message_store.category(m.stream_name) <= $2");
		append_filters(&sql, false, by_correlation, by_group);
		if (ntypes > 0)
			appendStringInfoString(&sql, " AND m.type = ANY($8)");
		appendStringInfoString(&sql, by_category
							   ? " ORDER BY message_store.category(m.stream_name), m.global_position LIMIT $6"
							   : " ORDER BY m.global_position LIMIT $6");
	}
	else if (ntypes == 1)
	{
		appendStringInfoString(&sql, MESSAGE_COLUMNS " m" TYPE_RANGE("$8[1]"));
		append_filters(&sql, true, by_correlation, by_group);
		appendStringInfoString(&sql, TYPE_ORDER);
	}
	else
	{
		appendStringInfoString(&sql,
							   "SELECT r.* FROM (SELECT DISTINCT u FROM pg_catalog.unnest($8) u) t(type),"
							   " LATERAL (" MESSAGE_COLUMNS " m" TYPE_RANGE("t.type"));
		append_filters(&sql, true, by_correlation, by_group);
		appendStringInfoString(&sql, TYPE_ORDER ") r ORDER BY r.global_position LIMIT $6");
	}
	return plan_for(schema, key, sql.data, 8, argtypes);
}

bool
type_index_exists(const char *schema)
{
	Oid			nsp = get_namespace_oid(schema, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid(TYPE_INDEX_NAME, nsp));
}

/*
 * category_get_types(ns, category, position, batch_size, correlation,
 * member, size, types text[]): category_get's answer keeping the messages
 * whose type is in types (NULL or empty: every type, as category_get).
 */
Datum
ev_category_get_types(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	StoreRef	ref;
	CategoryArgs a;
	ArrayType  *types = PG_ARGISNULL(7) ? NULL : PG_GETARG_ARRAYTYPE_P(7);
	int			ntypes = types ? ArrayGetNItems(ARR_NDIM(types), ARR_DIMS(types)) : 0;
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	if (ntypes > TYPES_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at most %d types", TYPES_MAX)));
	if (types != NULL && array_contains_nulls(types))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("types must not contain NULL")));
	category_args(fcinfo, &a);
	initStringInfo(&buf);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (!category_args_check(fcinfo, &a))
		appendStringInfoString(&buf, "[]");
	else
	{
		category_params(fcinfo, ref.schema, &a, values, nulls);
		values[7] = types ? PointerGetDatum(types) : (Datum) 0;
		nulls[7] = types ? ' ' : 'n';
		/* Invariant 1 (docs/architecture.md#invariants): the snapshot is taken after the horizon. */
		horizon_push_read_snapshot();
		stats_read(ref.schema,
				   render_messages(&buf,
								   types_plan(ref.schema, a.by_category, a.by_correlation, a.by_group,
											  ntypes, a.by_category && type_index_exists(ref.schema)),
								   values, nulls, true));
		PopActiveSnapshot();
	}
	spi_finish_pinned();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/* Runs one DDL statement on the namespace's messages table. */
static void
type_index_ddl(FunctionCallInfo fcinfo, const char *tmpl)
{
	StoreRef	ref;
	char	   *sql;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sql = psprintf(tmpl, quote_identifier(ref.schema));
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "eventodb: \"%s\" failed", sql);
	spi_finish_pinned();
}

/* type_index_create(ns): the index of type-filtered category reads. */
Datum
ev_type_index_create(PG_FUNCTION_ARGS)
{
	type_index_ddl(fcinfo,
				   "CREATE INDEX IF NOT EXISTS " TYPE_INDEX_NAME " ON %s.messages"
				   " (message_store.category(stream_name), type, global_position)");
	PG_RETURN_VOID();
}

/* type_index_drop(ns) */
Datum
ev_type_index_drop(PG_FUNCTION_ARGS)
{
	type_index_ddl(fcinfo, "DROP INDEX IF EXISTS %s." TYPE_INDEX_NAME);
	PG_RETURN_VOID();
}
