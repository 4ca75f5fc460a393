/* See bootstrap.h. */
#include "bootstrap.h"

#include "hex.h"
#include "log.h"
#include "pool.h"
#include "sqlstate.h"
#include "strbuf.h"
#include "token.h"

#include <libpq-fe.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static char *
error_text(const char *what, const char *detail)
{
	StrBuf		sb = STRBUF_INIT;
	size_t		n;

	sb_puts(&sb, what);
	if (detail != NULL)
	{
		sb_puts(&sb, ": ");
		sb_puts(&sb, detail);
	}
	n = sb.len;
	while (n > 0 && (sb.data[n - 1] == '\n' || sb.data[n - 1] == ' '))
		sb.data[--n] = '\0';
	sb.len = n;
	return sb_steal(&sb);
}

/* Runs sql; NULL + *err when it failed. */
static PGresult *
run(PGconn *conn, const char *what, const char *sql, int nparams,
	const char *const *values, char **err)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
	{
		*err = error_text(what, res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
						  : PQerrorMessage(conn));
		PQclear(res);
		return NULL;
	}
	return res;
}

bool
bootstrap_check_token(const char *token, char **err)
{
	size_t		len = strlen(token);
	char	   *ns = malloc(len + 1);
	size_t		ns_len = 0;
	char		perr[TOKEN_ERROR_MAX];
	bool		ok = true;

	if (ns == NULL)
	{
		*err = error_text("out of memory", NULL);
		return false;
	}
	if (!token_parse(token, len, ns, &ns_len, perr, sizeof(perr)))
	{
		*err = error_text(perr, NULL);
		ok = false;
	}
	else if (ns_len != 7 || memcmp(ns, "default", 7) != 0)
	{
		StrBuf		sb = STRBUF_INIT;

		sb_puts(&sb, "provided token is for namespace '");
		sb_append(&sb, ns, strnlen(ns, ns_len));
		sb_puts(&sb, "', expected 'default'");
		*err = sb_steal(&sb);
		ok = false;
	}
	free(ns);
	return ok;
}

static char *
random_default_token(void)
{
	unsigned char raw[32];
	char		digits[2 * sizeof(raw)];
	StrBuf		sb = STRBUF_INIT;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return NULL;
	hex_lower(raw, sizeof(raw), digits);
	sb_puts(&sb, "ns_ZGVmYXVsdA_");
	sb_append(&sb, digits, sizeof(digits));
	return sb_steal(&sb);
}

static bool
ensure_extension(PGconn *conn, char **err)
{
	PGresult   *res = run(conn, "cannot inspect the database",
						  "SELECT extversion FROM pg_extension WHERE extname = 'eventodb'",
						  0, NULL, err);
	bool		present;

	if (res == NULL)
		return false;
	present = PQntuples(res) == 1;
	PQclear(res);
	if (present)
		return true;
	log_info("the eventodb extension is not installed in this database; creating it");
	res = run(conn, "the eventodb extension is missing and could not be created "
			  "(install it with `make install`, then run CREATE EXTENSION eventodb as a superuser)",
			  "CREATE EXTENSION IF NOT EXISTS eventodb", 0, NULL, err);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* EVENTODB_TEST_RESET: start from an empty store (docs/configuration.md#test-mode-without-a-database). */
static bool
drop_all_namespaces(PGconn *conn, char **err)
{
	PGresult   *res = run(conn, "cannot reset the store",
						  "SELECT count(eventodb.namespace_delete(n->>'namespace')) "
						  "FROM json_array_elements(eventodb.namespace_list()::json) AS n",
						  0, NULL, err);

	if (res == NULL)
		return false;
	log_info("test reset: dropped %s namespace(s)", PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/*
 * docs/http-api.md#the-default-namespace has the original log the default token at every start.
 * We print it only when it was generated here and really authenticates
 * (otherwise nobody could ever learn it); a supplied token is already known
 * to the operator and is never written to the log.
 */
static void
log_token(const char *token, bool generated, bool works)
{
	if (!generated)
		log_info("default namespace token: supplied with --token/EVENTODB_TOKEN (not logged)");
	else if (works)
		log_info("DEFAULT NAMESPACE TOKEN: %s", token);
}

bool
bootstrap_database(const char *db_url, const char *token, bool reset, char **err)
{
	PGconn	   *conn;
	PGresult   *res;
	char	   *why = NULL;
	char	   *generated = NULL;
	bool		exists;
	bool		works = true;
	bool		ok = false;

	conn = pool_connect(db_url, &why);
	if (conn == NULL)
	{
		*err = error_text("failed to connect to PostgreSQL", why);
		free(why);
		return false;
	}
	if (!ensure_extension(conn, err))
		goto out;
	if (reset && !drop_all_namespaces(conn, err))
		goto out;
	if (token == NULL)
	{
		token = generated = random_default_token();
		if (token == NULL)
		{
			*err = error_text("failed to generate token", "no random bytes");
			goto out;
		}
	}
	res = run(conn, "failed to look up the default namespace",
			  "SELECT eventodb.namespace_exists('default')", 0, NULL, err);
	if (res == NULL)
		goto out;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!exists)
	{
		const char *params[1] = {token};

		res = PQexecParams(conn, "SELECT eventodb.namespace_create('default', 'Default namespace', $1)",
						   1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			log_info("created the default namespace");
		else if (strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
						PQresultErrorField(res, PG_DIAG_SQLSTATE) : "", SQLSTATE_EV_EXISTS) == 0)
			exists = true;		/* another instance won the race */
		else
		{
			*err = error_text("failed to create the default namespace",
							  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
							  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(conn));
			PQclear(res);
			goto out;
		}
		PQclear(res);
	}
	if (exists)
	{
		const char *params[1] = {token};
		bool		matches;

		res = run(conn, "failed to check the default token",
				  "SELECT eventodb.namespace_of_token($1) IS NOT DISTINCT FROM 'default'",
				  1, params, err);
		if (res == NULL)
			goto out;
		matches = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		works = matches;
		PQclear(res);
		log_info("the default namespace already exists");
		if (!matches)
			log_warn(generated ?
					 "the default namespace already existed: no token is printed because a "
					 "generated one would not authenticate; use the token printed when it was created" :
					 "the default namespace already existed with a different token: "
					 "the supplied token does NOT authenticate");
	}
	log_token(token, generated != NULL, works);
	ok = true;
out:
	free(generated);
	PQfinish(conn);
	return ok;
}
