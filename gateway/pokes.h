/* The single LISTEN connection on channel eventodb_poke and the fan-out of
 * notifications to subscriptions (docs/architecture.md#pokes). */
#ifndef GW_POKES_H
#define GW_POKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What the LISTEN thread tells the subscriptions (gateway/sse.c). Handed
 * in by main.c, so this layer calls up only through these pointers and the
 * subscriptions call down (pokes_send_barrier) without a cycle.
 */
typedef struct PokeHooks
{
	/* The namespace was deleted: end its streams (docs/http-api.md#frames). */
	void		(*namespace_deleted) (const char *ns, size_t ns_len);
	/* LISTEN (re)connected: notifications may have been lost meanwhile,
	 * so every subscription re-runs catch-up from its tracker (docs/architecture.md#pokes). */
	void		(*connection_restored) (void);
	/* Every all-mode subscription waiting for a barrier <= seq goes live. */
	void		(*barrier_passed) (uint64_t seq);
	/*
	 * Bracket a batch of notifications handled by the calling thread: the
	 * subscriptions they poke are resumed once, at the end, so a subscriber
	 * poked several times in a batch gets its frames in one send.
	 */
	void		(*batch_begin) (void);
	void		(*batch_end) (void);
} PokeHooks;

bool		pokes_start(const char *db_url, const PokeHooks *hooks);
void		pokes_stop(void);

/* Sends barrier seq through the database to the LISTEN connection once the
 * pokes of namespace ns committed before it are sent - only that
 * namespace's, so another one's open transaction cannot delay it; false
 * when it cannot arrive (not listening, or the NOTIFY failed). ns must be
 * NUL-terminated (ns_len is its length). */
bool		pokes_send_barrier(uint64_t seq, const char *ns, size_t ns_len);

#endif
