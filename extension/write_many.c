/*
 * stream_write_many: several messages to several streams of one namespace
 * in one transaction, all or nothing (docs/writes-and-reads.md).
 *
 * Locks: every stream's write lock (or, in category-lock mode, its
 * category's) is taken before the namespace's table - stream_write's order -
 * and in one canonical order, by category, then stream name. Two calls that
 * touch the same streams listed differently therefore queue on the first
 * lock they share instead of each holding what the other waits for; a
 * single write holds one lock of that order and cannot close a cycle either.
 *
 * Category readers: each insert publishes its category's horizon bound
 * first, as every write does (horizon.h), so a reader never passes a
 * position of this transaction before it commits, whichever categories it
 * spans. Group commit is untouched: the call is one transaction of its own.
 */
#include "postgres.h"

#include <errno.h>
#include <stdlib.h>

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
#include "utils/uuid.h"

#include "echo.h"
#include "gateway_write.h"
#include "lifecycle.h"
#include "names.h"
#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"
#include "stats.h"
#include "write_idempotent.h"

PG_FUNCTION_INFO_V1(ev_stream_write_many);

/* The most messages one call writes (the gateway's list limit too). */
#define WRITE_MANY_MAX 1000

typedef struct ManyItem
{
	int			index;			/* place in the call */
	char	   *stream;
	size_t		stream_len;
	size_t		category_len;
	char	   *type;
	Datum		data;
	bool		metadata_null;
	Datum		metadata;
	bool		has_id;
	pg_uuid_t	id;
	bool		has_expected;
	int64		expected;
	StoreWrite	w;
	bool		written;		/* inserted by this call (not a replay) */
	int64		position;
	int64		global_position;
} ManyItem;

static void
invalid(int index, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("messages[%d].%s", index, what)));
}

static JsonbValue *
member(JsonbContainer *obj, const char *key, JsonbValue *buf)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), buf);
}

static bool
is_object(const JsonbValue *v)
{
	return v != NULL && v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

/* A non-empty string member, NUL-terminated; NULL when absent or not one. */
static char *
string_member(JsonbContainer *obj, const char *key, size_t *len)
{
	JsonbValue	buf;
	JsonbValue *v = member(obj, key, &buf);

	if (v == NULL || v->type != jbvString || v->val.string.len == 0)
		return NULL;
	*len = (size_t) v->val.string.len;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Decodes message i of the call, with the gateway's rules and texts. */
static void
read_item(JsonbContainer *arr, int i, ManyItem *it)
{
	JsonbValue *m = getIthJsonbValueFromContainer(arr, (uint32) i);
	JsonbContainer *obj;
	JsonbValue	buf;
	JsonbValue *v;
	size_t		type_len;

	it->index = i;
	if (!is_object(m))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("messages[%d] must be an object", i)));
	obj = m->val.binary.data;
	if ((it->stream = string_member(obj, "streamName", &it->stream_len)) == NULL)
		invalid(i, "streamName must be a non-empty string");
	if ((it->type = string_member(obj, "type", &type_len)) == NULL)
		invalid(i, "type must be a non-empty string");
	v = member(obj, "data", &buf);
	if (!is_object(v))
		invalid(i, "data must be an object");
	it->data = JsonbPGetDatum(JsonbValueToJsonb(v));
	v = member(obj, "metadata", &buf);
	it->metadata_null = v == NULL || v->type == jbvNull;	/* as stream.write */
	if (!it->metadata_null)
	{
		if (!is_object(v))
			invalid(i, "metadata must be an object");
		it->metadata = JsonbPGetDatum(JsonbValueToJsonb(v));
	}
	v = member(obj, "id", &buf);
	if (v != NULL)
	{
		if (v->type != jbvString)
			invalid(i, "id must be a string");
		/* "" asks for a generated id, as in stream.write */
		it->has_id = v->val.string.len > 0;
		if (it->has_id && !write_parse_uuid(v->val.string.val, v->val.string.len, &it->id))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("messages[%d]: " WRITE_BAD_UUID_MSG, i,
							echo_value(v->val.string.val, v->val.string.len))));
	}
	if (!it->has_id)
		write_uuid_v7(&it->id);
	v = member(obj, "expectedVersion", &buf);
	if (v != NULL)
	{
		Datum		n;

		if (v->type != jbvNumeric)
			invalid(i, "expectedVersion must be a number");
		/* truncated toward zero, as every integer of the protocol (docs/http-api.md#wire-conventions) */
		n = DirectFunctionCall2(numeric_trunc, NumericGetDatum(v->val.numeric), Int32GetDatum(0));
		{
			char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, n));
			char	   *end;

			errno = 0;
			it->expected = strtoll(text, &end, 10);
			if (errno != 0 || *end != '\0')
				invalid(i, "expectedVersion must be a number");
		}
		it->has_expected = true;
	}
	it->category_len = names_category_len(it->stream, it->stream_len);
}

