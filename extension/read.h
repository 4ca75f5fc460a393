/*
 * Returning query results as a function's SETOF rows without copying them
 * through SPI's tuple table: the executor writes straight into the
 * function's result tuplestore.
 */
#ifndef EVENTODB_READ_H
#define EVENTODB_READ_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"

/* One bound parameter of a read statement. */
typedef struct ReadParam
{
	Oid			type;
	Datum		value;
	bool		isnull;
} ReadParam;

/*
 * Runs the plan with the parameters and makes its rows the set result of
 * the calling SRF (materialize mode). The plan's row type must be the
 * function's result type. Needs an SPI connection; takes a fresh snapshot,
 * as Message DB's VOLATILE PL/pgSQL readers do.
 */
void		read_into_result(FunctionCallInfo fcinfo, SPIPlanPtr plan,
							 const ReadParam *params, int nparams);

/* The same under the caller's active snapshot (SPI read-only mode). */
void		read_into_result_active(FunctionCallInfo fcinfo, SPIPlanPtr plan,
									const ReadParam *params, int nparams);

/*
 * Message DB's plain reads by a direct index scan (read_direct.c), into the
 * calling SRF's result; *rows: how many. False, having done nothing, when
 * they cannot serve this caller; the SQL must then.
 *
 * read_last_direct: get_last_stream_message's row of a non-NULL stream (of
 * the type, when has_type). read_stream_direct: get_stream_messages'
 * rows from position on, at most limit (-1: all); both under a fresh
 * snapshot. read_category_direct: get_category_messages' rows of the
 * category from position on and below horizon (with has_correlation, only
 * those whose correlation stream's category is correlation), at most
 * limit (-1: all), under the active snapshot (horizon_push_read_snapshot).
 */
bool		read_last_direct(FunctionCallInfo fcinfo, Datum stream, bool has_type, Datum type,
							 uint64 *rows);
bool		read_stream_direct(FunctionCallInfo fcinfo, Datum stream, int64 position,
							   int64 limit, uint64 *rows);
bool		read_category_direct(FunctionCallInfo fcinfo, Datum category, int64 position,
								 int64 horizon, bool has_correlation, Datum correlation,
								 int64 limit, uint64 *rows);

/*
 * A message row in the gateway's column order (gateway_read.h's
 * MESSAGE_COLUMNS): values[MSG_ID - 1] ... values[MSG_TIME - 1].
 */
typedef enum MessageCol
{
	MSG_ID = 1, MSG_STREAM, MSG_TYPE, MSG_POSITION, MSG_GPOS,
	MSG_DATA, MSG_METADATA, MSG_TIME, MSG_NCOLS = MSG_TIME
} MessageCol;

/* Gets each row of a direct read; values may be toasted and live until it returns. */
typedef void (*DirectRowFn) (void *arg, const Datum *values, const bool *nulls);

/*
 * The gateway's reads of the default namespace's table (message_store), by
 * the same scans under the active snapshot (SPI read-only mode): the last
 * message of a non-NULL stream (of the type, when has_type), or its
 * messages from position on, at most limit (-1: all). Each row goes to
 * visit(arg, ...); false, having done nothing, as above.
 */
bool		read_last_each(Datum stream, bool has_type, Datum type, DirectRowFn visit,
						   void *arg, uint64 *rows);
bool		read_stream_each(Datum stream, int64 position, int64 limit, DirectRowFn visit,
							 void *arg, uint64 *rows);

/*
 * max(position) of the stream in message_store.messages under a fresh
 * snapshot into *version and whether it has a message into *found (a
 * message's position can be negative: imports and plain INSERTs), by the
 * same index; false when the SQL must read it (as above).
 */
bool		read_version_direct(Datum stream, int64 *version, bool *found);

/*
 * The same for dynamic SQL (a `condition`), planned for these very
 * parameter values every time, as PL/pgSQL's EXECUTE does: a generic plan
 * (plan_cache_mode = force_generic_plan) could not know how rare the
 * category is and walk the primary key. active_snapshot: under the
 * caller's snapshot, as read_into_result_active.
 */
void		read_dynamic_into_result(FunctionCallInfo fcinfo, const char *sql,
									 const ReadParam *params, int nparams,
									 bool active_snapshot);

#endif
