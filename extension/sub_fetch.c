/*
 * subscription_fetch: hand-out of deliveries to one consumer
 * (docs/subscriptions.md, "How deliveries are made").
 *
 * Under the subscription's row lock: the consumer is marked active, expired
 * leases end as failed attempts, the pending set is topped up from the
 * source through the commit horizon (so no message is skipped, whatever
 * order writers commit in), and deliverable messages are handed out in
 * global-position order. The cost is bounded by the pending window and what
 * is returned: the source is read from read_pos on, never from the start,
 * and completed messages leave no rows behind.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "storage/lockdefs.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "horizon.h"
#include "read_types.h"
#include "namespace.h"
#include "spi_pinned.h"
#include "subscription.h"

PG_FUNCTION_INFO_V1(ev_subscription_fetch);

#define SCAN_CHUNK 256

/* The fetching consumer and what it may receive. */
typedef struct Fetch
{
	Sub		   *sub;
	const char *consumer;
	TimestampTz now;
	int			capacity;
	int64	   *chosen;			/* global positions, ascending */
	int			nchosen;
} Fetch;

static void
mark_active(const Fetch *f)
{
	static Oid	argtypes[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	SPIPlanPtr	plan;
	Datum		values[4];

	plan = sub_plan(f->sub, "sub_consumer_seen",
					"INSERT INTO @S.subscription_consumers"
					" (subscription_id, consumer_id, last_seen, active_until)"
					" VALUES ($1, $2, $3, $4) ON CONFLICT (subscription_id, consumer_id)"
					" DO UPDATE SET last_seen = excluded.last_seen, active_until = excluded.active_until",
					4, argtypes);
	values[0] = Int64GetDatum(f->sub->id);
	values[1] = CStringGetTextDatum(f->consumer);
	values[2] = TimestampTzGetDatum(f->now);
	values[3] = TimestampTzGetDatum(TimestampTzPlusMilliseconds(f->now, f->sub->ack_timeout_ms));
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "eventodb: could not register consumer \"%s\"", f->consumer);
}

