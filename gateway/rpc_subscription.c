/*
 * subscription.* (docs/subscriptions.md#over-http). The gateway checks, in docs/subscriptions.md#over-http's order,
 * everything that is not an SQL argument (argument counts, JSON types, list
 * shapes, numeric ranges); the content of create/update options goes to SQL
 * as jsonb, so rules 6-11 have one implementation (the extension's, docs/subscriptions.md#from-sql),
 * whose 22023 errors errors.c turns into 400s with the message verbatim.
 * Changes that can free capacity or make messages deliverable wake the
 * fetches and push connections waiting on the subscription (subwait.h).
 */
#include "rpc.h"

#include "jsonw.h"
#include "longpoll.h"
#include "metrics.h"
#include "pool.h"
#include "reqjson.h"
#include "strbuf.h"
#include "sub_names.h"
#include "sub_sql.h"
#include "subwait.h"

#include <stdlib.h>
#include <string.h>

#define MAX_IDS 1000
#define MAX_TYPES_SENT 101		/* enough for SQL to see "more than 100" */
#define MAX_REASON 1000

static const char NAME_RULE[] = "name must be 1-100 characters of [A-Za-z0-9._:-]";
static const char CONSUMER_RULE[] = "consumerId must be 1-100 printable ASCII characters";
static const char IDS_RULE[] = "deliveryIds must be an array of 1-1000 non-empty strings";
static const char OPTIONS_RULE[] = "options must be an object";

static const SqlContext create_ctx = {.prefix = "Failed to create subscription: ", .subscription = true};
static const SqlContext update_ctx = {.prefix = "Failed to update subscription: ", .subscription = true};
static const SqlContext delete_ctx = {.prefix = "Failed to delete subscription: ", .subscription = true};
static const SqlContext get_ctx = {.prefix = "Failed to get subscription: ", .subscription = true};
static const SqlContext list_ctx = {.prefix = "Failed to list subscriptions: ", .subscription = true};
static const SqlContext ack_ctx = {.prefix = "Failed to ack deliveries: ", .subscription = true};
static const SqlContext nack_ctx = {.prefix = "Failed to nack deliveries: ", .subscription = true};
static const SqlContext parked_ctx = {.prefix = "Failed to list parked messages: ", .subscription = true};
static const SqlContext replay_ctx = {.prefix = "Failed to replay parked messages: ", .subscription = true};
static const SqlContext reset_ctx = {.prefix = "Failed to reset subscription: ", .subscription = true};

/* Option keys passed to SQL by create (and, for its errors, by update). */
static const char *const setting_keys[] = {
	"types", "start", "maxInFlight", "ackTimeoutMs", "maxDeliveries", "strategy", NULL
};
static const char *const update_keys[] = {
	"category", "start", "types", "maxInFlight", "ackTimeoutMs", "maxDeliveries", "strategy", NULL
};

/* ---- argument checks (docs/subscriptions.md#over-http shared rules) ---- */

static bool
name_arg(RpcCall *call, size_t i, const char **s, size_t *len)
{
	return call->nargs > i && rpc_string(call->args[i], s, len) && sub_name_valid(*s, *len);
}

/* deliveryIds: an array of 1-1000 non-empty strings, as a text[] literal. */
static bool
delivery_ids(struct json_object *v, StrBuf *literal, bool *has_nul)
{
	size_t		n;

	*has_nul = false;
	if (req_kind(v) != REQ_ARRAY || json_object_get_type(v) != json_type_array)
		return false;
	n = json_object_array_length(v);
	if (n < 1 || n > MAX_IDS)
		return false;
	sb_putc(literal, '{');
	for (size_t i = 0; i < n; i++)
	{
		const char *s;
		size_t		len;

		if (!rpc_string(json_object_array_get_idx(v, i), &s, &len) || len == 0)
			return false;
		if (rpc_has_nul(s, len))
			*has_nul = true;
		if (i > 0)
			sb_putc(literal, ',');
		subsql_array_element(literal, s, len);
	}
	sb_putc(literal, '}');
	return true;
}

/* The ids of a valid deliveryIds array, for waking push connections. */
typedef struct IdList
{
	const char **ids;
	size_t	   *lens;
	size_t		n;
} IdList;

