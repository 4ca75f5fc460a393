/*
 * Where a namespace's lifecycle state lives (lifecycle.h). The tables are
 * made by the first lifecycle call of the namespace, so a namespace that
 * never uses delete, retention or redaction has none, and its writes pay
 * two syscache lookups for the check that finds them missing.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "lifecycle.h"
#include "lazy_storage.h"
#include "namespace.h"
#include "subscription.h"

/* Private lock tag: pg_advisory_* only produce field4 1 and 2; the
 * subscription tables use 0xE5B1. */
#define LIFECYCLE_STORAGE_LOCK_FIELD4 0xE5C1

static const char *const lifecycle_ddl =
"CREATE TABLE @S.lifecycle_streams ("
"  stream_name text NOT NULL PRIMARY KEY,"
"  version bigint NOT NULL DEFAULT -1,"
"  deleted text CHECK (deleted IN ('soft', 'hard')),"
"  deleted_at timestamp,"
"  max_age bigint,"
"  max_count bigint,"
"  truncate_before bigint"
");"
"CREATE INDEX lifecycle_streams_rules ON @S.lifecycle_streams (stream_name)"
"  WHERE max_age IS NOT NULL OR max_count IS NOT NULL OR truncate_before IS NOT NULL;"
"CREATE TABLE @S.lifecycle_categories ("
"  category text NOT NULL PRIMARY KEY,"
"  max_age bigint,"
"  max_count bigint,"
"  count_scan_from bigint NOT NULL DEFAULT 0"
");"
"CREATE TABLE @S.lifecycle_redactions ("
"  global_position bigint NOT NULL PRIMARY KEY,"
"  stream_name text NOT NULL,"
"  position bigint NOT NULL,"
"  reason text NOT NULL,"
"  redacted_at timestamp NOT NULL"
");";

const char *
lifecycle_schema_of(const StoreRef *ref)
{
	return strcmp(ref->schema, NS_DEFAULT_SCHEMA) == 0 ? SUB_DEFAULT_SCHEMA : ref->schema;
}

bool
lifecycle_storage_exists(const char *schema)
{
	Oid			nsp = get_namespace_oid(schema, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("lifecycle_streams", nsp));
}

void
lifecycle_storage_ensure(const StoreRef *ref)
{
	lazy_storage_ensure(lifecycle_schema_of(ref), "lifecycle", LIFECYCLE_STORAGE_LOCK_FIELD4,
						lifecycle_storage_exists, lifecycle_ddl);
}

void
lifecycle_tombstones_ensure(const StoreRef *ref)
{
	const char *schema = lifecycle_schema_of(ref);
	Oid			nsp = get_namespace_oid(schema, true);

	if (OidIsValid(get_relname_relid(LIFECYCLE_TOMBSTONE_INDEX, nsp)))
		return;
	if (SPI_execute(lazy_with_marker("CREATE INDEX IF NOT EXISTS " LIFECYCLE_TOMBSTONE_INDEX
								" ON @S.lifecycle_streams (stream_name) WHERE deleted = 'hard'",
								'S', schema), false, 0) < 0)
		elog(ERROR, "eventodb: could not create the tombstone index in %s", schema);
}

void
lifecycle_forget_messages(const StoreRef *ref)
{
	const char *schema = lifecycle_schema_of(ref);

	if (!lifecycle_storage_exists(schema))
		return;
	if (SPI_execute(lazy_with_marker("DELETE FROM @S.lifecycle_streams WHERE max_age IS NULL"
									 " AND max_count IS NULL AND truncate_before IS NULL;"
									 "UPDATE @S.lifecycle_streams SET version = -1, deleted = NULL,"
									 " deleted_at = NULL;"
									 "UPDATE @S.lifecycle_categories SET count_scan_from = 0;"
									 "DELETE FROM @S.lifecycle_redactions", 'S', schema),
					false, 0) < 0)
		elog(ERROR, "eventodb: could not reset the lifecycle state in %s", schema);
}

SPIPlanPtr
lifecycle_plan(const StoreRef *ref, const char *key, const char *tmpl, int nargs, Oid *argtypes)
{
	/* plan_for puts in @S and caches by (state schema, key); a state
	 * schema always belongs to the same messages schema, so @M goes in
	 * before. */
	return plan_for(lifecycle_schema_of(ref), key, lazy_with_marker(tmpl, 'M', ref->schema),
					nargs, argtypes);
}