/* The canonical lock order: category, stream, then place in the call. */
static int
lock_order(const void *pa, const void *pb)
{
	const ManyItem *a = *(ManyItem *const *) pa;
	const ManyItem *b = *(ManyItem *const *) pb;
	int			c;

	if ((c = names_compare(a->stream, a->category_len, b->stream, b->category_len)) != 0)
		return c;
	if ((c = names_compare(a->stream, a->stream_len, b->stream, b->stream_len)) != 0)
		return c;
	return a->index - b->index;
}

static bool
same_stream(const ManyItem *a, const ManyItem *b)
{
	return a->stream_len == b->stream_len && memcmp(a->stream, b->stream, a->stream_len) == 0;
}

/* Item i's stream version: what an earlier item wrote there, else the stored one. */
static int64
version_of(ManyItem *items, int i, const StoreRef *ref)
{
	for (int j = i - 1; j >= 0; j--)
		if (items[j].written && same_stream(&items[j], &items[i]))
			return items[j].position;
	return store_stream_version(ref, items[i].stream);
}

static void
conflict(const StoreRef *ref, const ManyItem *it, int64 version)
{
	StringInfoData detail;

	stats_conflict(ref->schema);
	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"actual\":");
	render_int64(&detail, version);
	appendStringInfoString(&detail, ",\"expected\":");
	render_int64(&detail, it->expected);
	appendStringInfoString(&detail, ",\"index\":");
	render_int64(&detail, it->index);
	appendStringInfoString(&detail, ",\"streamName\":");
	render_string(&detail, it->stream, it->stream_len);
	appendStringInfoChar(&detail, '}');
	ereport(ERROR,
			(errcode(ERRCODE_EV_VERSION_CONFLICT),
			 errmsg(WRITE_CONFLICT_MSG, it->expected, version),
			 errdetail_internal("%s", detail.data)));
}

static void
write_item(ManyItem *items, int i, const StoreRef *ref, bool idempotent)
{
	ManyItem   *it = &items[i];
	int64		version;

	if (idempotent && it->has_id &&
		write_find_replay(ref, &it->id, it->stream, it->type, it->data,
						  &it->position, &it->global_position))
		return;
	lifecycle_guard_write(ref, it->stream);
	version = version_of(items, i, ref);
	if (it->has_expected && it->expected != version)
		conflict(ref, it, version);
	it->position = store_next_position(version, false);
	store_write_bound(&it->w, ref, it->stream, it->stream_len);
	it->global_position = store_insert(ref, UUIDPGetDatum(&it->id), false, it->stream, it->type,
									   it->data, false, it->metadata, it->metadata_null,
									   it->position);
	store_write_poke(&it->w, ref, it->stream, it->position, it->global_position);
	it->written = true;
}

/*
 * stream_write_many(ns, messages jsonb, idempotent boolean) ->
 * [{"globalPosition":G,"position":P},...] in the order of messages.
 */
Datum
ev_stream_write_many(PG_FUNCTION_ARGS)
{
	Jsonb	   *messages = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	bool		idempotent = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	int			count;
	ManyItem   *items;
	ManyItem  **order;
	StoreRef	ref;
	StringInfoData buf;

	if (messages == NULL || !JB_ROOT_IS_ARRAY(messages) || JB_ROOT_IS_SCALAR(messages) ||
		JB_ROOT_COUNT(messages) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("messages must be a non-empty array")));
	count = (int) JB_ROOT_COUNT(messages);
	if (count > WRITE_MANY_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("messages must hold at most %d messages", WRITE_MANY_MAX)));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ns must not be NULL")));
	items = palloc0(sizeof(ManyItem) * count);
	order = palloc(sizeof(ManyItem *) * count);
	for (int i = 0; i < count; i++)
	{
		read_item(&messages->root, i, &items[i]);
		order[i] = &items[i];
	}

	spi_connect_pinned();
	qsort(order, count, sizeof(ManyItem *), lock_order);
	{
		char	   *ns = text_to_cstring(PG_GETARG_TEXT_PP(0));

		for (int i = 0; i < count; i++)
			store_write_lock(&order[i]->w, ns, order[i]->stream, order[i]->stream_len);
	}
	ref = ns_resolve_arg(fcinfo, 0, RowExclusiveLock);
	for (int i = 0; i < count; i++)
		write_item(items, i, &ref, idempotent);
	spi_finish_pinned();

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < count; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		write_render_result(&buf, items[i].global_position, items[i].position);
	}
	appendStringInfoChar(&buf, ']');
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