static void
id_list(struct json_object *v, IdList *l)
{
	size_t		n = json_object_array_length(v);

	l->ids = calloc(n ? n : 1, sizeof(char *));
	l->lens = calloc(n ? n : 1, sizeof(size_t));
	if (l->ids == NULL || l->lens == NULL)
		abort();
	l->n = n;
	for (size_t i = 0; i < n; i++)
		rpc_string(json_object_array_get_idx(v, i), &l->ids[i], &l->lens[i]);
}

static void
id_list_free(IdList *l)
{
	free(l->ids);
	free(l->lens);
}

/* A numeric option: "must be a number", then the range after truncation. */
static const char *
number_option(struct json_object *opts, const char *key, int64_t lo, int64_t hi,
			  int64_t *out, StrBuf *msg)
{
	ArgStatus	st = rpc_opt_number(opts, key, out);

	if (st == ARG_ABSENT)
		return NULL;
	sb_reset(msg);
	if (st == ARG_BAD)
		sb_printf(msg, "options.%s must be a number", key);
	else if (*out < lo || *out > hi)
		sb_printf(msg, "options.%s must be between %lld and %lld", key, (long long) lo,
				  (long long) hi);
	else
		return NULL;
	return msg->data;
}

/* ---- options as jsonb for create/update ---- */

static void json_value(StrBuf *sb, struct json_object *v, int depth);

static void
json_array(StrBuf *sb, struct json_object *v, int depth)
{
	size_t		n = json_object_array_length(v);

	sb_putc(sb, '[');
	for (size_t i = 0; i < n && i < MAX_TYPES_SENT; i++)
	{
		if (i > 0)
			sb_putc(sb, ',');
		json_value(sb, json_object_array_get_idx(v, i), depth + 1);
	}
	sb_putc(sb, ']');
}

/* JSON text of a decoded request value; containers below the kept levels
 * are placeholders and become {} or [] (only their kind matters to docs/subscriptions.md#over-http). */
static void
json_value(StrBuf *sb, struct json_object *v, int depth)
{
	const char *s;
	size_t		len;

	switch (req_kind(v))
	{
		case REQ_NULL:
			sb_puts(sb, "null");
			break;
		case REQ_BOOL:
			sb_puts(sb, json_object_get_boolean(v) ? "true" : "false");
			break;
		case REQ_NUMBER:
			sb_puts(sb, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
			break;
		case REQ_STRING:
			rpc_string(v, &s, &len);
			jw_string(sb, s, len);
			break;
		case REQ_OBJECT:
			if (json_object_get_type(v) == json_type_string)
				sb_append(sb, json_object_get_string(v), (size_t) json_object_get_string_len(v));
			else
				sb_puts(sb, "{}");
			break;
		case REQ_ARRAY:
			if (json_object_get_type(v) == json_type_array && depth < 2)
				json_array(sb, v, depth);
			else
				sb_puts(sb, "[]");
			break;
	}
}

static void
options_json(StrBuf *sb, struct json_object *opts, const char *const *keys)
{
	bool		first = true;

	sb_putc(sb, '{');
	for (const char *const *k = keys; opts != NULL && *k; k++)
	{
		struct json_object *v;

		if (rpc_opt_value(opts, *k, &v) != ARG_OK)
			continue;
		if (!first)
			sb_putc(sb, ',');
		first = false;
		jw_string(sb, *k, strlen(*k));
		sb_putc(sb, ':');
		json_value(sb, v, 0);
	}
	sb_putc(sb, '}');
}

/* ---- replies ---- */

static enum MHD_Result
reply_count(RpcCall *call, const SqlContext *ctx, PGresult *res, char *err, const char *key)
{
	enum MHD_Result r;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = errors_reply_sql(call->c, ctx, res, err);
	else
	{
		StrBuf		b = STRBUF_INIT;

		sb_printf(&b, "{\"%s\":%s}", key,
				  PQgetisnull(res, 0, 0) ? "0" : PQgetvalue(res, 0, 0));
		r = rpc_reply_buf(call, &b);
	}
	PQclear(res);
	free(err);
	return r;
}

static enum MHD_Result
reply_rows(RpcCall *call, const SqlContext *ctx, PGresult *res, char *err)
{
	enum MHD_Result r;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		r = errors_reply_sql(call->c, ctx, res, err);
	else
	{
		StrBuf		b = STRBUF_INIT;

		subsql_json_array(&b, res, 0);
		r = rpc_reply_buf(call, &b);
	}
	PQclear(res);
	free(err);
	return r;
}

static bool
succeeded(const PGresult *res)
{
	return res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;
}

/* ---- methods ---- */

enum MHD_Result
rpc_subscription_create(RpcCall *call)
{
	const char *name,
			   *category,
			   *ns;
	size_t		name_len,
				category_len;
	struct json_object *opts;
	StrBuf		o = STRBUF_INIT;
	char	   *err = NULL;
	PGresult   *res;

	if (call->nargs < 2)
		return rpc_invalid(call, "subscription.create requires at least 2 arguments: name and category");
	if (!name_arg(call, 0, &name, &name_len))
		return rpc_invalid(call, NAME_RULE);
	if (!rpc_string(call->args[1], &category, &category_len))
		return rpc_invalid(call, "category must be a string");
	if (memchr(category, '-', category_len) != NULL)
		return rpc_invalid(call, "category must not contain '-'");
	if (!rpc_options_at(call, 2, &opts))
		return rpc_invalid(call, OPTIONS_RULE);

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &create_ctx, "namespace not found");
	if (rpc_has_nul(category, category_len))
		return errors_reply_backend(call->c, &create_ctx, ERR_NUL_BYTE);
	options_json(&o, opts, setting_keys);
	{
		const char *params[4] = {ns, name, category, o.data};

		res = pool_exec("subscription_create",
						"SELECT eventodb.subscription_create($1::text, $2::text, $3::text, $4::jsonb)",
						4, params, &err);
	}
	sb_free(&o);
	if (succeeded(res))
		subsql_source_forget(ns, name);
	return rpc_reply_value(call, &create_ctx, res, err);
}

