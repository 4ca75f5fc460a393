/* See rpc_reads.h. */
#include "rpc_reads.h"

#include "pool.h"
#include "read_route.h"
#include "reqjson.h"
#include "rfc3339.h"
#include "strbuf.h"

#include <string.h>

#define BACKWARD_BATCH_MAX 10000

static const SqlContext get_ctx = {.prefix = "Failed to get messages: "};
static const SqlContext at_ctx = {.prefix = "Failed to find position: "};

const char *
rpc_read_direction(struct json_object *opts, bool *backward)
{
	const char *s;
	size_t		len;

	*backward = false;
	switch (rpc_opt_string(opts, "direction", &s, &len))
	{
		case ARG_ABSENT:
			return NULL;
		case ARG_BAD:
			break;
		case ARG_OK:
			if (len == 7 && memcmp(s, "forward", 7) == 0)
				return NULL;
			if (len == 8 && memcmp(s, "backward", 8) == 0)
			{
				*backward = true;
				return NULL;
			}
			break;
	}
	return "options.direction must be \"forward\" or \"backward\"";
}

#define TYPES_MAX 100

const char *
rpc_read_types(struct json_object *opts, StrBuf *literal)
{
	static const char *const bad = "options.types must be an array of at most 100 non-empty strings";
	struct json_object *v;
	size_t		n;

	if (rpc_opt_value(opts, "types", &v) == ARG_ABSENT)
		return NULL;
	if (req_kind(v) != REQ_ARRAY || (n = json_object_array_length(v)) > TYPES_MAX)
		return bad;
	for (size_t i = 0; i < n; i++)
	{
		const char *s;
		size_t		len;

		if (!rpc_string(json_object_array_get_idx(v, i), &s, &len) || len == 0)
		{
			sb_free(literal);
			return bad;
		}
		/* every element double-quoted, '"' and '\\' escaped: an array
		 * literal that is only ever data (a bound parameter) */
		sb_putc(literal, i == 0 ? '{' : ',');
		sb_putc(literal, '"');
		for (size_t k = 0; k < len; k++)
		{
			if (s[k] == '"' || s[k] == '\\')
				sb_putc(literal, '\\');
			sb_putc(literal, s[k]);
		}
		sb_putc(literal, '"');
	}
	if (n > 0)
		sb_putc(literal, '}');
	return NULL;
}

enum MHD_Result
rpc_stream_get_backward(RpcCall *call, const char *stream, size_t stream_len,
						struct json_object *opts, const ReadOptions *ro)
{
	struct json_object *v;
	bool		has_position = rpc_opt_value(opts, "position", &v) == ARG_OK;
	bool		has_batch = rpc_opt_value(opts, "batchSize", &v) == ARG_OK;
	const char *ns;
	char		pbuf[24],
				bbuf[24];
	char	   *err = NULL;

	if (ro->has_global)
		return rpc_invalid(call, "options.globalPosition cannot be used with direction backward");
	/* a backward read is one bounded batch: no unlimited form to page */
	if (has_batch && (ro->batch_size < 0 || ro->batch_size > BACKWARD_BATCH_MAX))
		return rpc_invalid(call, "options.batchSize must be between 0 and 10000 with direction backward");
	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &get_ctx, "namespace not found");
	if (rpc_has_nul(stream, stream_len))
		return errors_reply_backend(call->c, &get_ctx, ERR_NUL_BYTE);
	{
		const char *params[4] = {
			ns, stream, has_position ? rpc_int_text(pbuf, ro->position) : NULL,
			rpc_int_text(bbuf, ro->batch_size),
		};
		PGresult   *res = read_exec(ns, "stream_get_backward",
									"SELECT eventodb.stream_get_backward($1::text, $2::text, "
									"$3::bigint, $4::bigint)",
									4, params, &err);

		return rpc_reply_value(call, &get_ctx, res, err);
	}
}

/* The smallest whole microsecond at or after t: message times are stored
 * in microseconds, so rounding down would admit an earlier message. */
static Rfc3339
ceil_to_microsecond(Rfc3339 t)
{
	int32_t		rest = t.nsec % 1000;

	if (rest != 0)
	{
		t.nsec += 1000 - rest;
		if (t.nsec >= 1000000000)
		{
			t.nsec -= 1000000000;
			t.unix_sec++;
		}
	}
	return t;
}

enum MHD_Result
rpc_category_position_at(RpcCall *call)
{
	const char *category,
			   *at;
	size_t		category_len,
				at_len;
	Rfc3339		t;
	const char *ns;
	StrBuf		when = STRBUF_INIT;
	char	   *err = NULL;
	enum MHD_Result ret;

	if (call->nargs < 2)
		return rpc_invalid(call, "category.positionAt requires 2 arguments: categoryName and time");
	if (!rpc_string(call->args[0], &category, &category_len))
		return rpc_invalid(call, "categoryName must be a string");
	if (!rpc_string(call->args[1], &at, &at_len) || !rfc3339_parse(at, at_len, &t, NULL))
		return rpc_invalid(call, "time must be an RFC 3339 timestamp");
	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &at_ctx, "namespace not found");
	if (rpc_has_nul(category, category_len))
		return errors_reply_backend(call->c, &at_ctx, ERR_NUL_BYTE);
	rfc3339_format_sql(&when, ceil_to_microsecond(t));
	{
		const char *params[3] = {ns, category, when.data};
		PGresult   *res = read_exec_category(ns, "category_position_at",
									"SELECT eventodb.category_position_at($1::text, $2::text, "
									"$3::timestamptz)",
									3, params, &err);

		ret = rpc_reply_value(call, &at_ctx, res, err);
	}
	sb_free(&when);
	return ret;
}
