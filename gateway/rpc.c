/* See rpc.h: the envelope (docs/http-api.md#the-rpc-envelope) and the helpers the handlers share. */
#include "rpc.h"

#include "echo.h"
#include "http.h"
#include "jsonw.h"
#include "log.h"
#include "reqctx.h"
#include "reqjson.h"
#include "rpc_reads.h"
#include "rpc_writes.h"
#include "strbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum MHD_Result (*RpcMethod) (RpcCall *call);

static const struct
{
	const char *name;
	RpcMethod	fn;
}			methods[] = {
	{"stream.write", rpc_stream_write},
	{"stream.get", rpc_stream_get},
	{"stream.last", rpc_stream_last},
	{"stream.version", rpc_stream_version},
	{"stream.writeMany", rpc_stream_write_many},
	{"category.get", rpc_category_get},
	{"category.positionAt", rpc_category_position_at},
	{"ns.create", rpc_ns_create},
	{"ns.delete", rpc_ns_delete},
	{"ns.list", rpc_ns_list},
	{"ns.info", rpc_ns_info},
	{"ns.streams", rpc_ns_streams},
	{"ns.categories", rpc_ns_categories},
	{"sys.version", rpc_sys_version},
	{"sys.health", rpc_sys_health},
	{"subscription.create", rpc_subscription_create},
	{"subscription.update", rpc_subscription_update},
	{"subscription.delete", rpc_subscription_delete},
	{"subscription.get", rpc_subscription_get},
	{"subscription.list", rpc_subscription_list},
	{"subscription.fetch", rpc_subscription_fetch},
	{"subscription.ack", rpc_subscription_ack},
	{"subscription.nack", rpc_subscription_nack},
	{"subscription.parked", rpc_subscription_parked},
	{"subscription.replayParked", rpc_subscription_replay_parked},
	{"subscription.reset", rpc_subscription_reset},
	{"stream.delete", rpc_stream_delete},
	{"stream.info", rpc_stream_info},
	{"stream.setRetention", rpc_stream_set_retention},
	{"stream.getRetention", rpc_stream_get_retention},
	{"category.setRetention", rpc_category_set_retention},
	{"category.getRetention", rpc_category_get_retention},
	{"message.redact", rpc_message_redact},
};

enum MHD_Result
rpc_handle(struct MHD_Connection *c, const AuthResult *auth,
		   const char *http_method, const char *body, size_t len)
{
	return rpc_handle_deferrable(c, auth, http_method, body, len, NULL);
}

enum MHD_Result
rpc_handle_deferrable(struct MHD_Connection *c, const AuthResult *auth,
					  const char *http_method, const char *body, size_t len,
					  RpcDeferred *deferred)
{
	StrBuf		err = STRBUF_INIT;
	struct json_object *req = NULL;
	struct json_object *args[REQ_MAX_ELEMENTS];
	const char *name;
	size_t		name_len;
	size_t		n;
	RpcCall		call = {.c = c, .auth = auth, .args = args + 1, .deferred = deferred};
	enum MHD_Result ret;

	if (strcmp(http_method, "POST") != 0)
		return http_error(c, 405, "INVALID_REQUEST", "Only POST method allowed", NULL);
	if (!req_parse(body, len, &req, &err))
	{
		StrBuf		d = STRBUF_INIT;

		sb_puts(&d, "{\"error\":");
		jw_string(&d, err.data ? err.data : "", err.len);
		sb_putc(&d, '}');
		ret = http_error(c, 400, "INVALID_REQUEST", "Malformed JSON request", d.data);
		sb_free(&d);
		sb_free(&err);
		return ret;
	}
	sb_free(&err);
	n = req ? json_object_array_length(req) : 0;
	if (n == 0)
	{
		json_object_put(req);
		return http_error(c, 400, "INVALID_REQUEST", "Missing method name", NULL);
	}
	for (size_t i = 0; i < n && i < REQ_MAX_ELEMENTS; i++)
		args[i] = json_object_array_get_idx(req, i);
	if (!rpc_string(args[0], &name, &name_len))
	{
		json_object_put(req);
		return http_error(c, 400, "INVALID_REQUEST", "Method name must be a string", NULL);
	}
	call.nargs = n - 1;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
	{
		if (strlen(methods[i].name) == name_len && memcmp(methods[i].name, name, name_len) == 0)
		{
			reqctx_set_op(methods[i].name);
			log_debug("rpc %s", methods[i].name);
			ret = methods[i].fn(&call);
			json_object_put(req);
			return ret;
		}
	}
	{
		StrBuf		m = STRBUF_INIT;

		sb_puts(&m, "Unknown method: ");
		echo_append(&m, name, name_len);
		ret = http_error_n(c, 404, "METHOD_NOT_FOUND", m.data, m.len, NULL);
		sb_free(&m);
	}
	json_object_put(req);
	return ret;
}