enum MHD_Result
rpc_subscription_update(RpcCall *call)
{
	const char *name,
			   *ns;
	size_t		name_len;
	struct json_object *opts,
			   *v;
	StrBuf		o = STRBUF_INIT;
	char	   *err = NULL;
	PGresult   *res;

	if (call->nargs < 2)
		return rpc_invalid(call, "subscription.update requires 2 arguments: name and options");
	if (!name_arg(call, 0, &name, &name_len))
		return rpc_invalid(call, NAME_RULE);
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, OPTIONS_RULE);
	if (rpc_opt_value(opts, "category", &v) == ARG_OK)
		return rpc_invalid(call, "options.category cannot be changed");
	if (rpc_opt_value(opts, "start", &v) == ARG_OK)
		return rpc_invalid(call, "options.start cannot be changed: use subscription.reset");

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &update_ctx, "namespace not found");
	options_json(&o, opts, update_keys);
	{
		const char *params[3] = {ns, name, o.data};

		res = pool_exec("subscription_update",
						"SELECT eventodb.subscription_update($1::text, $2::text, $3::jsonb)",
						3, params, &err);
	}
	sb_free(&o);
	/* new limits may free capacity for waiting consumers */
	if (succeeded(res))
	{
		subsql_source_forget(ns, name);
		subwait_changed(ns, call->auth->ns_len, name, name_len, NULL);
	}
	return rpc_reply_value(call, &update_ctx, res, err);
}

enum MHD_Result
rpc_subscription_delete(RpcCall *call)
{
	const char *name,
			   *ns;
	size_t		name_len;
	char	   *err = NULL;
	PGresult   *res;

	if (call->nargs < 1)
		return rpc_invalid(call, "subscription.delete requires 1 argument: name");
	if (!name_arg(call, 0, &name, &name_len))
		return rpc_invalid(call, NAME_RULE);

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &delete_ctx, "namespace not found");
	{
		const char *params[2] = {ns, name};

		res = pool_exec("subscription_delete",
						"SELECT eventodb.subscription_delete($1::text, $2::text)",
						2, params, &err);
	}
	/* its push connections end when their next fetch finds it gone (docs/subscriptions.md#over-http) */
	if (succeeded(res))
	{
		subsql_source_forget(ns, name);
		subwait_changed(ns, call->auth->ns_len, name, name_len, NULL);
	}
	return rpc_reply_value(call, &delete_ctx, res, err);
}

