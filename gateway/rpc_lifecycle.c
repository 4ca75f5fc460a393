/* Stream lifecycle methods (docs/lifecycle.md): stream.delete, stream.info,
 * stream.setRetention, stream.getRetention, category.setRetention,
 * category.getRetention and message.redact. Each validates its arguments
 * in order, then makes one call of the eventodb.* function of the same
 * name, which answers the JSON. */
#include "rpc.h"

#include "pool.h"
#include "reqjson.h"

#include <stdlib.h>
#include <string.h>

/* Longest redaction reason (the SQL function's limit too). */
#define REASON_MAX 1000

static const SqlContext delete_ctx = {.prefix = "Failed to delete stream: ", .lifecycle = true};
static const SqlContext info_ctx = {.prefix = "Failed to get stream info: ", .lifecycle = true};
static const SqlContext retention_ctx = {.prefix = "Failed to access retention: ", .lifecycle = true};
static const SqlContext redact_ctx = {.prefix = "Failed to redact message: ", .lifecycle = true};

/* Argument 0: a non-empty name, named `what` in the error. */
static const char *
name_arg(RpcCall *call, const char *what, const char **s, size_t *len)
{
	if (!rpc_string(call->args[0], s, len) || *len == 0)
		return what;
	return NULL;
}

/*
 * An optional limit: absent or null leaves it unset (*text NULL); else an
 * integer of at least min, written as text into buf.
 */
static bool
limit_opt(struct json_object *opts, const char *key, int64_t min, char *buf, const char **text)
{
	struct json_object *v;
	int64_t		n;

	*text = NULL;
	if (rpc_opt_value(opts, key, &v) == ARG_ABSENT || v == NULL)
		return true;
	if (req_kind(v) != REQ_NUMBER || !req_int64(v, &n) || n < min)
		return false;
	*text = rpc_int_text(buf, n);
	return true;
}

/* The limits a stream and a category rule share; the error text, or NULL. */
static const char *
age_and_count(struct json_object *opts, char *abuf, char *cbuf, const char **age,
			  const char **count)
{
	if (!limit_opt(opts, "maxAge", 1, abuf, age))
		return "retention.maxAge must be a positive number of seconds";
	if (!limit_opt(opts, "maxCount", 1, cbuf, count))
		return "retention.maxCount must be a positive number";
	return NULL;
}

static enum MHD_Result
run(RpcCall *call, const SqlContext *ctx, const char *name, const char *sql,
	int n, const char *const *params)
{
	char	   *err = NULL;
	PGresult   *res = pool_exec(name, sql, n, params, &err);

	return rpc_reply_value(call, ctx, res, err);
}

/* The namespace and NUL checks every method makes after validation. */
static const char *
target(RpcCall *call, const SqlContext *ctx, const char *s, size_t len, enum MHD_Result *fail)
{
	const char *ns = rpc_namespace(call);

	if (ns == NULL)
		*fail = errors_reply_backend(call->c, ctx, "namespace not found");
	else if (rpc_has_nul(s, len))
	{
		*fail = errors_reply_backend(call->c, ctx, ERR_NUL_BYTE);
		ns = NULL;
	}
	return ns;
}

/*
 * Runs sql with ($1 namespace, $2 name, then extra) once target() accepts
 * the name: the shape of every method but message.redact.
 */
static enum MHD_Result
run_named(RpcCall *call, const SqlContext *ctx, const char *name, size_t len,
		  const char *stmt, const char *sql, int nextra, const char *const *extra)
{
	const char *params[5];	/* namespace, name, at most 3 extra */
	enum MHD_Result fail;

	if ((params[0] = target(call, ctx, name, len, &fail)) == NULL)
		return fail;
	params[1] = name;
	for (int i = 0; i < nextra; i++)
		params[2 + i] = extra[i];
	return run(call, ctx, stmt, sql, 2 + nextra, params);
}

enum MHD_Result
rpc_stream_delete(RpcCall *call)
{
	const char *stream;
	size_t		len;
	struct json_object *opts,
			   *hard = NULL;

	if (call->nargs < 1)
		return rpc_invalid(call, "stream.delete requires at least 1 argument: streamName");
	if (name_arg(call, "", &stream, &len) != NULL)
		return rpc_invalid(call, "streamName must be a non-empty string");
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, "options must be an object");
	/* null is the wrong type too (docs/http-api.md#wire-conventions) */
	if (rpc_opt_value(opts, "hard", &hard) == ARG_OK && (hard == NULL || req_kind(hard) != REQ_BOOL))
		return rpc_invalid(call, "options.hard must be a boolean");
	{
		const char *extra[1] = {hard != NULL && json_object_get_boolean(hard) ? "true" : "false"};

		return run_named(call, &delete_ctx, stream, len, "stream_delete",
						 "SELECT eventodb.stream_delete($1::text, $2::text, $3::boolean)", 1, extra);
	}
}

