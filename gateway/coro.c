/* See coro.h. Coroutines with mmap'd stacks (a guard page below each),
 * one epoll set for the descriptors they wait on and those the loop
 * watches, and a ready list other threads may push to (an eventfd tells
 * the loop). The switch itself is coro_switch.h. */
#include "coro.h"
#include "coro_switch.h"

#include "deadline.h"
#include "strbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>) && __has_include(<valgrind/memcheck.h>)
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif
#endif

/*
 * Stack of one coroutine: as large as a thread's default stack, because
 * parsing and rendering deeply nested JSON (10,000 levels are legal)
 * recurses that deep. It is reserved, not committed: an ordinary request
 * touches a few tens of KiB of it.
 */
#define STACK_SIZE ((size_t) 8 * 1024 * 1024)
/*
 * A stack whose use went below this depth is unmapped when its coroutine
 * ends instead of being kept, so that a burst of deep requests does not
 * leave megabytes resident in the cache of free stacks.
 */
#define SHALLOW_DEPTH ((size_t) 128 * 1024)
#define CANARY 0x5eedf00dcafe5eedULL
#define STACKS_KEPT 64			/* freed stacks kept for the next coroutines */
#define EVENTS_PER_ROUND 64
/* Passes over coroutines woken during one round (coro_loop_once). */
#define READY_PASSES 4

struct Coro
{
	CoroCtx		ctx;
	char	   *stack;			/* the mapping, guard page first */
	unsigned	valgrind_id;
	void		(*fn) (void *);
	void	   *arg;
	void	   *uctx;			/* given to the switch hooks */
	bool		done;
	/* waiting: for an fd, a wake or a deadline (guarded by mu where marked) */
	bool		waiting;		/* in the waiting list */
	int64_t		deadline_ms;	/* -1: none */
	int			wait_result;	/* 1 ready/woken, 0 timed out */
	bool		parked;			/* mu */
	bool		wake_pending;	/* mu */
	bool		queued;			/* mu: in the ready list */
	Coro	   *next_ready;		/* mu */
	Coro	   *prev_wait,
			   *next_wait;
};

/*
 * What an epoll event is about, in the low two bits of its data: the wake
 * eventfd, a coroutine's descriptor (fd above the tag) or one the loop
 * watches (its id above the tag).
 */
enum
{
	TAG_WAKE = 0, TAG_FD = 1, TAG_LOOP = 2
};
#define TAG_BITS 2

/*
 * A descriptor coroutines wait on stays in the epoll set between waits
 * (level-triggered), so that the common wait - a query's answer on a
 * pooled connection - costs no epoll_ctl. The entry names the connection
 * it was added for: a descriptor number reused by another connection is
 * added afresh. One that turns ready with nobody waiting leaves the set
 * until its next wait, so that an idle connection's unread message cannot
 * spin the loop.
 */
typedef struct FdWatch
{
	uint64_t	conn_id;		/* 0: never added */
	uint32_t	armed;			/* events it is in the set for; 0: not in it */
	Coro	   *waiter;
} FdWatch;

static int	ep = -1;			/* every descriptor of the loop thread */
static FdWatch *watches;		/* by descriptor number */
static int	nwatches;
static int	wake_fd = -1;		/* eventfd: another thread queued a wake */
static CoroCtx loop_ctx;
static Coro *current;			/* loop thread only */
static Coro *starting;			/* handed to the trampoline */
static Coro *waiting_head;
static int	alive;
static pthread_t loop_thread;
static char *free_stacks[STACKS_KEPT];
static int	nfree_stacks;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static Coro *ready_head,
		   *ready_tail;

static void (*hook_enter) (void *ctx);
static void (*hook_leave) (void);

static size_t
page_size(void)
{
	static size_t cached;

	if (cached == 0)
	{
		long		p = sysconf(_SC_PAGESIZE);

		cached = p > 0 ? (size_t) p : 4096;
	}
	return cached;
}

bool
coro_loop_init(char **err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_WAKE};

	ep = epoll_create1(EPOLL_CLOEXEC);
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ep < 0 || wake_fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, wake_fd, &ev) != 0)
	{
		StrBuf		sb = STRBUF_INIT;

		sb_printf(&sb, "cannot set up the HTTP loop: %s", strerror(errno));
		*err = sb_steal(&sb);
		coro_loop_free();
		return false;
	}
	loop_thread = pthread_self();
	return true;
}

