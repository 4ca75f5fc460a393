/* Absolute times for pthread_cond_timedwait. */
#ifndef GW_DEADLINE_H
#define GW_DEADLINE_H

#include <time.h>

/* now + ms on the given clock (the one the condition variable waits on). */
struct timespec deadline_after(clockid_t clock, int ms);

#endif
