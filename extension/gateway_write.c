/*
 * stream_write: the gateway's stream.write (docs/http-api.md#streamwrite) over the
 * shared write path (docs/architecture.md#write-path): lock -> version -> expected-version
 * check -> horizon bound -> insert -> poke, answering position and global
 * position from one call.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "echo.h"
#include "gateway_write.h"
#include "hex.h"
#include "lifecycle.h"
#include "namespace.h"
#include "render.h"
#include "spi_pinned.h"
#include "stats.h"
#include "write_idempotent.h"

PG_FUNCTION_INFO_V1(ev_stream_write);
PG_FUNCTION_INFO_V1(ev_stream_write_idempotent);

/*
 * The spellings the original accepts (docs/http-api.md#streamwrite): 8-4-4-4-12 in any case, the
 * same in braces, or 32 bare hex digits. PostgreSQL's uuid_in is more
 * lenient (hyphens after any group of four), so it is not used here.
 */
bool
write_parse_uuid(const char *s, size_t len, pg_uuid_t *out)
{
	int			nibble = 0;

	if (len == 38)
	{
		if (s[0] != '{' || s[37] != '}')
			return false;
		s++;
		len = 36;
	}
	if (len != 36 && len != 32)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		int			v;

		if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23))
		{
			if (s[i] != '-')
				return false;
			continue;
		}
		v = hex_digit(s[i]);
		if (v < 0)
			return false;
		if (nibble % 2 == 0)
			out->data[nibble / 2] = (unsigned char) (v << 4);
		else
			out->data[nibble / 2] |= (unsigned char) v;
		nibble++;
	}
	return true;
}

/*
 * RFC 9562 UUIDv7: 48-bit Unix milliseconds, then the sub-millisecond
 * fraction in rand_a (method 3) so ids of one backend sort by time down to
 * ~0.25 µs, then 62 random bits.
 */
void
write_uuid_v7(pg_uuid_t *u)
{
	TimestampTz now = GetCurrentTimestamp();
	int64		unix_us = now + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	uint64		ms = (uint64) (unix_us / 1000);
	uint32		sub = (uint32) ((unix_us % 1000) * 4096 / 1000);
	unsigned char rnd[8];

	if (!pg_strong_random(rnd, sizeof(rnd)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a UUID")));
	for (int i = 0; i < 6; i++)
		u->data[i] = (unsigned char) (ms >> (40 - 8 * i));
	u->data[6] = (unsigned char) (0x70 | (sub >> 8));
	u->data[7] = (unsigned char) sub;
	u->data[8] = (unsigned char) (0x80 | (rnd[0] & 0x3f));
	memcpy(&u->data[9], &rnd[1], 7);
}

/*
 * stream_write(ns, stream_name, type, data, metadata, id, expected_version)
 * -> {"globalPosition":G,"position":P}; stream_write_idempotent the same,
 * except that a repeat of a stored message answers its positions
 * (write_idempotent.h).
 */
static Datum
stream_write(FunctionCallInfo fcinfo, bool idempotent)
{
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));
	char	   *stream = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *type = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	bool		client_id = write_id_arg(fcinfo, id);
	StoreRef	ref;
	StoreWrite	w = {false, InvalidOid};
	int64		next;
	int64		gpos;
	StringInfoData buf;

	spi_connect_pinned();

	/*
	 * The write lock comes before the namespace's table lock, as in Message
	 * DB's write_message: a writer of either face never holds the table
	 * while waiting for the stream or category, so none can close a wait
	 * cycle with namespace_delete queueing for the table. A NULL stream
	 * fails the insert's not-null constraint, lock-free; a NULL namespace
	 * fails resolving.
	 */
	if (stream != NULL && !PG_ARGISNULL(0))
		store_write_lock(&w, text_to_cstring(PG_GETARG_TEXT_PP(0)), stream, strlen(stream));
	ref = ns_resolve_arg(fcinfo, 0, RowExclusiveLock);
	/* a generated id is new by construction: nothing to look up */
	if (!(idempotent && client_id && stream != NULL && type != NULL && !PG_ARGISNULL(3) &&
		  write_find_replay(&ref, id, stream, type, PG_GETARG_DATUM(3), &next, &gpos)))
		gpos = write_locked(fcinfo, &w, &ref, stream, type, id, &next);
	spi_finish_pinned();

	initStringInfo(&buf);
	write_render_result(&buf, gpos, next);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

Datum
ev_stream_write(PG_FUNCTION_ARGS)
{
	return stream_write(fcinfo, false);
}

Datum
ev_stream_write_idempotent(PG_FUNCTION_ARGS)
{
	return stream_write(fcinfo, true);
}

bool
write_id_arg(FunctionCallInfo fcinfo, pg_uuid_t *id)
{
	text	   *t;

	if (PG_ARGISNULL(5) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(5)) == 0)
	{
		write_uuid_v7(id);
		return false;
	}
	t = PG_GETARG_TEXT_PP(5);
	if (!write_parse_uuid(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg(WRITE_BAD_UUID_MSG, echo_value(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))));
	return true;
}

int64
write_locked(FunctionCallInfo fcinfo, StoreWrite *w, const StoreRef *ref, const char *stream,
			 const char *type, pg_uuid_t *id, int64 *position)
{
	int64		version = stream != NULL ? store_stream_version(ref, stream) : -1;
	int64		gpos;

	lifecycle_guard_write(ref, stream);
	if (!PG_ARGISNULL(6) && PG_GETARG_INT64(6) != version)
	{
		stats_conflict(ref->schema);
		ereport(ERROR,
				(errcode(ERRCODE_EV_VERSION_CONFLICT),
				 errmsg(WRITE_CONFLICT_MSG, PG_GETARG_INT64(6), version),
				 errdetail(WRITE_CONFLICT_DETAIL, version, PG_GETARG_INT64(6))));
	}
	*position = store_next_position(version, false);
	if (stream != NULL)
		store_write_bound(w, ref, stream, strlen(stream));
	gpos = store_insert(ref, UUIDPGetDatum(id), false, stream, type,
						PG_GETARG_DATUM(3), PG_ARGISNULL(3),
						PG_GETARG_DATUM(4), PG_ARGISNULL(4), *position);
	store_write_poke(w, ref, stream, *position, gpos);
	return gpos;
}

void
write_render_result(StringInfo buf, int64 global_position, int64 position)
{
	appendStringInfoString(buf, "{\"globalPosition\":");
	render_int64(buf, global_position);
	appendStringInfoString(buf, ",\"position\":");
	render_int64(buf, position);
	appendStringInfoChar(buf, '}');
}
