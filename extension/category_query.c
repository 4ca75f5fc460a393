/* See category_query.h. */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "category_query.h"
#include "store.h"

PG_FUNCTION_INFO_V1(ev_category_read_sql);

char *
category_query_sql(const CategoryQuery *q)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, q->select);
	appendStringInfoString(&sql, " WHERE");
	if (q->category)
		appendStringInfo(&sql,
						 " message_store.category(stream_name) >= $%d"
						 " AND message_store.category(stream_name) <= $%d AND",
						 q->category, q->category);
	appendStringInfo(&sql, " global_position >= $%d AND global_position < $%d",
					 q->position, q->horizon);
	if (q->correlation)
		appendStringInfo(&sql,
						 " AND message_store.category(metadata->>'correlationStreamName') = $%d",
						 q->correlation);
	if (q->group)
		appendStringInfo(&sql, " AND %s", q->group);
	if (q->category)
		appendStringInfoString(&sql, " ORDER BY message_store.category(stream_name), global_position");
	else
		appendStringInfoString(&sql, " ORDER BY global_position");
	appendStringInfo(&sql, " LIMIT $%d", q->limit);
	return sql.data;
}

/*
 * category_read_sql(face, correlation, consumer_group): the statement a
 * face prepares (for the default namespace), so that EXPLAIN can show its
 * plan - sql/category_plans. face: 'get_category_messages',
 * 'category_get' or 'category_positions'.
 */
Datum
ev_category_read_sql(PG_FUNCTION_ARGS)
{
	char	   *face = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		by_correlation = PG_GETARG_BOOL(1);
	bool		by_group = PG_GETARG_BOOL(2);
	char	   *sql;

	if (strcmp(face, "get_category_messages") == 0)
		sql = msgdb_category_sql(by_correlation, by_group);
	else if (strcmp(face, "category_get") == 0 || strcmp(face, "category_positions") == 0)
		sql = gw_category_sql(true, by_correlation, by_group,
							  strcmp(face, "category_positions") == 0);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown face \"%s\"", face),
				 errhint("Use get_category_messages, category_get or category_positions.")));
	PG_RETURN_TEXT_P(cstring_to_text(plan_sql(store_message_store.schema, sql)));
}
