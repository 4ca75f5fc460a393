/* See fanout.h. Topics live in one chained hash table keyed by
 * (kind, namespace, name); a poke looks up at most three topics (its
 * stream, its category, the namespace's "all"), so the cost of a write is
 * independent of the number of idle subscriptions. */
#include "fanout.h"

#include "consumer_group.h"
#include "names.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct FanTopic
{
	struct FanTopic *next;		/* bucket chain */
	uint64_t	hash;
	size_t		keylen;
	FanEntry   *head;
	char		key[];
} FanTopic;

/*
 * Highest global position seen per namespace. Its own lock (taken after
 * the registry lock or a subscription's, never before) lets code holding
 * either read it.
 */
typedef struct Hwm
{
	struct Hwm *next;
	int64_t		gpos;
	size_t		ns_len;
	char		ns[];
} Hwm;

#define HWM_BUCKETS 256
static pthread_mutex_t hwm_lock = PTHREAD_MUTEX_INITIALIZER;
static Hwm *hwm_buckets[HWM_BUCKETS];

static void hwm_note(const char *ns, size_t ns_len, int64_t gpos);

/* Registered entries per namespace, under the registry lock. */
typedef struct NsCount
{
	struct NsCount *next;
	size_t		entries;
	size_t		ns_len;
	char		ns[];
} NsCount;

static NsCount *ns_counts[HWM_BUCKETS];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FanTopic **buckets;
static size_t nbuckets;
static size_t ntopics;
static FanEntry *all_head;
static size_t nentries;
static FanDeliver deliver_fn;

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n);

	if (p == NULL)
		abort();
	return p;
}