enum MHD_Result
rpc_subscription_get(RpcCall *call)
{
	const char *name,
			   *ns;
	size_t		name_len;
	char	   *err = NULL;

	if (call->nargs < 1)
		return rpc_invalid(call, "subscription.get requires 1 argument: name");
	if (!name_arg(call, 0, &name, &name_len))
		return rpc_invalid(call, NAME_RULE);

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &get_ctx, "namespace not found");
	{
		const char *params[2] = {ns, name};
		PGresult   *res = pool_exec("subscription_get",
									"SELECT eventodb.subscription_get($1::text, $2::text)",
									2, params, &err);

		return rpc_reply_value(call, &get_ctx, res, err);
	}
}

enum MHD_Result
rpc_subscription_list(RpcCall *call)
{
	const char *ns;
	char	   *err = NULL;

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &list_ctx, "namespace not found");
	{
		const char *params[1] = {ns};
		PGresult   *res = pool_exec("subscription_list",
									"SELECT eventodb.subscription_list($1::text)",
									1, params, &err);

		return rpc_reply_value(call, &list_ctx, res, err);
	}
}

enum MHD_Result
rpc_subscription_fetch(RpcCall *call)
{
	const char *name,
			   *consumer,
			   *bad,
			   *ns;
	size_t		name_len,
				consumer_len;
	struct json_object *opts;
	int64_t		max = 10,
				wait_ms = 0;
	StrBuf		msg = STRBUF_INIT;
	enum MHD_Result r;

	if (call->nargs < 2)
		return rpc_invalid(call, "subscription.fetch requires at least 2 arguments: name and consumerId");
	if (!name_arg(call, 0, &name, &name_len))
		return rpc_invalid(call, NAME_RULE);
	if (!rpc_string(call->args[1], &consumer, &consumer_len) ||
		!sub_consumer_valid(consumer, consumer_len))
		return rpc_invalid(call, CONSUMER_RULE);
	if (!rpc_options_at(call, 2, &opts))
		return rpc_invalid(call, OPTIONS_RULE);
	if ((bad = number_option(opts, "max", 1, 1000, &max, &msg)) != NULL ||
		(bad = number_option(opts, "waitMs", 0, 60000, &wait_ms, &msg)) != NULL)
	{
		r = rpc_invalid(call, bad);
		sb_free(&msg);
		return r;
	}
	sb_free(&msg);

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &longpoll_ctx, "namespace not found");
	return longpoll_fetch(call, ns, name, consumer, max, wait_ms);
}

/* The first two arguments of ack and nack; NULL when valid, else the 400 message. */
static const char *
settle_args(RpcCall *call, const char *usage, const char **name, size_t *name_len,
			StrBuf *ids, bool *has_nul)
{
	if (call->nargs < 2)
		return usage;
	if (!name_arg(call, 0, name, name_len))
		return NAME_RULE;
	if (!delivery_ids(call->args[1], ids, has_nul))
		return IDS_RULE;
	return NULL;
}

/* ack's or nack's SQL call; settled deliveries free capacity and may make
 * messages deliverable, so the waiters on the subscription are woken. */
static PGresult *
settle(RpcCall *call, const char *name, size_t name_len, const char *stmt, const char *sql,
	   int nparams, const char *const *params, char **err)
{
	PGresult   *res = pool_exec(stmt, sql, nparams, params, err);

	if (succeeded(res))
	{
		IdList		l;
		SubChange	ch;

		id_list(call->args[1], &l);
		ch = (SubChange) {.ids = l.ids, .id_lens = l.lens, .nids = l.n};
		subwait_changed(params[0], call->auth->ns_len, name, name_len, &ch);
		id_list_free(&l);
	}
	return res;
}

