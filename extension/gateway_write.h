/*
 * What the gateway's single write (gateway_write.c) and its group commit
 * (gateway_write_batch.c) share, so both answer byte for byte alike.
 */
#ifndef EVENTODB_GATEWAY_WRITE_H
#define EVENTODB_GATEWAY_WRITE_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/uuid.h"

#include "store.h"

/* SQLSTATE EV001 (docs/http-api.md#streamwrite): message and JSON detail, expected then actual. */
#define WRITE_CONFLICT_MSG "Expected version " INT64_FORMAT ", stream is at version " INT64_FORMAT
#define WRITE_CONFLICT_DETAIL "{\"actual\":" INT64_FORMAT ",\"expected\":" INT64_FORMAT "}"
/* SQLSTATE 22P02, with the id as given (capped, echo.h) */
#define WRITE_BAD_UUID_MSG "invalid UUID format: %s"

/* The id spellings the original accepts (docs/http-api.md#streamwrite). */
bool		write_parse_uuid(const char *s, size_t len, pg_uuid_t *out);

/* A fresh RFC 9562 UUIDv7. */
void		write_uuid_v7(pg_uuid_t *u);

/*
 * The message id of a function with stream_write's arguments (argument 6):
 * a fresh UUIDv7 when NULL or '' (returns false), else the client's, whose
 * spelling must parse (22P02 otherwise; returns true).
 */
bool		write_id_arg(FunctionCallInfo fcinfo, pg_uuid_t *id);

/*
 * The rest of one stream_write once its locks are held and its namespace
 * resolved, for every function with stream_write's arguments (ns, stream,
 * type, data, metadata, id, expected_version): the tombstone, the expected
 * version, the insert and its poke. Returns the global position; *position
 * gets the stream position.
 */
int64		write_locked(FunctionCallInfo fcinfo, StoreWrite *w, const StoreRef *ref,
						 const char *stream, const char *type, pg_uuid_t *id, int64 *position);

/* {"globalPosition":G,"position":P} */
void		write_render_result(StringInfo buf, int64 global_position, int64 position);

#endif
