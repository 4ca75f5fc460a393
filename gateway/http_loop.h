/*
 * Loop mode (docs/architecture.md#the-http-loop): one thread drives
 * libmicrohttpd's epoll set and the coroutines (coro.h) of the requests in
 * flight, so a request costs no thread hand-off.
 */
#ifndef GW_HTTP_LOOP_H
#define GW_HTTP_LOOP_H

#include <microhttpd.h>
#include <stdbool.h>

/* Starts the loop thread over daemon d (started with MHD_USE_EPOLL, no
 * internal thread); false + *err when it cannot. */
bool		http_loop_start(struct MHD_Daemon *d, char **err);

/* Requests in flight outside the coroutines, which a stop also waits for. */
void		http_loop_set_busy_source(int (*fn) (void));

/* A connection was resumed: the loop runs libmicrohttpd again soon (any thread). */
void		http_loop_kick(void);

/* Lets the requests in flight finish (bounded), then ends the loop thread. */
void		http_loop_stop(void);

#endif
