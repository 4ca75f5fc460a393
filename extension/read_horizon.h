/*
 * Read marks: each namespace's commit horizon, copied by the primary's poke
 * worker into eventodb.read_horizons so it reaches hot standbys through WAL
 * (extension/schema/1.1/60_read_horizon.sql has the argument). On a standby a
 * category read returns only positions below its namespace's mark.
 */
#ifndef EVENTODB_READ_HORIZON_H
#define EVENTODB_READ_HORIZON_H

#include "postgres.h"

/* Whether this database has the mark table (extension 1.1 or later). */
bool		read_horizon_table_exists(void);

/*
 * Worker side: stores safe_below as the mark of schema. Needs a
 * transaction with SPI connected; the caller commits.
 */
void		read_horizon_store(const char *schema, int64 safe_below);

/*
 * Standby side: the mark of schema, read under a snapshot taken now (so
 * before the read's own snapshot), or 1 - read nothing yet - when there is
 * none.
 */
int64		read_horizon_mark(const char *schema);

#endif
