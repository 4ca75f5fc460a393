/*
 * A subscription's row: loading and locking it, saving its progress, and
 * the info object of docs/subscriptions.md ("Answers").
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "horizon.h"
#include "render.h"
#include "subscription.h"

#define SUB_COLUMNS \
	"SELECT id, name, category, types, max_in_flight, ack_timeout_ms, max_deliveries," \
	" strategy, created_at, read_pos, pending, in_flight" \
	" FROM @S.subscriptions WHERE name = $1"

Datum
sub_text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

Datum
sub_int8_array(int64 *items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

static void
not_found(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_EV_SUB_NOT_FOUND),
			 errmsg("Subscription '%s' not found", name)));
}

void
sub_load(const StoreRef *ref, const char *name, bool for_update, Sub *sub)
{
	static Oid	argtypes[1] = {TEXTOID};
	SPIPlanPtr	plan;
	Datum		values[1];
	HeapTuple	row;
	TupleDesc	td;
	bool		isnull;
	char	   *strategy;

	memset(sub, 0, sizeof(*sub));
	sub->ref = *ref;
	sub->schema = sub_schema_of(ref);
	if (!sub_storage_exists(sub->schema))
		not_found(name);
	if (for_update)
		plan = sub_plan(sub, "sub_load_lock", SUB_COLUMNS " FOR UPDATE", 1, argtypes);
	else
		plan = sub_plan(sub, "sub_load", SUB_COLUMNS, 1, argtypes);
	values[0] = CStringGetTextDatum(name);
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not read subscription \"%s\"", name);
	if (SPI_processed == 0)
		not_found(name);
	row = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	sub->id = DatumGetInt64(SPI_getbinval(row, td, 1, &isnull));
	sub->name = SPI_getvalue(row, td, 2);
	sub->category = SPI_getvalue(row, td, 3);
	sub->types = SPI_getbinval(row, td, 4, &isnull);
	sub->ntypes = ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(sub->types)),
								 ARR_DIMS(DatumGetArrayTypeP(sub->types)));
	sub->max_in_flight = DatumGetInt32(SPI_getbinval(row, td, 5, &isnull));
	sub->ack_timeout_ms = DatumGetInt32(SPI_getbinval(row, td, 6, &isnull));
	sub->max_deliveries = DatumGetInt32(SPI_getbinval(row, td, 7, &isnull));
	strategy = SPI_getvalue(row, td, 8);
	sub->round_robin = strcmp(strategy, "roundRobin") == 0;
	sub->created_at = DatumGetTimestamp(SPI_getbinval(row, td, 9, &isnull));
	sub->read_pos = DatumGetInt64(SPI_getbinval(row, td, 10, &isnull));
	sub->pending = DatumGetInt64(SPI_getbinval(row, td, 11, &isnull));
	sub->in_flight = DatumGetInt64(SPI_getbinval(row, td, 12, &isnull));
}

void
sub_save_progress(const Sub *sub)
{
	static Oid	argtypes[4] = {INT8OID, INT8OID, INT8OID, INT8OID};
	SPIPlanPtr	plan;
	Datum		values[4];

	plan = sub_plan(sub, "sub_save",
					"UPDATE @S.subscriptions SET read_pos = $2, pending = $3, in_flight = $4"
					" WHERE id = $1",
					4, argtypes);
	values[0] = Int64GetDatum(sub->id);
	values[1] = Int64GetDatum(sub->read_pos);
	values[2] = Int64GetDatum(sub->pending);
	values[3] = Int64GetDatum(sub->in_flight);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "eventodb: could not save the progress of subscription \"%s\"", sub->name);
}

/* One int8 from a one-row query with the subscription id as $1. */
static int64
sub_scalar(const Sub *sub, const char *key, const char *tmpl, bool *isnull)
{
	static Oid	argtypes[1] = {INT8OID};
	SPIPlanPtr	plan = sub_plan(sub, key, tmpl, 1, argtypes);
	Datum		values[1] = {Int64GetDatum(sub->id)};
	Datum		d;

	/* read-only: under the snapshot sub_render_info pushed */
	if (SPI_execute_plan(plan, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "eventodb: query %s failed", key);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	return *isnull ? 0 : DatumGetInt64(d);
}

int64
sub_checkpoint(const Sub *sub)
{
	bool		isnull;
	int64		lowest = sub_scalar(sub, "sub_lowest",
									"SELECT min(global_position) FROM @S.subscription_messages"
									" WHERE subscription_id = $1", &isnull);

	return isnull ? sub->read_pos : lowest;
}

int64
sub_source_end(const StoreRef *ref, const char *category)
{
	int64		h = horizon_for_category(ref->schema, *category ? category : NULL,
										 strlen(category));
	SPIPlanPtr	plan;
	bool		isnull;

	if (h != PG_INT64_MAX)
		return h;
	/* Without the horizon (library not preloaded) writers of one category
	 * commit in position order: what is committed now is the end. */
	plan = sub_plan_ns(ref, "sub_last", "SELECT pg_catalog.max(global_position) FROM @M.messages",
					   0, NULL);
	if (SPI_execute_plan(plan, NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not read the last global position");
	h = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return isnull ? 1 : h + 1;
}

/*
 * Committed source messages at or after read_pos that were not read yet:
 * those there, less those pending or parked (a reset moves read_pos back
 * below some of them; the two sets never share a message). Counted apart
 * and subtracted, not as an anti-join: with the stale statistics of a
 * table that churns, PostgreSQL planned that join as a scan of the whole
 * pending set for each source message - seconds for 20,000 messages and
 * 1,000 pending.
 */
static int64
sub_unread(const Sub *sub)
{
	static Oid	argtypes[4] = {TEXTOID, INT8OID, TEXTARRAYOID, INT8OID};
	/* the source's messages at or after read_pos ($1 is unused without a category) */
	const char *match = psprintf("%s m.global_position >= $2 AND (pg_catalog.cardinality($3) = 0 OR m.type = ANY($3))",
								 *sub->category ? " message_store.category(m.stream_name) >= $1"
								 " AND message_store.category(m.stream_name) <= $1 AND" : "");
	SPIPlanPtr	plan;
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	int64		n;

	plan = sub_plan(sub, *sub->category ? "sub_unread_c" : "sub_unread_a",
					psprintf("SELECT (SELECT pg_catalog.count(*) FROM @M.messages m WHERE%s)"
							 " - (SELECT pg_catalog.count(*) FROM @S.subscription_messages q"
							 "    JOIN @M.messages m ON m.global_position = q.global_position"
							 "    WHERE q.subscription_id = $4 AND q.global_position >= $2 AND%s)"
							 " - (SELECT pg_catalog.count(*) FROM @S.subscription_parked q"
							 "    JOIN @M.messages m ON m.global_position = q.global_position"
							 "    WHERE q.subscription_id = $4 AND q.global_position >= $2 AND%s)",
							 match, match, match),
					4, argtypes);
	values[0] = CStringGetTextDatum(sub->category);
	values[1] = Int64GetDatum(sub->read_pos);
	values[2] = sub->types;
	values[3] = Int64GetDatum(sub->id);
	if (SPI_execute_plan(plan, values, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not count the unread messages");
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return n;
}

static int64
live_in_flight(const Sub *sub, TimestampTz now)
{
	static Oid	argtypes[2] = {INT8OID, TIMESTAMPTZOID};
	SPIPlanPtr	plan;
	Datum		values[2];
	bool		isnull;

	plan = sub_plan(sub, "sub_live_in_flight",
					"SELECT pg_catalog.count(*) FROM @S.subscription_messages"
					" WHERE subscription_id = $1 AND delivery_id IS NOT NULL AND lease_until > $2",
					2, argtypes);
	values[0] = Int64GetDatum(sub->id);
	values[1] = TimestampTzGetDatum(now);
	if (SPI_execute_plan(plan, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not count deliveries in flight");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static void
render_consumers(StringInfo buf, const Sub *sub, TimestampTz now)
{
	static Oid	argtypes[2] = {INT8OID, TIMESTAMPTZOID};
	SPIPlanPtr	plan;
	Datum		values[2];

	plan = sub_plan(sub, "sub_consumers",
					"SELECT c.consumer_id, c.last_seen,"
					" (SELECT pg_catalog.count(*) FROM @S.subscription_messages m"
					"   WHERE m.subscription_id = c.subscription_id"
					"   AND m.consumer_id = c.consumer_id AND m.delivery_id IS NOT NULL"
					"   AND m.lease_until > $2)"
					" FROM @S.subscription_consumers c"
					" WHERE c.subscription_id = $1 AND c.active_until > $2"
					" ORDER BY c.consumer_id",
					2, argtypes);
	values[0] = Int64GetDatum(sub->id);
	values[1] = TimestampTzGetDatum(now);
	if (SPI_execute_plan(plan, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not list the consumers");
	appendStringInfoChar(buf, '[');
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;

		if (i > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoString(buf, "{\"consumerId\":");
		render_cstring(buf, SPI_getvalue(row, td, 1));
		appendStringInfoString(buf, ",\"inFlight\":");
		render_int64(buf, DatumGetInt64(SPI_getbinval(row, td, 3, &isnull)));
		appendStringInfoString(buf, ",\"lastSeen\":");
		render_time(buf, DatumGetTimestampTz(SPI_getbinval(row, td, 2, &isnull)), true);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

/* read_pos and pending as of the active snapshot */
static void
reload_progress(Sub *sub)
{
	static Oid	argtypes[1] = {INT8OID};
	SPIPlanPtr	plan = sub_plan(sub, "sub_progress",
								"SELECT read_pos, pending FROM @S.subscriptions WHERE id = $1",
								1, argtypes);
	Datum		values[1] = {Int64GetDatum(sub->id)};
	bool		isnull;

	if (SPI_execute_plan(plan, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "eventodb: could not read the progress of subscription \"%s\"", sub->name);
	sub->read_pos = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	sub->pending = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
}

/*
 * Every figure of the answer is read under one snapshot, taken after the
 * horizon (the unread count is a category read), and at one time: a fetch or
 * ack committing between two of the reads would otherwise show in one and not
 * in the other (lag below inFlight, the consumers' inFlight above the total,
 * lag rising with no write).
 */
void
sub_render_info(StringInfo buf, const Sub *loaded)
{
	Sub			snap = *loaded;
	const Sub  *sub = &snap;
	ArrayType  *types = DatumGetArrayTypeP(sub->types);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	bool		isnull;
	int64		parked;
	int64		in_flight;
	int64		lag;
	int64		checkpoint;
	TimestampTz now = GetCurrentTimestamp();
	StringInfoData consumers;

	/* it counts this call's own changes in (CommandCounterIncrement) */
	horizon_push_read_snapshot();
	reload_progress(&snap);
	parked = sub_scalar(sub, "sub_parked_count",
						"SELECT pg_catalog.count(*) FROM @S.subscription_parked"
						" WHERE subscription_id = $1", &isnull);
	checkpoint = sub_checkpoint(sub);
	initStringInfo(&consumers);
	render_consumers(&consumers, sub, now);
	in_flight = live_in_flight(sub, now);
	lag = sub->pending + sub_unread(sub);
	PopActiveSnapshot();
	appendStringInfoString(buf, "{\"ackTimeoutMs\":");
	render_int64(buf, sub->ack_timeout_ms);
	appendStringInfoString(buf, ",\"category\":");
	render_cstring(buf, sub->category);
	appendStringInfoString(buf, ",\"checkpoint\":");
	render_int64(buf, checkpoint);
	appendStringInfoString(buf, ",\"consumers\":");
	appendBinaryStringInfo(buf, consumers.data, consumers.len);
	appendStringInfoString(buf, ",\"createdAt\":");
	render_time(buf, sub->created_at, true);
	/* Expired leases are ended by the next fetch; they are not in flight. */
	appendStringInfoString(buf, ",\"inFlight\":");
	render_int64(buf, in_flight);
	appendStringInfoString(buf, ",\"lag\":");
	render_int64(buf, lag);
	appendStringInfoString(buf, ",\"maxDeliveries\":");
	render_int64(buf, sub->max_deliveries);
	appendStringInfoString(buf, ",\"maxInFlight\":");
	render_int64(buf, sub->max_in_flight);
	appendStringInfoString(buf, ",\"name\":");
	render_cstring(buf, sub->name);
	appendStringInfoString(buf, ",\"parked\":");
	render_int64(buf, parked);
	appendStringInfoString(buf, ",\"strategy\":");
	render_cstring(buf, sub->round_robin ? "roundRobin" : "pinned");
	appendStringInfoString(buf, ",\"types\":[");
	deconstruct_array(types, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		render_text(buf, DatumGetTextPP(elems[i]));
	}
	appendStringInfoString(buf, "]}");
}

int64
sub_draw_number(void)
{
	bool		isnull;

	if (SPI_execute("SELECT pg_catalog.nextval('eventodb.subscription_id_seq')", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not draw a subscription or delivery batch number");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}
