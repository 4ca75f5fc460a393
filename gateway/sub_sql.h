/*
 * The SQL calls that waiting fetches and /push make on persistent
 * subscriptions (docs/subscriptions.md#from-sql), shared by longpoll.c, push.c and
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

/*
 * The source category and ackTimeoutMs of a subscription, which waiters
 * need: from a cache of a few seconds when `cached`, else (and on a miss)
 * by subsql_source(). true on success (*category malloc'd); otherwise
 * *failed is the failed result (NULL with *err set) to answer with.
 */
bool		subsql_source_info(const char *ns, const char *name, bool cached, char **category,
							   int *ack_timeout_ms, PGresult **failed, char **err);
/* Drops the cached entry (create, update and delete through this gateway). */
void		subsql_source_forget(const char *ns, const char *name);

/* How often a waiter fetches with nothing else happening: often enough to
 * keep its consumer active (ackTimeoutMs) and at most every cap_ms. */
int			subsql_refresh_ms(int ack_timeout_ms, int cap_ms);

#endif
