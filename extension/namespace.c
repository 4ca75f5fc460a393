/*
 * Namespace id -> store resolution for every gateway entry point, through a
 * backend-local cache so the hot path is one hash lookup.
 *
 * A deleted namespace must never be served from the cache (docs/architecture.md#invariants invariant 4),
 * so the cache is dropped whenever:
 *  - any schema changes (syscache callback on pg_namespace: deleting a
 *    namespace drops its schema), or
 *  - the registry table changes: a statement trigger on it sends a relcache
 *    invalidation of the table, which reaches every backend at commit and
 *    this backend at the end of the command, and is replayed on abort (this
 *    also covers "default", whose schema survives its deletion).
 * Callbacks only mark the cache stale: they can fire in the middle of a
 * lookup (any lock acquisition processes invalidations), so the table is
 * rebuilt at the start of the next lookup, never under a caller's feet.
 *
 * A lookup alone cannot see a deletion that commits while the caller waits
 * for the namespace's table (namespace_delete holds it exclusively until
 * commit). So entry points resolve and lock in one step: after the lock is
 * granted, any invalidation that arrived meanwhile sends them back to the
 * registry, and a namespace deleted in between is EV002, not a write into
 * a store that no longer belongs to it.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "namespace.h"

PG_FUNCTION_INFO_V1(ev_namespaces_changed);

typedef struct NsCacheEntry
{
	char	   *id;				/* hash key (pointer to a copy): must be first */
	char		schema[NAMEDATALEN];
	char		token_hash[SHA256_HEX_LEN + 1];
	Oid			table;			/* its messages table */
} NsCacheEntry;

static HTAB *ns_cache = NULL;
static MemoryContext ns_cache_cxt = NULL;
static bool ns_cache_stale = false;
static uint64 ns_cache_generation = 0;	/* bumped by every invalidation */
static bool callbacks_registered = false;
static Oid	registry_relid = InvalidOid;

static uint32
ns_key_hash(const void *key, Size keysize)
{
	const char *s = *(char *const *) key;

	return hash_bytes((const unsigned char *) s, strlen(s));
}

static int
ns_key_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void *
ns_key_copy(void *dest, const void *src, Size keysize)
{
	*(char **) dest = MemoryContextStrdup(ns_cache_cxt, *(char *const *) src);
	return dest;
}

void
ns_cache_forget(void)
{
	ns_cache_stale = true;
	ns_cache_generation++;
}

static void
ns_schema_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	ns_cache_forget();
	registry_relid = InvalidOid;
}

static void
ns_relation_changed(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == registry_relid)
		ns_cache_forget();
}

