/*
 * Managing subscriptions: create, update, delete, get, list and reset
 * (docs/subscriptions.md, "Methods"). Each validates its arguments first,
 * then resolves the namespace, then acts; answers are JSON text.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "storage/lockdefs.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"
#include "subscription.h"

PG_FUNCTION_INFO_V1(ev_subscription_create);
PG_FUNCTION_INFO_V1(ev_subscription_update);
PG_FUNCTION_INFO_V1(ev_subscription_delete);
PG_FUNCTION_INFO_V1(ev_subscription_get);
PG_FUNCTION_INFO_V1(ev_subscription_list);
PG_FUNCTION_INFO_V1(ev_subscription_reset);

static int64
start_position(const StoreRef *ref, const char *category, int kind, int64 pos)
{
	switch (kind)
	{
		case SUB_START_END:
			return sub_source_end(ref, category);
		case SUB_START_POSITION:
			return pos;
		default:
			return 1;
	}
}

/* buf as a text allocated outside SPI's memory, so it survives SPI_finish. */
static text *
upper_text(StringInfo buf)
{
	text	   *t = SPI_palloc(VARHDRSZ + buf->len);

	SET_VARSIZE(t, VARHDRSZ + buf->len);
	memcpy(VARDATA(t), buf->data, buf->len);
	return t;
}

/* settle: first settle leases that ran out (sub_load_settled); the callers
 * that changed the subscription did that already. */
static text *
info_text(const StoreRef *ref, const char *name, bool settle)
{
	StringInfoData buf;
	Sub			sub;

	initStringInfo(&buf);
	if (settle)
		sub_load_settled(ref, name, &sub);
	else
		sub_load(ref, name, false, &sub);
	sub_render_info(&buf, &sub);
	return upper_text(&buf);
}

/* subscription_create(ns, name, category, options DEFAULT '{}') -> info */
Datum
ev_subscription_create(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[9] = {INT8OID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID,
	INT4OID, INT4OID, TEXTOID, INT8OID};
	SubSettings o;
	StoreRef	ref;
	char	   *name;
	char	   *category;
	SPIPlanPtr	plan;
	Datum		values[9];
	Sub			tmp;
	text	   *result;

	sub_check_name(fcinfo, 1);
	sub_check_category(fcinfo, 2);
	sub_parse_options(fcinfo, 3, false, &o);
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	category = text_to_cstring(PG_GETARG_TEXT_PP(2));

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_storage_ensure(sub_schema_of(&ref));
	memset(&tmp, 0, sizeof(tmp));
	tmp.ref = ref;
	plan = sub_plan(&tmp, "sub_insert",
					"INSERT INTO @S.subscriptions (id, name, category, types, max_in_flight,"
					" ack_timeout_ms, max_deliveries, strategy, created_at, read_pos)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
					" pg_catalog.clock_timestamp() AT TIME ZONE 'utc', $9)"
					" ON CONFLICT (name) DO NOTHING",
					9, argtypes);
	values[0] = Int64GetDatum(sub_draw_number());
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(category);
	values[3] = o.has_types ? o.types : sub_text_array(NULL, 0);
	values[4] = Int32GetDatum(o.has_max_in_flight ? o.max_in_flight : 10);
	values[5] = Int32GetDatum(o.has_ack_timeout ? o.ack_timeout_ms : 30000);
	values[6] = Int32GetDatum(o.has_max_deliveries ? o.max_deliveries : 10);
	values[7] = CStringGetTextDatum(o.has_strategy && o.round_robin ? "roundRobin" : "pinned");
	values[8] = Int64GetDatum(o.has_start ? start_position(&ref, category, o.start_kind, o.start) : 1);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: could not create subscription \"%s\"", name);
	/* Taken, possibly by a create that committed while this one waited. */
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_EV_SUB_EXISTS),
				 errmsg("Subscription '%s' already exists", name)));
	result = info_text(&ref, name, false);
	spi_finish_pinned();
	PG_RETURN_TEXT_P(result);
}

