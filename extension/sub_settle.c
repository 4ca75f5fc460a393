/*
 * How deliveries end (docs/subscriptions.md, "How deliveries are made" 5):
 * ack and nack (skip, park, retry), release by a consumer that went away,
 * and lease expiry. A failed attempt (retry, release, expiry) parks the
 * message with reason "maxDeliveries" once its attempts reached the limit,
 * and otherwise makes it deliverable again at once.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "storage/lockdefs.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"
#include "subscription.h"

PG_FUNCTION_INFO_V1(ev_subscription_ack);
PG_FUNCTION_INFO_V1(ev_subscription_nack);
PG_FUNCTION_INFO_V1(ev_subscription_release);

/* Parameters of the statements below: $1 subscription, $2 max_deliveries,
 * $3 parked_at, then the selection's own ($4, $5). */
typedef struct Selection
{
	const char *key;			/* plan key suffix */
	const char *pred;			/* SQL condition on subscription_messages */
	int			nargs;
	Oid			argtypes[2];
	Datum		values[2];
	char		nulls[2];
} Selection;

/* Ends the selected deliveries in flight as failed attempts; how many. */
static int64
fail_selected(Sub *sub, const Selection *sel)
{
	Oid			argtypes[5] = {INT8OID, INT4OID, TIMESTAMPOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	int			nargs = 3 + sel->nargs;
	SPIPlanPtr	park;
	SPIPlanPtr	retry;
	int64		parked;
	int64		retried;

	for (int i = 0; i < sel->nargs; i++)
	{
		argtypes[3 + i] = sel->argtypes[i];
		values[3 + i] = sel->values[i];
		nulls[3 + i] = sel->nulls[i];
	}
	values[0] = Int64GetDatum(sub->id);
	values[1] = Int32GetDatum(sub->max_deliveries);
	values[2] = TimestampGetDatum(GetCurrentTimestamp());
	park = sub_plan(sub, psprintf("sub_fail_park_%s", sel->key),
					psprintf("WITH p AS (DELETE FROM @S.subscription_messages"
							 " WHERE subscription_id = $1 AND delivery_id IS NOT NULL"
							 " AND attempts >= $2 AND (%s)"
							 " RETURNING global_position, stream_name, attempts, lease_until)"
							 " INSERT INTO @S.subscription_parked"
							 " (subscription_id, global_position, stream_name, attempts, reason, parked_at)"
							 " SELECT $1, global_position, stream_name, attempts, 'maxDeliveries',"
							 " LEAST($3, lease_until AT TIME ZONE 'UTC') FROM p",
							 sel->pred),
					nargs, argtypes);
	if (SPI_execute_plan(park, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: could not park failed deliveries");
	parked = SPI_processed;
	retry = sub_plan(sub, psprintf("sub_fail_retry_%s", sel->key),
					 psprintf("UPDATE @S.subscription_messages"
							  " SET delivery_id = NULL, consumer_id = NULL, lease_until = NULL"
							  " WHERE subscription_id = $1 AND delivery_id IS NOT NULL"
							  " AND attempts < $2 AND (%s)", sel->pred),
					 nargs, argtypes);
	if (SPI_execute_plan(retry, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "eventodb: could not release failed deliveries");
	retried = SPI_processed;
	sub->pending -= parked;
	sub->in_flight -= parked + retried;
	return parked + retried;
}

int64
sub_fail_expired(Sub *sub, TimestampTz now)
{
	Selection	sel = {"expired", "lease_until <= $4", 1, {TIMESTAMPTZOID}, {0}, {' '}};

	sel.values[0] = TimestampTzGetDatum(now);
	return fail_selected(sub, &sel);
}

void
sub_settle_expired(Sub *sub)
{
	if (sub_fail_expired(sub, GetCurrentTimestamp()) > 0)
		sub_save_progress(sub);
}

/* Whether a lease of the subscription ran out (by the partial lease index). */
static bool
has_expired(const Sub *sub)
{
	static Oid	argtypes[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		values[2];
	SPIPlanPtr	plan;

	values[0] = Int64GetDatum(sub->id);
	values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	plan = sub_plan(sub, "sub_has_expired",
					"SELECT 1 FROM @S.subscription_messages WHERE subscription_id = $1"
					" AND delivery_id IS NOT NULL AND lease_until <= $2 LIMIT 1",
					2, argtypes);
	if (SPI_execute_plan(plan, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not look for expired leases");
	return SPI_processed > 0;
}

void
sub_load_settled(const StoreRef *ref, const char *name, Sub *sub)
{
	sub_load(ref, name, false, sub);
	/* A read-only transaction (a standby, SET TRANSACTION READ ONLY) shows
	 * the state as it is stored. */
	if (XactReadOnly || !has_expired(sub))
		return;
	sub_load(ref, name, true, sub);
	sub_settle_expired(sub);
}

/*
 * An id as echoed in errors: a real delivery id has at most 100 bytes, so
 * anything longer is cut there (marked with "...") instead of copying a
 * client's megabytes into the server log and the answer.
 */
static const char *
echoed(const char *id)
{
	if (strlen(id) <= SUB_ECHO_MAX)
		return id;
	return psprintf("%s...", pnstrdup(id, pg_mbcliplen(id, strlen(id), SUB_ECHO_MAX)));
}

/*
 * 409 DELIVERY_EXPIRED unless every id is a delivery in flight with a
 * lease still running; details list each other id in request order.
 */
static void
check_in_flight(const Sub *sub, char **ids, int n)
{
	static Oid	argtypes[3] = {INT8OID, TEXTARRAYOID, TIMESTAMPTZOID};
	SPIPlanPtr	plan;
	Datum		values[3];
	StringInfoData detail;
	const char *first = NULL;

	plan = sub_plan(sub, "sub_live_ids",
					"SELECT delivery_id FROM @S.subscription_messages"
					" WHERE subscription_id = $1 AND delivery_id = ANY($2) AND lease_until > $3",
					3, argtypes);
	values[0] = Int64GetDatum(sub->id);
	values[1] = sub_text_array(ids, n);
	values[2] = TimestampTzGetDatum(GetCurrentTimestamp());
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not look up deliveries");
	if (SPI_processed == (uint64) n)
		return;
	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"deliveryIds\":[");
	for (int i = 0; i < n; i++)
	{
		bool		live = false;

		for (uint64 j = 0; j < SPI_processed && !live; j++)
			live = strcmp(SPI_getvalue(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 1), ids[i]) == 0;
		if (live)
			continue;
		if (first != NULL)
			appendStringInfoChar(&detail, ',');
		else
			first = echoed(ids[i]);
		render_cstring(&detail, echoed(ids[i]));
	}
	appendStringInfoString(&detail, "]}");
	ereport(ERROR,
			(errcode(ERRCODE_EV_DELIVERY_EXPIRED),
			 errmsg("Delivery '%s' is not in flight", first),
			 errdetail("%s", detail.data)));
}

/* Completes (deletes) the listed deliveries; how many. */
static int64
complete(Sub *sub, char **ids, int n)
{
	static Oid	argtypes[2] = {INT8OID, TEXTARRAYOID};
	SPIPlanPtr	plan;
	Datum		values[2];

	plan = sub_plan(sub, "sub_complete",
					"DELETE FROM @S.subscription_messages"
					" WHERE subscription_id = $1 AND delivery_id = ANY($2)",
					2, argtypes);
	values[0] = Int64GetDatum(sub->id);
	values[1] = sub_text_array(ids, n);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "eventodb: could not complete deliveries");
	sub->pending -= SPI_processed;
	sub->in_flight -= SPI_processed;
	return SPI_processed;
}

/* Parks the listed deliveries with the nack's reason; how many. */
static int64
park(Sub *sub, char **ids, int n, const char *reason)
{
	static Oid	argtypes[4] = {INT8OID, TEXTARRAYOID, TEXTOID, TIMESTAMPOID};
	SPIPlanPtr	plan;
	Datum		values[4];

	plan = sub_plan(sub, "sub_park",
					"WITH p AS (DELETE FROM @S.subscription_messages"
					" WHERE subscription_id = $1 AND delivery_id = ANY($2)"
					" RETURNING global_position, stream_name, attempts)"
					" INSERT INTO @S.subscription_parked"
					" (subscription_id, global_position, stream_name, attempts, reason, parked_at)"
					" SELECT $1, global_position, stream_name, attempts, $3, $4 FROM p",
					4, argtypes);
	values[0] = Int64GetDatum(sub->id);
	values[1] = sub_text_array(ids, n);
	values[2] = CStringGetTextDatum(reason);
	values[3] = TimestampGetDatum(GetCurrentTimestamp());
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: could not park deliveries");
	sub->pending -= SPI_processed;
	sub->in_flight -= SPI_processed;
	return SPI_processed;
}

/* subscription_ack(ns, name, delivery_ids) -> distinct ids acked */
Datum
ev_subscription_ack(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	Sub			sub;
	char	  **ids;
	int			n;

	sub_check_name(fcinfo, 1);
	ids = sub_check_delivery_ids(fcinfo, 2, &n);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)), true, &sub);
	check_in_flight(&sub, ids, n);
	complete(&sub, ids, n);
	sub_save_progress(&sub);
	spi_finish_pinned();
	PG_RETURN_INT64(n);
}

/* subscription_nack(ns, name, delivery_ids, action DEFAULT 'retry', reason DEFAULT NULL) */
Datum
ev_subscription_nack(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	Sub			sub;
	char	  **ids;
	int			n;
	char	   *action;
	char	   *reason = "";

	sub_check_name(fcinfo, 1);
	ids = sub_check_delivery_ids(fcinfo, 2, &n);
	action = PG_ARGISNULL(3) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (strcmp(action, "retry") != 0 && strcmp(action, "park") != 0 && strcmp(action, "skip") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options.action must be \"retry\", \"park\" or \"skip\"")));
	if (!PG_ARGISNULL(4))
	{
		text	   *t = PG_GETARG_TEXT_PP(4);

		if (VARSIZE_ANY_EXHDR(t) > SUB_MAX_REASON)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("options.reason must be a string of at most 1000 bytes")));
		reason = text_to_cstring(t);
	}
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)), true, &sub);
	check_in_flight(&sub, ids, n);
	if (strcmp(action, "skip") == 0)
		complete(&sub, ids, n);
	else if (strcmp(action, "park") == 0)
		park(&sub, ids, n, reason);
	else
	{
		Selection	sel = {"ids", "delivery_id = ANY($4)", 1, {TEXTARRAYOID}, {0}, {' '}};

		sel.values[0] = sub_text_array(ids, n);
		fail_selected(&sub, &sel);
	}
	sub_save_progress(&sub);
	spi_finish_pinned();
	PG_RETURN_INT64(n);
}