enum MHD_Result
rpc_subscription_ack(RpcCall *call)
{
	const char *name,
			   *bad,
			   *ns;
	size_t		name_len;
	StrBuf		ids = STRBUF_INIT;
	bool		has_nul;
	char	   *err = NULL;
	PGresult   *res;

	if ((bad = settle_args(call, "subscription.ack requires 2 arguments: name and deliveryIds",
						   &name, &name_len, &ids, &has_nul)) != NULL)
	{
		sb_free(&ids);
		return rpc_invalid(call, bad);
	}

	if ((ns = rpc_namespace(call)) == NULL || has_nul)
	{
		sb_free(&ids);
		return errors_reply_backend(call->c, &ack_ctx, ns ? ERR_NUL_BYTE : "namespace not found");
	}
	{
		const char *params[3] = {ns, name, ids.data};

		res = settle(call, name, name_len, "subscription_ack",
					 "SELECT eventodb.subscription_ack($1::text, $2::text, $3::text[])",
					 3, params, &err);
	}
	sb_free(&ids);
	metrics_sub_acked(res);
	return reply_count(call, &ack_ctx, res, err, "acked");
}

enum MHD_Result
rpc_subscription_nack(RpcCall *call)
{
	const char *name,
			   *action = "retry",
			   *reason = NULL,
			   *bad,
			   *ns;
	size_t		name_len,
				action_len = 5,
				reason_len = 0;
	struct json_object *opts;
	StrBuf		ids = STRBUF_INIT;
	bool		has_nul;
	ArgStatus	st;
	char	   *err = NULL;
	PGresult   *res;

	if ((bad = settle_args(call, "subscription.nack requires at least 2 arguments: name and deliveryIds",
						   &name, &name_len, &ids, &has_nul)) != NULL)
	{
		sb_free(&ids);
		return rpc_invalid(call, bad);
	}
	if (!rpc_options_at(call, 2, &opts))
	{
		sb_free(&ids);
		return rpc_invalid(call, OPTIONS_RULE);
	}
	st = rpc_opt_string(opts, "action", &action, &action_len);
	if (st == ARG_BAD ||
		(st == ARG_OK && !((action_len == 5 && memcmp(action, "retry", 5) == 0) ||
						   (action_len == 4 && memcmp(action, "park", 4) == 0) ||
						   (action_len == 4 && memcmp(action, "skip", 4) == 0))))
	{
		sb_free(&ids);
		return rpc_invalid(call, "options.action must be \"retry\", \"park\" or \"skip\"");
	}
	if (rpc_opt_string(opts, "reason", &reason, &reason_len) == ARG_BAD || reason_len > MAX_REASON)
	{
		sb_free(&ids);
		return rpc_invalid(call, "options.reason must be a string of at most 1000 bytes");
	}

	if ((ns = rpc_namespace(call)) == NULL || has_nul || rpc_has_nul(reason, reason_len))
	{
		sb_free(&ids);
		return errors_reply_backend(call->c, &nack_ctx, ns ? ERR_NUL_BYTE : "namespace not found");
	}
	{
		const char *params[5] = {ns, name, ids.data, action, reason};

		res = settle(call, name, name_len, "subscription_nack",
					 "SELECT eventodb.subscription_nack($1::text, $2::text, $3::text[], $4::text, $5::text)",
					 5, params, &err);
	}
	sb_free(&ids);
	metrics_sub_nacked(res, action, action_len);
	return reply_count(call, &nack_ctx, res, err, "nacked");
}

enum MHD_Result
rpc_subscription_parked(RpcCall *call)
{
	const char *name,
			   *bad,
			   *ns;
	size_t		name_len;
	struct json_object *opts;
	int64_t		position = 0,
				batch = 100;
	StrBuf		msg = STRBUF_INIT;
	char		pbuf[24],
				bbuf[24];
	char	   *err = NULL;
	enum MHD_Result r;

	if (call->nargs < 1)
		return rpc_invalid(call, "subscription.parked requires at least 1 argument: name");
	if (!name_arg(call, 0, &name, &name_len))
		return rpc_invalid(call, NAME_RULE);
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, OPTIONS_RULE);
	if (rpc_opt_number(opts, "position", &position) == ARG_BAD)
		return rpc_invalid(call, "options.position must be a number");
	if ((bad = number_option(opts, "batchSize", 1, 1000, &batch, &msg)) != NULL)
	{
		r = rpc_invalid(call, bad);
		sb_free(&msg);
		return r;
	}
	sb_free(&msg);

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &parked_ctx, "namespace not found");
	{
		const char *params[4] = {ns, name, rpc_int_text(pbuf, position), rpc_int_text(bbuf, batch)};
		PGresult   *res = pool_exec("subscription_parked",
									"SELECT eventodb.parked_json(p) FROM eventodb.subscription_parked("
									"$1::text, $2::text, $3::bigint, $4::integer) p",
									4, params, &err);

		return reply_rows(call, &parked_ctx, res, err);
	}
}

