/* The private throw-away PostgreSQL of `--test-mode` without --db-url
 * (docs/configuration.md#test-mode-without-a-database): a cached template cluster with the extension created,
 * copied per launch, started on a private unix socket with fsync off, and
 * removed at exit. */
#ifndef GW_TESTDB_H
#define GW_TESTDB_H

#include <stdbool.h>

/* Builds the template if needed, copies and starts the cluster, waits for
 * it to accept connections. *db_url (malloc'd) points at its database. */
bool		testdb_start(char **db_url, char **err);

/* Stops the cluster (immediate shutdown) and removes its directory. */
void		testdb_stop(void);

/* `eventodb prepare-test-template`: builds the cached template now. */
int			testdb_prepare_main(void);

#endif