void
coro_loop_free(void)
{
	if (ep >= 0)
		close(ep);
	if (wake_fd >= 0)
		close(wake_fd);
	ep = wake_fd = -1;
	free(watches);
	watches = NULL;
	nwatches = 0;
	while (nfree_stacks > 0)
		munmap(free_stacks[--nfree_stacks], STACK_SIZE + page_size());
}

bool
coro_loop_watch(int fd, uint32_t id, char **err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t) id << TAG_BITS) | TAG_LOOP};

	if (id < 32 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
		return true;
	{
		StrBuf		sb = STRBUF_INIT;

		sb_printf(&sb, "cannot set up the HTTP loop: %s",
				  id < 32 ? strerror(errno) : "watch id out of range");
		*err = sb_steal(&sb);
	}
	return false;
}

void
coro_set_switch_hooks(void (*enter) (void *ctx), void (*leave) (void))
{
	hook_enter = enter;
	hook_leave = leave;
}

bool
coro_active(void)
{
	return current != NULL && pthread_equal(pthread_self(), loop_thread);
}

Coro *
coro_self(void)
{
	return coro_active() ? current : NULL;
}

int
coro_alive(void)
{
	return alive;
}

/* The word a coroutine overwrites once its stack grows past SHALLOW_DEPTH. */
static uint64_t *
canary_of(char *s)
{
	return (uint64_t *) (s + page_size() + STACK_SIZE - SHALLOW_DEPTH);
}

static char *
stack_get(void)
{
	size_t		guard = page_size();
	char	   *s;

	if (nfree_stacks > 0)
		return free_stacks[--nfree_stacks];
	s = mmap(NULL, STACK_SIZE + guard, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	/* an overflow faults on the guard page instead of corrupting memory */
	if (mprotect(s, guard, PROT_NONE) != 0)
	{
		munmap(s, STACK_SIZE + guard);
		return NULL;
	}
	*canary_of(s) = CANARY;
	return s;
}

static void
stack_put(char *s)
{
#ifdef HAVE_VALGRIND
	/* a coroutine that ran deeper left the word below valgrind's idea of
	 * its stack pointer, which valgrind then calls unaddressable */
	VALGRIND_MAKE_MEM_DEFINED(canary_of(s), sizeof(uint64_t));
#endif
	if (nfree_stacks < STACKS_KEPT && *canary_of(s) == CANARY)
		free_stacks[nfree_stacks++] = s;
	else
		munmap(s, STACK_SIZE + page_size());
}

static void
coro_free(Coro *co)
{
#ifdef HAVE_VALGRIND
	VALGRIND_STACK_DEREGISTER(co->valgrind_id);
#endif
	stack_put(co->stack);
	free(co);
	alive--;
}

/* A coroutine's first frame; it never returns, the last switch leaves it. */
static void
trampoline(void)
{
	Coro	   *co = starting;

	co->fn(co->arg);
	co->done = true;
	coro_ctx_switch(&co->ctx, &loop_ctx);
	abort();					/* an ended coroutine is never resumed */
}

/* Runs co until it waits or ends; frees it and says true when it ended. */
static bool
switch_into(Coro *co)
{
	Coro	   *outer = current;
	bool		ended;

	if (hook_enter != NULL)
		hook_enter(co->uctx);
	current = co;
	coro_ctx_switch(&loop_ctx, &co->ctx);
	current = outer;
	if (hook_leave != NULL)
		hook_leave();
	ended = co->done;
	if (ended)
		coro_free(co);
	return ended;
}

bool
coro_spawn(void (*fn) (void *), void *arg, void *ctx)
{
	Coro	   *co;
	bool		ended;

	/* a coroutine's callee asking for one runs inside it; off the loop
	 * thread (threads mode) there are no coroutines */
	if (current != NULL || ep < 0 || !pthread_equal(pthread_self(), loop_thread))
	{
		fn(arg);
		return true;
	}
	co = calloc(1, sizeof(Coro));
	if (co == NULL || (co->stack = stack_get()) == NULL)
	{
		/* no memory for a coroutine: run it on the loop's stack, blocking */
		free(co);
		fn(arg);
		return true;
	}
	co->fn = fn;
	co->arg = arg;
	co->uctx = ctx;
	co->deadline_ms = -1;
	coro_ctx_make(&co->ctx, co->stack + page_size(), STACK_SIZE, trampoline);
#ifdef HAVE_VALGRIND
	co->valgrind_id = VALGRIND_STACK_REGISTER(co->stack + page_size(),
											  co->stack + page_size() + STACK_SIZE);
#endif
	alive++;
	starting = co;
	ended = switch_into(co);
	return ended;
}

/* Back to the loop; returns when the loop resumes the caller. */
static void
yield(void)
{
	Coro	   *co = current;

	coro_ctx_switch(&co->ctx, &loop_ctx);
}

static void
waiting_add(Coro *co, int64_t deadline_ms)
{
	co->deadline_ms = deadline_ms;
	co->wait_result = 0;
	co->waiting = true;
	co->prev_wait = NULL;
	co->next_wait = waiting_head;
	if (waiting_head != NULL)
		waiting_head->prev_wait = co;
	waiting_head = co;
}

static void
waiting_remove(Coro *co)
{
	if (!co->waiting)
		return;
	if (co->prev_wait != NULL)
		co->prev_wait->next_wait = co->next_wait;
	else
		waiting_head = co->next_wait;
	if (co->next_wait != NULL)
		co->next_wait->prev_wait = co->prev_wait;
	co->waiting = false;
	co->prev_wait = co->next_wait = NULL;
}

/* The entry of fd, the table grown to hold it; NULL when out of memory. */
static FdWatch *
watch_of(int fd)
{
	if (fd >= nwatches)
	{
		int			n = nwatches == 0 ? 64 : nwatches;
		FdWatch    *w;

		while (n <= fd)
			n *= 2;
		if ((w = realloc(watches, (size_t) n * sizeof(FdWatch))) == NULL)
		{
			errno = ENOMEM;
			return NULL;
		}
		memset(w + nwatches, 0, (size_t) (n - nwatches) * sizeof(FdWatch));
		watches = w;
		nwatches = n;
	}
	return &watches[fd];
}

/* Puts fd in the epoll set for events, unless it is there already. */
static bool
arm(FdWatch *w, int fd, uint64_t conn_id, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t) fd << TAG_BITS) | TAG_FD};
	int			op;

	if (w->conn_id == conn_id && w->armed == events)
		return true;
	op = w->conn_id == conn_id && w->armed != 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(ep, op, fd, &ev) != 0)
	{
		/* the set knows better than the table: a closed descriptor left it */
		op = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
		if (op < 0 || epoll_ctl(ep, op, fd, &ev) != 0)
			return false;
	}
	w->conn_id = conn_id;
	w->armed = events;
	return true;
}

