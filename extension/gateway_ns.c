/*
 * Gateway entry points for namespace administration (docs/http-api.md#namespace-methods)
 * and token verification (docs/http-api.md#tokens): namespace_create, namespace_delete,
 * namespace_list, namespace_info, namespace_of_token, namespace_exists.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "namespace.h"
#include "spi_pinned.h"
#include "subscription.h"
#include "echo.h"
#include "render.h"
#include "token.h"

PG_FUNCTION_INFO_V1(ev_namespace_create);
PG_FUNCTION_INFO_V1(ev_namespace_delete);
PG_FUNCTION_INFO_V1(ev_namespace_list);
PG_FUNCTION_INFO_V1(ev_namespace_info);
PG_FUNCTION_INFO_V1(ev_namespace_of_token);
PG_FUNCTION_INFO_V1(ev_namespace_exists);

/*
 * Every poke and the deletion notice carry the id; NOTIFY refuses payloads
 * of 8000 bytes or more, so an id whose JSON form leaves no room for the
 * rest could never be written to or deleted.
 */
#define NS_ID_JSON_MAX 7900

static text *
cstring_result(StringInfo buf)
{
	return cstring_to_text_with_len(buf->data, buf->len);
}

/* The decoded id of a token as message text: invalid UTF-8 shown as U+FFFD,
 * as the original's JSON error body would show it. */
static char *
printable_id(const char *s, size_t len)
{
	StringInfoData buf;
	size_t		i = 0;

	initStringInfo(&buf);
	while (i < len)
	{
		int			n = pg_utf_mblen((const unsigned char *) s + i);

		if (s[i] != '\0' && i + n <= len && pg_utf8_islegal((const unsigned char *) s + i, n))
		{
			appendBinaryStringInfo(&buf, s + i, n);
			i += n;
		}
		else
		{
			appendStringInfoString(&buf, "\xef\xbf\xbd");
			i++;
		}
	}
	return buf.data;
}

/* The supplied token, checked per docs/http-api.md#nscreate steps 6 and 7. */
static void
check_supplied_token(const char *id, size_t idlen, const char *tok, size_t toklen)
{
	char	   *ns = palloc(toklen + 1);
	size_t		nslen;
	char		err[TOKEN_ERROR_MAX];

	if (!token_parse(tok, toklen, ns, &nslen, err, sizeof(err)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Invalid token format: %s", err)));
	if (nslen != idlen || memcmp(ns, id, idlen) != 0)
	{
		char	   *shown = printable_id(ns, nslen);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Token is for namespace '%s', not '%s'",
						echo_value(shown, strlen(shown)), echo_value(id, idlen))));
	}
}

static void
check_id(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("namespace ID must be a non-empty string")));
}

static void
check_id_length(FunctionCallInfo fcinfo)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (buf.len > NS_ID_JSON_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("namespace ID is too long")));
}

/*
 * namespace_create(id, description DEFAULT '', token DEFAULT NULL) -> token.
 * "default" is the Message DB face: registering it creates no schema.
 */
Datum
ev_namespace_create(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID};
	char	   *id;
	size_t		idlen;
	char	   *tok;
	char		hash[SHA256_HEX_LEN + 1];
	char	   *schema;
	bool		is_default;
	Datum		values[5];
	SPIPlanPtr	plan;
	text	   *result;

	check_id(fcinfo);
	check_id_length(fcinfo);
	id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	idlen = strlen(id);
	if (PG_ARGISNULL(2))
		tok = ns_token_generate(id, idlen);
	else
	{
		tok = text_to_cstring(PG_GETARG_TEXT_PP(2));
		check_supplied_token(id, idlen, tok, strlen(tok));
	}
	ns_token_hash(tok, strlen(tok), hash);
	result = cstring_to_text(tok);

	spi_connect_pinned();
	is_default = strcmp(id, NS_DEFAULT_ID) == 0;
	if (ns_lookup(id, &(StoreRef) {0}, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_EV_EXISTS),
				 errmsg("Namespace '%s' already exists", echo_value(id, strlen(id)))));
	schema = is_default ? NS_DEFAULT_SCHEMA : ns_storage_new_schema();

	plan = plan_for("eventodb", "ns_insert",
					"INSERT INTO eventodb.namespaces"
					" (id, token_hash, schema_name, description, created_at)"
					" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
					5, argtypes);
	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(hash);
	values[2] = CStringGetTextDatum(schema);
	values[3] = PG_ARGISNULL(1) ? CStringGetTextDatum("") : PG_GETARG_DATUM(1);
	values[4] = Int64GetDatum((int64) timestamptz_to_time_t(GetCurrentTimestamp()));
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: could not register namespace");
	/* A concurrent create of the same id committed first. */
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_EV_EXISTS),
				 errmsg("Namespace '%s' already exists", echo_value(id, strlen(id)))));
	if (!is_default)
		ns_storage_create(schema);
	spi_finish_pinned();
	PG_RETURN_TEXT_P(result);
}

