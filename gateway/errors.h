/* The one table mapping storage failures to protocol errors (docs/http-api.md#errors): SQLSTATEs raised by the extension's gateway functions become
 * codes and statuses; everything else is a BACKEND_ERROR whose message
 * starts with the method's "Failed to ...: " prefix. */
#ifndef GW_ERRORS_H
#define GW_ERRORS_H

#include <libpq-fe.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct SqlContext
{
	const char *prefix;			/* e.g. "Failed to write message: " */
	bool		ns_target;		/* ns.delete / ns.info: unknown → 404 */
	const char *ns_id;			/* the namespace argument of ns.* methods */
	size_t		ns_len;
	bool		subscription;	/* subscription.* / push: 22023 is a 400 */
	bool		lifecycle;		/* stream lifecycle methods: 22023 is a 400 too */
} SqlContext;

/*
 * The same from the fields of an error (SQLSTATE, primary message, detail),
 * however they arrived: a failed call, or a row of a group commit.
 */
enum MHD_Result errors_reply_fields(struct MHD_Connection *c, const SqlContext *ctx,
									const char *state, const char *primary,
									const char *detail);

/*
 * Replies with the error of a failed call: res is the failed result, or
 * NULL when no connection could be had (reason then says why).
 */
enum MHD_Result errors_reply_sql(struct MHD_Connection *c, const SqlContext *ctx,
								 const PGresult *res, const char *reason);

/* 500 BACKEND_ERROR with the prefix and a reason of our own. */
enum MHD_Result errors_reply_backend(struct MHD_Connection *c, const SqlContext *ctx,
									 const char *reason);

/* The text PostgreSQL gives for a NUL byte in a text value (docs/http-api.md#stream-names-categories-and-consumer-groups). */
#define ERR_NUL_BYTE "invalid byte sequence for encoding \"UTF8\": 0x00"

#endif