int
coro_wait_fd(int fd, uint64_t conn_id, uint32_t events, int64_t deadline_ms)
{
	Coro	   *co = current;
	FdWatch    *w;

	if (!coro_active() || fd < 0 || conn_id == 0)
	{
		errno = EINVAL;
		return -1;
	}
	if ((w = watch_of(fd)) == NULL || !arm(w, fd, conn_id, events))
		return -1;
	w->waiter = co;
	waiting_add(co, deadline_ms);
	yield();
	/* the table may have moved while others waited */
	if (watches[fd].waiter == co)
		watches[fd].waiter = NULL;
	return co->wait_result;
}

bool
coro_park(int64_t deadline_ms)
{
	Coro	   *co = current;

	if (!coro_active())
		return false;
	pthread_mutex_lock(&mu);
	if (co->wake_pending)
	{
		co->wake_pending = false;
		pthread_mutex_unlock(&mu);
		return true;
	}
	co->parked = true;
	pthread_mutex_unlock(&mu);
	waiting_add(co, deadline_ms);
	yield();
	return co->wait_result == 1;
}

struct CoroWaiter
{
	Coro	   *co;
	CoroWaiter *next;
};

int
coro_cond_timedwait(CoroCond *c, pthread_mutex_t *mu, clockid_t clock,
					const struct timespec *abstime)
{
	struct timespec now;
	CoroWaiter	me;
	int64_t		left;
	bool		woken;

	if (!coro_active())
		return pthread_cond_timedwait(c->cv, mu, abstime);
	clock_gettime(clock, &now);
	left = (int64_t) (abstime->tv_sec - now.tv_sec) * 1000 +
		(abstime->tv_nsec - now.tv_nsec) / 1000000;
	if (left <= 0)
		return ETIMEDOUT;
	me.co = current;
	me.next = c->waiters;
	c->waiters = &me;
	pthread_mutex_unlock(mu);
	woken = coro_park(monotonic_ms() + left);
	pthread_mutex_lock(mu);
	for (CoroWaiter **w = &c->waiters; *w != NULL; w = &(*w)->next)
		if (*w == &me)
		{
			*w = me.next;
			break;
		}
	return woken ? 0 : ETIMEDOUT;
}

void
coro_cond_broadcast(CoroCond *c)
{
	pthread_cond_broadcast(c->cv);
	for (CoroWaiter *w = c->waiters; w != NULL; w = w->next)
		coro_wake(w->co);
}

