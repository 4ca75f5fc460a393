/* See lazy_storage.h. */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"

#include "lazy_storage.h"

char *
lazy_with_marker(const char *tmpl, char marker, const char *schema)
{
	const char *q = quote_identifier(schema);
	StringInfoData buf;

	initStringInfo(&buf);
	for (const char *p = tmpl; *p; p++)
	{
		if (p[0] == '@' && p[1] == marker)
		{
			appendStringInfoString(&buf, q);
			p++;
		}
		else
			appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

void
lazy_storage_ensure(const char *schema, const char *what, uint16 lock_field4,
					bool (*exists) (const char *schema), const char *ddl)
{
	Oid			nsp = get_namespace_oid(schema, true);
	LOCKTAG		tag;

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("eventodb: schema \"%s\" of the %s state is missing", schema, what),
				 errhint("Run ALTER EXTENSION eventodb UPDATE.")));
	if (exists(schema))
		return;
	/* Taking the lock also processes the invalidations of a concurrent
	 * first call, so the second sees its tables. */
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, nsp, 0, lock_field4);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	if (exists(schema))
		return;
	if (SPI_execute(lazy_with_marker(ddl, 'S', schema), false, 0) < 0)
		elog(ERROR, "eventodb: could not create the %s tables in %s", what, schema);
}
