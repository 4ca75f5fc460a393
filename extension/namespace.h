/*
 * Namespaces of the gateway face (docs/architecture.md#namespaces): a registry in schema
 * eventodb maps each namespace id to the schema holding its messages
 * ("default" -> message_store) and to the SHA-256 of its token.
 */
#ifndef EVENTODB_NAMESPACE_H
#define EVENTODB_NAMESPACE_H

#include "postgres.h"

#include "fmgr.h"
#include "storage/lockdefs.h"

#include "store.h"

/* SQLSTATEs of the gateway entry points (docs/sql-api.md#the-gateway-face-eventodb). */
#define ERRCODE_EV_VERSION_CONFLICT	MAKE_SQLSTATE('E','V','0','0','1')
#define ERRCODE_EV_NOT_FOUND		MAKE_SQLSTATE('E','V','0','0','2')
#define ERRCODE_EV_EXISTS			MAKE_SQLSTATE('E','V','0','0','3')

#define NS_DEFAULT_ID		"default"
#define NS_DEFAULT_SCHEMA	"message_store"
#define NS_SCHEMA_PREFIX	"eventodb_ns_"

#define SHA256_HEX_LEN 64

/* ---- namespace.c: registry lookups through a backend-local cache ---- */

/*
 * Finds a registered namespace. On success fills *ref (strings palloc'd in
 * the current memory context) and, when token_hash is not NULL, copies the
 * stored hash there (SHA256_HEX_LEN + 1 bytes). Needs SPI.
 */
bool		ns_lookup(const char *id, StoreRef *ref, char *token_hash);

/*
 * The store of the namespace named by argument argno of a gateway entry
 * point, its messages table locked in lockmode (held to transaction end);
 * an unknown (or NULL) namespace, or one deleted while waiting for the
 * lock, raises EV002 "namespace not found". Needs SPI.
 */
StoreRef	ns_resolve_arg(FunctionCallInfo fcinfo, int argno, LOCKMODE lockmode);

/* The same for a namespace id given as a string (NULL: not found). */
StoreRef	ns_resolve(const char *id, LOCKMODE lockmode);

/* The same without waiting for the table: false when DDL holds it. */
bool		ns_try_resolve(const char *id, LOCKMODE lockmode, StoreRef *ref);

/* Drops every cached lookup of this backend (after a registry change). */
void		ns_cache_forget(void);

/* ---- ns_storage.c: the schema and table of one namespace ---- */

/* A fresh schema name eventodb_ns_<n> that no existing schema uses. */
char	   *ns_storage_new_schema(void);

/* Creates schema, messages table, indexes and sequence; owned by the extension. */
void		ns_storage_create(const char *schema);

/* Locks the namespace's table against writers and returns its message count. */
int64		ns_storage_lock_and_count(const char *schema);

/* Drops the schema with everything in it. */
void		ns_storage_drop(const char *schema);

/* Deletes all messages and restarts the global position sequence at 1. */
void		ns_storage_clear(const char *schema);

/* ---- ns_token.c ---- */

/* A new token for the namespace: ns_<base64url(id)>_<64 random hex>. */
char	   *ns_token_generate(const char *id, size_t len);

/* Lowercase hex SHA-256 of the token into out (SHA256_HEX_LEN + 1 bytes). */
void		ns_token_hash(const char *token, size_t len, char *out);

#endif