static void
ns_cache_prepare(void)
{
	HASHCTL		ctl;

	if (!callbacks_registered)
	{
		CacheRegisterSyscacheCallback(NAMESPACEOID, ns_schema_changed, (Datum) 0);
		CacheRegisterRelcacheCallback(ns_relation_changed, (Datum) 0);
		callbacks_registered = true;
	}
	if (!OidIsValid(registry_relid))
	{
		Oid			nsp = get_namespace_oid("eventodb", true);

		if (OidIsValid(nsp))
			registry_relid = get_relname_relid("namespaces", nsp);
	}
	if (ns_cache != NULL && !ns_cache_stale)
		return;
	if (ns_cache_cxt != NULL)
		MemoryContextDelete(ns_cache_cxt);
	ns_cache = NULL;
	ns_cache_stale = false;
	ns_cache_cxt = AllocSetContextCreate(TopMemoryContext, "eventodb namespaces",
										 ALLOCSET_SMALL_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(char *);
	ctl.entrysize = sizeof(NsCacheEntry);
	ctl.hash = ns_key_hash;
	ctl.match = ns_key_match;
	ctl.keycopy = ns_key_copy;
	ctl.hcxt = ns_cache_cxt;
	ns_cache = hash_create("eventodb namespace cache", 16, &ctl,
						   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE |
						   HASH_KEYCOPY | HASH_CONTEXT);
}

/* One registry row, read through SPI; a row whose table is gone is none. */
static bool
ns_registry_read(const char *id, NsCacheEntry *e)
{
	static Oid	argtypes[1] = {TEXTOID};
	SPIPlanPtr	plan;
	Datum		values[1];
	char	   *s;
	char	   *h;
	bool		isnull;
	Datum		table;

	plan = plan_for("eventodb", "ns_lookup",
					"SELECT schema_name, token_hash,"
					" pg_catalog.to_regclass(pg_catalog.quote_ident(schema_name) || '.messages')::oid"
					" FROM eventodb.namespaces WHERE id = $1",
					1, argtypes);
	values[0] = CStringGetTextDatum(id);
	/* Not read-only: a fresh snapshot sees a registry change made earlier
	 * in the same statement (e.g. by namespace_create). */
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: namespace lookup failed");
	if (SPI_processed == 0)
		return false;
	table = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	if (isnull)
		return false;
	s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	h = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	strlcpy(e->schema, s, NAMEDATALEN);
	strlcpy(e->token_hash, h, SHA256_HEX_LEN + 1);
	e->table = DatumGetObjectId(table);
	return true;
}

static bool
ns_lookup_table(const char *id, StoreRef *ref, char *token_hash, Oid *table)
{
	NsCacheEntry *e;
	NsCacheEntry fresh;

	ns_cache_prepare();
	e = hash_search(ns_cache, &id, HASH_FIND, NULL);
	if (e == NULL)
	{
		if (!ns_registry_read(id, &fresh))
			return false;
		e = &fresh;
		/* An invalidation during the read leaves this answer right (read
		 * after processing it) but the cache due for a rebuild: don't add. */
		if (!ns_cache_stale)
		{
			bool		found;

			e = hash_search(ns_cache, &id, HASH_ENTER, &found);
			memcpy(e->schema, fresh.schema, sizeof(fresh.schema));
			memcpy(e->token_hash, fresh.token_hash, sizeof(fresh.token_hash));
			e->table = fresh.table;
		}
	}
	ref->ns_id = pstrdup(id);
	ref->schema = pstrdup(e->schema);
	if (token_hash)
		memcpy(token_hash, e->token_hash, SHA256_HEX_LEN + 1);
	if (table)
		*table = e->table;
	return true;
}

bool
ns_lookup(const char *id, StoreRef *ref, char *token_hash)
{
	return ns_lookup_table(id, ref, token_hash, NULL);
}

static bool
resolve(const char *id, LOCKMODE lockmode, bool wait, StoreRef *ref)
{
	for (;;)
	{
		uint64		generation = ns_cache_generation;
		Oid			table;

		if (id == NULL || !ns_lookup_table(id, ref, NULL, &table))
			ereport(ERROR,
					(errcode(ERRCODE_EV_NOT_FOUND),
					 errmsg("namespace not found")));
		if (wait)
			LockRelationOid(table, lockmode);
		else if (!ConditionalLockRelationOid(table, lockmode))
			return false;
		if (generation == ns_cache_generation)
			return true;
		/* Something changed while we waited: ask the registry again. */
		UnlockRelationOid(table, lockmode);
	}
}

StoreRef
ns_resolve_arg(FunctionCallInfo fcinfo, int argno, LOCKMODE lockmode)
{
	return ns_resolve(PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno)),
					  lockmode);
}

StoreRef
ns_resolve(const char *id, LOCKMODE lockmode)
{
	StoreRef	ref;

	(void) resolve(id, lockmode, true, &ref);
	return ref;
}

bool
ns_try_resolve(const char *id, LOCKMODE lockmode, StoreRef *ref)
{
	return resolve(id, lockmode, false, ref);
}

/*
 * Statement trigger on eventodb.namespaces: whatever changed the registry
 * (our functions or plain SQL), every backend drops its cached lookups.
 */
Datum
ev_namespaces_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "eventodb: namespaces_changed must be called as a trigger");
	CacheInvalidateRelcache(td->tg_relation);
	ns_cache_forget();
	return PointerGetDatum(NULL);
}
