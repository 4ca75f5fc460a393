/* See subwait.h. Waiters are few (one per waiting fetch or push
 * connection), so a poke walks one list; the comparisons are cheap next to
 * the fetch a match causes. */
#include "subwait.h"

#include "deadline.h"
#include "log.h"
#include "names.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;
static SubWaiter *head;
static bool running,
			stopping;
static pthread_t thread;
/* The earliest SUBWAKE_DUE round asked for (guarded by lock). */
static int64_t due_ms = INT64_MAX;
/* Whether this thread holds lock: wake callbacks may ask for a round. */
static __thread bool holding;

static void
registry_lock(void)
{
	pthread_mutex_lock(&lock);
	holding = true;
}

static void
registry_unlock(void)
{
	holding = false;
	pthread_mutex_unlock(&lock);
}

bool
subwait_add(SubWaiter *w)
{
	bool		ok;

	registry_lock();
	ok = !stopping;
	if (ok && !w->registered)
	{
		w->prev = NULL;
		w->next = head;
		if (head)
			head->prev = w;
		head = w;
		w->registered = true;
	}
	registry_unlock();
	return ok;
}

void
subwait_remove(SubWaiter *w)
{
	registry_lock();
	if (w->registered)
	{
		if (w->prev)
			w->prev->next = w->next;
		else
			head = w->next;
		if (w->next)
			w->next->prev = w->prev;
		w->prev = w->next = NULL;
		w->registered = false;
	}
	registry_unlock();
}

static bool
same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

bool
subwait_any(void)
{
	bool		any;

	registry_lock();
	any = head != NULL;
	registry_unlock();
	return any;
}

void
subwait_poke(const char *ns, size_t ns_len, const char *stream, size_t stream_len)
{
	size_t		cat_len = names_category_len(stream, stream_len);
	int64_t		now = monotonic_ms();

	registry_lock();
	for (SubWaiter *w = head; w; w = w->next)
	{
		if (!same(w->ns, w->ns_len, ns, ns_len))
			continue;
		if (w->category_len != 0 && !same(w->category, w->category_len, stream, cat_len))
			continue;
		w->wake(w, SUBWAKE_POKE, NULL, now);
	}
	registry_unlock();
}

void
subwait_namespace_gone(const char *ns, size_t ns_len)
{
	int64_t		now = monotonic_ms();

	registry_lock();
	for (SubWaiter *w = head; w; w = w->next)
		if (same(w->ns, w->ns_len, ns, ns_len))
			w->wake(w, SUBWAKE_POKE, NULL, now);
	registry_unlock();
}

void
subwait_changed(const char *ns, size_t ns_len, const char *name, size_t name_len,
				const SubChange *change)
{
	int64_t		now = monotonic_ms();

	registry_lock();
	for (SubWaiter *w = head; w; w = w->next)
		if (same(w->ns, w->ns_len, ns, ns_len) && same(w->name, w->name_len, name, name_len))
			w->wake(w, SUBWAKE_CHANGE, change, now);
	registry_unlock();
}

void
subwait_foreach(void (*fn) (SubWaiter *w, void *arg), void *arg)
{
	registry_lock();
	for (SubWaiter *w = head; w; w = w->next)
		fn(w, arg);
	registry_unlock();
}

void
subwait_due_at(int64_t when_ms)
{
	bool		locked_here = !holding;

	if (locked_here)
		registry_lock();
	if (when_ms < due_ms)
	{
		due_ms = when_ms;
		pthread_cond_signal(&stop_cv);
	}
	if (locked_here)
		registry_unlock();
}

/*
 * The timer: a SUBWAKE_TICK round every SUBWAIT_TICK_MS, and SUBWAKE_DUE
 * rounds when asked (subwait_due_at), so a wake-up a waiter deferred is
 * served when it asked, not up to a whole tick later.
 */
static void *
run(void *arg)
{
	int64_t		next_tick = monotonic_ms() + SUBWAIT_TICK_MS;

	(void) arg;
	registry_lock();
	while (!stopping)
	{
		int64_t		now = monotonic_ms();
		int64_t		until = due_ms < next_tick ? due_ms : next_tick;
		SubWakeKind why;

		if (until > now)
		{
			struct timespec ts = deadline_after(CLOCK_REALTIME, (int) (until - now));

			holding = false;
			pthread_cond_timedwait(&stop_cv, &lock, &ts);
			holding = true;
			continue;			/* woken early, by a new request, or on time */
		}
		if (now >= next_tick)
		{
			why = SUBWAKE_TICK;
			next_tick = now + SUBWAIT_TICK_MS;
		}
		else
			why = SUBWAKE_DUE;
		if (due_ms <= now)
			due_ms = INT64_MAX;
		for (SubWaiter *w = head; w; w = w->next)
			w->wake(w, why, NULL, now);
	}
	registry_unlock();
	return NULL;
}

bool
subwait_start(void)
{
	stopping = false;
	if (pthread_create(&thread, NULL, run, NULL) != 0)
	{
		log_error("subscriptions: cannot start the wait timer");
		return false;
	}
	running = true;
	return true;
}

void
subwait_shutdown(void)
{
	int64_t		now = monotonic_ms();

	registry_lock();
	stopping = true;
	pthread_cond_signal(&stop_cv);
	for (SubWaiter *w = head; w; w = w->next)
		w->wake(w, SUBWAKE_SHUTDOWN, NULL, now);
	registry_unlock();
	if (running)
		pthread_join(thread, NULL);
	running = false;
}
