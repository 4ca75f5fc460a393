/*
 * Message DB stream readers (docs/sql-api.md#get_stream_messages, #get_last_stream_message, #stream_version, #message_store_version). The
 * common cases scan the index directly (read_direct.c) or, when that
 * declines, run saved plans; only a user `condition` needs dynamic SQL,
 * evaluated against the table under the name `messages` (docs/sql-api.md#search-path).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "msgdb_settings.h"
#include "names.h"
#include "read.h"
#include "spi_pinned.h"
#include "stats.h"
#include "store.h"

PG_FUNCTION_INFO_V1(msgdb_get_stream_messages);
PG_FUNCTION_INFO_V1(msgdb_get_last_stream_message);
PG_FUNCTION_INFO_V1(msgdb_stream_version);
PG_FUNCTION_INFO_V1(msgdb_message_store_version);

#define MSGDB_COLUMNS \
	"SELECT id::varchar, stream_name::varchar, type::varchar, position," \
	" global_position, data::varchar, metadata::varchar, time" \
	" FROM message_store.messages AS messages"

/* LIMIT $3 with NULL is LIMIT ALL, so -1 needs no second plan; values below
 * -1 reach the executor and fail there with its own 2201W error. */
#define STREAM_WHERE " WHERE stream_name = $1 AND position >= $2"
#define STREAM_ORDER " ORDER BY position LIMIT $3"

static const char *const stream_sql = MSGDB_COLUMNS STREAM_WHERE STREAM_ORDER;

static char *
int8_text(int64 v)
{
	return psprintf(INT64_FORMAT, v);
}

Datum
msgdb_get_stream_messages(PG_FUNCTION_ARGS)
{
	text	   *stream = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	int64		position = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	int64		batch = PG_ARGISNULL(2) ? 1000 : PG_GETARG_INT64(2);
	char	   *condition = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	const char *sql = stream_sql;
	ReadParam	params[3];
	SPIPlanPtr	plan;
	uint64		rows;

	if (stream == NULL || names_is_category(VARDATA_ANY(stream), VARSIZE_ANY_EXHDR(stream)))
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("Must be a stream name: %s",
						stream ? text_to_cstring(stream) : "<NULL>")));
	if (condition != NULL)
	{
		if (!msgdb_sql_condition_activated())
			ereport(ERROR,
					(errcode(ERRCODE_RAISE_EXCEPTION),
					 errmsg("Retrieval with SQL condition is not activated")));
		/* Laid out as Message DB's command: the condition ends its line
		 * (a "--" in it comments out no more), and LIMIT $3 only when the
		 * batch is not -1, with $3 bound either way. */
		sql = psprintf("%s AND (%s)\n ORDER BY position%s", MSGDB_COLUMNS STREAM_WHERE,
					   condition, batch == -1 ? "" : " LIMIT $3");
	}

	if (msgdb_debug_enabled("message_store.debug_get"))
	{
		ereport(NOTICE, (errmsg_internal("\xc2\xbb get_stream_messages")));
		ereport(NOTICE, (errmsg_internal("stream_name ($1): %s", text_to_cstring(stream))));
		ereport(NOTICE, (errmsg_internal("position ($2): %s", int8_text(position))));
		ereport(NOTICE, (errmsg_internal("batch_size ($3): %s", int8_text(batch))));
		ereport(NOTICE, (errmsg_internal("condition ($4): %s", msgdb_or_null(condition))));
		ereport(NOTICE, (errmsg_internal("Generated Command: %s", sql)));
	}

	/* Below -1 the SQL's LIMIT raises the error. */
	if (condition == NULL && batch >= -1 &&
		read_stream_direct(fcinfo, PointerGetDatum(stream), position, batch, &rows))
	{
		stats_read(store_message_store.schema, rows);
		return (Datum) 0;
	}

	params[0] = (ReadParam) {TEXTOID, PointerGetDatum(stream), false};
	params[1] = (ReadParam) {INT8OID, Int64GetDatum(position), false};
	params[2] = (ReadParam) {INT8OID, Int64GetDatum(batch), batch == -1 && condition == NULL};

	if (condition == NULL)
	{
		Oid			types[3] = {TEXTOID, INT8OID, INT8OID};

		spi_connect_pinned();
		plan = plan_for(store_message_store.schema, "msgdb_stream", sql, 3, types);
		read_into_result(fcinfo, plan, params, 3);
		spi_finish_pinned();
	}
	else
	{
		/* The caller's SQL, in the caller's search path, as Message DB runs it
		 * (docs/security.md#the-search-path). */
		SPI_connect();
		read_dynamic_into_result(fcinfo, sql, params, 3, false);
		SPI_finish();
	}
	return (Datum) 0;
}

Datum
msgdb_get_last_stream_message(PG_FUNCTION_ARGS)
{
	static const char *const any_sql =
		MSGDB_COLUMNS " WHERE stream_name = $1 ORDER BY position DESC LIMIT 1";
	static const char *const typed_sql =
		MSGDB_COLUMNS " WHERE stream_name = $1 AND type = $2 ORDER BY position DESC LIMIT 1";
	Oid			types[2] = {TEXTOID, TEXTOID};
	ReadParam	params[2];
	const char *sql;
	SPIPlanPtr	plan;
	uint64		rows;

	params[0] = (ReadParam) {TEXTOID, PG_GETARG_DATUM(0), PG_ARGISNULL(0)};
	params[1] = (ReadParam) {TEXTOID, PG_GETARG_DATUM(1), PG_ARGISNULL(1)};
	sql = PG_ARGISNULL(1) ? any_sql : typed_sql;

	if (msgdb_debug_enabled("message_store.debug_get"))
	{
		/* Message DB's own notice says get_last_message (docs/sql-api.md#settings-and-debug-notices). */
		ereport(NOTICE, (errmsg_internal("\xc2\xbb get_last_message")));
		ereport(NOTICE, (errmsg_internal("stream_name ($1): %s",
										 PG_ARGISNULL(0) ? "<NULL>" : TextDatumGetCString(PG_GETARG_DATUM(0)))));
		ereport(NOTICE, (errmsg_internal("type ($2): %s",
										 PG_ARGISNULL(1) ? "<NULL>" : TextDatumGetCString(PG_GETARG_DATUM(1)))));
		ereport(NOTICE, (errmsg_internal("Generated Command: %s", sql)));
	}

	if (!PG_ARGISNULL(0) &&
		read_last_direct(fcinfo, PG_GETARG_DATUM(0), !PG_ARGISNULL(1), PG_GETARG_DATUM(1), &rows))
	{
		stats_read(store_message_store.schema, rows);
		return (Datum) 0;
	}
	spi_connect_pinned();
	plan = plan_for(store_message_store.schema,
					PG_ARGISNULL(1) ? "msgdb_last" : "msgdb_last_type", sql, 2, types);
	read_into_result(fcinfo, plan, params, 2);
	spi_finish_pinned();
	return (Datum) 0;
}

Datum
msgdb_stream_version(PG_FUNCTION_ARGS)
{
	int64		version;
	bool		found;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	spi_connect_pinned();
	version = store_stream_version_found(&store_message_store,
										 TextDatumGetCString(PG_GETARG_DATUM(0)), &found);
	spi_finish_pinned();
	stats_read(store_message_store.schema, 0);
	/* Message DB returns max(position): NULL for an empty stream, and a
	 * negative maximum as it is. */
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_INT64(version);
}

Datum
msgdb_message_store_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text("1.3.0"));
}
