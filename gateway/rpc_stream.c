/* stream.write, stream.get, stream.last, stream.version (docs/http-api.md#stream-methods). Validation order and texts are the contract's. */
#include "rpc.h"

#include "echo.h"
#include "group_commit.h"
#include "pool.h"
#include "read_route.h"
#include "read_pager.h"
#include "reqjson.h"
#include "rpc_reads.h"
#include "rpc_writes.h"

#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 10000
/*
 * The longest message id spelling docs/http-api.md#streamwrite accepts: "{" + 36 + "}". A longer
 * one is refused here with the text the database would give, so a huge
 * invalid id never reaches PostgreSQL (whose error would quote it whole
 * into its log) and is quoted capped in the answer (echo.h).
 */
#define ID_MAX_LEN 38

static const SqlContext write_ctx = {.prefix = "Failed to write message: "};
static const SqlContext get_ctx = {.prefix = "Failed to get messages: "};
static const SqlContext last_ctx = {.prefix = "Failed to get last message: "};
static const SqlContext version_ctx = {.prefix = "Failed to get stream version: "};

/* The shared first argument: a non-empty stream name. */
static bool
stream_name(RpcCall *call, const char **s, size_t *len)
{
	return rpc_string(call->args[0], s, len) && *len > 0;
}

enum MHD_Result
rpc_stream_write(RpcCall *call)
{
	const char *stream,
			   *type,
			   *id = NULL;
	size_t		stream_len,
				type_len,
				id_len = 0,
				data_len,
				meta_len = 0;
	struct json_object *msg,
			   *opts,
			   *data,
			   *meta;
	const char *data_text,
			   *meta_text = NULL;
	int64_t		expected = 0;
	ArgStatus	ev_status;
	struct json_object *idem;
	bool		idempotent = false;
	const char *ns;

	if (call->nargs < 2)
		return rpc_invalid(call, "stream.write requires at least 2 arguments: streamName and message");
	if (!stream_name(call, &stream, &stream_len))
		return rpc_invalid(call, "streamName must be a non-empty string");
	msg = call->args[1];
	if (req_kind(msg) != REQ_OBJECT)
		return rpc_invalid(call, "message must be an object");
	if (rpc_opt_string(msg, "type", &type, &type_len) != ARG_OK || type_len == 0)
		return rpc_invalid(call, "message.type must be a non-empty string");
	if (rpc_opt_value(msg, "data", &data) != ARG_OK || req_kind(data) != REQ_OBJECT)
		return rpc_invalid(call, "message.data must be an object");
	/* [deviation] docs/http-api.md#streamwrite: "metadata": null is accepted as absent */
	if (rpc_opt_value(msg, "metadata", &meta) == ARG_OK && meta != NULL)
	{
		if (req_kind(meta) != REQ_OBJECT)
			return rpc_invalid(call, "message.metadata must be an object");
		meta_text = req_object_text(meta, &meta_len);
	}
	if (!rpc_options_at(call, 2, &opts))
		return rpc_invalid(call, "options must be an object");
	if (rpc_opt_string(opts, "id", &id, &id_len) == ARG_BAD)
		return rpc_invalid(call, "options.id must be a string");
	ev_status = rpc_opt_number(opts, "expectedVersion", &expected);
	if (ev_status == ARG_BAD)
		return rpc_invalid(call, "options.expectedVersion must be a number");
	/* opt-in idempotence (docs/writes-and-reads.md); absent, nothing changes */
	if (rpc_opt_value(opts, "idempotent", &idem) == ARG_OK)
	{
		if (req_kind(idem) != REQ_BOOL)
			return rpc_invalid(call, "options.idempotent must be a boolean");
		idempotent = json_object_get_boolean(idem);
	}

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &write_ctx, "namespace not found");
	if (rpc_has_nul(stream, stream_len) || rpc_has_nul(type, type_len) || rpc_has_nul(id, id_len))
		return errors_reply_backend(call->c, &write_ctx, ERR_NUL_BYTE);
	if (id_len > ID_MAX_LEN)
	{
		StrBuf		m = STRBUF_INIT;
		enum MHD_Result ret;

		sb_puts(&m, "invalid UUID format: ");
		echo_append(&m, id, id_len);
		ret = errors_reply_backend(call->c, &write_ctx, m.data);
		sb_free(&m);
		return ret;
	}
	data_text = req_object_text(data, &data_len);
	{
		GcWrite		w = {
			.ns = ns, .stream = stream, .stream_len = stream_len,
			.type = type, .type_len = type_len, .data = data_text, .data_len = data_len,
			.meta = meta_text, .meta_len = meta_len, .id = id, .id_len = id_len,
			.has_expected = ev_status == ARG_OK, .expected = expected,
		};
		GcResult	r;
		enum MHD_Result ret;

		if (idempotent)
			return rpc_stream_write_idempotent(call, &w);
		group_commit_write(&w, &r);
		if (r.result != NULL)
		{
			read_route_note_write(ns, r.result);
			ret = rpc_reply_json(call, r.result, strlen(r.result));
		}
		else
			ret = errors_reply_fields(call->c, &write_ctx, r.sqlstate, r.message, r.detail);
		group_commit_result_free(&r);
		return ret;
	}
}

