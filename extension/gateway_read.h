/*
 * What the gateway's readers share (gateway_read.c, read_backward.c,
 * read_category_types.c): the selected columns, the rendering of message
 * arrays (docs/http-api.md#the-rpc-envelope) and category_get's arguments.
 */
#ifndef EVENTODB_GATEWAY_READ_H
#define EVENTODB_GATEWAY_READ_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

/* Every read selects these columns in this order. */
#define MESSAGE_COLUMNS \
	"SELECT id, stream_name, type, position, global_position, data, metadata, time" \
	" FROM @S.messages"

/*
 * Appends the JSON array of all rows of the plan (a MESSAGE_COLUMNS
 * select), category messages when with_stream; returns the row count.
 */
uint64		render_messages(StringInfo buf, SPIPlanPtr plan, Datum *values, const char *nulls,
							bool with_stream);

/* The batch size of a read whose batch_size argument is NULL. */
#define DEFAULT_BATCH 1000

/*
 * category_get's arguments (ns, category, position, batch_size,
 * correlation, member, size), which category_get_types shares.
 */
typedef struct CategoryArgs
{
	bool		by_category;	/* a non-empty category */
	bool		by_correlation;
	bool		by_group;		/* member and size both given */
	int64		batch;			/* -1: all */
} CategoryArgs;

void		category_args(FunctionCallInfo fcinfo, CategoryArgs *a);

/*
 * Once the namespace is resolved (its error comes first): rejects a group
 * size below 1; false when the category or correlation holds '-', which
 * no category does, so the read matches nothing (no error, unlike Message DB).
 */
bool		category_args_check(FunctionCallInfo fcinfo, const CategoryArgs *a);

/* The category plans' parameters $1-$7: position, category, correlation,
 * member, size, batch and the horizon of what is read. */
void		category_params(FunctionCallInfo fcinfo, const char *schema, const CategoryArgs *a,
							Datum *values, char *nulls);

#endif
