/*
 * Where a namespace's subscription state lives (subscription.h): tables in
 * its own schema, so they are dropped with the namespace, or in
 * eventodb_default for the default namespace, whose message_store schema
 * must hold exactly Message DB's objects.
 *
 * The tables are created by the namespace's first subscription_create, not
 * with the namespace: namespaces created before version 1.1 get them the
 * same way, and the upgrade script needs no per-namespace step.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "lazy_storage.h"
#include "namespace.h"
#include "subscription.h"

/* Private lock tag: pg_advisory_* only produce field4 1 and 2. */
#define SUB_STORAGE_LOCK_FIELD4 0xE5B1

/*
 * subscription_messages churns (every message is inserted, handed out and
 * deleted): autovacuum runs after a fixed number of changes, not a share
 * of the table, and the free rows roundRobin hands out next have their own
 * index, so neither fetch walks dead or in-flight rows.
 *
 * subscriptions.next_delivery is no longer read or written: delivery ids
 * take their batch number from a sequence (sub_draw_number). The column
 * stays so that tables created before and after look the same.
 */
static const char *const sub_ddl =
"CREATE TABLE @S.subscriptions ("
"  id bigint PRIMARY KEY,"
"  name text COLLATE \"C\" NOT NULL UNIQUE,"
"  category text NOT NULL,"
"  types text[] NOT NULL,"
"  max_in_flight integer NOT NULL,"
"  ack_timeout_ms integer NOT NULL,"
"  max_deliveries integer NOT NULL,"
"  strategy text NOT NULL,"
"  created_at timestamp NOT NULL,"
"  read_pos bigint NOT NULL,"
"  next_delivery bigint NOT NULL DEFAULT 1,"
"  pending bigint NOT NULL DEFAULT 0,"
"  in_flight bigint NOT NULL DEFAULT 0"
");"
"CREATE TABLE @S.subscription_messages ("
"  subscription_id bigint NOT NULL,"
"  global_position bigint NOT NULL,"
"  stream_name text NOT NULL,"
"  attempts integer NOT NULL DEFAULT 0,"
"  delivery_id text COLLATE \"C\","
"  consumer_id text COLLATE \"C\","
"  lease_until timestamptz,"
"  PRIMARY KEY (subscription_id, global_position)"
") WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,"
"  autovacuum_vacuum_insert_threshold = 2000, autovacuum_analyze_scale_factor = 0,"
"  autovacuum_analyze_threshold = 2000, autovacuum_vacuum_cost_delay = 0);"
"CREATE INDEX subscription_messages_free ON @S.subscription_messages"
"  (subscription_id, global_position) WHERE delivery_id IS NULL;"
"CREATE UNIQUE INDEX subscription_messages_delivery ON @S.subscription_messages"
"  (subscription_id, delivery_id) WHERE delivery_id IS NOT NULL;"
"CREATE INDEX subscription_messages_lease ON @S.subscription_messages"
"  (subscription_id, lease_until) WHERE delivery_id IS NOT NULL;"
"CREATE INDEX subscription_messages_consumer ON @S.subscription_messages"
"  (subscription_id, consumer_id) WHERE delivery_id IS NOT NULL;"
"CREATE TABLE @S.subscription_parked ("
"  subscription_id bigint NOT NULL,"
"  global_position bigint NOT NULL,"
"  stream_name text NOT NULL,"
"  attempts integer NOT NULL,"
"  reason text NOT NULL,"
"  parked_at timestamp NOT NULL,"
"  PRIMARY KEY (subscription_id, global_position)"
");"
"CREATE TABLE @S.subscription_consumers ("
"  subscription_id bigint NOT NULL,"
"  consumer_id text COLLATE \"C\" NOT NULL,"
"  last_seen timestamptz NOT NULL,"
"  active_until timestamptz NOT NULL,"
"  PRIMARY KEY (subscription_id, consumer_id)"
");";

static const char *const sub_drop =
"DROP TABLE IF EXISTS @S.subscription_consumers, @S.subscription_parked,"
"  @S.subscription_messages, @S.subscriptions";

const char *
sub_schema_of(const StoreRef *ref)
{
	return strcmp(ref->schema, NS_DEFAULT_SCHEMA) == 0 ? SUB_DEFAULT_SCHEMA : ref->schema;
}

bool
sub_storage_exists(const char *schema)
{
	Oid			nsp = get_namespace_oid(schema, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("subscriptions", nsp));
}

void
sub_storage_ensure(const char *schema)
{
	lazy_storage_ensure(schema, "subscription", SUB_STORAGE_LOCK_FIELD4, sub_storage_exists,
						sub_ddl);
}

void
sub_storage_drop(const char *schema)
{
	if (!sub_storage_exists(schema))
		return;
	if (SPI_execute(lazy_with_marker(sub_drop, 'S', schema), false, 0) < 0)
		elog(ERROR, "eventodb: could not drop the subscription tables in %s", schema);
	plans_forget_schema(schema);
}

SPIPlanPtr
sub_plan_ns(const StoreRef *ref, const char *key, const char *tmpl, int nargs, Oid *argtypes)
{
	/* plan_for puts in @S itself and caches by (state schema, key); the
	 * messages schema of a state schema never changes, so @M can go in
	 * before. */
	return plan_for(sub_schema_of(ref), key, lazy_with_marker(tmpl, 'M', ref->schema),
					nargs, argtypes);
}

SPIPlanPtr
sub_plan(const Sub *sub, const char *key, const char *tmpl, int nargs, Oid *argtypes)
{
	return sub_plan_ns(&sub->ref, key, tmpl, nargs, argtypes);
}