enum MHD_Result
rpc_invalid(RpcCall *call, const char *message)
{
	return http_error(call->c, 400, "INVALID_REQUEST", message, NULL);
}

enum MHD_Result
rpc_reply_json(RpcCall *call, const char *json, size_t len)
{
	StrBuf		b = STRBUF_INIT;
	enum MHD_Result r;

	sb_append(&b, json, len);
	sb_putc(&b, '\n');
	r = http_reply(call->c, 200, "application/json", b.data, b.len);
	sb_free(&b);
	return r;
}

enum MHD_Result
rpc_reply_buf(RpcCall *call, StrBuf *b)
{
	enum MHD_Result r;

	sb_putc(b, '\n');
	r = http_reply(call->c, 200, "application/json", b->data, b->len);
	sb_free(b);
	return r;
}

enum MHD_Result
rpc_forbidden(RpcCall *call, const char *ns, size_t len)
{
	StrBuf		id = STRBUF_INIT;
	StrBuf		d = STRBUF_INIT;
	enum MHD_Result r;

	echo_append(&id, ns, len);
	sb_puts(&d, "{\"namespace\":");
	jw_string(&d, id.data ? id.data : "", id.len);
	sb_putc(&d, '}');
	sb_free(&id);
	r = http_error(call->c, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", d.data);
	sb_free(&d);
	return r;
}

enum MHD_Result
rpc_reply_value(RpcCall *call, const SqlContext *ctx, PGresult *res, char *err)
{
	enum MHD_Result r;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = errors_reply_sql(call->c, ctx, res, err);
	else if (PQgetisnull(res, 0, 0))
		r = rpc_reply_json(call, "null", 4);
	else
		r = rpc_reply_json(call, PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0));
	PQclear(res);
	free(err);
	return r;
}

ArgStatus
rpc_opt_value(struct json_object *obj, const char *key, struct json_object **v)
{
	*v = NULL;
	if (obj == NULL || json_object_get_type(obj) != json_type_object)
		return ARG_ABSENT;
	return json_object_object_get_ex(obj, key, v) ? ARG_OK : ARG_ABSENT;
}

ArgStatus
rpc_opt_number(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *v;

	if (rpc_opt_value(obj, key, &v) == ARG_ABSENT)
		return ARG_ABSENT;
	if (req_kind(v) != REQ_NUMBER || !req_int64(v, out))
		return ARG_BAD;
	return ARG_OK;
}

ArgStatus
rpc_opt_string(struct json_object *obj, const char *key, const char **s, size_t *len)
{
	struct json_object *v;

	if (rpc_opt_value(obj, key, &v) == ARG_ABSENT)
		return ARG_ABSENT;
	return rpc_string(v, s, len) ? ARG_OK : ARG_BAD;
}

bool
rpc_string(struct json_object *v, const char **s, size_t *len)
{
	if (req_kind(v) != REQ_STRING)
		return false;
	*s = json_object_get_string(v);
	*len = (size_t) json_object_get_string_len(v);
	return true;
}

bool
rpc_has_nul(const char *s, size_t len)
{
	return s != NULL && memchr(s, '\0', len) != NULL;
}

bool
rpc_options_at(RpcCall *call, size_t i, struct json_object **opts)
{
	*opts = NULL;
	if (call->nargs <= i)
		return true;
	if (req_kind(call->args[i]) != REQ_OBJECT)
		return false;
	*opts = call->args[i];
	return true;
}

const char *
rpc_namespace(RpcCall *call)
{
	if (rpc_has_nul(call->auth->ns, call->auth->ns_len))
		return NULL;			/* test mode: such a namespace cannot exist */
	return call->auth->ns;
}

const char *
rpc_int_text(char *buf, int64_t v)
{
	snprintf(buf, 21, "%" PRId64, v);
	return buf;
}
