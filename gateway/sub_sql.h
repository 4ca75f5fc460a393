/*
 * The SQL calls that waiting fetches and /push make on persistent
 * subscriptions (SUBSCRIPTIONS.md §9), shared by longpoll.c, push.c and
 * rpc_subscription.c. Each returns the result (caller PQclear()s it) or
 * NULL with *err set, as pool_exec() does.
 */
#ifndef GW_SUB_SQL_H
#define GW_SUB_SQL_H

#include "strbuf.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Rows (delivery_id, delivery JSON) in hand-out order. */
PGresult   *subsql_fetch(const char *ns, const char *name, const char *consumer,
						 int64_t max, char **err);

/* One row (category, ackTimeoutMs) of the subscription; EV010 when unknown. */
PGresult   *subsql_source(const char *ns, const char *name, char **err);

/* Releases the consumer's listed deliveries (NULL: all) and makes it inactive. */
PGresult   *subsql_release(const char *ns, const char *name, const char *consumer,
						   const char *ids_literal, char **err);

/* Appends s as an element of a PostgreSQL array literal ("..." quoted). */
void		subsql_array_element(StrBuf *sb, const char *s, size_t len);

/* The rows' column col joined into a JSON array. */
void		subsql_json_array(StrBuf *sb, const PGresult *res, int col);

/* True when res failed with SQLSTATE state. */
bool		subsql_state_is(const PGresult *res, const char *state);

/* How often a waiter fetches with nothing else happening: often enough to
 * keep its consumer active (ackTimeoutMs) and at most every cap_ms. */
int			subsql_refresh_ms(const PGresult *source, int cap_ms);

#endif
