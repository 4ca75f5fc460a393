/* Stand-ins for the catch-up workers of gateway/sse_catchup.c (which need a
 * database): a queued catch-up is parked in fake_sse_job for the harness to
 * complete synchronously. */
#include "fake_sse.h"

#include <stdlib.h>

Sub		   *fake_sse_job;

void
catchup_enqueue(Sub *s)
{
	sub_ref(s);
	if (fake_sse_job != NULL)
		abort();				/* one subscription per run */
	fake_sse_job = s;
}

bool
catchup_start(void)
{
	return true;
}

void
catchup_stop(void)
{
}

void
fake_sse_complete_catchup(void)
{
	Sub		   *s = fake_sse_job;

	if (s == NULL)
		return;
	fake_sse_job = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->closed || s->ending)
		;
	else if (s->awaiting_barrier)
		sub_release_barrier(s);
	else
	{
		/* an empty catch-up: go live, replaying what arrived meanwhile */
		sub_go_live(s, NULL, NULL);
		sub_wake(s);
	}
	pthread_mutex_unlock(&s->mu);
	sub_unref(s);
}
