/* /subscribe: Server-Sent-Events pokes (docs/http-api.md#live-pokes-subscribe). Idle subscriptions
 * are suspended MHD connections: no thread and no database connection each. */
#ifndef GW_SSE_H
#define GW_SSE_H

#include <microhttpd.h>
#include <stdint.h>
#include "auth.h"
#include "pokes.h"

bool		sse_init(void);
/* Validates the query (docs/http-api.md#validation, plain-text 400s), then opens the stream. */
enum MHD_Result sse_subscribe(struct MHD_Connection *c, const AuthResult *auth);
/* What the LISTEN connection (pokes.c) tells the open subscriptions. */
extern const PokeHooks sse_poke_hooks;
/* Ends every open stream with the terminating chunk (graceful shutdown). */
void		sse_shutdown(void);

#endif
