/* See conn_reaper.h. */
#include "conn_reaper.h"

#include "config.h"
#include "deadline.h"
#include "http.h"
#include "log.h"

#include <linux/tcp.h>			/* struct tcp_info with tcpi_bytes_received */
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#define SWEEP_MS 500
/* bytes_mark: not taken yet (the next sweep takes it), or not to be had */
#define MARK_PENDING (UINT64_MAX - 1)
#define MARK_UNKNOWN UINT64_MAX

struct ReaperEntry
{
	int			fd;
	size_t		index;			/* in watched[], when watched */
	bool		watched;
	bool		eof_seen;		/* by the previous sweep */
	int64_t		head_since;		/* ms when the head began; 0 = not yet */
	uint64_t	bytes_mark;		/* bytes received by the wait's first sweep */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;
static ReaperEntry **watched;
static size_t nwatched,
			capacity;
static bool running,
			stopping;
static pthread_t thread;

/*
 * Bytes the kernel has received on the connection so far; false when it
 * cannot tell. libmicrohttpd reads every byte as soon as it arrives, so a
 * peek cannot see whether a head has begun - the kernel's count can.
 */
static bool
bytes_received(int fd, uint64_t *out)
{
	struct tcp_info ti;
	socklen_t	len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
		len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return false;
	*out = ti.tcpi_bytes_received;
	return true;
}

static void
unwatch_locked(ReaperEntry *e)
{
	if (!e->watched)
		return;
	watched[e->index] = watched[--nwatched];
	watched[e->index]->index = e->index;
	e->watched = false;
}

static bool
watch_locked(ReaperEntry *e)
{
	if (e->watched)
		return true;
	if (nwatched == capacity)
	{
		size_t		cap = capacity ? capacity * 2 : 256;
		ReaperEntry **grown = realloc(watched, cap * sizeof(*grown));

		if (grown == NULL)
			return false;		/* not watched: the idle timeout still applies */
		watched = grown;
		capacity = cap;
	}
	e->index = nwatched;
	watched[nwatched++] = e;
	e->watched = true;
	e->eof_seen = false;
	/*
	 * Between requests the head's clock starts with its first byte, seen
	 * as the kernel's count growing past the mark. The mark is taken by
	 * the next sweep rather than here: a system call on every request
	 * cost more than the sweep. A head begun before that sweep starts its
	 * clock with its next byte; one that then stops is idle, which the
	 * idle timeout bounds.
	 */
	e->head_since = 0;
	e->bytes_mark = MARK_PENDING;
	return true;
}

ReaperEntry *
reaper_add(int fd)
{
	ReaperEntry *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->fd = fd;
	pthread_mutex_lock(&mu);
	watch_locked(e);
	e->head_since = monotonic_ms();	/* a first request's clock starts at connect */
	pthread_mutex_unlock(&mu);
	return e;
}

void
reaper_watch(ReaperEntry *e, bool watch)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&mu);
	if (watch)
		watch_locked(e);
	else
		unwatch_locked(e);
	pthread_mutex_unlock(&mu);
}

void
reaper_remove(ReaperEntry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&mu);
	unwatch_locked(e);
	pthread_mutex_unlock(&mu);
	free(e);
}

/*
 * The peer closed when a peek reads end-of-file (or the socket failed) -
 * in two sweeps in a row: a client that sends a whole request and then
 * closes its side also reads as end-of-file for the moment between
 * libmicrohttpd reading the request and starting to serve it (which ends
 * the watch), and it must get its answer.
 *
 * Entries leave the list under the lock before their descriptor is closed
 * (the server removes them when libmicrohttpd reports the connection
 * closed), so every descriptor peeked at here is still the connection's.
 */
/*
 * Whether e's request head has taken longer than the limit: libmicrohttpd's
 * timeout restarts with every byte, so a client trickling one byte every
 * few seconds would otherwise hold the connection forever.
 */
static bool
head_overdue(ReaperEntry *e, int64_t now, int64_t limit_ms)
{
	uint64_t	n;

	if (limit_ms <= 0)
		return false;
	if (e->head_since == 0)
	{
		if (e->bytes_mark == MARK_UNKNOWN)
			return false;
		if (!bytes_received(e->fd, &n))
		{
			e->bytes_mark = MARK_UNKNOWN;	/* cannot tell: only the idle timeout applies */
			return false;
		}
		if (e->bytes_mark == MARK_PENDING)
		{
			e->bytes_mark = n;
			return false;
		}
		if (n <= e->bytes_mark)
			return false;
		e->head_since = now;	/* the head began since the last sweep */
	}
	return now - e->head_since > limit_ms;
}

static void
sweep(void)
{
	size_t		i = 0;
	int64_t		now = monotonic_ms();
	int64_t		limit_ms = (int64_t) g_config.head_timeout * 1000;

	while (i < nwatched)
	{
		ReaperEntry *e = watched[i];

		if (http_peer_closed(e->fd))
		{
			if (e->eof_seen)
			{
				shutdown(e->fd, SHUT_RDWR);
				unwatch_locked(e);	/* swaps another entry into place i */
				continue;
			}
			e->eof_seen = true;
		}
		else
			e->eof_seen = false;
		if (head_overdue(e, now, limit_ms))
		{
			log_debug("request head not received within %d s; closing", g_config.head_timeout);
			shutdown(e->fd, SHUT_RDWR);
			unwatch_locked(e);
			continue;
		}
		i++;
	}
}

static void *
run(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&mu);
	while (!stopping)
	{
		struct timespec ts = deadline_after(CLOCK_REALTIME, SWEEP_MS);

		pthread_cond_timedwait(&stop_cv, &mu, &ts);
		if (!stopping)
			sweep();
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

bool
reaper_start(void)
{
	stopping = false;
	if (pthread_create(&thread, NULL, run, NULL) != 0)
	{
		log_warn("connection reaper not started: %s", "thread creation failed");
		return false;
	}
	running = true;
	return true;
}

void
reaper_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_signal(&stop_cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	running = false;
	free(watched);
	watched = NULL;
	nwatched = capacity = 0;
}
