/*
 * Reads on standbys (--read-db-url, docs/scale-out.md#reads-from-standbys).
 *
 * Without a read pool every call here is pool_exec() and costs nothing
 * more. With one, read-only methods run there, except that a namespace
 * written through this gateway is read on the primary until the standby
 * has caught up with that write (read-your-writes): after each
 * acknowledged write the gateway asks the primary for its WAL position and
 * keeps it with the write's highest global position; before a read of the
 * namespace it asks the read connection's server whether it has replayed
 * that far, and for a category read also whether its read mark
 * (eventodb.read_horizon) has passed that global position.
 */
#ifndef GW_READ_ROUTE_H
#define GW_READ_ROUTE_H

#include <libpq-fe.h>

/* After a write to namespace ns succeeded, before it is acknowledged;
 * result is its JSON answer (the "globalPosition" values in it count). */
void		read_route_note_write(const char *ns, const char *result);

/* A read-only statement about namespace ns, as pool_exec(): a stream or
 * listing read, or (read_exec_category) a category read. */
PGresult   *read_exec(const char *ns, const char *name, const char *sql, int nparams,
					  const char *const *values, char **err);
PGresult   *read_exec_category(const char *ns, const char *name, const char *sql, int nparams,
							   const char *const *values, char **err);

#endif
