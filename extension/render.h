/*
 * Response JSON of the gateway entry points, rendered inside the database in
 * the original's style (docs/http-api.md#wire-conventions) so the gateway forwards bytes:
 * compact, object keys sorted by byte value at every level, strings escaped
 * like Go's encoding/json, numbers as stored, times in RFC 3339 UTC.
 */
#ifndef EVENTODB_RENDER_H
#define EVENTODB_RENDER_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

/* A JSON string with quotes; invalid UTF-8 becomes \ufffd. */
void		render_string(StringInfo buf, const char *s, size_t len);
void		render_cstring(StringInfo buf, const char *s);
void		render_text(StringInfo buf, const text *t);

void		render_int64(StringInfo buf, int64 v);

/* A stored jsonb value; keys re-sorted by bytes (jsonb keeps them length-first). */
void		render_jsonb(StringInfo buf, Jsonb *jb);

/* SQL NULL renders as null. The datum may be toasted. */
void		render_jsonb_datum(StringInfo buf, Datum d, bool isnull);

/* Canonical lowercase 8-4-4-4-12, quoted. */
void		render_uuid(StringInfo buf, const pg_uuid_t *u);

/*
 * A UTC timestamp, quoted, RFC 3339 with "Z": with_fraction keeps the
 * microseconds minus trailing zeros (no dot when zero); without it the time
 * is truncated to whole seconds.
 */
void		render_time(StringInfo buf, Timestamp ts, bool with_fraction);

/* Whole Unix seconds (the registry's created_at), quoted. */
void		render_unix_seconds(StringInfo buf, int64 secs);

#endif
