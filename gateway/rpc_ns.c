/* ns.create, ns.delete, ns.list, ns.info (docs/http-api.md#namespace-methods) and the
 * token-namespace listings ns.streams, ns.categories (docs/http-api.md#nsstreams, #nscategories).
 *
 * Secure by default (docs/http-api.md#namespace-methods): outside test mode and without
 * --open-admin, ns.create / ns.list need the default namespace's token and
 * ns.info / ns.delete the default token or the namespace's own. */
#include "rpc.h"

#include "config.h"
#include "echo.h"
#include "http.h"
#include "jsonw.h"
#include "pool.h"
#include "read_route.h"
#include "reqjson.h"
#include "sqlstate.h"
#include "strbuf.h"
#include "token.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static const SqlContext list_ctx = {.prefix = "Failed to list namespaces: "};
static const SqlContext streams_ctx = {.prefix = "Failed to list streams: "};
static const SqlContext categories_ctx = {.prefix = "Failed to list categories: "};

static int64_t
now_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t) tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The first argument of ns.create / ns.delete / ns.info. */
static bool
namespace_id(RpcCall *call, const char **id, size_t *len)
{
	return rpc_string(call->args[0], id, len) && *len > 0;
}

/*
 * namespace_create refuses ids whose JSON form exceeds 7900 bytes (they
 * could not travel in a poke); a longer id is answered here as the
 * database would answer it, so megabytes of id never reach PostgreSQL,
 * whose error text would quote it whole into its log.
 */
#define NS_ID_MAX 7900

static bool
may_administer(RpcCall *call, const char *target, size_t len)
{
	const AuthResult *a = call->auth;

	if (!g_config.admin_only_ns || a->is_admin)
		return true;
	return target != NULL && a->ns_len == len && memcmp(a->ns, target, len) == 0;
}

static enum MHD_Result
forbidden(RpcCall *call)
{
	return rpc_forbidden(call, call->auth->ns, call->auth->ns_len);
}

/* docs/http-api.md#tokens hazard: an id whose base64url form contains '_' gets a token that
 * can never be parsed, so it is refused instead of created (docs/http-api.md#tokens MAY). */
static bool
token_representable(const char *id, size_t len)
{
	size_t		n = token_b64_len(len);
	char	   *b64 = malloc(n + 1);
	bool		ok;

	if (b64 == NULL)
		return false;
	token_b64_encode(id, len, b64);
	ok = memchr(b64, '_', n) == NULL;
	free(b64);
	return ok;
}