const char *
rpc_read_options(struct json_object *opts, ReadOptions *ro)
{
	ArgStatus	st;

	if (rpc_opt_number(opts, "position", &ro->position) == ARG_BAD)
		return "options.position must be a number";
	st = rpc_opt_number(opts, "globalPosition", &ro->global_position);
	if (st == ARG_BAD)
		return "options.globalPosition must be a number";
	ro->has_global = (st == ARG_OK);
	if (rpc_opt_number(opts, "batchSize", &ro->batch_size) == ARG_BAD)
		return "options.batchSize must be a number";
	if (ro->batch_size > BATCH_MAX && ro->batch_size != -1)
		return "options.batchSize must be <= 10000 or -1 for unlimited";
	return NULL;
}

enum MHD_Result
rpc_stream_get(RpcCall *call)
{
	const char *stream;
	size_t		stream_len;
	struct json_object *opts;
	ReadOptions ro = {.position = 0, .batch_size = 1000};
	const char *bad;
	bool		backward;
	const char *ns;
	char		pbuf[24],
				gbuf[24],
				bbuf[24];
	char	   *err = NULL;

	if (call->nargs < 1)
		return rpc_invalid(call, "stream.get requires at least 1 argument: streamName");
	if (!stream_name(call, &stream, &stream_len))
		return rpc_invalid(call, "streamName must be a non-empty string");
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, "options must be an object");
	if ((bad = rpc_read_options(opts, &ro)) != NULL)
		return rpc_invalid(call, bad);
	/* opt-in backward reads (docs/writes-and-reads.md) */
	if ((bad = rpc_read_direction(opts, &backward)) != NULL)
		return rpc_invalid(call, bad);
	if (backward)
		return rpc_stream_get_backward(call, stream, stream_len, opts, &ro);

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &get_ctx, "namespace not found");
	if (rpc_has_nul(stream, stream_len))
		return errors_reply_backend(call->c, &get_ctx, ERR_NUL_BYTE);
	{
		/* docs/http-api.md#streamget: on the globalPosition path any batchSize <= 0 is unlimited */
		int64_t		limit = ro.has_global && ro.batch_size <= 0 ? -1 : ro.batch_size;

		if (pager_needed(limit))
		{
			PagedRead	q = {
				.kind = ro.has_global ? PAGED_STREAM_GLOBAL : PAGED_STREAM,
				.ns = ns, .name = stream, .name_len = stream_len,
				.position = ro.position, .global_position = ro.global_position,
				.limit = limit,
			};

			return pager_reply(call->c, &get_ctx, &q);
		}
	}
	{
		const char *params[5] = {
			ns, stream, rpc_int_text(pbuf, ro.position),
			ro.has_global ? rpc_int_text(gbuf, ro.global_position) : NULL,
			rpc_int_text(bbuf, ro.batch_size),
		};
		PGresult   *res = read_exec(ns, "stream_get",
									"SELECT eventodb.stream_get($1::text, $2::text, $3::bigint, "
									"$4::bigint, $5::bigint)",
									5, params, &err);

		return rpc_reply_value(call, &get_ctx, res, err);
	}
}

enum MHD_Result
rpc_stream_last(RpcCall *call)
{
	const char *stream,
			   *type = NULL;
	size_t		stream_len,
				type_len = 0;
	struct json_object *opts;
	const char *ns;
	char	   *err = NULL;

	if (call->nargs < 1)
		return rpc_invalid(call, "stream.last requires at least 1 argument: streamName");
	if (!stream_name(call, &stream, &stream_len))
		return rpc_invalid(call, "streamName must be a non-empty string");
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, "options must be an object");
	if (rpc_opt_string(opts, "type", &type, &type_len) == ARG_BAD)
		return rpc_invalid(call, "options.type must be a string");

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &last_ctx, "namespace not found");
	if (rpc_has_nul(stream, stream_len) || rpc_has_nul(type, type_len))
		return errors_reply_backend(call->c, &last_ctx, ERR_NUL_BYTE);
	{
		const char *params[3] = {ns, stream, type};
		PGresult   *res = read_exec(ns, "stream_last",
									"SELECT eventodb.stream_last($1::text, $2::text, $3::text)",
									3, params, &err);

		return rpc_reply_value(call, &last_ctx, res, err);
	}
}

enum MHD_Result
rpc_stream_version(RpcCall *call)
{
	const char *stream;
	size_t		stream_len;
	const char *ns;
	char	   *err = NULL;

	if (call->nargs < 1)
		return rpc_invalid(call, "stream.version requires 1 argument: streamName");
	if (!stream_name(call, &stream, &stream_len))
		return rpc_invalid(call, "streamName must be a non-empty string");

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &version_ctx, "namespace not found");
	if (rpc_has_nul(stream, stream_len))
		return errors_reply_backend(call->c, &version_ctx, ERR_NUL_BYTE);
	{
		const char *params[2] = {ns, stream};
		PGresult   *res = read_exec(ns, "stream_version",
									"SELECT eventodb.stream_version($1::text, $2::text)",
									2, params, &err);

		return rpc_reply_value(call, &version_ctx, res, err);
	}
}
