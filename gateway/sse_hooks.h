/* What the LISTEN connection (pokes.c) tells the open subscriptions. */
#ifndef GW_SSE_HOOKS_H
#define GW_SSE_HOOKS_H

#include <stddef.h>

/* The namespace was deleted: end its streams (PROTOCOL.md §9.8). */
void		sse_end_namespace(const char *ns, size_t ns_len);

/* LISTEN (re)connected: notifications may have been lost meanwhile, so
 * every subscription re-runs catch-up from its tracker (DESIGN.md §6). */
void		sse_connection_restored(void);

#endif
