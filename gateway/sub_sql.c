/* See sub_sql.h. */
#include "sub_sql.h"

#include "deadline.h"
#include "metrics.h"
#include "pool.h"
#include "subwait.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PGresult *
subsql_fetch(const char *ns, const char *name, const char *consumer, int64_t max, char **err)
{
	char		maxs[24];
	const char *params[4] = {ns, name, consumer, maxs};
	PGresult   *res;

	snprintf(maxs, sizeof(maxs), "%" PRId64, max);
	res = pool_exec("subscription_fetch",
					"SELECT d.delivery_id, eventodb.delivery_json(d), d.attempt "
					"FROM eventodb.subscription_fetch($1::text, $2::text, $3::text, $4::integer) d",
					4, params, err);
	metrics_sub_fetched(res, 2);
	return res;
}

PGresult *
subsql_source(const char *ns, const char *name, char **err)
{
	const char *params[2] = {ns, name};

	return pool_exec("subscription_source",
					 "SELECT i->>'category', i->>'ackTimeoutMs' "
					 "FROM (SELECT eventodb.subscription_get($1::text, $2::text)::jsonb AS i) s",
					 2, params, err);
}

PGresult *
subsql_release(const char *ns, const char *name, const char *consumer,
			   const char *ids_literal, char **err)
{
	const char *params[4] = {ns, name, consumer, ids_literal};

	return pool_exec("subscription_release",
					 "SELECT eventodb.subscription_release($1::text, $2::text, $3::text, $4::text[])",
					 4, params, err);
}

void
subsql_array_element(StrBuf *sb, const char *s, size_t len)
{
	sb_putc(sb, '"');
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '"' || s[i] == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, s[i]);
	}
	sb_putc(sb, '"');
}

void
subsql_json_array(StrBuf *sb, const PGresult *res, int col)
{
	int			n = PQntuples(res);

	sb_putc(sb, '[');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			sb_putc(sb, ',');
		if (PQgetisnull(res, i, col))
			sb_puts(sb, "null");
		else
			sb_append(sb, PQgetvalue(res, i, col), (size_t) PQgetlength(res, i, col));
	}
	sb_putc(sb, ']');
}

bool
subsql_state_is(const PGresult *res, const char *state)
{
	const char *s;

	if (res == NULL || PQresultStatus(res) == PGRES_TUPLES_OK)
		return false;
	s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return s != NULL && strcmp(s, state) == 0;
}

int
subsql_refresh_ms(int ack, int cap_ms)
{
	/* fetch again well before the consumer's activity ends: a third of
	 * it, less the tick that may delay the fetch, so a stalled round or
	 * a slow fetch still leaves it active (no churn of stream owners) */
	int			ms = ack / 3 - SUBWAIT_TICK_MS;

	if (ack <= 0 || ms >= cap_ms)
		return cap_ms;
	return ms < 20 ? 20 : ms;
}

/*
 * A direct-mapped cache: a long poll that a client repeats after every
 * answer would otherwise read the subscription (and count its lag) once
 * per wait. A category never changes; a stale ackTimeoutMs only moves the
 * refresh timer; entries live SOURCE_TTL_MS.
 */
#define SOURCE_SLOTS 256
#define SOURCE_TTL_MS 5000

typedef struct SourceEntry
{
	char	   *key;			/* ns '\0' name */
	size_t		keylen;
	char	   *category;
	int			ack_ms;
	int64_t		expires_ms;
} SourceEntry;

static pthread_mutex_t source_mu = PTHREAD_MUTEX_INITIALIZER;
static SourceEntry source_cache[SOURCE_SLOTS];

static size_t
source_key(const char *ns, const char *name, char **key)
{
	size_t		a = strlen(ns),
				b = strlen(name);

	*key = malloc(a + b + 2);
	if (*key == NULL)
		abort();
	memcpy(*key, ns, a + 1);
	memcpy(*key + a + 1, name, b + 1);
	return a + b + 1;
}

static SourceEntry *
source_slot(const char *key, size_t len)
{
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) key[i];
		h *= 1099511628211ULL;
	}
	return &source_cache[h % SOURCE_SLOTS];
}

static bool
source_hit(const SourceEntry *e, const char *key, size_t len, int64_t now)
{
	return e->key != NULL && e->keylen == len && memcmp(e->key, key, len) == 0 &&
		now < e->expires_ms;
}

void
subsql_source_forget(const char *ns, const char *name)
{
	char	   *key;
	size_t		len = source_key(ns, name, &key);
	SourceEntry *e = source_slot(key, len);

	pthread_mutex_lock(&source_mu);
	if (e->key != NULL && e->keylen == len && memcmp(e->key, key, len) == 0)
		e->expires_ms = 0;
	pthread_mutex_unlock(&source_mu);
	free(key);
}

bool
subsql_source_info(const char *ns, const char *name, bool cached, char **category,
				   int *ack_timeout_ms, PGresult **failed, char **err)
{
	char	   *key;
	size_t		len = source_key(ns, name, &key);
	SourceEntry *e = source_slot(key, len);
	int64_t		now = monotonic_ms();
	PGresult   *res;

	*failed = NULL;
	pthread_mutex_lock(&source_mu);
	if (cached && source_hit(e, key, len, now))
	{
		*category = strdup(e->category);
		*ack_timeout_ms = e->ack_ms;
		pthread_mutex_unlock(&source_mu);
		free(key);
		if (*category == NULL)
			abort();
		return true;
	}
	pthread_mutex_unlock(&source_mu);

	res = subsql_source(ns, name, err);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		*failed = res;
		free(key);
		return false;
	}
	*category = strdup(PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	*ack_timeout_ms = PQgetisnull(res, 0, 1) ? 0 : (int) strtol(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (*category == NULL)
		abort();

	pthread_mutex_lock(&source_mu);
	free(e->key);
	free(e->category);
	e->key = key;
	e->keylen = len;
	e->category = strdup(*category);
	if (e->category == NULL)
		abort();
	e->ack_ms = *ack_timeout_ms;
	e->expires_ms = now + SOURCE_TTL_MS;
	pthread_mutex_unlock(&source_mu);
	return true;
}
