/*
 * Coroutines of the HTTP loop (docs/architecture.md#the-http-loop).
 *
 * In loop mode one thread serves every HTTP connection; each request's
 * handler runs as a coroutine on that thread, and where the threaded
 * gateway would block (a database round trip, waiting for a group commit
 * or a free connection) the coroutine yields to the loop instead, which
 * serves other connections and resumes it when its socket is ready or it
 * is woken. The handlers themselves are the same code in both modes: the
 * waiting primitives below block the calling thread when it is not a
 * coroutine.
 */
#ifndef GW_CORO_H
#define GW_CORO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct Coro Coro;

/* Sets up the loop thread's side; false + *err when it cannot. */
bool		coro_loop_init(char **err);
void		coro_loop_free(void);

/*
 * Runs fn(arg) as a coroutine, right now, until it first waits or ends.
 * Returns true when it ended already; false when it waits (it then ends
 * later, run by coro_loop_once). Called on the loop thread only.
 */
bool		coro_spawn(void (*fn) (void *), void *arg, void *ctx);

/* Coroutines that have not ended yet. */
int			coro_alive(void);

/* Is the caller a coroutine (then the waits below yield)? */
bool		coro_active(void);

/*
 * Waits until fd is ready for `events` (EPOLLIN / EPOLLOUT) or deadline_ms
 * (monotonic, -1 = none) passes: 1 ready, 0 timed out, -1 error (errno).
 * conn_id (not 0) names what fd is open for and is never given to another:
 * fd stays watched between waits, and a number the kernel handed out again
 * is told apart by it. Coroutines only.
 */
int			coro_wait_fd(int fd, uint64_t conn_id, uint32_t events, int64_t deadline_ms);

/*
 * Parks the calling coroutine until coro_wake() or deadline_ms (-1 = none).
 * True when woken. A wake that came before the park is not lost: the
 * park returns at once.
 */
bool		coro_park(int64_t deadline_ms);
Coro	   *coro_self(void);

/* Wakes a parked coroutine; any thread may call it. */
void		coro_wake(Coro *co);

/*
 * A condition both threads and coroutines wait on: a thread waits on cv,
 * a coroutine parks in the waiter list (the loop goes on meanwhile). Both
 * are guarded by the caller's mutex mu, held around either call.
 * coro_cond_timedwait returns 0 when woken, ETIMEDOUT at abstime (on
 * `clock`, cv's clock).
 */
typedef struct CoroWaiter CoroWaiter;
typedef struct CoroCond
{
	pthread_cond_t *cv;
	CoroWaiter *waiters;
} CoroCond;

int			coro_cond_timedwait(CoroCond *c, pthread_mutex_t *mu, clockid_t clock,
								const struct timespec *abstime);
void		coro_cond_broadcast(CoroCond *c);

/* Sleeps the coroutine for ms milliseconds. */
void		coro_sleep_ms(int64_t ms);

/*
 * The loop's side. One epoll_wait serves the coroutines' descriptors and
 * the loop's own: coro_loop_watch adds one of the loop's (readable, id
 * 0..31); coro_loop_wait waits up to timeout_ms (-1: no limit) and returns
 * the events it took (0: timed out, -1: error with errno), the loop's ready
 * descriptors as bits (1 << id) in *loop_ids; the coroutines whose
 * descriptors are ready are resumed by the next coro_loop_once, which runs
 * every coroutine whose descriptor, wake or deadline came.
 * coro_loop_timeout_ms: the time until the next coroutine deadline (ms,
 * -1 = none).
 */
bool		coro_loop_watch(int fd, uint32_t id, char **err);
int			coro_loop_wait(int timeout_ms, uint32_t *loop_ids);
int64_t		coro_loop_timeout_ms(void);
void		coro_loop_once(void);

/*
 * Called around every switch into a coroutine, with the ctx given to
 * coro_spawn: the request context (reqctx.h) follows its coroutine.
 */
void		coro_set_switch_hooks(void (*enter) (void *ctx), void (*leave) (void));

#endif
