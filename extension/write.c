/*
 * The write path (docs/architecture.md#write-path) shared by both faces - lock, stream version,
 * horizon bound, insert, poke - and the Message DB face's write_message and
 * acquire_lock (docs/sql-api.md#write_message, #acquire_lock) on top of it.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "horizon.h"
#include "lifecycle.h"
#include "msgdb_settings.h"
#include "names.h"
#include "poke_queue.h"
#include "read.h"
#include "spi_pinned.h"
#include "stats.h"
#include "store.h"

#define NOTIFY_PAYLOAD_LIMIT 8000	/* PostgreSQL rejects payloads >= this */

PG_FUNCTION_INFO_V1(msgdb_write_message);
PG_FUNCTION_INFO_V1(msgdb_acquire_lock);

/*
 * field4 of the private advisory tags writers take: one stream's writers,
 * and (horizon mode) one category's writers and acquire_lock. SQL's
 * pg_advisory_* functions only ever use 1 (a bigint key) and 2 (two int4
 * keys), so no SQL call by any login can take these locks, hold them or
 * queue for them: only writers, which need write rights to the namespace,
 * and callers of acquire_lock, which need the message_store schema, ever
 * wait here (docs/security.md#locks).
 */
#define STREAM_LOCK_KIND 0x4576
#define CATEGORY_LOCK_KIND 0x4577

/*
 * A lock keyed by hash_64 of (namespace, NUL, name) in the private space
 * kind, held like pg_advisory_xact_lock's (released at transaction end).
 */
static bool
lock_private(uint16 kind, const char *ns_id, const char *name, size_t len, LOCKMODE mode,
			 bool wait)
{
	size_t		ns_len = strlen(ns_id);
	char	   *key = palloc(ns_len + 1 + len);
	uint64		h;
	LOCKTAG		tag;

	memcpy(key, ns_id, ns_len + 1);
	memcpy(key + ns_len + 1, name, len);
	h = (uint64) store_hash64(key, ns_len + 1 + len);
	pfree(key);
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (h >> 32), (uint32) h, kind);
	return LockAcquire(&tag, mode, false, !wait) != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * Message DB's acquire_lock: its bigint advisory lock on hash_64(category)
 * - the lock Message DB's writers hold to commit, and ours in category_lock
 * mode - and the Message DB face's private category lock, which horizon-mode
 * writers hold in share mode: whatever the mode, a caller waits for the
 * category's writers in flight and holds new ones off until it ends
 * (docs/architecture.md#locks-of-the-two-write-modes).
 */
int64
store_lock_category(const char *stream, size_t len)
{
	size_t		category_len = names_category_len(stream, len);
	int64		key = store_hash64(stream, category_len);

	DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(key));
	(void) lock_private(CATEGORY_LOCK_KIND, store_message_store.ns_id, stream, category_len,
						ExclusiveLock, true);
	return key;
}

/*
 * Writers of one stream exclude each other until commit: the version they
 * read is the stream's last committed one, so positions stay dense and an
 * expected version is checked exactly. In category_lock mode Message DB's
 * category lock, held to commit, does that and more; in horizon mode the
 * stream's private lock does, and the category's private lock in share
 * mode lets acquire_lock's callers hold the category's writers off.
 */
static bool
write_lock(StoreWrite *w, const char *ns_id, const char *stream, size_t len, bool wait)
{
	size_t		category_len = names_category_len(stream, len);
	Datum		category_key = Int64GetDatum(store_hash64(stream, category_len));
	bool		horizon_mode = horizon_enabled() && eventodb_write_mode == WRITE_MODE_HORIZON;

	w->deferred_poke = horizon_mode && pokeq_available();
	w->nsp = InvalidOid;
	if (w->deferred_poke)
	{
		if (!lock_private(CATEGORY_LOCK_KIND, ns_id, stream, category_len, ShareLock, wait))
			return false;
	}
	else if (!wait)
	{
		if (!DatumGetBool(DirectFunctionCall1(pg_try_advisory_xact_lock_int8, category_key)))
			return false;
	}
	else
		DirectFunctionCall1(pg_advisory_xact_lock_int8, category_key);
	/* Category-locked writers of a horizon-mode database (no worker could
	 * be had) must still exclude the stream's other writers. */
	return !horizon_mode ||
		lock_private(STREAM_LOCK_KIND, ns_id, stream, len, ExclusiveLock, wait);
}