/* kind, length-prefixed namespace (ids may hold any byte), name. */
static size_t
make_key(char **out, int kind, const char *ns, size_t ns_len,
		 const char *name, size_t name_len)
{
	size_t		len = 1 + sizeof(size_t) + ns_len + name_len;
	char	   *k = xmalloc(len);

	k[0] = (char) kind;
	memcpy(k + 1, &ns_len, sizeof(size_t));
	memcpy(k + 1 + sizeof(size_t), ns, ns_len);
	if (name_len)
		memcpy(k + 1 + sizeof(size_t) + ns_len, name, name_len);
	*out = k;
	return len;
}

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
	{
		h ^= (unsigned char) s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static FanTopic *
topic_find(const char *key, size_t keylen, uint64_t hash)
{
	if (nbuckets == 0)
		return NULL;
	for (FanTopic *t = buckets[hash % nbuckets]; t; t = t->next)
		if (t->hash == hash && t->keylen == keylen && memcmp(t->key, key, keylen) == 0)
			return t;
	return NULL;
}

static void
grow(void)
{
	size_t		nn = nbuckets ? nbuckets * 2 : 64;
	FanTopic  **nb = calloc(nn, sizeof(FanTopic *));

	if (nb == NULL)
		abort();
	for (size_t i = 0; i < nbuckets; i++)
	{
		FanTopic   *t = buckets[i];

		while (t)
		{
			FanTopic   *next = t->next;

			t->next = nb[t->hash % nn];
			nb[t->hash % nn] = t;
			t = next;
		}
	}
	free(buckets);
	buckets = nb;
	nbuckets = nn;
}

static FanTopic *
topic_get(const char *key, size_t keylen, uint64_t hash)
{
	FanTopic   *t = topic_find(key, keylen, hash);

	if (t)
		return t;
	if (ntopics >= nbuckets)
		grow();
	t = xmalloc(sizeof(FanTopic) + keylen);
	t->hash = hash;
	t->keylen = keylen;
	t->head = NULL;
	memcpy(t->key, key, keylen);
	t->next = buckets[hash % nbuckets];
	buckets[hash % nbuckets] = t;
	ntopics++;
	return t;
}

static void
topic_drop(FanTopic *t)
{
	FanTopic  **pp = &buckets[t->hash % nbuckets];

	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	ntopics--;
	free(t);
}

static NsCount **
ns_count_slot(const char *ns, size_t ns_len)
{
	NsCount   **pp = &ns_counts[fnv1a(ns, ns_len) % HWM_BUCKETS];

	while (*pp && !((*pp)->ns_len == ns_len && memcmp((*pp)->ns, ns, ns_len) == 0))
		pp = &(*pp)->next;
	return pp;
}

/* Caller holds the registry lock. */
static void
ns_count_add(const char *ns, size_t ns_len, bool add)
{
	NsCount   **pp = ns_count_slot(ns, ns_len);

	if (add)
	{
		if (*pp == NULL)
		{
			NsCount    *c = xmalloc(sizeof(NsCount) + ns_len);

			c->next = NULL;
			c->entries = 0;
			c->ns_len = ns_len;
			memcpy(c->ns, ns, ns_len);
			*pp = c;
		}
		(*pp)->entries++;
	}
	else if (*pp != NULL && --(*pp)->entries == 0)
	{
		NsCount    *c = *pp;

		*pp = c->next;
		free(c);
	}
}

bool
fanout_ns_watched(const char *ns, size_t ns_len)
{
	bool		watched;

	pthread_mutex_lock(&lock);
	watched = *ns_count_slot(ns, ns_len) != NULL;
	pthread_mutex_unlock(&lock);
	return watched;
}

void
fanout_init(FanDeliver deliver)
{
	deliver_fn = deliver;
}

void
fanout_add(FanEntry *e)
{
	char	   *key;
	size_t		keylen;
	FanTopic   *t;

	keylen = make_key(&key, (int) e->kind, e->ns, e->ns_len,
					  e->kind == FAN_ALL ? NULL : e->name,
					  e->kind == FAN_ALL ? 0 : e->name_len);
	pthread_mutex_lock(&lock);
	t = topic_get(key, keylen, fnv1a(key, keylen));
	e->topic = t;
	e->t_prev = NULL;
	e->t_next = t->head;
	if (t->head)
		t->head->t_prev = e;
	t->head = e;
	e->a_prev = NULL;
	e->a_next = all_head;
	if (all_head)
		all_head->a_prev = e;
	all_head = e;
	nentries++;
	ns_count_add(e->ns, e->ns_len, true);
	pthread_mutex_unlock(&lock);
	free(key);
}

void
fanout_remove(FanEntry *e)
{
	pthread_mutex_lock(&lock);
	if (e->topic)
	{
		if (e->t_prev)
			e->t_prev->t_next = e->t_next;
		else
			e->topic->head = e->t_next;
		if (e->t_next)
			e->t_next->t_prev = e->t_prev;
		if (e->topic->head == NULL)
			topic_drop(e->topic);
		e->topic = NULL;
		if (e->a_prev)
			e->a_prev->a_next = e->a_next;
		else
			all_head = e->a_next;
		if (e->a_next)
			e->a_next->a_prev = e->a_prev;
		nentries--;
		ns_count_add(e->ns, e->ns_len, false);
	}
	pthread_mutex_unlock(&lock);
}

/* hash_64(cardinal id), computed at most once per poke. */
typedef struct GroupHash
{
	bool		done;
	bool		has_id;
	int64_t		hash;
} GroupHash;

/*
 * The shared rule (common/consumer_group.h). Where it is undefined (hash
 * -2^63) category.get fails with "bigint out of range"; a live poke cannot
 * fail, so such a stream belongs to no member, as in catch-up where it
 * would never be returned either.
 */
static bool
group_matches(const FanEntry *e, const char *stream, size_t len, GroupHash *g)
{
	int64_t		member;

	if (e->size <= 0)
		return true;
	if (e->member < 0)
		return false;
	if (!g->done)
	{
		g->has_id = group_stream_hash(stream, len, &g->hash);
		g->done = true;
	}
	return g->has_id && group_member_of(g->hash, e->size, &member) &&
		member == e->member;
}

static void
deliver_topic(int kind, const char *ns, size_t ns_len, const char *name,
			  size_t name_len, const char *stream, size_t stream_len,
			  int64_t pos, int64_t gpos, GroupHash *g)
{
	char	   *key;
	size_t		keylen = make_key(&key, kind, ns, ns_len, name, name_len);
	FanTopic   *t = topic_find(key, keylen, fnv1a(key, keylen));

	free(key);
	if (t == NULL)
		return;
	for (FanEntry *e = t->head; e; e = e->t_next)
		if (kind != FAN_CATEGORY || group_matches(e, stream, stream_len, g))
			deliver_fn(e, stream, stream_len, pos, gpos);
}

void
fanout_publish(const char *ns, size_t ns_len, const char *stream,
			   size_t stream_len, int64_t pos, int64_t gpos)
{
	GroupHash	g = {0};

	pthread_mutex_lock(&lock);
	hwm_note(ns, ns_len, gpos);
	if (deliver_fn)
	{
		deliver_topic(FAN_STREAM, ns, ns_len, stream, stream_len,
					  stream, stream_len, pos, gpos, &g);
		deliver_topic(FAN_CATEGORY, ns, ns_len, stream,
					  names_category_len(stream, stream_len),
					  stream, stream_len, pos, gpos, &g);
		deliver_topic(FAN_ALL, ns, ns_len, NULL, 0,
					  stream, stream_len, pos, gpos, &g);
	}
	pthread_mutex_unlock(&lock);
}

void
fanout_foreach(const char *ns, size_t ns_len, void (*fn) (FanEntry *e, void *arg), void *arg)
{
	pthread_mutex_lock(&lock);
	for (FanEntry *e = all_head; e; e = e->a_next)
		if (ns == NULL || (e->ns_len == ns_len && memcmp(e->ns, ns, ns_len) == 0))
			fn(e, arg);
	pthread_mutex_unlock(&lock);
}

size_t
fanout_count(void)
{
	size_t		n;

	pthread_mutex_lock(&lock);
	n = nentries;
	pthread_mutex_unlock(&lock);
	return n;
}

static Hwm **
hwm_slot(const char *ns, size_t ns_len)
{
	Hwm		  **pp = &hwm_buckets[fnv1a(ns, ns_len) % HWM_BUCKETS];

	while (*pp && !((*pp)->ns_len == ns_len && memcmp((*pp)->ns, ns, ns_len) == 0))
		pp = &(*pp)->next;
	return pp;
}

static void
hwm_note(const char *ns, size_t ns_len, int64_t gpos)
{
	Hwm		  **pp;

	pthread_mutex_lock(&hwm_lock);
	pp = hwm_slot(ns, ns_len);
	if (*pp == NULL)
	{
		Hwm		   *h = xmalloc(sizeof(Hwm) + ns_len);

		h->next = NULL;
		h->gpos = gpos;
		h->ns_len = ns_len;
		memcpy(h->ns, ns, ns_len);
		*pp = h;
	}
	else if (gpos > (*pp)->gpos)
		(*pp)->gpos = gpos;
	pthread_mutex_unlock(&hwm_lock);
}

bool
fanout_ns_high(const char *ns, size_t ns_len, int64_t *gpos)
{
	Hwm		  **pp;
	bool		found;

	pthread_mutex_lock(&hwm_lock);
	pp = hwm_slot(ns, ns_len);
	found = *pp != NULL;
	if (found)
		*gpos = (*pp)->gpos;
	pthread_mutex_unlock(&hwm_lock);
	return found;
}

void
fanout_forget_ns(const char *ns, size_t ns_len)
{
	Hwm		  **pp;

	pthread_mutex_lock(&hwm_lock);
	pp = hwm_slot(ns, ns_len);
	if (*pp)
	{
		Hwm		   *h = *pp;

		*pp = h->next;
		free(h);
	}
	pthread_mutex_unlock(&hwm_lock);
}

void
fanout_forget_all(void)
{
	pthread_mutex_lock(&hwm_lock);
	for (size_t b = 0; b < HWM_BUCKETS; b++)
		while (hwm_buckets[b] != NULL)
		{
			Hwm		   *h = hwm_buckets[b];

			hwm_buckets[b] = h->next;
			free(h);
		}
	pthread_mutex_unlock(&hwm_lock);
}
