/*
 * Stream lifecycle (docs/lifecycle.md): stream delete (soft and hard),
 * retention rules per stream and per category, and redaction.
 *
 * State tables, created by a namespace's first lifecycle call (like the
 * subscription tables: namespaces of version 1.0 need no upgrade step), in
 * the namespace's schema, or in eventodb_default for the default namespace:
 *   lifecycle_streams     one row per stream that was deleted, has a rule,
 *                         or lost its newest message to retention: the
 *                         highest position it ever had (its version once
 *                         no message is left), the delete kind and the
 *                         stream's own rule
 *   lifecycle_categories  retention rules of categories, and the cursor of
 *                         the max-count pass over each
 *   lifecycle_redactions  which message was redacted, when and why
 *
 * Removal is physical: deleted and expired messages leave the messages
 * table, so every reader of either face skips them with no change. What
 * the table alone cannot tell - the version of a stream that has no message
 * left, and that a hard-deleted stream takes no more writes - is read from
 * lifecycle_streams by the write path (lifecycle_guard.c).
 */
#ifndef EVENTODB_LIFECYCLE_H
#define EVENTODB_LIFECYCLE_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"

#include "store.h"

#define ERRCODE_EV_STREAM_DELETED		MAKE_SQLSTATE('E','V','0','2','0')
#define ERRCODE_EV_MESSAGE_NOT_FOUND	MAKE_SQLSTATE('E','V','0','2','1')

#define LIFECYCLE_DELETED_MSG "stream '%s' was deleted"
#define LIFECYCLE_DELETED_HINT "A hard-deleted stream takes no more writes; write to a new stream."

/* ---- lifecycle_storage.c ---- */

/* The partial index of hard-deleted streams, made by the first hard delete. */
#define LIFECYCLE_TOMBSTONE_INDEX "lifecycle_streams_tombstones"

/* Schema of the namespace's state tables (eventodb_default for default). */
const char *lifecycle_schema_of(const StoreRef *ref);

/* True when the state tables exist (two syscache lookups, no SPI). */
bool		lifecycle_storage_exists(const char *schema);

/* Creates the state tables unless they exist. Needs SPI. */
void		lifecycle_storage_ensure(const StoreRef *ref);

/* Creates the tombstone index unless it exists. Needs SPI. */
void		lifecycle_tombstones_ensure(const StoreRef *ref);

/*
 * A saved plan over the state tables (@S) and the messages table (@M) of
 * the namespace; cached per (state schema, key).
 */
SPIPlanPtr	lifecycle_plan(const StoreRef *ref, const char *key, const char *tmpl,
						   int nargs, Oid *argtypes);

/*
 * After all messages of the namespace were deleted (import_clear): forgets
 * what was recorded about them - versions, deletes, tombstones, redactions -
 * and keeps the rules, which are settings. Needs SPI.
 */
void		lifecycle_forget_messages(const StoreRef *ref);

/* ---- lifecycle_guard.c: what the write path asks ---- */

/*
 * The recorded version of a stream without messages: the highest position
 * it had before its messages were removed, or -1 (no record, or no state
 * tables). Needs SPI.
 */
int64		lifecycle_version_floor(const StoreRef *s, const char *stream);

/* True when the stream is hard-deleted. Needs SPI. */
bool		lifecycle_is_tombstoned(const StoreRef *s, const char *stream);

/* Raises EV020 when the stream is hard-deleted. Needs SPI. */
void		lifecycle_guard_write(const StoreRef *s, const char *stream);

/* The same as a group-commit row (stream_write_batch): true, with EV020's
 * SQLSTATE and message set, when the stream is hard-deleted. */
bool		lifecycle_refuse_item(const StoreRef *s, const char *stream,
								  const char **sqlstate, char **message);

/* ---- lifecycle_delete.c ---- */

/* Argument argno as a stream name: non-empty (22023 otherwise). */
char	   *lifecycle_stream_arg(FunctionCallInfo fcinfo, int argno);

/* Raises EV020 for the stream. */
void		lifecycle_raise_deleted(const char *stream);

/* ---- lifecycle_worker.c ---- */

/* Settings of the retention worker, and the worker when a database is set
 * (from _PG_init, while preloading). */
void		lifecycle_worker_register(void);

/* ---- lifecycle_retention.c ---- */

/* One bounded retention pass over a namespace; returns messages removed. */
int64		lifecycle_retention_pass(const StoreRef *ref, int64 max_rows);

#endif