/* subscription_update(ns, name, options) -> info */
Datum
ev_subscription_update(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[6] = {INT8OID, TEXTARRAYOID, INT4OID, INT4OID, INT4OID, TEXTOID};
	SubSettings o;
	StoreRef	ref;
	Sub			sub;
	char	   *name;
	SPIPlanPtr	plan;
	Datum		values[6];
	text	   *result;

	sub_check_name(fcinfo, 1);
	sub_parse_options(fcinfo, 2, true, &o);
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load(&ref, name, true, &sub);
	/* Leases that ran out failed under the settings of that time. */
	sub_settle_expired(&sub);
	plan = sub_plan(&sub, "sub_update",
					"UPDATE @S.subscriptions SET types = $2, max_in_flight = $3,"
					" ack_timeout_ms = $4, max_deliveries = $5, strategy = $6 WHERE id = $1",
					6, argtypes);
	values[0] = Int64GetDatum(sub.id);
	values[1] = o.has_types ? o.types : sub.types;
	values[2] = Int32GetDatum(o.has_max_in_flight ? o.max_in_flight : sub.max_in_flight);
	values[3] = Int32GetDatum(o.has_ack_timeout ? o.ack_timeout_ms : sub.ack_timeout_ms);
	values[4] = Int32GetDatum(o.has_max_deliveries ? o.max_deliveries : sub.max_deliveries);
	values[5] = CStringGetTextDatum((o.has_strategy ? o.round_robin : sub.round_robin)
									? "roundRobin" : "pinned");
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "eventodb: could not update subscription \"%s\"", name);
	result = info_text(&ref, name, false);
	spi_finish_pinned();
	PG_RETURN_TEXT_P(result);
}

/* Runs a statement over one subscription's rows ($1 = its id). */
static void
sub_exec(const Sub *sub, const char *key, const char *tmpl)
{
	static Oid	argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(sub->id)};

	if (SPI_execute_plan(sub_plan(sub, key, tmpl, 1, argtypes), values, NULL, false, 0) < 0)
		elog(ERROR, "eventodb: statement %s failed", key);
}

/* subscription_delete(ns, name) -> {"deletedAt":T,"name":name} */
Datum
ev_subscription_delete(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	Sub			sub;
	char	   *name;
	StringInfoData buf;

	sub_check_name(fcinfo, 1);
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load(&ref, name, true, &sub);
	sub_exec(&sub, "sub_del_messages", "DELETE FROM @S.subscription_messages WHERE subscription_id = $1");
	sub_exec(&sub, "sub_del_parked", "DELETE FROM @S.subscription_parked WHERE subscription_id = $1");
	sub_exec(&sub, "sub_del_consumers", "DELETE FROM @S.subscription_consumers WHERE subscription_id = $1");
	sub_exec(&sub, "sub_del", "DELETE FROM @S.subscriptions WHERE id = $1");
	spi_finish_pinned();

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"deletedAt\":");
	render_time(&buf, GetCurrentTimestamp(), true);
	appendStringInfoString(&buf, ",\"name\":");
	render_cstring(&buf, name);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/* subscription_get(ns, name) -> info */
Datum
ev_subscription_get(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	text	   *result;

	sub_check_name(fcinfo, 1);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	result = info_text(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)), true);
	spi_finish_pinned();
	PG_RETURN_TEXT_P(result);
}

/* subscription_list(ns) -> array of info, ascending by name (bytes) */
Datum
ev_subscription_list(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	StringInfoData buf;
	char	  **names = NULL;
	uint64		n = 0;
	text	   *result;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	if (sub_storage_exists(sub_schema_of(&ref)))
	{
		SPIPlanPtr	plan = sub_plan_ns(&ref, "sub_names",
									   "SELECT name FROM @S.subscriptions ORDER BY name", 0, NULL);

		if (SPI_execute_plan(plan, NULL, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "eventodb: could not list subscriptions");
		n = SPI_processed;
		names = palloc(sizeof(char *) * (n + 1));
		for (uint64 i = 0; i < n; i++)
			names[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	}
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (uint64 i = 0; i < n; i++)
	{
		Sub			sub;

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		sub_load_settled(&ref, names[i], &sub);
		sub_render_info(&buf, &sub);
	}
	appendStringInfoChar(&buf, ']');
	result = upper_text(&buf);
	spi_finish_pinned();
	PG_RETURN_TEXT_P(result);
}

/*
 * subscription_reset(ns, name, position) -> info. Deliveries in flight end
 * without counting an attempt, the pending set is forgotten, reading
 * restarts at the position; parked messages stay parked (reading skips them).
 */
Datum
ev_subscription_reset(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	Sub			sub;
	char	   *name;
	int			kind;
	int64		pos = 0;
	text	   *result;

	sub_check_name(fcinfo, 1);
	sub_parse_position(PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)), &kind, &pos);
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load(&ref, name, true, &sub);
	/* A delivery whose last lease ran out is parked, and stays parked. */
	sub_settle_expired(&sub);
	sub_exec(&sub, "sub_del_messages", "DELETE FROM @S.subscription_messages WHERE subscription_id = $1");
	sub.read_pos = start_position(&ref, sub.category, kind, pos);
	sub.pending = 0;
	sub.in_flight = 0;
	sub_save_progress(&sub);
	result = info_text(&ref, name, false);
	spi_finish_pinned();
	PG_RETURN_TEXT_P(result);
}