int64
store_write_lock(StoreWrite *w, const char *ns_id, const char *stream, size_t len)
{
	(void) write_lock(w, ns_id, stream, len, true);
	return store_hash64(stream, names_category_len(stream, len));
}

bool
store_write_try_lock(StoreWrite *w, const char *ns_id, const char *stream, size_t len)
{
	return write_lock(w, ns_id, stream, len, false);
}

void
store_write_bound(StoreWrite *w, const StoreRef *s, const char *stream, size_t len)
{
	HorizonNs	ns = horizon_ns(s->schema);

	horizon_publish(&ns, false, store_hash64(stream, names_category_len(stream, len)));
	w->nsp = ns.nsp;
}

void
store_write_poke(const StoreWrite *w, const StoreRef *s, const char *stream,
				 int64 position, int64 global_position)
{
	stats_write(w->nsp, global_position);
	if (w->deferred_poke)
		pokeq_note(w->nsp, global_position);
	else
		store_poke(s, stream, position, global_position);
}

/* No message left: the version a stream delete or retention recorded, if any. */
static int64
version_floor(const StoreRef *s, const char *stream, bool *found)
{
	int64		floor = lifecycle_version_floor(s, stream);

	*found = floor >= 0;
	return floor;
}

int64
store_stream_version_found(const StoreRef *s, const char *stream, bool *found)
{
	static Oid	argtypes[1] = {TEXTOID};
	SPIPlanPtr	plan;
	Datum		values[1];
	bool		isnull;
	bool		dummy;
	Datum		v;
	int64		version;

	if (found == NULL)
		found = &dummy;
	/* The Message DB face's table by a direct scan of its stream index. */
	if (strcmp(s->schema, store_message_store.schema) == 0 &&
		read_version_direct(CStringGetTextDatum(stream), &version, found))
		return *found ? version : version_floor(s, stream, found);

	plan = plan_for(s->schema, "stream_version",
					"SELECT pg_catalog.max(position) FROM @S.messages WHERE stream_name = $1",
					1, argtypes);
	values[0] = CStringGetTextDatum(stream);
	/* Not read-only: a fresh snapshot sees what the previous holder of the
	 * category lock committed while we waited for it. */
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: stream version query failed");
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*found = !isnull;
	return isnull ? version_floor(s, stream, found) : DatumGetInt64(v);
}

int64
store_stream_version(const StoreRef *s, const char *stream)
{
	return store_stream_version_found(s, stream, NULL);
}

bool
store_position_after(int64 version, int64 *next)
{
	if (version == PG_INT64_MAX)
		return false;
	*next = version + 1;
	return true;
}

int64
store_next_position(int64 version, bool message_db)
{
	int64		next;

	if (store_position_after(version, &next))
		return next;
	if (message_db)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg(STORE_POSITION_LIMIT_MSG, version)));
	return 0;					/* not reached */
}

int64
store_insert(const StoreRef *s, Datum id, bool id_null,
			 const char *stream, const char *type,
			 Datum data, bool data_null,
			 Datum metadata, bool metadata_null,
			 int64 position)
{
	static Oid	argtypes[6] = {UUIDOID, TEXTOID, INT8OID, TEXTOID, JSONBOID, JSONBOID};
	SPIPlanPtr	plan;
	Datum		values[6];
	char		nulls[6];
	bool		isnull;
	bool		caller;
	Datum		gpos;

	/* the only statement of a write that fires the user's triggers */
	caller = spi_caller_path_push();
	plan = plan_for(s->schema, "insert",
					"INSERT INTO @S.messages"
					" (id, stream_name, position, type, data, metadata)"
					" VALUES ($1, $2, $3, $4, $5, $6) RETURNING global_position",
					6, argtypes);
	values[0] = id;
	nulls[0] = id_null ? 'n' : ' ';
	values[1] = stream ? CStringGetTextDatum(stream) : (Datum) 0;
	nulls[1] = stream ? ' ' : 'n';
	values[2] = Int64GetDatum(position);
	nulls[2] = ' ';
	values[3] = type ? CStringGetTextDatum(type) : (Datum) 0;
	nulls[3] = type ? ' ' : 'n';
	values[4] = data;
	nulls[4] = data_null ? 'n' : ' ';
	values[5] = metadata;
	nulls[5] = metadata_null ? 'n' : ' ';
	if (SPI_execute_plan(plan, values, nulls, false, 0) != SPI_OK_INSERT_RETURNING
		|| SPI_processed != 1)
		elog(ERROR, "eventodb: insert did not return the global position");
	spi_caller_path_pop(caller);
	gpos = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return DatumGetInt64(gpos);
}