enum MHD_Result
rpc_ns_create(RpcCall *call)
{
	const char *id,
			   *description = "",
			   *token = NULL;
	size_t		id_len,
				description_len = 0,
				token_len = 0;
	struct json_object *opts = NULL,
			   *meta;
	SqlContext	ctx = {.prefix = "Failed to create namespace: "};
	char	   *err = NULL;
	PGresult   *res;
	enum MHD_Result r;

	if (call->nargs < 1)
		return rpc_invalid(call, "ns.create requires at least 1 argument: namespace ID");
	if (!namespace_id(call, &id, &id_len))
		return rpc_invalid(call, "namespace ID must be a non-empty string");
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, "options must be an object");
	if (rpc_opt_string(opts, "description", &description, &description_len) == ARG_BAD)
		return rpc_invalid(call, "options.description must be a string");
	if (rpc_opt_string(opts, "token", &token, &token_len) == ARG_BAD)
		return rpc_invalid(call, "options.token must be a string");
	if (token != NULL)
	{
		char		perr[TOKEN_ERROR_MAX];
		char	   *decoded = malloc(token_len + 1);
		size_t		decoded_len = 0;
		StrBuf		m = STRBUF_INIT;

		if (decoded == NULL)
			return errors_reply_backend(call->c, &ctx, "out of memory");
		if (!token_parse(token, token_len, decoded, &decoded_len, perr, sizeof(perr)))
		{
			free(decoded);
			sb_puts(&m, "Invalid token format: ");
			sb_puts(&m, perr);
			r = rpc_invalid(call, m.data);
			sb_free(&m);
			return r;
		}
		if (decoded_len != id_len || memcmp(decoded, id, id_len) != 0)
		{
			sb_puts(&m, "Token is for namespace '");
			echo_append(&m, decoded, decoded_len);
			sb_puts(&m, "', not '");
			echo_append(&m, id, id_len);
			sb_puts(&m, "'");
			free(decoded);
			r = http_error_n(call->c, 400, "INVALID_REQUEST", m.data, m.len, NULL);
			sb_free(&m);
			return r;
		}
		free(decoded);
	}
	/* an object is accepted and ignored: nothing is stored (docs/http-api.md#nscreate) */
	if (rpc_opt_value(opts, "metadata", &meta) == ARG_OK && req_kind(meta) != REQ_OBJECT)
		return rpc_invalid(call, "options.metadata must be an object");
	if (!token_representable(id, id_len))
		return rpc_invalid(call, "namespace ID cannot be used: its token would be unparseable "
						   "(the base64url form of the ID contains '_')");

	if (!may_administer(call, NULL, 0))
		return forbidden(call);
	if (rpc_has_nul(id, id_len) || rpc_has_nul(description, description_len))
		return errors_reply_backend(call->c, &ctx, ERR_NUL_BYTE);
	if (id_len > NS_ID_MAX)
		return errors_reply_backend(call->c, &ctx, "namespace ID is too long");
	ctx.ns_id = id;
	ctx.ns_len = id_len;
	{
		const char *params[3] = {id, description, token};

		res = pool_exec("namespace_create",
						"SELECT eventodb.namespace_create($1::text, $2::text, $3::text)",
						3, params, &err);
	}
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
		PQgetisnull(res, 0, 0))
		r = errors_reply_sql(call->c, &ctx, res, err);
	else
	{
		StrBuf		b = STRBUF_INIT;

		sb_puts(&b, "{\"createdAt\":\"");
		jw_time_usec(&b, now_usec(), true);
		sb_puts(&b, "\",\"namespace\":");
		jw_string(&b, id, id_len);
		sb_puts(&b, ",\"token\":");
		jw_string(&b, PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0));
		sb_putc(&b, '}');
		r = rpc_reply_buf(call, &b);
	}
	PQclear(res);
	free(err);
	return r;
}

/* ns.delete and ns.info: the checks on their one argument, the namespace
 * they target. False when the call was answered (*reply). */
static bool
target_checked(RpcCall *call, const char *method, SqlContext *ctx,
			   const char **id, size_t *id_len, enum MHD_Result *reply)
{
	if (call->nargs < 1)
	{
		StrBuf		m = STRBUF_INIT;

		sb_printf(&m, "%s requires 1 argument: namespace ID", method);
		*reply = rpc_invalid(call, m.data);
		sb_free(&m);
		return false;
	}
	if (!namespace_id(call, id, id_len))
		*reply = rpc_invalid(call, "namespace ID must be a non-empty string");
	else if (!may_administer(call, *id, *id_len))
		*reply = forbidden(call);
	else if (rpc_has_nul(*id, *id_len))
		*reply = errors_reply_backend(call->c, ctx, ERR_NUL_BYTE);
	else
	{
		ctx->ns_id = *id;
		ctx->ns_len = *id_len;
		if (*id_len <= NS_ID_MAX)
			return true;
		/* cannot exist: the database's own answer, without asking it */
		*reply = errors_reply_fields(call->c, ctx, SQLSTATE_EV_NOT_FOUND, "namespace not found", NULL);
	}
	return false;
}

/* target_checked, then the method's SQL call on the namespace (*res). */
static bool
target_call(RpcCall *call, const char *method, SqlContext *ctx, const char *stmt,
			const char *sql, const char **id, size_t *id_len, PGresult **res, char **err,
			enum MHD_Result *reply)
{
	if (!target_checked(call, method, ctx, id, id_len, reply))
		return false;
	*res = pool_exec(stmt, sql, 1, id, err);
	return true;
}

