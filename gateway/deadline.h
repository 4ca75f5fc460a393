/* The gateway's clock: monotonic milliseconds, and absolute times for
 * pthread_cond_timedwait. */
#ifndef GW_DEADLINE_H
#define GW_DEADLINE_H

#include <stdint.h>
#include <time.h>

/* now + ms on the given clock (the one the condition variable waits on). */
struct timespec deadline_after(clockid_t clock, int ms);

/* Milliseconds of CLOCK_MONOTONIC: timeouts, deadlines and ages. */
int64_t		monotonic_ms(void);

#endif