void
store_poke_payload(StringInfo buf, const char *ns_id, const char *stream,
				   int64 position, int64 global_position)
{
	int			start = buf->len;

	appendStringInfoString(buf, "{\"ns\":");
	escape_json(buf, ns_id);
	appendStringInfoString(buf, ",\"stream\":");
	escape_json(buf, stream);
	appendStringInfo(buf, ",\"position\":" INT64_FORMAT ",\"globalPosition\":" INT64_FORMAT "}",
					 position, global_position);
	if (buf->len - start >= NOTIFY_PAYLOAD_LIMIT)
	{
		/* Too long for NOTIFY: the listener reads the row by its position. */
		buf->len = start;
		buf->data[start] = '\0';
		appendStringInfoString(buf, "{\"ns\":");
		escape_json(buf, ns_id);
		appendStringInfo(buf, ",\"globalPosition\":" INT64_FORMAT ",\"truncated\":true}",
						 global_position);
	}
}

void
store_poke(const StoreRef *s, const char *stream, int64 position,
		   int64 global_position)
{
	StringInfoData buf;

	initStringInfo(&buf);
	store_poke_payload(&buf, s->ns_id, stream, position, global_position);
	Async_Notify(store_poke_channel(s->ns_id), buf.data);
	pfree(buf.data);
}

/*
 * The private channel's name, read once per backend (again when the table
 * was re-created). Read as the bootstrap superuser: the writer may be any
 * role allowed to write, and the name is a secret no role needs to see.
 */
const char *
store_poke_channel(const char *ns_id)
{
	static Oid	cached_rel = InvalidOid;
	static char cached[NAMEDATALEN];
	Oid			evo;
	Oid			rel;
	Oid			save_userid;
	int			save_sec;

	if (strcmp(ns_id, store_message_store.ns_id) == 0)
		return POKE_CHANNEL;
	evo = get_namespace_oid("eventodb", true);
	rel = OidIsValid(evo) ? get_relname_relid("poke_channel", evo) : InvalidOid;
	if (!OidIsValid(rel))
		return POKE_CHANNEL;
	if (rel == cached_rel)
		return cached;
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		bool		isnull = true;
		Datum		name = (Datum) 0;

		spi_connect_pinned();
		if (SPI_execute("SELECT name FROM eventodb.poke_channel", true, 2) == SPI_OK_SELECT &&
			SPI_processed == 1)
			name = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("eventodb.poke_channel must hold exactly one channel name"),
					 errhint("Re-create the extension.")));
		strlcpy(cached, TextDatumGetCString(name), sizeof(cached));
		spi_finish_pinned();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	cached_rel = rel;
	return cached;
}

/* Message DB's acquire_lock notices (docs/sql-api.md#acquire_lock). */
static void
acquire_lock_notices(const char *stream, int64 key)
{
	char	   *category = NULL;

	if (!msgdb_debug_enabled("message_store.debug_write"))
		return;
	if (stream != NULL)
		category = pnstrdup(stream, names_category_len(stream, strlen(stream)));
	ereport(NOTICE, (errmsg_internal("\xc2\xbb acquire_lock")));
	ereport(NOTICE, (errmsg_internal("stream_name: %s", msgdb_or_null(stream))));
	ereport(NOTICE, (errmsg_internal("_category: %s", msgdb_or_null(category))));
	if (stream != NULL)
		ereport(NOTICE, (errmsg_internal("_category_name_hash: " INT64_FORMAT, key)));
	else
		ereport(NOTICE, (errmsg_internal("_category_name_hash: <NULL>")));
}

/*
 * Message DB's acquire_lock: lock on hash_64(category(stream)), notices,
 * the key - whatever the write mode, so callers that serialise on it
 * themselves keep working. NULL takes no lock (pg_advisory_xact_lock is
 * strict) but still prints its notices.
 */
