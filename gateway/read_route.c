/* See read_route.h. */
#include "read_route.h"

#include "log.h"
#include "pool.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A WAL position the primary could not tell: read on the primary until a
 * later write of the namespace learns a real one. */
#define LSN_UNKNOWN UINT64_MAX

typedef struct NsWrite
{
	char	   *ns;
	uint64_t	lsn;			/* WAL position after its last write; 0: caught up */
	int64_t		gpos;			/* highest global position written; 0: caught up */
} NsWrite;

/* One entry per namespace written through this gateway: few, so a list. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static NsWrite *writes;
static size_t nwrites;
static size_t maxwrites;

/* "X/Y" as PostgreSQL prints a pg_lsn; false when it is not one. */
static bool
parse_lsn(const char *s, uint64_t *out)
{
	unsigned int hi,
				lo;
	int			used = 0;

	if (sscanf(s, "%X/%X%n", &hi, &lo, &used) != 2 || s[used] != '\0')
		return false;
	*out = ((uint64_t) hi << 32) | lo;
	return true;
}

/* The highest "globalPosition":N in a write's JSON answer (0: none). */
static int64_t
max_global_position(const char *json)
{
	static const char key[] = "\"globalPosition\":";
	int64_t		max = 0;

	for (const char *p = strstr(json, key); p != NULL; p = strstr(p + 1, key))
	{
		long long	v = strtoll(p + sizeof(key) - 1, NULL, 10);

		if (v > max)
			max = v;
	}
	return max;
}

static NsWrite *
find(const char *ns, bool add)
{
	for (size_t i = 0; i < nwrites; i++)
		if (strcmp(writes[i].ns, ns) == 0)
			return &writes[i];
	if (!add)
		return NULL;
	if (nwrites == maxwrites)
	{
		size_t		n = maxwrites == 0 ? 16 : maxwrites * 2;
		NsWrite    *w = realloc(writes, n * sizeof(NsWrite));

		if (w == NULL)
			abort();
		writes = w;
		maxwrites = n;
	}
	writes[nwrites].ns = strdup(ns);
	if (writes[nwrites].ns == NULL)
		abort();
	writes[nwrites].lsn = 0;
	writes[nwrites].gpos = 0;
	return &writes[nwrites++];
}

void
read_route_note_write(const char *ns, const char *result)
{
	char	   *err = NULL;
	PGresult   *res;
	uint64_t	lsn = LSN_UNKNOWN;
	int64_t		gpos;
	NsWrite    *w;

	if (!pool_read_enabled())
		return;
	gpos = max_global_position(result);
	/* Asked after the commit: the position is at or past the commit record. */
	res = pool_exec("ryw_wal_lsn", "SELECT pg_current_wal_lsn()", 0, NULL, &err);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
		!parse_lsn(PQgetvalue(res, 0, 0), &lsn))
	{
		lsn = LSN_UNKNOWN;
		log_warn("cannot learn the primary's WAL position after a write (reads of that namespace "
				 "stay on the primary): %s",
				 err ? err : res ? PQresultErrorMessage(res) : "no result");
	}
	PQclear(res);
	free(err);
	pthread_mutex_lock(&mu);
	w = find(ns, true);
	if (w->lsn != LSN_UNKNOWN && (lsn == LSN_UNKNOWN || lsn > w->lsn))
		w->lsn = lsn;
	else if (w->lsn == LSN_UNKNOWN && lsn != LSN_UNKNOWN)
		w->lsn = lsn;
	if (gpos > w->gpos)
		w->gpos = gpos;
	pthread_mutex_unlock(&mu);
}

static PGresult *
route(bool category, const char *ns, const char *name, const char *sql, int nparams,
	  const char *const *values, char **err)
{
	uint64_t	lsn = 0;
	int64_t		gpos = 0;
	char		lsn_text[24];
	char		gpos_text[24];
	const char *check[3] = {lsn_text, ns, gpos_text};
	bool		behind = false;
	bool		pending;
	PGresult   *res;
	NsWrite    *w;

	if (!pool_read_enabled())
		return pool_exec(name, sql, nparams, values, err);
	pthread_mutex_lock(&mu);
	w = find(ns, false);
	if (w != NULL)
	{
		lsn = w->lsn;
		gpos = category ? w->gpos : 0;
	}
	pthread_mutex_unlock(&mu);
	if (lsn == LSN_UNKNOWN)
		return pool_exec(name, sql, nparams, values, err);
	pending = lsn != 0 || gpos != 0;
	snprintf(lsn_text, sizeof(lsn_text), "%X/%X", (unsigned int) (lsn >> 32), (unsigned int) lsn);
	snprintf(gpos_text, sizeof(gpos_text), "%" PRId64, gpos);
	if (!pending)
		res = pool_read_exec(NULL, NULL, 0, NULL, &behind, name, sql, nparams, values, err);
	else if (category)
		/* NULL replay position: a server not in recovery, which is current. */
		res = pool_read_exec("ryw_category_caught_up",
							 "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true)"
							 " AND eventodb.read_horizon($2::text) > $3::bigint",
							 3, check, &behind, name, sql, nparams, values, err);
	else
		res = pool_read_exec("ryw_caught_up",
							 "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true)",
							 1, check, &behind, name, sql, nparams, values, err);
	if (res != NULL)
	{
		/* Caught up with the write: later reads need not ask again. */
		if (pending)
		{
			pthread_mutex_lock(&mu);
			w = find(ns, false);	/* the list may have moved meanwhile */
			if (w != NULL && w->lsn == lsn)
				w->lsn = 0;
			if (w != NULL && category && w->gpos == gpos)
				w->gpos = 0;
			pthread_mutex_unlock(&mu);
		}
		return res;
	}
	if (!behind)
	{
		/* No standby connection: the primary answers instead of an error. */
		log_debug("read pool unavailable, reading on the primary: %s", *err ? *err : "");
		free(*err);
		*err = NULL;
	}
	return pool_exec(name, sql, nparams, values, err);
}

PGresult *
read_exec(const char *ns, const char *name, const char *sql, int nparams,
		  const char *const *values, char **err)
{
	return route(false, ns, name, sql, nparams, values, err);
}

PGresult *
read_exec_category(const char *ns, const char *name, const char *sql, int nparams,
				   const char *const *values, char **err)
{
	return route(true, ns, name, sql, nparams, values, err);
}
