/* POST /rpc: the envelope of docs/http-api.md#the-rpc-envelope and what the method handlers
 * (rpc_stream.c, rpc_category.c, rpc_ns.c, rpc_sys.c) share. Every handler
 * validates its arguments in the order of docs/http-api.md#the-rpc-envelope, then checks authorization,
 * then makes exactly one SQL call. */
#ifndef GW_RPC_H
#define GW_RPC_H

#include "auth.h"
#include "errors.h"
#include "strbuf.h"

#include <json-c/json.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * A call that answers later (subscription.fetch with waitMs): the handler
 * suspended the connection and left its continuation here. When the
 * connection is resumed, the server calls resume() instead of handling the
 * request again; it answers (and clears resume) or suspends once more.
 * cancel() frees the state of a connection that ended while it waited.
 */
typedef struct RpcDeferred
{
	enum MHD_Result (*resume) (struct MHD_Connection *c, struct RpcDeferred *d);
	void		(*cancel) (struct RpcDeferred *d);
	void	   *state;
} RpcDeferred;

typedef struct RpcCall
{
	struct MHD_Connection *c;
	const AuthResult *auth;
	struct json_object *const *args;	/* the arguments after the method name */
	size_t		nargs;
	RpcDeferred *deferred;		/* NULL: the call must answer at once */
} RpcCall;

/* Handles a whole /rpc request once authentication succeeded. */
enum MHD_Result rpc_handle(struct MHD_Connection *c, const AuthResult *auth,
						   const char *http_method, const char *body, size_t len);
/* The same where the server can resume a deferred answer (RpcDeferred). */
enum MHD_Result rpc_handle_deferrable(struct MHD_Connection *c, const AuthResult *auth,
									  const char *http_method, const char *body,
									  size_t len, RpcDeferred *deferred);

/* ---- replies ---- */
enum MHD_Result rpc_invalid(RpcCall *call, const char *message);
enum MHD_Result rpc_reply_json(RpcCall *call, const char *json, size_t len);
/* The same with the JSON built in b, which it frees. */
enum MHD_Result rpc_reply_buf(RpcCall *call, StrBuf *b);
/* 403 of the secure-by-default namespace administration (docs/http-api.md#namespace-methods) */
enum MHD_Result rpc_forbidden(RpcCall *call, const char *ns, size_t len);
/* Replies with the single text value of res (NULL → "null"), or its error. */
enum MHD_Result rpc_reply_value(RpcCall *call, const SqlContext *ctx, PGresult *res,
								char *err);

/* ---- arguments (docs/http-api.md#wire-conventions) ---- */
typedef enum ArgStatus { ARG_ABSENT, ARG_OK, ARG_BAD } ArgStatus;

/* Present-but-null counts as present with the wrong type. */
ArgStatus	rpc_opt_number(struct json_object *obj, const char *key, int64_t *out);
ArgStatus	rpc_opt_string(struct json_object *obj, const char *key,
						   const char **s, size_t *len);
ArgStatus	rpc_opt_value(struct json_object *obj, const char *key, struct json_object **v);
bool		rpc_string(struct json_object *v, const char **s, size_t *len);
bool		rpc_has_nul(const char *s, size_t len);
/* The options argument at index i: absent (*opts NULL) or an object. */
bool		rpc_options_at(RpcCall *call, size_t i, struct json_object **opts);

/* The namespace of the token for data calls; NULL when it cannot exist. */
const char *rpc_namespace(RpcCall *call);

/* Decimal text of v in buf (>= 21 bytes). */
const char *rpc_int_text(char *buf, int64_t v);

/* position / globalPosition / batchSize of stream.get and category.get */
typedef struct ReadOptions
{
	int64_t		position;
	bool		has_global;
	int64_t		global_position;
	int64_t		batch_size;
} ReadOptions;

/* Reads them in docs/http-api.md#streamget's order; NULL when valid, else the 400 message. */
const char *rpc_read_options(struct json_object *opts, ReadOptions *ro);

/* ---- methods ---- */
enum MHD_Result rpc_stream_write(RpcCall *call);
enum MHD_Result rpc_stream_get(RpcCall *call);
enum MHD_Result rpc_stream_last(RpcCall *call);
enum MHD_Result rpc_stream_version(RpcCall *call);
enum MHD_Result rpc_category_get(RpcCall *call);
enum MHD_Result rpc_ns_create(RpcCall *call);
enum MHD_Result rpc_ns_delete(RpcCall *call);
enum MHD_Result rpc_ns_list(RpcCall *call);
enum MHD_Result rpc_ns_info(RpcCall *call);
enum MHD_Result rpc_ns_streams(RpcCall *call);
enum MHD_Result rpc_ns_categories(RpcCall *call);
enum MHD_Result rpc_sys_version(RpcCall *call);
enum MHD_Result rpc_sys_health(RpcCall *call);
/* persistent subscriptions (rpc_subscription.c, docs/subscriptions.md#over-http) */
enum MHD_Result rpc_subscription_create(RpcCall *call);
enum MHD_Result rpc_subscription_update(RpcCall *call);
enum MHD_Result rpc_subscription_delete(RpcCall *call);
enum MHD_Result rpc_subscription_get(RpcCall *call);
enum MHD_Result rpc_subscription_list(RpcCall *call);
enum MHD_Result rpc_subscription_fetch(RpcCall *call);
enum MHD_Result rpc_subscription_ack(RpcCall *call);
enum MHD_Result rpc_subscription_nack(RpcCall *call);
enum MHD_Result rpc_subscription_parked(RpcCall *call);
enum MHD_Result rpc_subscription_replay_parked(RpcCall *call);
enum MHD_Result rpc_subscription_reset(RpcCall *call);

/* rpc_lifecycle.c (docs/lifecycle.md) */
enum MHD_Result rpc_stream_delete(RpcCall *call);
enum MHD_Result rpc_stream_info(RpcCall *call);
enum MHD_Result rpc_stream_set_retention(RpcCall *call);
enum MHD_Result rpc_stream_get_retention(RpcCall *call);
enum MHD_Result rpc_category_set_retention(RpcCall *call);
enum MHD_Result rpc_category_get_retention(RpcCall *call);
enum MHD_Result rpc_message_redact(RpcCall *call);

#endif
