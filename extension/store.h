/*
 * The storage core shared by both faces of the extension: the Message DB face
 * (schema message_store, docs/sql-api.md#the-message-db-face-message_store, #errors-sqlstates) and the gateway entry points
 * (schema eventodb, docs/sql-api.md#the-gateway-face-eventodb). One implementation of hashing, naming,
 * locking, insert and pokes (docs/architecture.md#invariants) - the faces only add their own
 * validation order, error texts and result shapes.
 *
 * All functions must be called inside an SPI connection (SPI_connect done by
 * the caller) unless noted.
 */
#ifndef EVENTODB_STORE_H
#define EVENTODB_STORE_H

#include "postgres.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"

/* Where one namespace's messages live. */
typedef struct StoreRef
{
	const char *ns_id;			/* namespace id written into pokes */
	const char *schema;			/* schema name, unquoted */
} StoreRef;

/* The Message DB face: namespace "default" stored in schema message_store. */
extern const StoreRef store_message_store;

#define POKE_CHANNEL "eventodb_poke"

/*
 * The channel of ns_id's pokes: POKE_CHANNEL for the default namespace,
 * the private channel of eventodb.poke_channel for every other one (the
 * public one when that table does not exist, as in version 1.0).
 */
const char *store_poke_channel(const char *ns_id);

/* ---- names.c (SQL wrappers over common/names.c) ---- */

/* hash_64 of the given bytes: MD5 via PostgreSQL's own routine. */
int64		store_hash64(const char *bytes, size_t len);

/* ---- plans.c: saved SPI plans per (schema, statement key) ---- */

/*
 * Returns a saved plan for sql_template with every "@S" replaced by the
 * quoted schema name (quote_identifier). Prepared and kept on first use per
 * (schema, key); later calls are a hash lookup. SPI re-plans saved plans
 * itself after DDL, so a dropped and re-created schema of the same name is
 * handled; plans_forget_schema() drops entries of a deleted namespace.
 */
SPIPlanPtr	plan_for(const char *schema, const char *key, const char *sql_template,
					 int nargs, Oid *argtypes);
/* The template with every "@S" replaced by the quoted schema name. */
char	   *plan_sql(const char *schema, const char *tmpl);
void		plans_forget_schema(const char *schema);

/* ---- write.c: the write path (docs/architecture.md#write-path) ---- */

/*
 * Takes the transaction-scoped advisory lock on hash_64(category(stream)),
 * as Message DB's acquire_lock does, and the Message DB face's private
 * category lock that horizon-mode writers share. Returns the key.
 */
int64		store_lock_category(const char *stream, size_t len);

/* One write's mode, chosen by store_write_lock, followed by the later steps. */
typedef struct StoreWrite
{
	bool		deferred_poke;	/* the poke worker pokes after commit */
	Oid			nsp;			/* set by store_write_bound */
} StoreWrite;

/*
 * First step of every write through either face (before the namespace's
 * table is locked). With the library preloaded and eventodb.write_mode =
 * horizon, a transaction lock on (namespace, stream) only: enough for exact
 * versions; category readers are kept gap-free by the commit horizon
 * (horizon.h). Otherwise Message DB's category lock held to commit. Returns
 * hash_64 of the category (acquire_lock's key).
 */
int64		store_write_lock(StoreWrite *w, const char *ns_id, const char *stream, size_t len);

/* The same without waiting: false when a lock is held elsewhere (what it
 * did get stays held to transaction end). */
bool		store_write_try_lock(StoreWrite *w, const char *ns_id, const char *stream, size_t len);

/* Right before store_insert: the write's horizon bound (horizon.h). */
void		store_write_bound(StoreWrite *w, const StoreRef *s, const char *stream, size_t len);

/* After store_insert: the poke, in this transaction or from the worker. */
void		store_write_poke(const StoreWrite *w, const StoreRef *s, const char *stream,
							 int64 position, int64 global_position);

/*
 * Highest position of the stream, or -1 when it has no messages (then the
 * floor a stream delete or retention recorded, if any: versions never move
 * back). *found: whether it has messages or such a floor, so that a
 * negative version (imports and plain INSERTs can store one) is told from
 * "none"; may be NULL.
 */
int64		store_stream_version_found(const StoreRef *s, const char *stream, bool *found);
int64		store_stream_version(const StoreRef *s, const char *stream);

/*
 * The position a write after version takes. A stream at the highest
 * position (PG_INT64_MAX, reachable by import or a plain INSERT) takes no
 * more messages: SQLSTATE 22003, worded as Message DB's PL/pgSQL fails
 * ("bigint out of range") when message_db, else STORE_POSITION_LIMIT_MSG.
 */
#define STORE_POSITION_LIMIT_MSG "stream is at the highest position (" INT64_FORMAT "); it takes no more messages"
bool		store_position_after(int64 version, int64 *next);
int64		store_next_position(int64 version, bool message_db);

/*
 * Inserts one message at the given stream position; time and global position
 * by default. NULL pointers/flags insert SQL NULLs (and let constraints fail
 * with their native errors, docs/sql-api.md#write_message step 5). Returns the new global
 * position.
 */
int64		store_insert(const StoreRef *s, Datum id, bool id_null,
						 const char *stream, const char *type,
						 Datum data, bool data_null,
						 Datum metadata, bool metadata_null,
						 int64 position);

/*
 * Raises the change notification of docs/sql-api.md#pokes-and-write-mode on POKE_CHANNEL; it is
 * delivered by PostgreSQL only if and when the transaction commits.
 */
void		store_poke(const StoreRef *s, const char *stream, int64 position,
					   int64 global_position);

/* The notification's payload (docs/sql-api.md#pokes-and-write-mode), appended to buf. */
void		store_poke_payload(StringInfo buf, const char *ns_id, const char *stream,
							   int64 position, int64 global_position);

#endif
