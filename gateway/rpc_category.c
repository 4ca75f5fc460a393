/* category.get (docs/http-api.md#categoryget). */
#include "rpc.h"

#include "pool.h"
#include "read_route.h"
#include "read_pager.h"
#include "reqjson.h"
#include "rpc_reads.h"
#include "strbuf.h"

#include <stdlib.h>

static const SqlContext category_ctx = {.prefix = "Failed to get category messages: "};

static const char *const group_keys[] = {"member", "size", NULL};

enum MHD_Result
rpc_category_get(RpcCall *call)
{
	const char *category,
			   *correlation = NULL;
	size_t		category_len,
				correlation_len = 0;
	struct json_object *opts = NULL,
			   *group_val,
			   *group = NULL;
	ReadOptions ro = {.position = 1, .batch_size = 1000};
	int64_t		member = 0,
				size = 0;
	ArgStatus	has_member = ARG_ABSENT,
				has_size = ARG_ABSENT;
	const char *bad;
	const char *ns;
	char		pbuf[24],
				bbuf[24],
				mbuf[24],
				sbuf[24];
	char	   *err = NULL;
	StrBuf		types = STRBUF_INIT;
	enum MHD_Result r;

	if (call->nargs < 1)
		return rpc_invalid(call, "category.get requires at least 1 argument: categoryName");
	/* the empty string is allowed: it reads the whole namespace */
	if (!rpc_string(call->args[0], &category, &category_len))
		return rpc_invalid(call, "categoryName must be a string");
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, "options must be an object");
	if ((bad = rpc_read_options(opts, &ro)) != NULL)
		return rpc_invalid(call, bad);
	if (rpc_opt_string(opts, "correlation", &correlation, &correlation_len) == ARG_BAD)
		return rpc_invalid(call, "options.correlation must be a string");
	if (rpc_opt_value(opts, "consumerGroup", &group_val) == ARG_OK)
	{
		if (req_kind(group_val) != REQ_OBJECT)
			return rpc_invalid(call, "options.consumerGroup must be an object");
		group = req_object_open(group_val, group_keys);
		if (group == NULL)
			return errors_reply_backend(call->c, &category_ctx, "cannot decode consumerGroup");
		has_member = rpc_opt_number(group, "member", &member);
		has_size = rpc_opt_number(group, "size", &size);
		json_object_put(group);
		if (has_member == ARG_BAD)
			return rpc_invalid(call, "options.consumerGroup.member must be a number");
		if (has_size == ARG_BAD)
			return rpc_invalid(call, "options.consumerGroup.size must be a number");
		if (has_member == ARG_OK && has_size == ARG_OK)
		{
			if (member < 0)
				return rpc_invalid(call, "options.consumerGroup.member must be non-negative");
			if (size <= 0)
				return rpc_invalid(call, "options.consumerGroup.size must be positive");
			if (member >= size)
				return rpc_invalid(call, "options.consumerGroup.member must be < size");
		}
		else if (has_member == ARG_OK || has_size == ARG_OK)
			return rpc_invalid(call, "options.consumerGroup requires both member and size");
	}

	/* type filter (docs/writes-and-reads.md): absent or [] reads every type */
	if ((bad = rpc_read_types(opts, &types)) != NULL)
		return rpc_invalid(call, bad);

	if ((ns = rpc_namespace(call)) == NULL)
	{
		sb_free(&types);
		return errors_reply_backend(call->c, &category_ctx, "namespace not found");
	}
	if (rpc_has_nul(category, category_len) || rpc_has_nul(correlation, correlation_len) ||
		rpc_has_nul(types.data, types.len))
	{
		sb_free(&types);
		return errors_reply_backend(call->c, &category_ctx, ERR_NUL_BYTE);
	}
	{
		bool		grouped = (has_member == ARG_OK && has_size == ARG_OK);

		if (pager_needed(ro.batch_size))
		{
			PagedRead	q = {
				.kind = PAGED_CATEGORY,
				.ns = ns, .name = category, .name_len = category_len,
				.position = ro.has_global ? ro.global_position : ro.position,
				.limit = ro.batch_size,
				.correlation = correlation, .correlation_len = correlation_len,
				.grouped = grouped, .member = member, .size = size,
				.types = types.data,
			};

			r = pager_reply(call->c, &category_ctx, &q);
			sb_free(&types);
			return r;
		}
		/* globalPosition, when present, replaces position (docs/http-api.md#categoryget) */
		const char *params[8] = {
			ns, category,
			rpc_int_text(pbuf, ro.has_global ? ro.global_position : ro.position),
			rpc_int_text(bbuf, ro.batch_size),
			correlation,
			grouped ? rpc_int_text(mbuf, member) : NULL,
			grouped ? rpc_int_text(sbuf, size) : NULL,
			types.data,
		};
		PGresult   *res = types.data != NULL
			? read_exec_category(ns, "category_get_types",
						"SELECT eventodb.category_get_types($1::text, $2::text, $3::bigint, "
						"$4::bigint, $5::text, $6::bigint, $7::bigint, $8::text[])",
						8, params, &err)
			: read_exec_category(ns, "category_get",
						"SELECT eventodb.category_get($1::text, $2::text, $3::bigint, "
						"$4::bigint, $5::text, $6::bigint, $7::bigint)",
						7, params, &err);

		r = rpc_reply_value(call, &category_ctx, res, err);
	}
	sb_free(&types);
	return r;
}
