/*
 * stream_write_batch: the gateway's group commit. Several concurrent
 * stream.write requests are written in one transaction, so they share one
 * round trip, one transaction start and one commit (WAL flush), each with
 * exactly the answer its own stream_write would have given.
 *
 * The answers that are part of normal operation - an expected-version
 * conflict, an id that is no UUID - come back as rows and do not disturb
 * the other items. Anything else raises and rolls the whole batch back; the
 * gateway then sends every item on its own through stream_write, so each
 * client still gets its own outcome (and nothing is written twice: an error
 * means nothing of the batch committed).
 *
 * Locks: a batch never waits for one. Every stream (or, in category-lock
 * mode, category) lock is tried first, then the namespaces' tables - in
 * stream_write's order. An item whose lock is held elsewhere (a writer of
 * the same stream, DDL on its namespace) is left out with an empty row, and
 * the gateway sends it alone through stream_write, which waits. So one
 * stream's long lock never holds up the writes it happened to be grouped
 * with, and no wait cycle can run through a batch.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "echo.h"
#include "gateway_write.h"
#include "lifecycle.h"
#include "names.h"
#include "namespace.h"
#include "spi_pinned.h"
#include "sqlstate.h"
#include "stats.h"
#include "write_batch.h"

PG_FUNCTION_INFO_V1(ev_stream_write_batch);

typedef struct BatchItem
{
	int			index;			/* arrival order */
	char	   *field[WRITE_BATCH_FIELDS];	/* NUL-terminated, or NULL */
	int32		len[WRITE_BATCH_FIELDS];
	bool		has_expected;
	int64		expected;
	size_t		category_len;
	StoreWrite	w;
	StoreRef	ref;
	/* outcome: result, or sqlstate + message (+ detail), or none (busy) */
	bool		busy;
	bool		written;
	int64		position;
	char	   *result;
	const char *sqlstate;
	char	   *message;
	char	   *detail;
} BatchItem;

typedef struct Reader
{
	const unsigned char *p;
	const unsigned char *end;
} Reader;

static void
malformed(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("malformed write batch")));
}

static uint64
read_be(Reader *r, int bytes)
{
	uint64		v = 0;

	if (r->end - r->p < bytes)
		malformed();
	for (int i = 0; i < bytes; i++)
		v = (v << 8) | *r->p++;
	return v;
}

static void
read_item(Reader *r, BatchItem *it)
{
	for (int f = 0; f < WRITE_BATCH_FIELDS; f++)
	{
		int32		len = (int32) (uint32) read_be(r, 4);

		it->len[f] = len;
		it->field[f] = NULL;
		if (len == -1)
			continue;
		if (len < 0 || r->end - r->p < len || memchr(r->p, '\0', len) != NULL)
			malformed();
		it->field[f] = pnstrdup((const char *) r->p, len);
		r->p += len;
	}
	it->has_expected = read_be(r, 1) != 0;
	it->expected = (int64) read_be(r, 8);
	/* the gateway validated these; a NULL here is a broken client */
	if (it->field[WB_NS] == NULL || it->field[WB_STREAM] == NULL ||
		it->field[WB_TYPE] == NULL || it->field[WB_DATA] == NULL)
		malformed();
	it->category_len = names_category_len(it->field[WB_STREAM], it->len[WB_STREAM]);
}

/* The global lock order: namespace, category, stream, then arrival. */
static int
lock_order(const void *pa, const void *pb)
{
	const BatchItem *a = *(BatchItem *const *) pa;
	const BatchItem *b = *(BatchItem *const *) pb;
	int			c;

	if ((c = strcmp(a->field[WB_NS], b->field[WB_NS])) != 0)
		return c;
	if ((c = names_compare(a->field[WB_STREAM], a->category_len,
						   b->field[WB_STREAM], b->category_len)) != 0)
		return c;
	if ((c = strcmp(a->field[WB_STREAM], b->field[WB_STREAM])) != 0)
		return c;
	return a->index - b->index;
}

static bool
same_stream(const BatchItem *a, const BatchItem *b)
{
	return strcmp(a->field[WB_STREAM], b->field[WB_STREAM]) == 0 &&
		strcmp(a->field[WB_NS], b->field[WB_NS]) == 0;
}

/*
 * The version of item i's stream: what an earlier item of this batch wrote
 * there (the stream lock keeps everyone else out), else the stored one.
 */
static int64
version_of(BatchItem *items, int i)
{
	for (int j = i - 1; j >= 0; j--)
		if (items[j].written && same_stream(&items[j], &items[i]))
			return items[j].position;
	return store_stream_version(&items[i].ref, items[i].field[WB_STREAM]);
}

static Datum
jsonb_from(const char *text)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
}

