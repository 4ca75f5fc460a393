/* See http_loop.h. */
#include "http_loop.h"

#include "coro.h"
#include "deadline.h"
#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* On stop, how long requests in flight may take to finish. */
#define DRAIN_MS 10000

/* The loop's own descriptors (coro_loop_watch ids). */
enum
{
	SRC_MHD = 0, SRC_STOP = 1
};

static struct MHD_Daemon *daemon_handle;
static pthread_t thread;
static bool running;
static int	stop_fd = -1;
static atomic_bool stopping;
static atomic_bool kicked;
static int	(*busy_source) (void);		/* a connection was resumed since the last MHD_run */

typedef struct Start
{
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool		done;
	char	   *err;
} Start;

static void
started(Start *st, char *err)
{
	pthread_mutex_lock(&st->mu);
	st->done = true;
	st->err = err;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

/* The wait of one round: MHD's next timeout, a coroutine's deadline, or a
 * short tick while draining. */
static int
round_timeout(void)
{
	MHD_UNSIGNED_LONG_LONG mto;
	int64_t		t = -1,
				ct = coro_loop_timeout_ms();

	if (MHD_get_timeout(daemon_handle, &mto) == MHD_YES)
		t = mto > 60000 ? 60000 : (int64_t) mto;
	if (ct >= 0 && (t < 0 || ct < t))
		t = ct;
	if (atomic_load(&stopping) && (t < 0 || t > 20))
		t = 20;
	if (atomic_load(&kicked))
		t = 0;
	return (int) t;
}

/* libmicrohttpd has work it can do at once (a connection it knows to be
 * readable, such as one that has just sent a response on a kept-alive
 * connection). */
static bool
mhd_due(void)
{
	MHD_UNSIGNED_LONG_LONG mto;

	return MHD_get_timeout(daemon_handle, &mto) == MHD_YES && mto == 0;
}

static void *
loop_main(void *arg)
{
	Start	   *st = arg;
	char	   *err = NULL;
	const union MHD_DaemonInfo *di;
	int64_t		drain_until = -1;

	if (!coro_loop_init(&err))
	{
		started(st, err);
		return NULL;
	}
	di = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || !coro_loop_watch(di->epoll_fd, SRC_MHD, &err) ||
		!coro_loop_watch(stop_fd, SRC_STOP, &err))
	{
		if (err == NULL)
			err = strdup("libmicrohttpd has no epoll set");
		coro_loop_free();
		started(st, err);
		return NULL;
	}
	started(st, NULL);
	for (;;)
	{
		uint32_t	ids;
		int			n = coro_loop_wait(round_timeout(), &ids);
		bool		mhd = n == 0 || (ids & (1u << SRC_MHD)) != 0;	/* 0: MHD's timeouts are due */

		if (n < 0 && errno != EINTR)
			log_warn("HTTP loop: epoll_wait: %s", strerror(errno));
		if (ids & (1u << SRC_STOP))
		{
			uint64_t	v;

			(void) !read(stop_fd, &v, sizeof(v));	/* a stop or a kick */
		}
		coro_loop_once();
		/*
		 * A resumed connection is served by the MHD_run after its resume
		 * (a kick), and what that run leaves to do at once - the rest of a
		 * response, the next request of a kept-alive connection - makes
		 * libmicrohttpd's timeout 0: run it again straight away rather
		 * than after a wait of 0 ms.
		 */
		for (int i = 0; i < 8 && (mhd || atomic_load(&kicked)); i++)
		{
			atomic_store(&kicked, false);
			MHD_run(daemon_handle);
			coro_loop_once();
			mhd = mhd_due();
		}
		if (atomic_load(&stopping))
		{
			if (drain_until < 0)
				drain_until = monotonic_ms() + DRAIN_MS;
			if (coro_alive() == 0 && (busy_source == NULL || busy_source() == 0))
				break;
			if (monotonic_ms() >= drain_until)
			{
				log_warn("HTTP loop: %d requests still waiting at shutdown", coro_alive());
				break;
			}
		}
	}
	return NULL;
}

void
http_loop_set_busy_source(int (*fn) (void))
{
	busy_source = fn;
}

void
http_loop_kick(void)
{
	uint64_t	one = 1;

	if (atomic_exchange(&kicked, true))
		return;					/* already on its way */
	if (!pthread_equal(pthread_self(), thread) && stop_fd >= 0)
		(void) !write(stop_fd, &one, sizeof(one));
}

bool
http_loop_start(struct MHD_Daemon *d, char **err)
{
	Start		st = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	int			rc;

	daemon_handle = d;
	atomic_store(&stopping, false);
	stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (stop_fd < 0)
	{
		StrBuf		sb = STRBUF_INIT;

		sb_printf(&sb, "cannot set up the HTTP loop: %s", strerror(errno));
		*err = sb_steal(&sb);
		http_loop_stop();
		return false;
	}
	if ((rc = pthread_create(&thread, NULL, loop_main, &st)) != 0)
	{
		StrBuf		sb = STRBUF_INIT;

		sb_printf(&sb, "cannot start the HTTP loop thread: %s", strerror(rc));
		*err = sb_steal(&sb);
		http_loop_stop();
		return false;
	}
	pthread_mutex_lock(&st.mu);
	while (!st.done)
		pthread_cond_wait(&st.cv, &st.mu);
	pthread_mutex_unlock(&st.mu);
	running = true;
	if (st.err != NULL)
	{
		*err = st.err;
		http_loop_stop();
		return false;
	}
	return true;
}

void
http_loop_stop(void)
{
	if (running)
	{
		uint64_t	one = 1;

		atomic_store(&stopping, true);
		(void) !write(stop_fd, &one, sizeof(one));
		pthread_join(thread, NULL);
		running = false;
		coro_loop_free();
	}
	if (stop_fd >= 0)
		close(stop_fd);
	stop_fd = -1;
}
