/* libpq connection pool with prepared statements (docs/architecture.md#when-postgresql-goes-away). A broken
 * connection is dropped and re-opened with backoff; callers then see a
 * failure they report as BACKEND_ERROR, never a hang. */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>

bool		pool_init(const char *db_url, int size, char **err);
void		pool_shutdown(void);

/*
 * Test mode without --db-url serves /health before its private database is
 * up: between pool_mark_starting() and pool_init()/pool_fail_start(),
 * pool_exec() waits (bounded) instead of failing.
 */
void		pool_mark_starting(void);
void		pool_fail_start(const char *why);

/*
 * Runs one parameterised statement (text params, text results) on a pooled
 * connection, preparing it there under `name` on first use. Returns the
 * result (caller PQclear()s it; check PQresultStatus and use
 * PG_DIAG_SQLSTATE), or NULL when no connection could be obtained (*err set
 * to a malloc'd reason).
 */
PGresult   *pool_exec(const char *name, const char *sql, int nparams,
					  const char *const *values, char **err);

/*
 * The same with parameter lengths and formats as PQexecPrepared takes them
 * (NULL: all text). *intact (when not NULL) tells whether the connection
 * came out healthy and idle: a failed statement was then rolled back by the
 * server, not cut off with its outcome unknown.
 */
PGresult   *pool_exec_params(const char *name, const char *sql, int nparams,
							 const char *const *values, const int *lengths,
							 const int *formats, bool *intact, char **err);

/*
 * The read pool of --read-db-url (docs/scale-out.md#reads-from-standbys):
 * opened once at start; pool_read_enabled() tells whether it was.
 * pool_read_exec runs a read there, but when check_name is not NULL first
 * runs that check statement on the same connection (one boolean); when it
 * says false nothing runs, *behind is set and NULL is returned (the caller
 * reads on the primary). NULL with *behind false: no connection (*err).
 */
bool		pool_read_init(const char *db_url, int size, char **err);
bool		pool_read_enabled(void);
PGresult   *pool_read_exec(const char *check_name, const char *check_sql, int ncheck,
						   const char *const *check_values, bool *behind, const char *name,
						   const char *sql, int nparams, const char *const *values,
						   char **err);

/* Number of open connections (for sys.health). */
int			pool_open_count(void);

/* A snapshot for /metrics: slots, busy ones, open and free ones, and
 * requests waiting for a free one. */
typedef struct PoolUsage
{
	int			size;
	int			busy;
	int			idle;
	int			waiting;
} PoolUsage;

void		pool_usage(PoolUsage *u);

/*
 * Opens a connection outside the pool (start-up, LISTEN, long imports)
 * with the pool's connection settings. NULL with *err set on failure.
 */
PGconn	   *pool_connect(const char *db_url, char **err);

#endif
