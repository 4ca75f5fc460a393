/*
 * Closes connections whose client left while the server waited for a
 * request head. libmicrohttpd (0.9.75, epoll) can miss the end of a
 * connection that arrives together with the last bytes of a partial head:
 * it reads the bytes, never sees the close, and keeps the descriptor and
 * the connection slot until the idle timeout - minutes. A client that
 * opens connections, sends half a head and leaves could so exhaust the
 * server's descriptors.
 *
 * The server registers every connection that waits for a request head;
 * twice a second the reaper peeks at each one, and when the peer has closed
 * (seen twice in a row) it shuts the socket down, which wakes
 * libmicrohttpd to close it.
 *
 * The same sweep bounds the time a head may take (--head-timeout, 30 s):
 * from the connection's start for its first request, from the first byte
 * of the next head on a kept-alive connection (seen in the kernel's count
 * of received bytes, within a sweep or two), so idle keep-alive still lasts
 * the idle timeout but a head trickled a byte at a time is cut off.
 */
#ifndef GW_CONN_REAPER_H
#define GW_CONN_REAPER_H

#include <stdbool.h>

typedef struct ReaperEntry ReaperEntry;

bool		reaper_start(void);
void		reaper_stop(void);

/* A new connection (its descriptor); the entry starts out watched. */
ReaperEntry *reaper_add(int fd);
/* Waiting for a request head, or not (a request is being served). */
void		reaper_watch(ReaperEntry *e, bool watch);
/* The connection is closing: the entry is freed. */
void		reaper_remove(ReaperEntry *e);

#endif
