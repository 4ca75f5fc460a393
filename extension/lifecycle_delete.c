/*
 * stream_delete and stream_info (docs/lifecycle.md, "Deleting a stream").
 *
 * A delete removes the stream's messages from the table in the caller's
 * transaction, under the stream's write lock, so no write of the stream
 * interleaves with it; the stream's version is recorded first, so the next
 * write continues after it (soft) or is refused forever (hard).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "echo.h"
#include "lifecycle.h"
#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"

PG_FUNCTION_INFO_V1(ev_stream_delete);
PG_FUNCTION_INFO_V1(ev_stream_info);

/* The stream argument: a non-empty string (22023 otherwise). */
char *
lifecycle_stream_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(argno)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("streamName must be a non-empty string")));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

void
lifecycle_raise_deleted(const char *stream)
{
	ereport(ERROR,
			(errcode(ERRCODE_EV_STREAM_DELETED),
			 errmsg(LIFECYCLE_DELETED_MSG, echo_value(stream, strlen(stream))),
			 errhint(LIFECYCLE_DELETED_HINT)));
}

static int64
delete_messages(const StoreRef *ref, const char *stream)
{
	static Oid	argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(stream)};
	SPIPlanPtr	plan = lifecycle_plan(ref, "lc_delete_stream",
									  "DELETE FROM @M.messages WHERE stream_name = $1",
									  1, argtypes);

	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "eventodb: deleting the stream's messages failed");
	return (int64) SPI_processed;
}

static void
record_delete(const StoreRef *ref, const char *stream, int64 version, bool hard)
{
	static Oid	argtypes[3] = {TEXTOID, INT8OID, TEXTOID};
	Datum		values[3] = {CStringGetTextDatum(stream), Int64GetDatum(version),
	CStringGetTextDatum(hard ? "hard" : "soft")};
	SPIPlanPtr	plan = lifecycle_plan(ref, "lc_record_delete",
									  "INSERT INTO @S.lifecycle_streams AS l"
									  " (stream_name, version, deleted, deleted_at)"
									  " VALUES ($1, $2, $3, now() AT TIME ZONE 'utc')"
									  " ON CONFLICT (stream_name) DO UPDATE SET"
									  " version = GREATEST(l.version, EXCLUDED.version),"
									  " deleted = EXCLUDED.deleted, deleted_at = EXCLUDED.deleted_at",
									  3, argtypes);

	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: recording the stream's delete failed");
}

/* The fields that end both answers, streamName and version (null when
 * the stream has none); the text. */
static Datum
stream_json_end(StringInfo buf, const char *stream, int64 version)
{
	text	   *out;

	appendStringInfoString(buf, ",\"streamName\":");
	render_cstring(buf, stream);
	appendStringInfoString(buf, ",\"version\":");
	if (version < 0)
		appendStringInfoString(buf, "null");
	else
		render_int64(buf, version);
	appendStringInfoChar(buf, '}');
	out = cstring_to_text_with_len(buf->data, buf->len);
	PG_RETURN_TEXT_P(out);
}

/*
 * stream_delete(ns, stream_name, hard) -> {"deleted":"soft"|"hard",
 * "messagesRemoved":n,"streamName":s,"version":v|null}
 */
Datum
ev_stream_delete(PG_FUNCTION_ARGS)
{
	char	   *stream = lifecycle_stream_arg(fcinfo, 1);
	bool		hard = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	StoreWrite	w = {false, InvalidOid};
	StoreRef	ref;
	int64		version;
	int64		removed;
	StringInfoData buf;

	spi_connect_pinned();
	/* Write lock before the table lock, as every writer takes them. */
	if (!PG_ARGISNULL(0))
		store_write_lock(&w, text_to_cstring(PG_GETARG_TEXT_PP(0)), stream, strlen(stream));
	ref = ns_resolve_arg(fcinfo, 0, RowExclusiveLock);
	lifecycle_storage_ensure(&ref);
	if (lifecycle_is_tombstoned(&ref, stream))
		lifecycle_raise_deleted(stream);
	version = store_stream_version(&ref, stream);
	removed = delete_messages(&ref, stream);
	if (hard)
		lifecycle_tombstones_ensure(&ref);
	record_delete(&ref, stream, version, hard);
	spi_finish_pinned();

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"deleted\":\"%s\",\"messagesRemoved\":", hard ? "hard" : "soft");
	render_int64(&buf, removed);
	return stream_json_end(&buf, stream, version);
}

/*
 * stream_info(ns, stream_name) -> {"deleted":null|"soft"|"hard",
 * "deletedAt":t|null,"streamName":s,"version":v|null}. A soft-deleted
 * stream written again is live: "deleted" is null once it has messages.
 */
Datum
ev_stream_info(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[1] = {TEXTOID};
	char	   *stream = lifecycle_stream_arg(fcinfo, 1);
	StoreRef	ref;
	int64		version;
	const char *deleted = NULL;
	bool		at_null = true;
	Timestamp	at = 0;
	StringInfoData buf;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	version = store_stream_version(&ref, stream);
	if (lifecycle_storage_exists(lifecycle_schema_of(&ref)))
	{
		Datum		values[1] = {CStringGetTextDatum(stream)};
		SPIPlanPtr	plan = lifecycle_plan(&ref, "lc_info",
										  "SELECT l.deleted, l.deleted_at FROM @S.lifecycle_streams l"
										  " WHERE l.stream_name = $1 AND (l.deleted = 'hard' OR"
										  " NOT EXISTS (SELECT FROM @M.messages m WHERE m.stream_name = $1))",
										  1, argtypes);

		if (SPI_execute_plan(plan, values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "eventodb: stream info query failed");
		if (SPI_processed == 1)
		{
			char	   *kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			/* Static strings: SPI's memory is gone when the answer is made. */
			deleted = kind == NULL ? NULL : strcmp(kind, "hard") == 0 ? "hard" : "soft";
			at = DatumGetTimestamp(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												 2, &at_null));
		}
	}
	spi_finish_pinned();

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"deleted\":");
	if (deleted == NULL)
		appendStringInfoString(&buf, "null");
	else
		render_cstring(&buf, deleted);
	appendStringInfoString(&buf, ",\"deletedAt\":");
	if (deleted == NULL || at_null)
		appendStringInfoString(&buf, "null");
	else
		render_time(&buf, at, true);
	return stream_json_end(&buf, stream, version);
}
