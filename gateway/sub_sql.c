/* See sub_sql.h. */
#include "sub_sql.h"

#include "metrics.h"
#include "pool.h"

#include <inttypes.h>
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
subsql_refresh_ms(const PGresult *source, int cap_ms)
{
	long		ack = 0;

	if (source != NULL && PQresultStatus(source) == PGRES_TUPLES_OK && PQntuples(source) == 1 &&
		!PQgetisnull(source, 0, 1))
		ack = strtol(PQgetvalue(source, 0, 1), NULL, 10);
	/* fetch again well before the consumer's activity ends */
	if (ack > 0 && ack / 2 < cap_ms)
		return ack / 2 < 50 ? 50 : (int) (ack / 2);
	return cap_ms;
}
