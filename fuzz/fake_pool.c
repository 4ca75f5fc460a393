/*
 * A stand-in for gateway/pool.c: no database, canned results built with
 * libpq's public result constructors. fake_pool_mode (set by a harness from
 * its input) picks what every call answers: success, a failed statement, or
 * "no connection".
 *
 * Checked on every call (violations abort):
 *   - a statement name always comes with the same SQL text, so no client
 *     byte ever reaches SQL text (docs/architecture.md#data-flow: parameters only);
 *   - nparams equals the highest $N placeholder of the SQL;
 *   - parameters are NUL-terminated strings (PostgreSQL text cannot hold
 *     NUL; the gateway must have refused such values before this point).
 */
#include "fake_pool.h"

#include "json_oracle.h"
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fake_pool"
#include "fuzz_check.h"

FakePoolMode fake_pool_mode = FAKE_DB_OK;
unsigned	fake_pool_calls;

#define MAX_STATEMENTS 64
static struct
{
	char	   *name;
	char	   *sql;
}			seen[MAX_STATEMENTS];
static int	nseen;

static void
check_statement(const char *name, const char *sql, int nparams)
{
	int			highest = 0;

	for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$'))
	{
		int			k = atoi(p + 1);

		if (k > highest)
			highest = k;
	}
	CHECK(highest == nparams, "%s: %d parameters for SQL with $%d", name, nparams, highest);
	for (int i = 0; i < nseen; i++)
	{
		if (strcmp(seen[i].name, name) == 0)
		{
			CHECK(strcmp(seen[i].sql, sql) == 0, "statement %s changed its SQL:\n%s\n%s",
				  name, seen[i].sql, sql);
			return;
		}
	}
	CHECK(nseen < MAX_STATEMENTS, "too many statements");
	seen[nseen].name = strdup(name);
	seen[nseen].sql = strdup(sql);
	nseen++;
}

static PGresult *
one_value(const char *value)
{
	PGresult   *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc att = {.name = (char *) "v", .typid = 25, .typlen = -1, .atttypmod = -1};

	CHECK(r != NULL && PQsetResultAttrs(r, 1, &att), "cannot build a result");
	if (value != NULL)
		CHECK(PQsetvalue(r, 0, 0, (char *) value, (int) strlen(value)), "cannot set a value");
	else
		CHECK(PQsetvalue(r, 0, 0, NULL, -1), "cannot set NULL");
	return r;
}

