/*
 * stream_get_backward: a stream's messages from the end towards the start
 * (docs/writes-and-reads.md) - the newest first, as a UI or a "last N"
 * query wants them, by a backward scan of the stream index.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "gateway_read.h"
#include "namespace.h"
#include "spi_pinned.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(ev_stream_get_backward);


/*
 * stream_get_backward(ns, stream_name, position, batch_size): messages with
 * position <= position (NULL: from the last), descending, at most
 * batch_size of them (NULL: 1000; 0: none). Reads are bounded: a batch
 * outside 0..10000 is 22023.
 */
Datum
ev_stream_get_backward(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[3] = {TEXTOID, INT8OID, INT8OID};
	StringInfoData buf;
	StoreRef	ref;
	SPIPlanPtr	plan;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	int64		batch = PG_ARGISNULL(3) ? DEFAULT_BATCH : PG_GETARG_INT64(3);

	if (batch < 0 || batch > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch size of a backward read must be between 0 and 10000")));
	initStringInfo(&buf);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	plan = plan_for(ref.schema, "gw_stream_get_backward",
					MESSAGE_COLUMNS
					" WHERE stream_name = $1 AND position <= $2"
					" ORDER BY position DESC LIMIT $3",
					3, argtypes);
	values[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';
	values[1] = Int64GetDatum(PG_ARGISNULL(2) ? PG_INT64_MAX : PG_GETARG_INT64(2));
	values[2] = Int64GetDatum(batch);
	stats_read(ref.schema, render_messages(&buf, plan, values, nulls, false));
	spi_finish_pinned();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
