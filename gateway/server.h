/* The HTTP server: libmicrohttpd with an epoll thread pool, the routing of
 * docs/http-api.md#endpoints and the server parameters it names (body limit, timeouts,
 * TCP keep-alive, all interfaces). */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <stdbool.h>

#define SERVER_BODY_LIMIT ((size_t) 100 * 1024 * 1024)

bool		server_start(int port, int threads, char **err);
/* Stops accepting and closes every connection (after sse_shutdown()). */
void		server_stop(void);
/* The port actually bound (differs from the request when it was 0). */
int			server_port(void);

#endif