/* What the extension answers for a successful call (docs/sql-api.md#the-gateway-face-eventodb). */
static const char *
canned(const char *name, int nparams, const char *const *values, char *nsbuf, size_t nsbufsz)
{
	if (strcmp(name, "auth_namespace_of_token") == 0)
	{
		/* a token is "registered" when its random part is all zeros */
		size_t		len = strlen(values[0]);
		size_t		nslen;
		char		err[TOKEN_ERROR_MAX];

		if (len + 1 > nsbufsz || !token_parse(values[0], len, nsbuf, &nslen, err, sizeof(err)))
			return NULL;
		if (len < 64 || strspn(values[0] + len - 64, "0") != 64 || memchr(nsbuf, '\0', nslen))
			return NULL;
		return nsbuf;
	}
	if (strcmp(name, "stream_write") == 0 || strcmp(name, "stream_write_idempotent") == 0)
		return "{\"globalPosition\":1,\"position\":0}";
	if (strcmp(name, "stream_write_many") == 0)
		return "[{\"globalPosition\":1,\"position\":0}]";
	if (strcmp(name, "stream_get_backward") == 0 || strcmp(name, "category_get_types") == 0 ||
		strcmp(name, "pager_category_get_types") == 0)
		return "[]";
	if (strcmp(name, "category_position_at") == 0)
		return "1";
	if (strcmp(name, "stream_get") == 0 || strcmp(name, "category_get") == 0 ||
		strcmp(name, "pager_stream_get") == 0 || strcmp(name, "pager_category_get") == 0 ||
		strcmp(name, "namespace_list") == 0 || strcmp(name, "ns_streams") == 0 ||
		strcmp(name, "ns_categories") == 0)
		return "[]";
	if (strcmp(name, "stream_last") == 0)
		return NULL;
	if (strcmp(name, "stream_version") == 0 || strcmp(name, "namespace_delete") == 0)
		return "0";
	if (strcmp(name, "namespace_create") == 0)
		return nparams >= 3 && values[2] ? values[2] :
			"ns_ZGVmYXVsdA_0000000000000000000000000000000000000000000000000000000000000000";
	if (strcmp(name, "namespace_info") == 0)
		return "{\"createdAt\":\"2025-03-01T09:15:02Z\",\"description\":\"\",\"lastActivity\":null,"
			"\"messageCount\":0,\"namespace\":\"x\",\"streamCount\":0}";
	if (strcmp(name, "import_batch") == 0)
		return "1";
	if (strcmp(name, "subscription_create") == 0 || strcmp(name, "subscription_update") == 0 ||
		strcmp(name, "subscription_get") == 0 || strcmp(name, "subscription_reset") == 0)
		return "{\"ackTimeoutMs\":30000,\"category\":\"account\",\"checkpoint\":1,\"consumers\":[],"
			"\"createdAt\":\"2025-06-02T08:00:00.51Z\",\"inFlight\":0,\"lag\":0,\"maxDeliveries\":10,"
			"\"maxInFlight\":10,\"name\":\"billing\",\"parked\":0,\"strategy\":\"pinned\",\"types\":[]}";
	if (strcmp(name, "subscription_list") == 0)
		return "[]";
	if (strcmp(name, "subscription_delete") == 0)
		return "{\"deletedAt\":\"2025-06-02T08:00:00.51Z\",\"name\":\"billing\"}";
	if (strcmp(name, "subscription_ack") == 0 || strcmp(name, "subscription_nack") == 0 ||
		strcmp(name, "subscription_replay_parked") == 0)
		return "1";
	/* stream lifecycle (docs/lifecycle.md) */
	if (strcmp(name, "stream_delete") == 0)
		return "{\"deleted\":\"soft\",\"messagesRemoved\":0,\"streamName\":\"s\",\"version\":null}";
	if (strcmp(name, "stream_info") == 0)
		return "{\"deleted\":null,\"deletedAt\":null,\"streamName\":\"s\",\"version\":null}";
	if (strcmp(name, "stream_set_retention") == 0 || strcmp(name, "stream_retention") == 0)
		return "{\"maxAge\":null,\"maxCount\":null,\"streamName\":\"s\",\"truncateBefore\":null}";
	if (strcmp(name, "category_set_retention") == 0 || strcmp(name, "category_retention") == 0)
		return "{\"categoryName\":\"c\",\"maxAge\":null,\"maxCount\":null}";
	if (strcmp(name, "message_redact") == 0)
		return "{\"globalPosition\":1,\"id\":\"00000000-0000-4000-8000-000000000000\",\"position\":0,"
			"\"reason\":\"r\",\"redactedAt\":\"2025-06-02T08:00:00.51Z\",\"streamName\":\"s\","
			"\"vacuumNeeded\":true}";
	return "";
}

/* Statements answering rows (deliveries, parked entries): none. */
static bool
rows_statement(const char *name)
{
	return strcmp(name, "subscription_fetch") == 0 || strcmp(name, "subscription_parked") == 0;
}

static PGresult *
no_rows(int ncols)
{
	PGresult   *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc att[2] = {
		{.name = (char *) "a", .typid = 25, .typlen = -1, .atttypmod = -1},
		{.name = (char *) "b", .typid = 25, .typlen = -1, .atttypmod = -1},
	};

	CHECK(r != NULL && PQsetResultAttrs(r, ncols, att), "cannot build a result");
	return r;
}