static int64
consumer_in_flight(const Fetch *f)
{
	static Oid	argtypes[2] = {INT8OID, TEXTOID};
	SPIPlanPtr	plan;
	Datum		values[2];
	bool		isnull;

	plan = sub_plan(f->sub, "sub_consumer_in_flight",
					"SELECT pg_catalog.count(*) FROM @S.subscription_messages"
					" WHERE subscription_id = $1 AND consumer_id = $2 AND delivery_id IS NOT NULL",
					2, argtypes);
	values[0] = Int64GetDatum(f->sub->id);
	values[1] = CStringGetTextDatum(f->consumer);
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not count deliveries in flight");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Tops the pending set up to SUB_WINDOW messages not in flight, reading the
 * source from read_pos below the horizon. read_pos moves to the horizon when
 * everything below it was read: below it every message has committed or
 * never will (horizon.h), so nothing is left behind.
 */
static void
refill(Sub *sub)
{
	static Oid	read_types[6] = {TEXTOID, INT8OID, INT8OID, TEXTARRAYOID, INT8OID, INT8OID};
	static Oid	insert_types[3] = {INT8OID, INT8ARRAYOID, TEXTARRAYOID};
	const char *rest =
		" AND m.global_position >= $2 AND m.global_position < $3"
		" AND (pg_catalog.cardinality($4) = 0 OR m.type = ANY($4))"
		" AND NOT EXISTS (SELECT 1 FROM @S.subscription_parked p"
		"  WHERE p.subscription_id = $5 AND p.global_position = m.global_position)";
	int64		want = SUB_WINDOW - (sub->pending - sub->in_flight);
	int64		end;
	SPIPlanPtr	plan;
	Datum		values[6];
	int64	   *gpos;
	char	  **streams;
	uint64		got;

	if (want <= 0)
		return;
	end = horizon_for_category(sub->ref.schema, *sub->category ? sub->category : NULL,
							   strlen(sub->category));
	/* The range on the category lets only the category index give the
	 * order, as in category_get (gateway_read.c). */
	if (*sub->category && sub->ntypes > 0 && type_index_exists(sub->ref.schema))
	{
		/* The type index (docs/writes-and-reads.md): one range per type,
		 * each ordered and limited, merged - as category_get_types. */
		plan = sub_plan(sub, "sub_read_ct",
						"SELECT r.global_position, r.stream_name FROM pg_catalog.unnest($4) t(type),"
						" LATERAL (SELECT m.global_position, m.stream_name FROM @M.messages m"
						" WHERE (message_store.category(m.stream_name), m.type, m.global_position)"
						"  >= ($1, t.type, $2)"
						" AND (message_store.category(m.stream_name), m.type, m.global_position)"
						"  < ($1, t.type, $3)"
						" AND NOT EXISTS (SELECT 1 FROM @S.subscription_parked p"
						"  WHERE p.subscription_id = $5 AND p.global_position = m.global_position)"
						" ORDER BY message_store.category(m.stream_name), m.type, m.global_position"
						" LIMIT $6) r ORDER BY r.global_position LIMIT $6",
						6, read_types);
	}
	else if (*sub->category)
		plan = sub_plan(sub, "sub_read_c",
						psprintf("SELECT m.global_position, m.stream_name FROM @M.messages m"
								 " WHERE message_store.category(m.stream_name) >= $1"
								 " AND message_store.category(m.stream_name) <= $1%s"
								 " ORDER BY message_store.category(m.stream_name), m.global_position"
								 " LIMIT $6", rest),
						6, read_types);
	else
		plan = sub_plan(sub, "sub_read_a",
						psprintf("SELECT m.global_position, m.stream_name FROM @M.messages m"
								 " WHERE true%s ORDER BY m.global_position LIMIT $6", rest),
						6, read_types);
	values[0] = CStringGetTextDatum(sub->category);
	values[1] = Int64GetDatum(sub->read_pos);
	values[2] = Int64GetDatum(end);
	values[3] = sub->types;
	values[4] = Int64GetDatum(sub->id);
	values[5] = Int64GetDatum(want);
	/* Invariant: the snapshot is taken after the horizon was computed. */
	horizon_push_read_snapshot();
	if (SPI_execute_plan(plan, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not read the source of subscription \"%s\"", sub->name);
	PopActiveSnapshot();
	got = SPI_processed;
	if (got > 0)
	{
		Datum		ivalues[3];
		bool		isnull;

		gpos = palloc(sizeof(int64) * got);
		streams = palloc(sizeof(char *) * got);
		for (uint64 i = 0; i < got; i++)
		{
			gpos[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			streams[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		}
		plan = sub_plan(sub, "sub_pend",
						"INSERT INTO @S.subscription_messages (subscription_id, global_position, stream_name)"
						" SELECT $1, u.g, u.s FROM unnest($2, $3) AS u(g, s)"
						" ON CONFLICT DO NOTHING",
						3, insert_types);
		ivalues[0] = Int64GetDatum(sub->id);
		ivalues[1] = sub_int8_array(gpos, got);
		ivalues[2] = sub_text_array(streams, got);
		if (SPI_execute_plan(plan, ivalues, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "eventodb: could not record read messages");
		/* A replayed parked message may already be pending: counted once. */
		sub->pending += SPI_processed;
		sub->read_pos = gpos[got - 1] + 1;
	}
	if (got < (uint64) want && end != PG_INT64_MAX && end > sub->read_pos)
		sub->read_pos = end;
}

static void
choose_round_robin(Fetch *f)
{
	static Oid	argtypes[2] = {INT8OID, INT8OID};
	SPIPlanPtr	plan;
	Datum		values[2];
	bool		isnull;

	plan = sub_plan(f->sub, "sub_free",
					"SELECT global_position FROM @S.subscription_messages"
					" WHERE subscription_id = $1 AND delivery_id IS NULL"
					" ORDER BY global_position LIMIT $2",
					2, argtypes);
	values[0] = Int64GetDatum(f->sub->id);
	values[1] = Int64GetDatum(f->capacity);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not find deliverable messages");
	for (uint64 i = 0; i < SPI_processed; i++)
		f->chosen[f->nchosen++] =
			DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
}

typedef struct StreamSeen
{
	uint64		key;			/* hash of the stream name */
} StreamSeen;

static uint64
stream_key(const char *s)
{
	return hash_bytes_extended((const unsigned char *) s, strlen(s), 0);
}

/* Active consumers other than the fetching one. */
static char **
other_active(const Fetch *f, int *n)
{
	static Oid	argtypes[3] = {INT8OID, TIMESTAMPTZOID, TEXTOID};
	SPIPlanPtr	plan;
	Datum		values[3];
	char	  **out;

	plan = sub_plan(f->sub, "sub_active_others",
					"SELECT consumer_id FROM @S.subscription_consumers"
					" WHERE subscription_id = $1 AND active_until > $2 AND consumer_id <> $3",
					3, argtypes);
	values[0] = Int64GetDatum(f->sub->id);
	values[1] = TimestampTzGetDatum(f->now);
	values[2] = CStringGetTextDatum(f->consumer);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not list active consumers");
	*n = SPI_processed;
	out = palloc(sizeof(char *) * (*n + 1));
	for (int i = 0; i < *n; i++)
		out[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	return out;
}

/* Rendezvous hashing: the owner of a stream is the active consumer with
 * the largest hash_64(consumer || '/' || stream). */
static bool
owns(const char *consumer, char **others, int nothers, const char *stream)
{
	StringInfoData b;
	int64		mine;

	if (nothers == 0)
		return true;
	initStringInfo(&b);
	appendStringInfo(&b, "%s/%s", consumer, stream);
	mine = store_hash64(b.data, b.len);
	for (int i = 0; i < nothers; i++)
	{
		int64		h;

		resetStringInfo(&b);
		appendStringInfo(&b, "%s/%s", others[i], stream);
		h = store_hash64(b.data, b.len);
		if (h > mine || (h == mine && strcmp(others[i], consumer) < 0))
			return false;
	}
	return true;
}

/*
 * Pinned: only a stream's lowest pending message is deliverable, only while
 * nothing of the stream is in flight, and only to the stream's owner.
 */
static void
choose_pinned(Fetch *f)
{
	static Oid	argtypes[1] = {INT8OID};
	HASHCTL		ctl;
	HTAB	   *seen;
	SPIPlanPtr	plan;
	Datum		values[1] = {Int64GetDatum(f->sub->id)};
	Portal		portal;
	char	  **others;
	int			nothers;
	bool		isnull;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(StreamSeen);
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("eventodb pinned streams", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	others = other_active(f, &nothers);

	/* Streams with anything in flight (after a switch from roundRobin that
	 * may be above a message not in flight) get nothing. */
	plan = sub_plan(f->sub, "sub_busy_streams",
					"SELECT DISTINCT stream_name FROM @S.subscription_messages"
					" WHERE subscription_id = $1 AND delivery_id IS NOT NULL",
					1, argtypes);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not list busy streams");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		uint64		k = stream_key(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));

		hash_search(seen, &k, HASH_ENTER, NULL);
	}

	plan = sub_plan(f->sub, "sub_pending_scan",
					"SELECT global_position, stream_name FROM @S.subscription_messages"
					" WHERE subscription_id = $1 ORDER BY global_position",
					1, argtypes);
	portal = SPI_cursor_open(NULL, plan, values, NULL, false);
	while (f->nchosen < f->capacity)
	{
		SPI_cursor_fetch(portal, true, SCAN_CHUNK);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed && f->nchosen < f->capacity; i++)
		{
			HeapTuple	row = SPI_tuptable->vals[i];
			char	   *stream = SPI_getvalue(row, SPI_tuptable->tupdesc, 2);
			uint64		k = stream_key(stream);
			bool		found;

			hash_search(seen, &k, HASH_ENTER, &found);
			if (found)
				continue;		/* a lower message of it is pending */
			if (owns(f->consumer, others, nothers, stream))
				f->chosen[f->nchosen++] =
					DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	hash_destroy(seen);
}

typedef struct Handed
{
	int64		gpos;
	int32		attempt;
	char	   *delivery_id;
} Handed;

static int
cmp_handed(const void *a, const void *b)
{
	int64		x = ((const Handed *) a)->gpos;
	int64		y = ((const Handed *) b)->gpos;

	return x < y ? -1 : x > y;
}

/* Makes the chosen messages deliveries to the consumer; sorted by position. */
static Handed *
hand_out(Fetch *f)
{
	static Oid	argtypes[5] = {INT8OID, INT8ARRAYOID, TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID};
	Sub		   *sub = f->sub;
	char	  **ids = palloc(sizeof(char *) * f->nchosen);
	SPIPlanPtr	plan;
	Datum		values[5];
	Handed	   *h;
	/* No other fetch ever gets this number, even one that rolled back: an id
	 * a SQL consumer saw in a transaction it rolled back can never complete
	 * another delivery later. */
	int64		batch = sub_draw_number();

	for (int i = 0; i < f->nchosen; i++)
		ids[i] = psprintf(INT64_FORMAT "." INT64_FORMAT ".%d", sub->id, batch, i + 1);
	plan = sub_plan(sub, "sub_hand_out",
					"UPDATE @S.subscription_messages m SET delivery_id = u.d, consumer_id = $3,"
					" lease_until = $4, attempts = m.attempts + 1"
					" FROM unnest($2, $5) AS u(g, d)"
					" WHERE m.subscription_id = $1 AND m.global_position = u.g"
					" RETURNING m.global_position, m.attempts, m.delivery_id",
					5, argtypes);
	values[0] = Int64GetDatum(sub->id);
	values[1] = sub_int8_array(f->chosen, f->nchosen);
	values[2] = CStringGetTextDatum(f->consumer);
	values[3] = TimestampTzGetDatum(TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
																 sub->ack_timeout_ms));
	values[4] = sub_text_array(ids, f->nchosen);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_UPDATE_RETURNING ||
		SPI_processed != (uint64) f->nchosen)
		elog(ERROR, "eventodb: could not record deliveries");
	h = palloc(sizeof(Handed) * f->nchosen);
	for (int i = 0; i < f->nchosen; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		bool		isnull;

		h[i].gpos = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
		h[i].attempt = DatumGetInt32(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
		h[i].delivery_id = SPI_getvalue(row, SPI_tuptable->tupdesc, 3);
	}
	qsort(h, f->nchosen, sizeof(Handed), cmp_handed);
	sub->in_flight += f->nchosen;
	return h;
}

/* Pending messages whose source row is gone (deleted by SQL) complete. */
static void
drop_vanished(Sub *sub, int64 *gpos, int n)
{
	static Oid	argtypes[2] = {INT8OID, INT8ARRAYOID};
	SPIPlanPtr	plan;
	Datum		values[2];

	plan = sub_plan(sub, "sub_vanished",
					"DELETE FROM @S.subscription_messages"
					" WHERE subscription_id = $1 AND global_position = ANY($2)",
					2, argtypes);
	values[0] = Int64GetDatum(sub->id);
	values[1] = sub_int8_array(gpos, n);
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "eventodb: could not drop vanished messages");
	sub->pending -= SPI_processed;
	sub->in_flight -= SPI_processed;
}

/* One eventodb.delivery row per handed-out message, ascending. */
static void
emit(FunctionCallInfo fcinfo, Fetch *f, Handed *h)
{
	static Oid	argtypes[1] = {INT8ARRAYOID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SPIPlanPtr	plan;
	Datum		values[1];
	int64	   *vanished = palloc(sizeof(int64) * f->nchosen);
	int			nvanished = 0;
	int			j = 0;

	plan = sub_plan(f->sub, "sub_messages",
					"SELECT id::text, stream_name, type, position, global_position, data, metadata, time"
					" FROM @M.messages WHERE global_position = ANY($1) ORDER BY global_position",
					1, argtypes);
	values[0] = sub_int8_array(f->chosen, f->nchosen);
	horizon_push_read_snapshot();
	if (SPI_execute_plan(plan, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not read delivered messages");
	PopActiveSnapshot();
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		Datum		out[10];
		bool		nulls[10] = {0};
		bool		isnull;
		int64		gpos = DatumGetInt64(SPI_getbinval(row, td, 5, &isnull));

		while (j < f->nchosen && h[j].gpos < gpos)
			vanished[nvanished++] = h[j++].gpos;
		if (j >= f->nchosen || h[j].gpos != gpos)
			continue;
		out[0] = CStringGetTextDatum(h[j].delivery_id);
		out[1] = Int32GetDatum(h[j].attempt);
		for (int c = 1; c <= 8; c++)
			out[c + 1] = SPI_getbinval(row, td, c, &nulls[c + 1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
		j++;
	}
	while (j < f->nchosen)
		vanished[nvanished++] = h[j++].gpos;
	if (nvanished > 0)
		drop_vanished(f->sub, vanished, nvanished);
}

/* subscription_fetch(ns, name, consumer, max DEFAULT 10) -> SETOF eventodb.delivery */
Datum
ev_subscription_fetch(PG_FUNCTION_ARGS)
{
	StoreRef	ref;
	Sub			sub;
	Fetch		f;
	int32		max;

	sub_check_name(fcinfo, 1);
	sub_check_consumer(fcinfo, 2);
	if (PG_ARGISNULL(3) || PG_GETARG_INT32(3) < 0 || PG_GETARG_INT32(3) > SUB_MAX_IDS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max must be between 0 and 1000")));
	max = PG_GETARG_INT32(3);
	InitMaterializedSRF(fcinfo, 0);

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, AccessShareLock);
	sub_load(&ref, text_to_cstring(PG_GETARG_TEXT_PP(1)), true, &sub);
	memset(&f, 0, sizeof(f));
	f.sub = &sub;
	f.consumer = text_to_cstring(PG_GETARG_TEXT_PP(2));
	f.now = GetCurrentTimestamp();
	mark_active(&f);
	sub_fail_expired(&sub, f.now);
	if (max > 0)
	{
		int64		free_slots = sub.max_in_flight - consumer_in_flight(&f);

		f.capacity = (int) Min((int64) max, free_slots);
	}
	if (f.capacity > 0)
	{
		refill(&sub);
		f.chosen = palloc(sizeof(int64) * f.capacity);
		if (sub.round_robin)
			choose_round_robin(&f);
		else
			choose_pinned(&f);
		if (f.nchosen > 0)
			emit(fcinfo, &f, hand_out(&f));
	}
	sub_save_progress(&sub);
	spi_finish_pinned();
	return (Datum) 0;
}
