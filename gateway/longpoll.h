/*
 * subscription.fetch (docs/subscriptions.md#over-http): one fetch, and with waitMs a
 * wait for deliveries that holds neither an HTTP thread nor a database
 * connection. A waiting fetch suspends its connection (RpcDeferred) and
 * registers with subwait.h; pokes of its source, changes through this
 * gateway and a timer resume it, and the resumed request fetches again on
 * the HTTP thread. The timer refetches at least every LONGPOLL_REFRESH_MS
 * (and every ackTimeoutMs / 3, so the waiting consumer stays active).
 */
#ifndef GW_LONGPOLL_H
#define GW_LONGPOLL_H

#include "rpc.h"

#include <stdint.h>

#define LONGPOLL_REFRESH_MS 800

extern const SqlContext longpoll_ctx;

/* Validated arguments in; answers now or defers (call->deferred). */
enum MHD_Result longpoll_fetch(RpcCall *call, const char *ns, const char *name,
							   const char *consumer, int64_t max, int64_t wait_ms);

#endif