/*
 * subscription_release(ns, name, consumer, delivery_ids DEFAULT NULL): the
 * consumer's listed (NULL: all) deliveries in flight end as failed attempts
 * and the consumer becomes inactive. Ids not in flight or of another
 * consumer are ignored, so the gateway may pass every id it pushed on a
 * closed connection (any number of them).
 */
Datum
ev_subscription_release(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[2] = {INT8OID, TEXTOID};
	StoreRef	ref;
	Sub			sub;
	Selection	sel = {"consumer", "consumer_id = $4 AND ($5 IS NULL OR delivery_id = ANY($5))",
	2, {TEXTOID, TEXTARRAYOID}, {0, 0}, {' ', ' '}};
	int64		released;
	SPIPlanPtr	plan;
	Datum		values[2];

	sub_check_name(fcinfo, 1);
	sub_check_consumer(fcinfo, 2);
	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)), true, &sub);
	/* Deliveries whose lease ran out are no longer in flight: not released. */
	sub_settle_expired(&sub);
	sel.values[0] = PG_GETARG_DATUM(2);
	if (PG_ARGISNULL(3))
		sel.nulls[1] = 'n';
	else
		sel.values[1] = PG_GETARG_DATUM(3);
	released = fail_selected(&sub, &sel);
	plan = sub_plan(&sub, "sub_inactive",
					"UPDATE @S.subscription_consumers SET active_until = '-infinity'"
					" WHERE subscription_id = $1 AND consumer_id = $2",
					2, argtypes);
	values[0] = Int64GetDatum(sub.id);
	values[1] = PG_GETARG_DATUM(2);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "eventodb: could not mark the consumer inactive");
	sub_save_progress(&sub);
	spi_finish_pinned();
	PG_RETURN_INT64(released);
}