Datum
msgdb_acquire_lock(PG_FUNCTION_ARGS)
{
	char	   *stream = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		key = 0;

	if (stream != NULL)
		key = store_lock_category(stream, strlen(stream));
	acquire_lock_notices(stream, key);
	if (stream == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(key);
}

static char *
jsonb_text_or_null(Datum d, bool isnull)
{
	return isnull ? NULL : DatumGetCString(DirectFunctionCall1(jsonb_out, d));
}

static void
write_message_notices(FunctionCallInfo fcinfo, const char *id, const char *stream,
					  const char *type, int64 version, int64 next)
{
	char		expected[32] = "<NULL>";

	if (!PG_ARGISNULL(5))
		snprintf(expected, sizeof(expected), INT64_FORMAT, PG_GETARG_INT64(5));
	ereport(NOTICE, (errmsg_internal("\xc2\xbb write_message")));
	ereport(NOTICE, (errmsg_internal("id ($1): %s", msgdb_or_null(id))));
	ereport(NOTICE, (errmsg_internal("stream_name ($2): %s", msgdb_or_null(stream))));
	ereport(NOTICE, (errmsg_internal("type ($3): %s", msgdb_or_null(type))));
	ereport(NOTICE, (errmsg_internal("data ($4): %s",
									 msgdb_or_null(jsonb_text_or_null(PG_GETARG_DATUM(3), PG_ARGISNULL(3))))));
	ereport(NOTICE, (errmsg_internal("metadata ($5): %s",
									 msgdb_or_null(jsonb_text_or_null(PG_GETARG_DATUM(4), PG_ARGISNULL(4))))));
	ereport(NOTICE, (errmsg_internal("expected_version ($6): %s", expected)));
	ereport(NOTICE, (errmsg_internal("_stream_version: " INT64_FORMAT, version)));
	ereport(NOTICE, (errmsg_internal("_next_position: " INT64_FORMAT, next)));
}

/*
 * write_message(id, stream_name, type, data, metadata, expected_version):
 * lock -> version -> expected-version check -> uuid parse -> bound ->
 * insert, in
 * Message DB's order (docs/sql-api.md#write_message), so a wrong version is reported even
 * for an invalid id, and constraint errors surface unchanged.
 */
Datum
msgdb_write_message(PG_FUNCTION_ARGS)
{
	char	   *id = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *stream = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *type = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	int64		key = 0;
	int64		version;
	int64		next;
	int64		gpos;
	Datum		uuid = (Datum) 0;
	StoreWrite	w = {false, InvalidOid};

	if (stream != NULL)
		key = store_write_lock(&w, store_message_store.ns_id, stream, strlen(stream));
	acquire_lock_notices(stream, key);

	spi_connect_pinned();
	/* stream_version(NULL) matches no row. */
	version = stream ? store_stream_version(&store_message_store, stream) : -1;
	lifecycle_guard_write(&store_message_store, stream);

	if (!PG_ARGISNULL(5) && PG_GETARG_INT64(5) != version)
	{
		stats_conflict(store_message_store.schema);
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("Wrong expected version: " INT64_FORMAT " (Stream: %s, Stream Version: " INT64_FORMAT ")",
						PG_GETARG_INT64(5), msgdb_or_null(stream), version)));
	}
	/* Message DB's "_stream_version + 1" fails in bigint arithmetic. */
	next = store_next_position(version, true);

	if (id != NULL)
		uuid = DirectFunctionCall1(uuid_in, CStringGetDatum(id));

	/* A NULL stream fails the insert's not-null constraint: no bound. */
	if (stream != NULL)
		store_write_bound(&w, &store_message_store, stream, strlen(stream));
	gpos = store_insert(&store_message_store, uuid, id == NULL, stream, type,
						PG_GETARG_DATUM(3), PG_ARGISNULL(3),
						PG_GETARG_DATUM(4), PG_ARGISNULL(4), next);
	spi_finish_pinned();

	if (msgdb_debug_enabled("message_store.debug_write"))
		write_message_notices(fcinfo, id, stream, type, version, next);

	/* The insert succeeded, so the stream name is not NULL here. */
	store_write_poke(&w, &store_message_store, stream, next, gpos);

	PG_RETURN_INT64(next);
}