enum MHD_Result
rpc_ns_delete(RpcCall *call)
{
	const char *id;
	size_t		id_len;
	SqlContext	ctx = {.prefix = "Failed to delete namespace: ", .ns_target = true};
	char	   *err = NULL;
	PGresult   *res;
	enum MHD_Result r;

	if (!target_call(call, "ns.delete", &ctx, "namespace_delete",
					 "SELECT eventodb.namespace_delete($1::text)", &id, &id_len, &res, &err, &r))
		return r;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = errors_reply_sql(call->c, &ctx, res, err);
	else
	{
		StrBuf		b = STRBUF_INIT;
		const char *count = PQgetisnull(res, 0, 0) ? "0" : PQgetvalue(res, 0, 0);

		auth_forget_namespace(id, id_len);
		sb_puts(&b, "{\"deletedAt\":\"");
		jw_time_usec(&b, now_usec(), true);
		sb_puts(&b, "\",\"messagesDeleted\":");
		sb_puts(&b, count);
		sb_puts(&b, ",\"namespace\":");
		jw_string(&b, id, id_len);
		sb_putc(&b, '}');
		r = rpc_reply_buf(call, &b);
	}
	PQclear(res);
	free(err);
	return r;
}

enum MHD_Result
rpc_ns_list(RpcCall *call)
{
	char	   *err = NULL;
	PGresult   *res;

	if (!may_administer(call, NULL, 0))
		return forbidden(call);
	res = pool_exec("namespace_list", "SELECT eventodb.namespace_list()", 0, NULL, &err);
	return rpc_reply_value(call, &list_ctx, res, err);
}

enum MHD_Result
rpc_ns_info(RpcCall *call)
{
	const char *id;
	size_t		id_len;
	SqlContext	ctx = {.prefix = "Failed to get namespace: ", .ns_target = true};
	char	   *err = NULL;
	PGresult   *res;
	enum MHD_Result r;

	if (!target_call(call, "ns.info", &ctx, "namespace_info",
					 "SELECT eventodb.namespace_info($1::text)", &id, &id_len, &res, &err, &r))
		return r;
	return rpc_reply_value(call, &ctx, res, err);
}

enum MHD_Result
rpc_ns_streams(RpcCall *call)
{
	struct json_object *opts = NULL;
	const char *prefix = "",
			   *cursor = "";
	size_t		prefix_len = 0,
				cursor_len = 0;
	int64_t		limit = 100;
	const char *ns;
	char		lbuf[24];
	char	   *err = NULL;
	PGresult   *res;

	/* the options object is the first argument here (docs/http-api.md#nsstreams) */
	if (!rpc_options_at(call, 0, &opts))
		return rpc_invalid(call, "options must be an object");
	if (rpc_opt_string(opts, "prefix", &prefix, &prefix_len) == ARG_BAD)
		return rpc_invalid(call, "prefix must be a string");
	if (rpc_opt_string(opts, "cursor", &cursor, &cursor_len) == ARG_BAD)
		return rpc_invalid(call, "cursor must be a string");
	if (rpc_opt_number(opts, "limit", &limit) == ARG_BAD)
		return rpc_invalid(call, "limit must be a number");
	if (limit < 1 || limit > 1000)
		return rpc_invalid(call, "limit must be between 1 and 1000");

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &streams_ctx, "namespace not found");
	if (rpc_has_nul(prefix, prefix_len) || rpc_has_nul(cursor, cursor_len))
		return errors_reply_backend(call->c, &streams_ctx, ERR_NUL_BYTE);
	{
		const char *params[4] = {ns, prefix, cursor, rpc_int_text(lbuf, limit)};

		res = read_exec(ns, "ns_streams",
						"SELECT eventodb.ns_streams($1::text, $2::text, $3::text, $4::int)",
						4, params, &err);
	}
	return rpc_reply_value(call, &streams_ctx, res, err);
}

enum MHD_Result
rpc_ns_categories(RpcCall *call)
{
	const char *ns;
	char	   *err = NULL;
	PGresult   *res;

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &categories_ctx, "namespace not found");
	{
		const char *params[1] = {ns};

		res = read_exec(ns, "ns_categories", "SELECT eventodb.ns_categories($1::text)",
						1, params, &err);
	}
	return rpc_reply_value(call, &categories_ctx, res, err);
}
