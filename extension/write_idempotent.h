/*
 * Idempotent writes (docs/writes-and-reads.md): a write that repeats an
 * earlier one - same id, same stream, same type, same data - answers the
 * earlier write's positions instead of failing on the id's uniqueness.
 * Shared by stream_write_idempotent and stream_write_many.
 */
#ifndef EVENTODB_WRITE_IDEMPOTENT_H
#define EVENTODB_WRITE_IDEMPOTENT_H

#include "postgres.h"

#include "utils/uuid.h"

#include "store.h"

/* SQLSTATE EV030: the id is taken by a message that is not this one. */
#define ERRCODE_EV_ID_CONFLICT MAKE_SQLSTATE('E','V','0','3','0')

/*
 * Looks the id up in the namespace (under a fresh snapshot: the caller holds
 * the stream's write lock, so an earlier write of this stream is committed
 * and visible). False when no message has the id. True with the stored
 * positions when it is the same message; raises EV030 when another stream,
 * type or data holds the id. Call inside SPI.
 */
bool		write_find_replay(const StoreRef *ref, const pg_uuid_t *id,
							  const char *stream, const char *type, Datum data,
							  int64 *position, int64 *global_position);

#endif