enum MHD_Result
rpc_subscription_replay_parked(RpcCall *call)
{
	const char *name,
			   *ns;
	size_t		name_len;
	struct json_object *opts,
			   *list;
	StrBuf		positions = STRBUF_INIT;
	bool		has_list;
	char	   *err = NULL;
	PGresult   *res;

	if (call->nargs < 1)
		return rpc_invalid(call, "subscription.replayParked requires at least 1 argument: name");
	if (!name_arg(call, 0, &name, &name_len))
		return rpc_invalid(call, NAME_RULE);
	if (!rpc_options_at(call, 1, &opts))
		return rpc_invalid(call, OPTIONS_RULE);
	has_list = rpc_opt_value(opts, "globalPositions", &list) == ARG_OK;
	if (has_list)
	{
		size_t		n = json_object_get_type(list) == json_type_array ?
			json_object_array_length(list) : 0;

		if (n < 1 || n > MAX_IDS)
			return rpc_invalid(call, "options.globalPositions must be an array of 1-1000 numbers");
		sb_putc(&positions, '{');
		for (size_t i = 0; i < n; i++)
		{
			int64_t		p;
			struct json_object *e = json_object_array_get_idx(list, i);

			if (req_kind(e) != REQ_NUMBER || !req_int64(e, &p))
			{
				sb_free(&positions);
				return rpc_invalid(call, "options.globalPositions must be an array of 1-1000 numbers");
			}
			if (i > 0)
				sb_putc(&positions, ',');
			jw_int(&positions, p);
		}
		sb_putc(&positions, '}');
	}

	if ((ns = rpc_namespace(call)) == NULL)
	{
		sb_free(&positions);
		return errors_reply_backend(call->c, &replay_ctx, "namespace not found");
	}
	{
		const char *params[3] = {ns, name, has_list ? positions.data : NULL};

		res = pool_exec("subscription_replay_parked",
						"SELECT eventodb.subscription_replay_parked($1::text, $2::text, $3::bigint[])",
						3, params, &err);
	}
	sb_free(&positions);
	if (succeeded(res))
		subwait_changed(ns, call->auth->ns_len, name, name_len, NULL);
	return reply_count(call, &replay_ctx, res, err, "replayed");
}

enum MHD_Result
rpc_subscription_reset(RpcCall *call)
{
	const char *name,
			   *ns,
			   *s;
	size_t		name_len,
				len;
	char		pbuf[24];
	const char *position = NULL;
	int64_t		p;
	char	   *err = NULL;
	PGresult   *res;

	if (call->nargs < 2)
		return rpc_invalid(call, "subscription.reset requires 2 arguments: name and position");
	if (!name_arg(call, 0, &name, &name_len))
		return rpc_invalid(call, NAME_RULE);
	if (rpc_string(call->args[1], &s, &len))
	{
		if (len == 9 && memcmp(s, "beginning", 9) == 0)
			position = "beginning";
		else if (len == 3 && memcmp(s, "end", 3) == 0)
			position = "end";
	}
	else if (req_kind(call->args[1]) == REQ_NUMBER && req_int64(call->args[1], &p) && p >= 0)
		position = rpc_int_text(pbuf, p);
	if (position == NULL)
		return rpc_invalid(call, "position must be \"beginning\", \"end\" or a global position >= 0");

	if ((ns = rpc_namespace(call)) == NULL)
		return errors_reply_backend(call->c, &reset_ctx, "namespace not found");
	{
		const char *params[3] = {ns, name, position};

		res = pool_exec("subscription_reset",
						"SELECT eventodb.subscription_reset($1::text, $2::text, $3::text)",
						3, params, &err);
	}
	if (succeeded(res))
		subwait_changed(ns, call->auth->ns_len, name, name_len, NULL);
	return rpc_reply_value(call, &reset_ctx, res, err);
}
