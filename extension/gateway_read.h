/*
 * What the gateway's readers share (gateway_read.c, read_backward.c): the
 * selected columns and the rendering of message arrays (docs/http-api.md#the-rpc-envelope).
 */
#ifndef EVENTODB_GATEWAY_READ_H
#define EVENTODB_GATEWAY_READ_H

#include "postgres.h"

#include "executor/spi.h"
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

#endif
