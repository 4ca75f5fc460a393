/* See cli_progress.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cli_progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
cli_progress_init(CliProgress *p, const char *verb)
{
	p->verb = verb;
	p->tty = isatty(STDERR_FILENO) == 1;
	p->shown = false;
	p->started = now_seconds();
	p->last_draw = 0;
}

void
cli_progress_update(CliProgress *p, long long count)
{
	double		t;
	double		elapsed;

	if (!p->tty)
		return;
	t = now_seconds();
	if (p->shown && t - p->last_draw < 0.2)
		return;
	elapsed = t - p->started;
	fprintf(stderr, "\r%s %lld messages (%.0f msg/s)   ", p->verb, count,
			elapsed > 0 ? (double) count / elapsed : 0.0);
	fflush(stderr);
	p->shown = true;
	p->last_draw = t;
}

void
cli_progress_end(CliProgress *p)
{
	if (p->shown)
		fputc('\n', stderr);
	p->shown = false;
}

double
cli_progress_elapsed(const CliProgress *p)
{
	return now_seconds() - p->started;
}
