/*
 * The one category read statement, run by both faces: Message DB's
 * get_category_messages (read_category.c) and the gateway's category_get /
 * category_positions (gateway_read.c). They differ only in the columns
 * they select, their parameter numbers, and how they spell the consumer
 * group condition: the role message_store may not use schema eventodb, so
 * Message DB's face keeps its mod(@hash_64(cardinal_id(..))) over the same
 * C hash_64, where the gateway calls eventodb.in_consumer_group.
 */
#ifndef EVENTODB_CATEGORY_QUERY_H
#define EVENTODB_CATEGORY_QUERY_H

#include "postgres.h"

/* Parameter numbers ($n) of one face's statement; 0 where unused. */
typedef struct CategoryQuery
{
	const char *select;			/* "SELECT <columns> FROM <table>" */
	int			category;		/* 0: every category (the gateway's '') */
	int			position;		/* global_position >= $position */
	int			horizon;		/* global_position < $horizon (horizon.h) */
	int			correlation;	/* 0: no correlation filter */
	const char *group;			/* the consumer-group condition, or NULL */
	int			limit;			/* LIMIT $limit (NULL: no limit) */
} CategoryQuery;

/*
 * The statement, palloc'd. Saved plans are generic, so the planner cannot
 * know how rare the category is: with "category(stream_name) = $c" it may
 * walk the primary key in global order and filter, a whole-table scan for
 * a rare category. Written as a range ordered by (category,
 * global_position), only the category index delivers that order, and both
 * bounds still start its scan at (category, position), for rare and common
 * categories alike (sql/category_plans checks the plans).
 */
char	   *category_query_sql(const CategoryQuery *q);

/* Each face's statement (templates: @S for the schema, plans.c). */
char	   *gw_category_sql(bool by_category, bool by_correlation, bool by_group,
							bool positions);
char	   *msgdb_category_sql(bool by_correlation, bool by_group);

#endif
