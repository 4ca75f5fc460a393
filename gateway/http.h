/* Response helpers shared by every endpoint. */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* Queues body (copied) with status and Content-Type. */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status,
						   const char *content_type, const char *body, size_t len);

/*
 * Queues the JSON error envelope of docs/http-api.md#errors followed by "\n":
 * {"error":{"code":..,"message":..[,"details":<details_json>]}}.
 * details_json is a ready JSON object text or NULL.
 */
enum MHD_Result http_error(struct MHD_Connection *c, unsigned status,
						   const char *code, const char *message,
						   const char *details_json);

/* The same with a message that may contain NUL bytes (client strings). */
enum MHD_Result http_error_n(struct MHD_Connection *c, unsigned status,
							 const char *code, const char *message, size_t message_len,
							 const char *details_json);

/* http_error without details, and the connection is closed after it. */
enum MHD_Result http_error_close(struct MHD_Connection *c, unsigned status,
								 const char *code, const char *message);

/*
 * First value of a query parameter, or NULL; empty values count as absent.
 * Names are compared case-sensitively, as Go's url.Values does.
 */
const char *http_query(struct MHD_Connection *c, const char *name);
bool		http_query_n(struct MHD_Connection *c, const char *name,
						 const char **value, size_t *value_len);

/*
 * The headers of a text/event-stream response (/subscribe, /import
 * progress, docs/http-api.md#frames, #bulk-import-import): no caching, Server, and an explicit keep-alive.
 */
void		http_event_stream_headers(struct MHD_Response *resp);

/*
 * Every response is queued through http_queue (which takes resp), and a
 * handler that waits for a later event suspends its connection through
 * http_suspend. In loop mode (http_loop.h) a request whose handler waited
 * has left libmicrohttpd's callback and its connection is suspended: then
 * the response is held (HttpCapture) and queued when the server resumes it.
 */
typedef struct HttpCapture
{
	bool		armed;			/* the connection is suspended by the loop */
	bool		stay_suspended;	/* the handler suspended it for itself */
	unsigned	status;
	struct MHD_Response *resp;
} HttpCapture;

/* The client closed its side of the socket fd, or the socket failed;
 * unread request bytes are left where they are. */
bool		http_peer_closed(int fd);

enum MHD_Result http_queue(struct MHD_Connection *c, unsigned status,
						   struct MHD_Response *resp);
void		http_suspend(struct MHD_Connection *c);

/*
 * MHD_resume_connection, and in loop mode a nudge to the loop thread (any
 * thread may call it): libmicrohttpd's own timeout does not count resumed
 * connections, so the loop must know to run it again.
 */
void		http_resume(struct MHD_Connection *c);
void		http_set_resume_hook(void (*hook) (void));

/* The server's: the capture of the request the caller serves on c, if any. */
void		http_set_capture_source(HttpCapture *(*source) (struct MHD_Connection *c));

#endif
