/* See spi_pinned.h. */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"

#include "spi_pinned.h"

void
spi_connect_pinned(void)
{
	/* pg_catalog only: no temporary schema, no schema a user can create in */
	OverrideSearchPath catalog_only = {.schemas = NIL, .addCatalog = true, .addTemp = false};
	int			rc;

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
