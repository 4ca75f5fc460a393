/*
 * Parked messages (docs/subscriptions.md, "subscription.parked" and
 * "subscription.replayParked") and the JSON of deliveries and parked
 * entries, as the gateway answers them.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "storage/lockdefs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "horizon.h"
#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"
#include "subscription.h"

PG_FUNCTION_INFO_V1(ev_subscription_parked);
PG_FUNCTION_INFO_V1(ev_subscription_replay_parked);
PG_FUNCTION_INFO_V1(ev_delivery_json);
PG_FUNCTION_INFO_V1(ev_parked_json);

/* subscription_parked(ns, name, position DEFAULT 0, batch_size DEFAULT 100) */
Datum
ev_subscription_parked(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[3] = {INT8OID, INT8OID, INT4OID};
	ReturnSetInfo *rsinfo;
	StoreRef	ref;
	Sub			sub;
	SPIPlanPtr	plan;
	Datum		values[3];

	sub_check_name(fcinfo, 1);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options.position must be a number")));
	if (PG_ARGISNULL(3) || PG_GETARG_INT32(3) < 1 || PG_GETARG_INT32(3) > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options.batchSize must be between 1 and 1000")));
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load_settled(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)), &sub);
	plan = sub_plan(&sub, "sub_parked_list",
					"SELECT m.id::text, m.stream_name, m.type, m.position, m.global_position,"
					" m.data, m.metadata, m.time, p.attempts, p.reason, p.parked_at"
					" FROM @S.subscription_parked p"
					" JOIN @M.messages m ON m.global_position = p.global_position"
					" WHERE p.subscription_id = $1 AND p.global_position >= $2"
					" ORDER BY p.global_position LIMIT $3",
					3, argtypes);
	values[0] = Int64GetDatum(sub.id);
	values[1] = PG_GETARG_DATUM(2);
	values[2] = PG_GETARG_DATUM(3);
	horizon_push_read_snapshot();
	if (SPI_execute_plan(plan, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not list parked messages");
	PopActiveSnapshot();
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		out[11];
		bool		nulls[11];

		for (int c = 0; c < 11; c++)
			out[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
	}
	spi_finish_pinned();
	return (Datum) 0;
}

/* subscription_replay_parked(ns, name, global_positions DEFAULT NULL) -> left the list */
Datum
ev_subscription_replay_parked(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[2] = {INT8OID, INT8ARRAYOID};
	StoreRef	ref;
	Sub			sub;
	SPIPlanPtr	plan;
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	int64		replayed;

	sub_check_name(fcinfo, 1);
	if (!PG_ARGISNULL(2))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(2);
		int			n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));

		if (ARR_NDIM(a) > 1 || n < 1 || n > SUB_MAX_IDS || array_contains_nulls(a))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("options.globalPositions must be an array of 1-1000 numbers")));
		values[1] = PointerGetDatum(a);
	}
	else
		nulls[1] = 'n';

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)), true, &sub);
	/* What reached max_deliveries by a lease that ran out is replayed too. */
	sub_settle_expired(&sub);
	plan = sub_plan(&sub, "sub_replay",
					"WITH r AS (DELETE FROM @S.subscription_parked"
					"  WHERE subscription_id = $1 AND ($2 IS NULL OR global_position = ANY($2))"
					"  RETURNING global_position, stream_name),"
					" i AS (INSERT INTO @S.subscription_messages"
					"  (subscription_id, global_position, stream_name)"
					"  SELECT $1, global_position, stream_name FROM r"
					"  ON CONFLICT DO NOTHING RETURNING 1)"
					" SELECT (SELECT pg_catalog.count(*) FROM r), (SELECT pg_catalog.count(*) FROM i)",
					2, argtypes);
	values[0] = Int64GetDatum(sub.id);
	if (SPI_execute_plan(plan, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not replay parked messages");
	replayed = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	sub.pending += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	sub_save_progress(&sub);
	spi_finish_pinned();
	PG_RETURN_INT64(replayed);
}

static Datum
field(HeapTupleHeader t, int attno, bool *isnull)
{
	return GetAttributeByNum(t, attno, isnull);
}

static void
render_text_field(StringInfo buf, HeapTupleHeader t, int attno)
{
	bool		isnull;
	Datum		d = field(t, attno, &isnull);

	if (isnull)
		appendStringInfoString(buf, "null");
	else
		render_text(buf, DatumGetTextPP(d));
}

static void
render_int_field(StringInfo buf, HeapTupleHeader t, int attno, bool is_int4)
{
	bool		isnull;
	Datum		d = field(t, attno, &isnull);

	if (isnull)
		appendStringInfoString(buf, "null");
	else
		render_int64(buf, is_int4 ? DatumGetInt32(d) : DatumGetInt64(d));
}

static void
render_time_field(StringInfo buf, HeapTupleHeader t, int attno)
{
	bool		isnull;
	Datum		d = field(t, attno, &isnull);

	if (isnull)
		appendStringInfoString(buf, "null");
	else
		render_time(buf, DatumGetTimestamp(d), true);
}

/* The category message array [id,streamName,type,position,globalPosition,data,metadata,time]
 * from eight consecutive fields starting at first. */
static void
render_message_fields(StringInfo buf, HeapTupleHeader t, int first)
{
	bool		isnull;
	Datum		d;

	appendStringInfoChar(buf, '[');
	render_text_field(buf, t, first);
	appendStringInfoChar(buf, ',');
	render_text_field(buf, t, first + 1);
	appendStringInfoChar(buf, ',');
	render_text_field(buf, t, first + 2);
	appendStringInfoChar(buf, ',');
	render_int_field(buf, t, first + 3, false);
	appendStringInfoChar(buf, ',');
	render_int_field(buf, t, first + 4, false);
	appendStringInfoChar(buf, ',');
	d = field(t, first + 5, &isnull);
	render_jsonb_datum(buf, d, isnull);
	appendStringInfoChar(buf, ',');
	d = field(t, first + 6, &isnull);
	render_jsonb_datum(buf, d, isnull);
	appendStringInfoChar(buf, ',');
	render_time_field(buf, t, first + 7);
	appendStringInfoChar(buf, ']');
}

/* delivery_json(eventodb.delivery) -> {"attempt":…,"deliveryId":…,"message":[…]} */
Datum
ev_delivery_json(PG_FUNCTION_ARGS)
{
	HeapTupleHeader t = PG_GETARG_HEAPTUPLEHEADER(0);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"attempt\":");
	render_int_field(&buf, t, 2, true);
	appendStringInfoString(&buf, ",\"deliveryId\":");
	render_text_field(&buf, t, 1);
	appendStringInfoString(&buf, ",\"message\":");
	render_message_fields(&buf, t, 3);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/* parked_json(eventodb.parked_message) -> {"attempts":…,"message":[…],"parkedAt":…,"reason":…} */
Datum
ev_parked_json(PG_FUNCTION_ARGS)
{
	HeapTupleHeader t = PG_GETARG_HEAPTUPLEHEADER(0);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"attempts\":");
	render_int_field(&buf, t, 9, true);
	appendStringInfoString(&buf, ",\"message\":");
	render_message_fields(&buf, t, 1);
	appendStringInfoString(&buf, ",\"parkedAt\":");
	render_time_field(&buf, t, 11);
	appendStringInfoString(&buf, ",\"reason\":");
	render_text_field(&buf, t, 10);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