/* Writes item i, or records why not, exactly as stream_write would answer. */
static void
write_item(BatchItem *items, int i)
{
	BatchItem  *it = &items[i];
	const StoreRef *ref = &it->ref;
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));
	const char *stream = it->field[WB_STREAM];
	int64		version;
	int64		next;
	int64		gpos;
	StringInfoData buf;

	if (it->field[WB_ID] == NULL || it->len[WB_ID] == 0)
		write_uuid_v7(id);
	else if (!write_parse_uuid(it->field[WB_ID], it->len[WB_ID], id))
	{
		it->sqlstate = SQLSTATE_INVALID_TEXT_REPRESENTATION;
		it->message = psprintf(WRITE_BAD_UUID_MSG, echo_value(it->field[WB_ID], it->len[WB_ID]));
		return;
	}
	version = version_of(items, i);
	if (lifecycle_refuse_item(ref, stream, &it->sqlstate, &it->message))
		return;
	if (it->has_expected && it->expected != version)
	{
		stats_conflict(it->ref.schema);
		it->sqlstate = SQLSTATE_EV_VERSION_CONFLICT;
		it->message = psprintf(WRITE_CONFLICT_MSG, it->expected, version);
		it->detail = psprintf(WRITE_CONFLICT_DETAIL, version, it->expected);
		return;
	}
	if (!store_position_after(version, &next))
	{
		/* stream_write's store_next_position error, as a row */
		it->sqlstate = SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE;
		it->message = psprintf(STORE_POSITION_LIMIT_MSG, version);
		return;
	}
	store_write_bound(&it->w, ref, stream, it->len[WB_STREAM]);
	gpos = store_insert(ref, UUIDPGetDatum(id), false, stream, it->field[WB_TYPE],
						jsonb_from(it->field[WB_DATA]), false,
						it->field[WB_METADATA] ? jsonb_from(it->field[WB_METADATA]) : (Datum) 0,
						it->field[WB_METADATA] == NULL, next);
	store_write_poke(&it->w, ref, stream, next, gpos);
	it->written = true;
	it->position = next;
	initStringInfo(&buf);
	write_render_result(&buf, gpos, next);
	it->result = buf.data;
}

/*
 * stream_write_batch(items bytea) -> SETOF (result text, sqlstate text,
 * message text, detail text), one row per item in the order given; all
 * NULL for an item left out because a lock it needs is held elsewhere.
 */
Datum
ev_stream_write_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *arg = PG_GETARG_BYTEA_PP(0);
	Reader		r = {(const unsigned char *) VARDATA_ANY(arg),
	(const unsigned char *) VARDATA_ANY(arg) + VARSIZE_ANY_EXHDR(arg)};
	uint64		count;
	BatchItem  *items;
	BatchItem **order;

	InitMaterializedSRF(fcinfo, 0);
	count = read_be(&r, 4);
	if (count < 1 || count > WRITE_BATCH_MAX)
		malformed();
	items = palloc0(sizeof(BatchItem) * count);
	order = palloc(sizeof(BatchItem *) * count);
	for (uint64 i = 0; i < count; i++)
	{
		items[i].index = (int) i;
		read_item(&r, &items[i]);
		order[i] = &items[i];
	}
	if (r.p != r.end)
		malformed();

	spi_connect_pinned();
	qsort(order, count, sizeof(BatchItem *), lock_order);
	for (uint64 i = 0; i < count; i++)
		order[i]->busy = !store_write_try_lock(&order[i]->w, order[i]->field[WB_NS],
											   order[i]->field[WB_STREAM],
											   order[i]->len[WB_STREAM]);
	/* each namespace's table once, as stream_write locks it */
	for (uint64 i = 0; i < count; i++)
	{
		BatchItem  *prev = i > 0 ? order[i - 1] : NULL;

		if (prev != NULL && strcmp(order[i]->field[WB_NS], prev->field[WB_NS]) == 0)
		{
			order[i]->ref = prev->ref;
			order[i]->busy |= prev->ref.schema == NULL;
		}
		else if (!ns_try_resolve(order[i]->field[WB_NS], RowExclusiveLock, &order[i]->ref))
		{
			order[i]->ref.schema = NULL;
			order[i]->busy = true;
		}
	}
	for (uint64 i = 0; i < count; i++)
		if (!items[i].busy)
			write_item(items, (int) i);
	for (uint64 i = 0; i < count; i++)
	{
		Datum		values[4];
		bool		nulls[4];
		char	   *cols[4] = {items[i].result, (char *) items[i].sqlstate,
		items[i].message, items[i].detail};

		for (int c = 0; c < 4; c++)
		{
			nulls[c] = cols[c] == NULL;
			values[c] = nulls[c] ? (Datum) 0 : CStringGetTextDatum(cols[c]);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	spi_finish_pinned();
	return (Datum) 0;
}
