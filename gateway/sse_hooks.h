/* Between the LISTEN connection (pokes.c) and the open subscriptions. */
#ifndef GW_SSE_HOOKS_H
#define GW_SSE_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The namespace was deleted: end its streams (docs/http-api.md#frames). */
void		sse_end_namespace(const char *ns, size_t ns_len);

/* LISTEN (re)connected: notifications may have been lost meanwhile, so
 * every subscription re-runs catch-up from its tracker (docs/architecture.md#pokes). */
void		sse_connection_restored(void);

/* Every all-mode subscription waiting for a barrier <= seq goes live. */
void		sse_barrier_passed(uint64_t seq);

/*
 * Brackets a batch of notifications handled by the calling thread: the
 * subscriptions they poke are resumed once, at the end, so a subscriber
 * poked several times in a batch gets its frames in one send rather than
 * one send (and one MHD resume) per poke.
 */
void		sse_batch_begin(void);
void		sse_batch_end(void);

/* Sends barrier seq through the database to the LISTEN connection (pokes.c)
 * once the pokes of namespace ns committed before it are sent - only that
 * namespace's, so another one's open transaction cannot delay it; false
 * when it cannot arrive (not listening, or the NOTIFY failed). ns must be
 * NUL-terminated (ns_len is its length). */
bool		pokes_send_barrier(uint64_t seq, const char *ns, size_t ns_len);

#endif
