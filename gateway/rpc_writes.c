/* See rpc_writes.h. Validation happens here with the protocol's texts; the
 * extension (write_idempotent.c, write_many.c) checks again for SQL callers. */
#include "rpc_writes.h"

#include "echo.h"
#include "pool.h"
#include "read_route.h"
#include "reqjson.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>

/* The most messages of one stream.writeMany (REQ_MAX_LIST keeps one more). */
#define WRITE_MANY_MAX 1000
/* The longest id spelling stream.write accepts ("{" + 36 + "}"). */
#define ID_MAX_LEN 38

static const SqlContext write_ctx = {.prefix = "Failed to write message: "};
static const SqlContext many_ctx = {.prefix = "Failed to write messages: "};

static const char *const message_keys[] = {
	"streamName", "type", "data", "metadata", "id", "expectedVersion", NULL
};

enum MHD_Result
rpc_stream_write_idempotent(RpcCall *call, const GcWrite *w)
{
	char		evbuf[24];
	char	   *err = NULL;
	const char *params[7] = {
		w->ns, w->stream, w->type, w->data, w->meta,
		(w->id != NULL && w->id_len > 0) ? w->id : NULL,
		w->has_expected ? rpc_int_text(evbuf, w->expected) : NULL,
	};
	PGresult   *res = pool_exec("stream_write_idempotent",
								"SELECT eventodb.stream_write_idempotent($1::text, $2::text, "
								"$3::text, $4::jsonb, $5::jsonb, $6::text, $7::bigint)",
								7, params, &err);

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		read_route_note_write(w->ns, PQgetvalue(res, 0, 0));
	return rpc_reply_value(call, &write_ctx, res, err);
}

/* "messages[i]<what>" as a 400 */
static enum MHD_Result
invalid_at(RpcCall *call, size_t i, const char *what)
{
	char		m[128];

	snprintf(m, sizeof(m), "messages[%zu]%s", i, what);
	return rpc_invalid(call, m);
}

/* The first such reason of the call is the one answered. */
static void
backend_once(StrBuf *backend, const char *why)
{
	if (backend->len == 0)
		sb_puts(backend, why);
}

/*
 * Checks message i with stream.write's rules (metadata: null is absent).
 * NULL when valid, else the 400's suffix; *backend set instead for what
 * stream.write answers as a BACKEND_ERROR (NUL bytes, an overlong id).
 */
static const char *
check_message(struct json_object *m, StrBuf *backend)
{
	const char *s;
	size_t		len;
	struct json_object *v;
	int64_t		ev;

	if (rpc_opt_string(m, "streamName", &s, &len) != ARG_OK || len == 0)
		return ".streamName must be a non-empty string";
	if (rpc_has_nul(s, len))
		backend_once(backend, ERR_NUL_BYTE);
	if (rpc_opt_string(m, "type", &s, &len) != ARG_OK || len == 0)
		return ".type must be a non-empty string";
	if (rpc_has_nul(s, len))
		backend_once(backend, ERR_NUL_BYTE);
	if (rpc_opt_value(m, "data", &v) != ARG_OK || req_kind(v) != REQ_OBJECT)
		return ".data must be an object";
	if (rpc_opt_value(m, "metadata", &v) == ARG_OK && v != NULL && req_kind(v) != REQ_OBJECT)
		return ".metadata must be an object";
	switch (rpc_opt_string(m, "id", &s, &len))
	{
		case ARG_BAD:
			return ".id must be a string";
		case ARG_OK:
			if (rpc_has_nul(s, len))
				backend_once(backend, ERR_NUL_BYTE);
			else if (len > ID_MAX_LEN && backend->len == 0)
			{
				sb_puts(backend, "invalid UUID format: ");
				echo_append(backend, s, len);
			}
			break;
		case ARG_ABSENT:
			break;
	}
	if (rpc_opt_number(m, "expectedVersion", &ev) == ARG_BAD)
		return ".expectedVersion must be a number";
	return NULL;
}

enum MHD_Result
rpc_stream_write_many(RpcCall *call)
{
	struct json_object *list;
	struct json_object *opts = NULL;
	struct json_object *v;
	size_t		n;
	bool		idempotent = false;
	const char *ns;
	StrBuf		backend = STRBUF_INIT;
	size_t		backend_at = 0;
	StrBuf		body = STRBUF_INIT;
	enum MHD_Result ret;

	if (call->nargs < 1)
		return rpc_invalid(call, "stream.writeMany requires at least 1 argument: messages");
	list = call->args[0];
	if (req_kind(list) != REQ_ARRAY || (n = json_object_array_length(list)) == 0)
		return rpc_invalid(call, "messages must be a non-empty array");
	if (n > WRITE_MANY_MAX)
		return rpc_invalid(call, "messages must hold at most 1000 messages");
	sb_putc(&body, '[');
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *elem = json_object_array_get_idx(list, i);
		struct json_object *m;
		const char *bad;
		size_t		len;
		const char *text;

		if (req_kind(elem) != REQ_OBJECT)
		{
			sb_free(&body);
			sb_free(&backend);
			return invalid_at(call, i, " must be an object");
		}
		if ((m = req_object_open(elem, message_keys)) == NULL)
		{
			sb_free(&body);
			sb_free(&backend);
			return errors_reply_backend(call->c, &many_ctx, "cannot decode a message");
		}
		{
			size_t		before = backend.len;

			bad = check_message(m, &backend);
			if (backend.len > 0 && before == 0)
				backend_at = i;
		}
		json_object_put(m);
		if (bad != NULL)
		{
			sb_free(&body);
			sb_free(&backend);
			return invalid_at(call, i, bad);
		}
		text = req_object_text(elem, &len);
		if (i > 0)
			sb_putc(&body, ',');
		sb_append(&body, text, len);
	}
	sb_putc(&body, ']');
	if (call->nargs >= 2)
	{
		opts = call->args[1];
		if (req_kind(opts) != REQ_OBJECT)
		{
			sb_free(&body);
			sb_free(&backend);
			return rpc_invalid(call, "options must be an object");
		}
	}
	if (rpc_opt_value(opts, "idempotent", &v) == ARG_OK)
	{
		if (req_kind(v) != REQ_BOOL)
		{
			sb_free(&body);
			sb_free(&backend);
			return rpc_invalid(call, "options.idempotent must be a boolean");
		}
		idempotent = json_object_get_boolean(v);
	}

	if ((ns = rpc_namespace(call)) == NULL)
		ret = errors_reply_backend(call->c, &many_ctx, "namespace not found");
	else if (backend.len > 0)
	{
		StrBuf		m = STRBUF_INIT;

		sb_printf(&m, "messages[%zu]: %s", backend_at, backend.data);
		ret = errors_reply_backend(call->c, &many_ctx, m.data);
		sb_free(&m);
	}
	else
	{
		char	   *err = NULL;
		const char *params[3] = {ns, body.data, idempotent ? "true" : "false"};
		PGresult   *res = pool_exec("stream_write_many",
									"SELECT eventodb.stream_write_many($1::text, $2::jsonb, $3::boolean)",
									3, params, &err);

		if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			read_route_note_write(ns, PQgetvalue(res, 0, 0));
		ret = rpc_reply_value(call, &many_ctx, res, err);
	}
	sb_free(&body);
	sb_free(&backend);
	return ret;
}
