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

int64_t
subwait_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
subwait_add(SubWaiter *w)
{
	bool		ok;

	pthread_mutex_lock(&lock);
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
	pthread_mutex_unlock(&lock);
	return ok;
}

void
subwait_remove(SubWaiter *w)
{
	pthread_mutex_lock(&lock);
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
	pthread_mutex_unlock(&lock);
}

static bool
same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

void
subwait_poke(const char *ns, size_t ns_len, const char *stream, size_t stream_len)
{
	size_t		cat_len = names_category_len(stream, stream_len);
	int64_t		now = subwait_now_ms();

	pthread_mutex_lock(&lock);
	for (SubWaiter *w = head; w; w = w->next)
	{
		if (!same(w->ns, w->ns_len, ns, ns_len))
			continue;
		if (w->category_len != 0 && !same(w->category, w->category_len, stream, cat_len))
			continue;
		w->wake(w, SUBWAKE_POKE, NULL, now);
	}
	pthread_mutex_unlock(&lock);
}

void
subwait_namespace_gone(const char *ns, size_t ns_len)
{
	int64_t		now = subwait_now_ms();

	pthread_mutex_lock(&lock);
	for (SubWaiter *w = head; w; w = w->next)
		if (same(w->ns, w->ns_len, ns, ns_len))
			w->wake(w, SUBWAKE_POKE, NULL, now);
	pthread_mutex_unlock(&lock);
}

void
subwait_changed(const char *ns, size_t ns_len, const char *name, size_t name_len,
				const SubChange *change)
{
	int64_t		now = subwait_now_ms();

	pthread_mutex_lock(&lock);
	for (SubWaiter *w = head; w; w = w->next)
		if (same(w->ns, w->ns_len, ns, ns_len) && same(w->name, w->name_len, name, name_len))
			w->wake(w, SUBWAKE_CHANGE, change, now);
	pthread_mutex_unlock(&lock);
}

void
subwait_foreach(void (*fn) (SubWaiter *w, void *arg), void *arg)
{
	pthread_mutex_lock(&lock);
	for (SubWaiter *w = head; w; w = w->next)
		fn(w, arg);
	pthread_mutex_unlock(&lock);
}

static void *
run(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&lock);
	while (!stopping)
	{
		struct timespec ts = deadline_after(CLOCK_REALTIME, SUBWAIT_TICK_MS);
		int64_t		now;

		pthread_cond_timedwait(&stop_cv, &lock, &ts);
		if (stopping)
			break;
		now = subwait_now_ms();
		for (SubWaiter *w = head; w; w = w->next)
			w->wake(w, SUBWAKE_TICK, NULL, now);
	}
	pthread_mutex_unlock(&lock);
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
	int64_t		now = subwait_now_ms();

	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&stop_cv);
	for (SubWaiter *w = head; w; w = w->next)
		w->wake(w, SUBWAKE_SHUTDOWN, NULL, now);
	pthread_mutex_unlock(&lock);
	if (running)
		pthread_join(thread, NULL);
	running = false;
}
