/*
 * Routing of pokes to subscriptions (docs/architecture.md#pokes): a registry keyed by
 * namespace and stream / category / "all", and the consumer-group match.
 * One mutex guards the registry; delivery runs under it, so an entry that
 * fanout_remove() has returned for is never touched again.
 */
#ifndef GW_FANOUT_H
#define GW_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum FanKind
{
	FAN_STREAM, FAN_CATEGORY, FAN_ALL
} FanKind;

struct FanTopic;

typedef struct FanEntry
{
	/* Set by the owner before fanout_add(), constant afterwards. */
	FanKind		kind;
	const char *ns;
	size_t		ns_len;
	const char *name;			/* stream or category; unused for FAN_ALL */
	size_t		name_len;
	int64_t		member;			/* consumer group, category mode only: */
	int64_t		size;			/* grouping when size > 0 */

	/* Owned by the registry. */
	struct FanTopic *topic;
	struct FanEntry *t_prev,
			   *t_next;
	struct FanEntry *a_prev,
			   *a_next;
} FanEntry;

/* Receives every matching poke; called with the registry lock held. */
typedef void (*FanDeliver) (FanEntry *e, const char *stream, size_t stream_len,
							int64_t position, int64_t global_position);

void		fanout_init(FanDeliver deliver);
void		fanout_add(FanEntry *e);
void		fanout_remove(FanEntry *e);

/* Delivers one committed write of namespace ns to its subscriptions. */
void		fanout_publish(const char *ns, size_t ns_len, const char *stream,
						   size_t stream_len, int64_t position, int64_t global_position);

/* Calls fn for every entry (of namespace ns, or all when ns is NULL) with
 * the registry lock held. */
void		fanout_foreach(const char *ns, size_t ns_len,
						   void (*fn) (FanEntry *e, void *arg), void *arg);

/* Number of registered entries. */
size_t		fanout_count(void);

/* Whether ns has registered entries (subscriptions to poke). */
bool		fanout_ns_watched(const char *ns, size_t ns_len);

/* Highest global position published for ns since start-up, if any. */
bool		fanout_ns_high(const char *ns, size_t ns_len, int64_t *gpos);
void		fanout_forget_ns(const char *ns, size_t ns_len);
/* Forgets every namespace's (once no subscription is left to need one). */
void		fanout_forget_all(void);

#endif
