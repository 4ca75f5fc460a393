/* See errors.h. */
#include "errors.h"

#include "echo.h"
#include "http.h"
#include "jsonw.h"
#include "log.h"
#include "sqlstate.h"
#include "strbuf.h"

#include <string.h>

typedef enum MessageKind
{
	MSG_SERVER,					/* the server's primary message (+ detail JSON) */
	MSG_NS_EXISTS,				/* Namespace '<id>' already exists */
	MSG_NS_NOT_FOUND,			/* Namespace '<id>' not found */
} MessageKind;

typedef struct SqlStateRule
{
	const char *sqlstate;
	bool		only_ns_target; /* applies only to ns.delete / ns.info */
	bool		only_sub;		/* applies only to subscription.* and /push */
	unsigned	status;
	const char *code;
	MessageKind message;
} SqlStateRule;

/* Custom SQLSTATEs of the extension's gateway functions (docs/sql-api.md#errors-sqlstates). */
static const SqlStateRule rules[] = {
	{SQLSTATE_EV_VERSION_CONFLICT, false, false, 409, "STREAM_VERSION_CONFLICT", MSG_SERVER},
	{SQLSTATE_EV_NOT_FOUND, true, false, 404, "NAMESPACE_NOT_FOUND", MSG_NS_NOT_FOUND},
	{SQLSTATE_EV_EXISTS, false, false, 409, "NAMESPACE_EXISTS", MSG_NS_EXISTS},
	/* persistent subscriptions (docs/subscriptions.md#over-http, #from-sql): their functions
	 * validate arguments with 22023 and docs/subscriptions.md#over-http's exact message */
	{SQLSTATE_EV_SUB_NOT_FOUND, false, false, 404, "SUBSCRIPTION_NOT_FOUND", MSG_SERVER},
	{SQLSTATE_EV_SUB_EXISTS, false, false, 409, "SUBSCRIPTION_EXISTS", MSG_SERVER},
	{SQLSTATE_EV_DELIVERY_EXPIRED, false, false, 409, "DELIVERY_EXPIRED", MSG_SERVER},
	/* idempotent writes: the id is taken by a different message */
	{SQLSTATE_EV_MESSAGE_ID_CONFLICT, false, false, 409, "MESSAGE_ID_CONFLICT", MSG_SERVER},
	/* stream lifecycle (docs/lifecycle.md) */
	{SQLSTATE_EV_STREAM_DELETED, false, false, 410, "STREAM_DELETED", MSG_SERVER},
	{SQLSTATE_EV_MESSAGE_NOT_FOUND, false, false, 404, "MESSAGE_NOT_FOUND", MSG_SERVER},
	{SQLSTATE_INVALID_PARAMETER_VALUE, false, true, 400, "INVALID_REQUEST", MSG_SERVER},
};

enum MHD_Result
errors_reply_backend(struct MHD_Connection *c, const SqlContext *ctx, const char *reason)
{
	StrBuf		m = STRBUF_INIT;
	enum MHD_Result r;

	sb_puts(&m, ctx->prefix);
	/* libpq's own messages span lines ("...\n\tThis probably means...") */
	for (const char *p = reason; *p; p++)
	{
		if (*p == '\n' || *p == '\t')
		{
			while (p[1] == '\n' || p[1] == '\t')
				p++;
			if (p[1] != '\0' && m.len > 0 && m.data[m.len - 1] != ' ')
				sb_putc(&m, ' ');
		}
		else
			sb_putc(&m, *p);
	}
	/* database messages may quote client values (echo.h) */
	echo_cap_tail(&m, strlen(ctx->prefix), ECHO_MESSAGE_MAX);
	log_warn("%s", m.data);
	r = http_error(c, 500, "BACKEND_ERROR", m.data, NULL);
	sb_free(&m);
	return r;
}

static enum MHD_Result
reply_rule(struct MHD_Connection *c, const SqlContext *ctx, const SqlStateRule *rule,
		   const char *primary, const char *details)
{
	StrBuf		m = STRBUF_INIT;
	enum MHD_Result r;

	switch (rule->message)
	{
		case MSG_SERVER:
			echo_append_max(&m, primary ? primary : rule->code,
							strlen(primary ? primary : rule->code), ECHO_MESSAGE_MAX);
			/* only a JSON object is a valid details value (docs/http-api.md#errors) */
			if (details != NULL && details[0] != '{')
				details = NULL;
			break;
		case MSG_NS_EXISTS:
		case MSG_NS_NOT_FOUND:
			details = NULL;
			sb_puts(&m, "Namespace '");
			echo_append(&m, ctx->ns_id ? ctx->ns_id : "", ctx->ns_id ? ctx->ns_len : 0);
			sb_puts(&m, rule->message == MSG_NS_EXISTS ? "' already exists" : "' not found");
			break;
	}
	r = http_error_n(c, rule->status, rule->code, m.data, m.len, details);
	sb_free(&m);
	return r;
}

enum MHD_Result
errors_reply_fields(struct MHD_Connection *c, const SqlContext *ctx, const char *state,
					const char *primary, const char *detail)
{
	if (state != NULL)
	{
		for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		{
			if (strcmp(state, rules[i].sqlstate) != 0 || (rules[i].only_sub && !ctx->subscription && !ctx->lifecycle))
				continue;
			if (rules[i].only_ns_target && !ctx->ns_target)
				return errors_reply_backend(c, ctx, "namespace not found");
			return reply_rule(c, ctx, &rules[i], primary, detail);
		}
	}
	return errors_reply_backend(c, ctx, primary);
}

enum MHD_Result
errors_reply_sql(struct MHD_Connection *c, const SqlContext *ctx,
				 const PGresult *res, const char *reason)
{
	const char *primary;

	if (res == NULL)
		return errors_reply_backend(c, ctx, reason ? reason : "database unavailable");
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (primary == NULL)
		primary = PQresultErrorMessage(res);
	if (primary == NULL || *primary == '\0')
		primary = PQresStatus(PQresultStatus(res));
	return errors_reply_fields(c, ctx, PQresultErrorField(res, PG_DIAG_SQLSTATE), primary,
							   PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
}