void
coro_sleep_ms(int64_t ms)
{
	int64_t		until = monotonic_ms() + ms;

	if (!coro_active())
	{
		struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		return;
	}
	/* a wake meant for a park must not end the sleep early and be lost */
	while (monotonic_ms() < until)
	{
		Coro	   *co = current;

		waiting_add(co, until);
		yield();
	}
}

/* Puts co on the ready list (mu held); 1 resumes it as woken. */
static void
make_ready_locked(Coro *co, int result)
{
	if (co->queued)
		return;
	co->queued = true;
	co->wait_result = result;
	co->next_ready = NULL;
	if (ready_tail != NULL)
		ready_tail->next_ready = co;
	else
		ready_head = co;
	ready_tail = co;
}

void
coro_wake(Coro *co)
{
	bool		other_thread = !pthread_equal(pthread_self(), loop_thread);

	pthread_mutex_lock(&mu);
	if (co->parked)
	{
		co->parked = false;
		make_ready_locked(co, 1);
	}
	else
		co->wake_pending = true;
	pthread_mutex_unlock(&mu);
	if (other_thread)
	{
		uint64_t	one = 1;

		/* the loop reads it down; a full counter already means "look" */
		if (write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			return;
	}
}

int64_t
coro_loop_timeout_ms(void)
{
	int64_t		first = -1,
				now;

	pthread_mutex_lock(&mu);
	if (ready_head != NULL)
	{
		pthread_mutex_unlock(&mu);
		return 0;
	}
	pthread_mutex_unlock(&mu);
	for (Coro *co = waiting_head; co != NULL; co = co->next_wait)
		if (co->deadline_ms >= 0 && (first < 0 || co->deadline_ms < first))
			first = co->deadline_ms;
	if (first < 0)
		return -1;
	now = monotonic_ms();
	return first > now ? first - now : 0;
}

/* An event of a coroutine's descriptor: its waiter is ready; with none,
 * the descriptor leaves the set until the next wait on it (taken out, not
 * just emptied of events: a hang-up is reported whatever one asks for). */
static void
fd_ready(int fd)
{
	FdWatch    *w = fd < nwatches ? &watches[fd] : NULL;

	if (w == NULL)
		return;
	if (w->waiter != NULL)
		make_ready_locked(w->waiter, 1);
	else if (w->armed != 0)
	{
		(void) epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		w->armed = 0;
	}
}

int
coro_loop_wait(int timeout_ms, uint32_t *loop_ids)
{
	struct epoll_event evs[EVENTS_PER_ROUND];
	int			n = epoll_wait(ep, evs, EVENTS_PER_ROUND, timeout_ms);

	*loop_ids = 0;
	if (n <= 0)
		return n;
	pthread_mutex_lock(&mu);
	for (int i = 0; i < n; i++)
	{
		uint64_t	d = evs[i].data.u64;

		switch (d & ((1u << TAG_BITS) - 1))
		{
			case TAG_WAKE:
				{
					uint64_t	v;

					/* only empties the counter: the ready list is what counts */
					(void) !read(wake_fd, &v, sizeof(v));
					break;
				}
			case TAG_FD:
				fd_ready((int) (d >> TAG_BITS));
				break;
			default:
				*loop_ids |= 1u << (d >> TAG_BITS);
				break;
		}
	}
	pthread_mutex_unlock(&mu);
	return n;
}

void
coro_loop_once(void)
{
	int64_t		now;
	Coro	   *run;

	pthread_mutex_lock(&mu);
	now = monotonic_ms();
	for (Coro *co = waiting_head; co != NULL; co = co->next_wait)
		if (co->deadline_ms >= 0 && co->deadline_ms <= now && !co->queued)
		{
			co->parked = false;	/* a park or a sleep that timed out */
			make_ready_locked(co, 0);
		}
	/*
	 * Coroutines woken by the ones run here run in this round too, up to
	 * a few passes: a group commit's next leader then sends its group at
	 * once instead of after the next pass of libmicrohttpd.
	 */
	for (int pass = 0; pass < READY_PASSES && ready_head != NULL; pass++)
	{
		run = ready_head;
		ready_head = ready_tail = NULL;
		for (Coro *co = run; co != NULL; co = co->next_ready)
			co->queued = false;
		pthread_mutex_unlock(&mu);
		while (run != NULL)
		{
			Coro	   *co = run;

			run = co->next_ready;
			waiting_remove(co);
			switch_into(co);
		}
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
}
