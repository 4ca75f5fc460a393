/* The export/import progress line on stderr: count and rate, redrawn at
 * most a few times a second, and only when stderr is a terminal so that
 * scripts and logs never see carriage-return noise. */
#ifndef GW_CLI_PROGRESS_H
#define GW_CLI_PROGRESS_H

#include <stdbool.h>

typedef struct CliProgress
{
	const char *verb;			/* "Exported" / "Imported" */
	bool		tty;
	bool		shown;
	double		started;
	double		last_draw;
} CliProgress;

void		cli_progress_init(CliProgress *p, const char *verb);
void		cli_progress_update(CliProgress *p, long long count);
/* Ends the progress line (if one was drawn). */
void		cli_progress_end(CliProgress *p);
/* Seconds since cli_progress_init(). */
double		cli_progress_elapsed(const CliProgress *p);

#endif
