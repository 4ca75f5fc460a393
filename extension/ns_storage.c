/*
 * The storage of one namespace: a schema with Message DB's messages table
 * (same columns, defaults, constraint and index names as message_store, so
 * errors read the same) and its own global-position sequence, so positions
 * start at 1 per namespace (docs/sql-api.md#namespaces).
 *
 * Schema names come from a registry sequence, never from the namespace id,
 * so they cannot collide or be truncated (docs/architecture.md#namespaces).
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "namespace.h"
#include "store.h"

/*
 * message_store.messages as the install and upgrade scripts define it,
 * with @S for the quoted schema: generated from them at build time
 * (extension/ns_storage_ddl.awk), so the two tables cannot drift apart.
 */
#include "ns_storage_ddl.h"

static void
run_utility(const char *sql)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "eventodb: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

char *
ns_storage_new_schema(void)
{
	for (;;)
	{
		bool		isnull;
		int64		n;
		char	   *name;

		if (SPI_execute("SELECT pg_catalog.nextval('eventodb.namespace_schema_seq')",
						false, 1) != SPI_OK_SELECT)
			elog(ERROR, "eventodb: could not draw a schema number");
		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
		name = psprintf(NS_SCHEMA_PREFIX INT64_FORMAT, n);
		if (!OidIsValid(get_namespace_oid(name, true)))
			return name;
	}
}

void
ns_storage_create(const char *schema)
{
	ObjectAddress schema_addr;
	ObjectAddress ext_addr;

	run_utility(plan_sql(schema, "CREATE SCHEMA @S"));
	run_utility(plan_sql(schema, storage_ddl_messages));

	/* DROP EXTENSION ... CASCADE then takes the namespaces with it, and a
	 * plain DROP EXTENSION refuses while namespaces exist. */
	ObjectAddressSet(schema_addr, NamespaceRelationId, get_namespace_oid(schema, false));
	ObjectAddressSet(ext_addr, ExtensionRelationId, get_extension_oid("eventodb", false));
	recordDependencyOn(&schema_addr, &ext_addr, DEPENDENCY_NORMAL);
}

int64
ns_storage_lock_and_count(const char *schema)
{
	bool		isnull;

	if (!OidIsValid(get_namespace_oid(schema, true)))
		return 0;
	run_utility(plan_sql(schema, "LOCK TABLE @S.messages IN ACCESS EXCLUSIVE MODE"));
	if (SPI_execute(plan_sql(schema, "SELECT pg_catalog.count(*) FROM @S.messages"),
					false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not count messages of %s", schema);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

void
ns_storage_drop(const char *schema)
{
	Oid			nsp = get_namespace_oid(schema, true);
	ObjectAddress addr;

	if (!OidIsValid(nsp))
		return;
	ObjectAddressSet(addr, NamespaceRelationId, nsp);
	performDeletion(&addr, DROP_CASCADE, PERFORM_DELETION_INTERNAL | PERFORM_DELETION_QUIETLY);
	plans_forget_schema(schema);
}

void
ns_storage_clear(const char *schema)
{
	char	   *seq;

	run_utility(plan_sql(schema, "DELETE FROM @S.messages"));
	if (SPI_execute(plan_sql(schema,
								"SELECT pg_catalog.pg_get_serial_sequence('@S.messages', 'global_position')"),
					false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not find the sequence of %s", schema);
	seq = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (seq == NULL)
		elog(ERROR, "eventodb: %s.messages has no global position sequence", schema);
	/* RESTART, unlike setval, is transactional: a rollback keeps the old
	 * counter, so it never falls behind rows that survive. */
	run_utility(psprintf("ALTER SEQUENCE %s RESTART WITH 1", seq));
}