enum MHD_Result
rpc_stream_info(RpcCall *call)
{
	const char *stream;
	size_t		len;

	if (call->nargs < 1)
		return rpc_invalid(call, "stream.info requires 1 argument: streamName");
	if (name_arg(call, "", &stream, &len) != NULL)
		return rpc_invalid(call, "streamName must be a non-empty string");
	return run_named(call, &info_ctx, stream, len, "stream_info",
					 "SELECT eventodb.stream_info($1::text, $2::text)", 0, NULL);
}

enum MHD_Result
rpc_stream_set_retention(RpcCall *call)
{
	const char *stream,
			   *age,
			   *count,
			   *tb;
	size_t		len;
	struct json_object *opts;
	const char *why;
	char		abuf[24],
				cbuf[24],
				tbuf[24];

	if (call->nargs < 2)
		return rpc_invalid(call, "stream.setRetention requires 2 arguments: streamName and retention");
	if (name_arg(call, "", &stream, &len) != NULL)
		return rpc_invalid(call, "streamName must be a non-empty string");
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, "retention must be an object");
	if ((why = age_and_count(opts, abuf, cbuf, &age, &count)) != NULL)
		return rpc_invalid(call, why);
	if (!limit_opt(opts, "truncateBefore", 0, tbuf, &tb))
		return rpc_invalid(call, "retention.truncateBefore must be a position (0 or more)");
	{
		const char *extra[3] = {age, count, tb};

		return run_named(call, &retention_ctx, stream, len, "stream_set_retention",
						 "SELECT eventodb.stream_set_retention($1::text, $2::text, $3::bigint, "
						 "$4::bigint, $5::bigint)", 3, extra);
	}
}

enum MHD_Result
rpc_stream_get_retention(RpcCall *call)
{
	const char *stream;
	size_t		len;

	if (call->nargs < 1)
		return rpc_invalid(call, "stream.getRetention requires 1 argument: streamName");
	if (name_arg(call, "", &stream, &len) != NULL)
		return rpc_invalid(call, "streamName must be a non-empty string");
	return run_named(call, &retention_ctx, stream, len, "stream_retention",
					 "SELECT eventodb.stream_retention($1::text, $2::text)", 0, NULL);
}

/* A category name: non-empty, without '-'. */
static bool
category_arg(RpcCall *call, const char **s, size_t *len)
{
	return name_arg(call, "", s, len) == NULL && memchr(*s, '-', *len) == NULL;
}

enum MHD_Result
rpc_category_set_retention(RpcCall *call)
{
	const char *category,
			   *age,
			   *count;
	size_t		len;
	struct json_object *opts;
	const char *why;
	char		abuf[24],
				cbuf[24];

	if (call->nargs < 2)
		return rpc_invalid(call, "category.setRetention requires 2 arguments: categoryName and retention");
	if (!category_arg(call, &category, &len))
		return rpc_invalid(call, "categoryName must be a non-empty string without '-'");
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, "retention must be an object");
	if ((why = age_and_count(opts, abuf, cbuf, &age, &count)) != NULL)
		return rpc_invalid(call, why);
	{
		const char *extra[2] = {age, count};

		return run_named(call, &retention_ctx, category, len, "category_set_retention",
						 "SELECT eventodb.category_set_retention($1::text, $2::text, $3::bigint, "
						 "$4::bigint)", 2, extra);
	}
}

enum MHD_Result
rpc_category_get_retention(RpcCall *call)
{
	const char *category;
	size_t		len;

	if (call->nargs < 1)
		return rpc_invalid(call, "category.getRetention requires 1 argument: categoryName");
	if (!category_arg(call, &category, &len))
		return rpc_invalid(call, "categoryName must be a non-empty string without '-'");
	return run_named(call, &retention_ctx, category, len, "category_retention",
					 "SELECT eventodb.category_retention($1::text, $2::text)", 0, NULL);
}

enum MHD_Result
rpc_message_redact(RpcCall *call)
{
	int64_t		gpos;
	const char *reason,
			   *ns;
	size_t		reason_len;
	struct json_object *opts;
	char		gbuf[24];
	enum MHD_Result fail;

	if (call->nargs < 2)
		return rpc_invalid(call, "message.redact requires 2 arguments: globalPosition and options");
	if (req_kind(call->args[0]) != REQ_NUMBER || !req_int64(call->args[0], &gpos) || gpos < 1)
		return rpc_invalid(call, "globalPosition must be a positive number");
	if (!rpc_options_at(call, 1, &opts) || opts == NULL)
		return rpc_invalid(call, "options must be an object");
	if (rpc_opt_string(opts, "reason", &reason, &reason_len) != ARG_OK || reason_len == 0)
		return rpc_invalid(call, "options.reason must be a non-empty string");
	if (reason_len > REASON_MAX)
		return rpc_invalid(call, "options.reason must be at most 1000 bytes");
	if ((ns = target(call, &redact_ctx, reason, reason_len, &fail)) == NULL)
		return fail;
	{
		const char *params[3] = {ns, rpc_int_text(gbuf, gpos), reason};

		return run(call, &redact_ctx, "message_redact",
				   "SELECT eventodb.message_redact($1::text, $2::bigint, $3::text)", 3, params);
	}
}
