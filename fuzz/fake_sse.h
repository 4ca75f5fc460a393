/* See fake_sse.c. */
#ifndef FUZZ_FAKE_SSE_H
#define FUZZ_FAKE_SSE_H

#include "sse_sub.h"

extern Sub *fake_sse_job;

/* Runs the parked catch-up as if the database had no rows. */
void		fake_sse_complete_catchup(void);

#endif