/* Schema name of a registered namespace, its row locked; NULL if unknown. */
static char *
registry_schema_for_update(const char *id)
{
	static Oid	argtypes[1] = {TEXTOID};
	SPIPlanPtr	plan;
	Datum		values[1];

	plan = plan_for("eventodb", "ns_lock",
					"SELECT schema_name FROM eventodb.namespaces WHERE id = $1 FOR UPDATE",
					1, argtypes);
	values[0] = CStringGetTextDatum(id);
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: namespace lookup failed");
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

static void
notify_deleted(const char *id)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"ns\":");
	escape_json(&buf, id);
	appendStringInfoString(&buf, ",\"deleted\":true}");
	Async_Notify(store_poke_channel(id), buf.data);
}

/*
 * namespace_delete(id) -> messages deleted. One transaction: the registry
 * row and the schema go together; "default" keeps message_store (the
 * Message DB face) but loses its messages and restarts its positions.
 */
Datum
ev_namespace_delete(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[1] = {TEXTOID};
	char	   *id;
	char	   *schema;
	int64		count;
	Datum		values[1];
	SPIPlanPtr	plan;

	check_id(fcinfo);
	id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	spi_connect_pinned();
	schema = registry_schema_for_update(id);
	if (schema == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EV_NOT_FOUND),
				 errmsg("Namespace '%s' not found", echo_value(id, strlen(id)))));
	count = ns_storage_lock_and_count(schema);
	if (strcmp(schema, NS_DEFAULT_SCHEMA) == 0)
	{
		ns_storage_clear(schema);
		plans_forget_schema(schema);
		/* Its subscriptions live outside message_store (subscription.h). */
		sub_storage_drop(SUB_DEFAULT_SCHEMA);
	}
	else
		ns_storage_drop(schema);

	plan = plan_for("eventodb", "ns_delete",
					"DELETE FROM eventodb.namespaces WHERE id = $1", 1, argtypes);
	values[0] = CStringGetTextDatum(id);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "eventodb: could not unregister namespace");
	ns_cache_forget();
	notify_deleted(id);
	spi_finish_pinned();
	PG_RETURN_INT64(count);
}