static bool
data_statement(const char *name)
{
	static const char *const data[] = {
		"stream_write", "stream_get", "stream_last", "stream_version", "category_get",
		"pager_stream_get", "pager_category_get", "ns_streams", "ns_categories", "import_batch", "import_clear",
		"subscription_create", "subscription_update", "subscription_delete", "subscription_get",
		"subscription_list", "subscription_fetch", "subscription_ack", "subscription_nack",
		"subscription_parked", "subscription_replay_parked", "subscription_reset",
		"subscription_source",
		/* docs/writes-and-reads.md */
		"stream_write_idempotent", "stream_write_many", "stream_get_backward", "category_get_types",
		"pager_category_get_types", "category_position_at",
		/* docs/lifecycle.md */
		"stream_delete", "stream_info", "stream_set_retention",
		"stream_retention", "category_set_retention", "category_retention", "message_redact", NULL
	};

	for (int i = 0; data[i]; i++)
		if (strcmp(name, data[i]) == 0)
			return true;
	return false;
}

/* No read pool in the harnesses: read_route.c reads through pool_exec. */
bool
pool_read_enabled(void)
{
	return false;
}

PGresult *
pool_read_exec(const char *check_name, const char *check_sql, int ncheck,
			   const char *const *check_values, bool *behind, const char *name,
			   const char *sql, int nparams, const char *const *values, char **err)
{
	(void) check_name;
	(void) check_sql;
	(void) ncheck;
	(void) check_values;
	*behind = false;
	return pool_exec(name, sql, nparams, values, err);
}

/* Group commit runs a single write through pool_exec; a group (several
 * threads at once) never forms in a one-threaded harness. */
PGresult *
pool_exec_params(const char *name, const char *sql, int nparams,
				 const char *const *values, const int *lengths, const int *formats,
				 bool *intact, char **err)
{
	if (intact != NULL)
		*intact = true;
	if (lengths != NULL || formats != NULL)
		abort();
	return pool_exec(name, sql, nparams, values, err);
}

PGresult *
pool_exec(const char *name, const char *sql, int nparams,
		  const char *const *values, char **err)
{
	static char nsbuf[4096];

	fake_pool_calls++;
	check_statement(name, sql, nparams);
	for (int i = 0; i < nparams; i++)
		if (values[i] != NULL)
			(void) strlen(values[i]);	/* ASan: must be a terminated string */
	/*
	 * Text parameters must be UTF-8: Go's decoder turned invalid bytes into
	 * U+FFFD, and PostgreSQL would refuse them. The namespace ($1 of the
	 * data statements) is exempt: in test mode it is whatever a token
	 * decodes to, unverified, and can only name a missing namespace.
	 */
	for (int i = data_statement(name) ? 1 : 0; i < nparams; i++)
		if (values[i] != NULL)
			CHECK(oracle_utf8(values[i], strlen(values[i])), "%s: $%d is not UTF-8: %.200s",
				  name, i + 1, values[i]);
	if (strcmp(name, "stream_write") == 0)
	{
		CHECK(oracle_json(values[3], strlen(values[3])) == ORACLE_VALID &&
			  oracle_top_kind(values[3], strlen(values[3])) == '{',
			  "stream_write data is not a JSON object: %.300s", values[3]);
		CHECK(values[4] == NULL || (oracle_json(values[4], strlen(values[4])) == ORACLE_VALID &&
									oracle_top_kind(values[4], strlen(values[4])) == '{'),
			  "stream_write metadata is not a JSON object: %.300s", values[4]);
	}
	if (strcmp(name, "import_batch") == 0)
		CHECK(oracle_json(values[1], strlen(values[1])) == ORACLE_VALID &&
			  oracle_top_kind(values[1], strlen(values[1])) == '[',
			  "import batch is not a JSON array: %.300s", values[1]);
	switch (fake_pool_mode)
	{
		case FAKE_DB_DOWN:
			*err = strdup("could not connect to server: Connection refused\n\tIs the server running?");
			return NULL;
		case FAKE_DB_ERROR:
			return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
		case FAKE_DB_OK:
		default:
			if (rows_statement(name))
				return no_rows(strcmp(name, "subscription_fetch") == 0 ? 2 : 1);
			return one_value(canned(name, nparams, values, nsbuf, sizeof(nsbuf)));
	}
}

int
pool_open_count(void)
{
	return 1;
}

void
pool_usage(PoolUsage *u)
{
	u->size = 1;
	u->busy = 0;
	u->idle = 1;
	u->waiting = 0;
}
