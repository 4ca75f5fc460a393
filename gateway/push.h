/*
 * /push (docs/subscriptions.md#over-http): deliveries of a persistent subscription as
 * Server-Sent Events. Like /subscribe, an idle stream is a suspended MHD
 * connection; fetches and releases run on push's own worker threads,
 * driven by subwait.h (pokes, local acks and nacks, a timer).
 */
#ifndef GW_PUSH_H
#define GW_PUSH_H

#include "auth.h"

#include <microhttpd.h>
#include <stdbool.h>

bool		push_init(void);
/* Validates the query (docs/subscriptions.md#over-http), checks the subscription and opens the stream. */
enum MHD_Result push_handle(struct MHD_Connection *c, const AuthResult *auth,
							const char *http_method);
/* SIGTERM (docs/subscriptions.md#over-http): releases what every stream pushed, then ends the streams. */
void		push_shutdown(void);
/* After the HTTP server stopped: ends the workers. */
void		push_stop(void);

#endif