static int64
count_messages(const char *schema)
{
	SPIPlanPtr	plan;
	bool		isnull;

	plan = plan_for(schema, "ns_count", "SELECT pg_catalog.count(*) FROM @S.messages", 0, NULL);
	if (SPI_execute_plan(plan, NULL, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not count messages");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static bool
schema_exists(const char *schema)
{
	return OidIsValid(get_namespace_oid(schema, true));
}

/* namespace_list() -> [{"createdAt","description","messageCount","namespace"}] newest first. */
Datum
ev_namespace_list(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	SPIPlanPtr	plan;
	SPITupleTable *tt;
	uint64		n;

	initStringInfo(&buf);
	spi_connect_pinned();
	plan = plan_for("eventodb", "ns_list",
					"SELECT id, schema_name, description, created_at FROM eventodb.namespaces"
					" ORDER BY created_at DESC, id COLLATE \"C\"",
					0, NULL);
	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not list namespaces");
	tt = SPI_tuptable;
	n = SPI_processed;
	appendStringInfoChar(&buf, '[');
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	row = tt->vals[i];
		bool		isnull;
		char	   *schema = SPI_getvalue(row, tt->tupdesc, 2);

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, "{\"createdAt\":");
		render_unix_seconds(&buf, DatumGetInt64(SPI_getbinval(row, tt->tupdesc, 4, &isnull)));
		appendStringInfoString(&buf, ",\"description\":");
		render_text(&buf, DatumGetTextPP(SPI_getbinval(row, tt->tupdesc, 3, &isnull)));
		appendStringInfoString(&buf, ",\"messageCount\":");
		render_int64(&buf, schema_exists(schema) ? count_messages(schema) : 0);
		appendStringInfoString(&buf, ",\"namespace\":");
		render_text(&buf, DatumGetTextPP(SPI_getbinval(row, tt->tupdesc, 1, &isnull)));
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	spi_finish_pinned();
	PG_RETURN_TEXT_P(cstring_result(&buf));
}

/* namespace_info(id) -> {"createdAt","description","lastActivity","messageCount","namespace","streamCount"}. */
Datum
ev_namespace_info(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[1] = {TEXTOID};
	StringInfoData buf;
	SPIPlanPtr	plan;
	Datum		values[1];
	char	   *id;
	char	   *schema;
	Datum		description;
	int64		created_at;
	int64		messages = 0;
	int64		streams = 0;
	bool		has_last = false;
	Timestamp	last = 0;
	bool		isnull;

	check_id(fcinfo);
	id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	initStringInfo(&buf);
	spi_connect_pinned();
	plan = plan_for("eventodb", "ns_info",
					"SELECT schema_name, description, created_at FROM eventodb.namespaces WHERE id = $1",
					1, argtypes);
	values[0] = CStringGetTextDatum(id);
	if (SPI_execute_plan(plan, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: namespace lookup failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_EV_NOT_FOUND),
				 errmsg("Namespace '%s' not found", echo_value(id, strlen(id)))));
	schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	description = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	created_at = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));

	appendStringInfoString(&buf, "{\"createdAt\":");
	render_unix_seconds(&buf, created_at);
	appendStringInfoString(&buf, ",\"description\":");
	render_text(&buf, DatumGetTextPP(description));

	if (schema_exists(schema))
	{
		SPITupleTable *tt;

		plan = plan_for(schema, "ns_stats",
						"SELECT pg_catalog.count(*), pg_catalog.count(DISTINCT stream_name), pg_catalog.max(time)"
						" FROM @S.messages",
						0, NULL);
		if (SPI_execute_plan(plan, NULL, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "eventodb: could not read namespace statistics");
		tt = SPI_tuptable;
		messages = DatumGetInt64(SPI_getbinval(tt->vals[0], tt->tupdesc, 1, &isnull));
		streams = DatumGetInt64(SPI_getbinval(tt->vals[0], tt->tupdesc, 2, &isnull));
		last = DatumGetTimestamp(SPI_getbinval(tt->vals[0], tt->tupdesc, 3, &isnull));
		has_last = !isnull;
	}
	appendStringInfoString(&buf, ",\"lastActivity\":");
	if (has_last)
		render_time(&buf, last, true);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ",\"messageCount\":");
	render_int64(&buf, messages);
	appendStringInfoString(&buf, ",\"namespace\":");
	render_cstring(&buf, id);
	appendStringInfoString(&buf, ",\"streamCount\":");
	render_int64(&buf, streams);
	appendStringInfoChar(&buf, '}');
	spi_finish_pinned();
	PG_RETURN_TEXT_P(cstring_result(&buf));
}

/*
 * namespace_of_token(token) -> the namespace id when the token parses, its
 * namespace is registered and the stored SHA-256 matches; else NULL.
 */
Datum
ev_namespace_of_token(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	char	   *ns = palloc(len + 1);
	size_t		nslen;
	char		err[TOKEN_ERROR_MAX];
	char		stored[SHA256_HEX_LEN + 1];
	char		presented[SHA256_HEX_LEN + 1];
	StoreRef	ref;
	bool		known;

	if (!token_parse(VARDATA_ANY(t), len, ns, &nslen, err, sizeof(err)))
		PG_RETURN_NULL();
	/* No registered id contains NUL or invalid UTF-8. */
	if (memchr(ns, '\0', nslen) != NULL || !pg_verifymbstr(ns, nslen, true))
		PG_RETURN_NULL();
	spi_connect_pinned();
	known = ns_lookup(ns, &ref, stored);
	spi_finish_pinned();
	if (!known)
		PG_RETURN_NULL();
	ns_token_hash(VARDATA_ANY(t), len, presented);
	if (strcmp(stored, presented) != 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(ns, nslen));
}

Datum
ev_namespace_exists(PG_FUNCTION_ARGS)
{
	bool		known;
	StoreRef	ref;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	spi_connect_pinned();
	known = ns_lookup(text_to_cstring(PG_GETARG_TEXT_PP(0)), &ref, NULL);
	spi_finish_pinned();
	PG_RETURN_BOOL(known);
}
