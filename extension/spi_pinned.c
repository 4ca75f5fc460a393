/* See spi_pinned.h. */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "utils/memutils.h"

#include "spi_pinned.h"

/*
 * The search path of the caller of the latest outermost pinned section (a
 * nested one, opened while pinned, keeps it). Kept in TopMemoryContext and
 * replaced, never stacked, so an error that skips a finish leaves nothing
 * to unwind.
 */
static OverrideSearchPath *caller_path;

static bool
pinned_now(void)
{
	Oid			first;
	int			n = fetch_search_path_array(&first, 1);

	return n == 1 && first == PG_CATALOG_NAMESPACE;
}

void
spi_connect_pinned(void)
{
	/* pg_catalog only: no temporary schema, no schema a user can create in */
	OverrideSearchPath catalog_only = {.schemas = NIL, .addCatalog = true, .addTemp = false};
	int			rc;

	/* kept while the caller's path stays the same: no copy on every call */
	if (!pinned_now() &&
		(caller_path == NULL || !OverrideSearchPathMatchesCurrent(caller_path)))
	{
		OverrideSearchPath *path = GetOverrideSearchPath(TopMemoryContext);

		if (caller_path != NULL)
		{
			list_free(caller_path->schemas);
			pfree(caller_path);
		}
		caller_path = path;
	}
	PushOverrideSearchPath(&catalog_only);
	rc = SPI_connect();
	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "eventodb: SPI_connect failed: %s", SPI_result_code_string(rc));
}

void
spi_finish_pinned(void)
{
	int			rc = SPI_finish();

	/* an error unwinds the override with its (sub)transaction instead */
	PopOverrideSearchPath();
	if (rc != SPI_OK_FINISH)
		elog(ERROR, "eventodb: SPI_finish failed: %s", SPI_result_code_string(rc));
}

bool
spi_caller_path_push(void)
{
	if (caller_path == NULL)
		return false;
	PushOverrideSearchPath(caller_path);
	return true;
}

void
spi_caller_path_pop(bool pushed)
{
	if (pushed)
		PopOverrideSearchPath();
}
