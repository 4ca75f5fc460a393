/* See server.h. Every request body is read completely (up to the limit)
 * before anything answers, so even a 401 leaves the connection reusable. */
#include "server.h"

#include "auth.h"
#include "config.h"
#include "conn_reaper.h"
#include "coro.h"
#include "http.h"
#include "http_loop.h"
#include "import.h"
#include "job_queue.h"
#include "log.h"
#include "metrics.h"
#include "push.h"
#include "ready.h"
#include "reqctx.h"
#include "rpc.h"
#include "sse.h"
#include "strbuf.h"
#include "ui.h"
#include "url_decode.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define READ_TIMEOUT_S 30		/* to read one request */
#define IDLE_TIMEOUT_S 120		/* keep-alive between requests */
/*
 * Per-connection memory pool of libmicrohttpd (request head + buffers). It is
 * what an idle SSE subscription costs: measured with 1000 idle subscribers,
 * 1 MiB gives 564 MB RSS, 256 KiB 148 MB, 64 KiB 52 MB (target < 64 MB).
 * 64 KiB still takes request heads of about 30 KiB - far above any real
 * client's - while Go's server would take up to 1 MiB (docs/http-api.md#deviations-from-the-original).
 */
#define HEADER_MEMORY (64 * 1024)

typedef enum Route
{
	ROUTE_NOT_FOUND, ROUTE_RPC, ROUTE_SUBSCRIBE, ROUTE_IMPORT, ROUTE_HEALTH, ROUTE_VERSION,
	ROUTE_PUSH, ROUTE_UI, ROUTE_METRICS, ROUTE_READY
} Route;

/* The metrics' method label of each route until an RPC names its method. */
static const char *const route_op[] = {
	"not_found", "rpc", "subscribe", "import", "health", "version", "push", "ui", "metrics",
	"ready"
};

typedef struct Request
{
	Route		route;
	StrBuf		body;
	size_t		received;		/* body bytes seen, kept or not */
	size_t		charged;		/* bytes counted against the budget */
	bool		too_large;
	bool		over_budget;
	time_t		started;
	RpcDeferred deferred;		/* a waiting subscription.fetch */
	ReqCtx		ctx;			/* id, metrics label, status */
	/* loop mode: the handler's coroutine and what it left for MHD */
	struct MHD_Connection *conn;
	const char *url;
	const char *method;
	HttpCapture cap;
	bool		co_ended;		/* while suspended: cap/co_ret are its outcome */
	enum MHD_Result co_ret;
	struct Request *offload_next;
} Request;

static bool loop_mode;

/*
 * Request bodies are buffered whole (up to SERVER_BODY_LIMIT each). All of
 * them together may hold at most this much memory; a body that would go
 * beyond it is refused with 503, so a flood of large uploads cannot take
 * the process down. EVENTODB_REQUEST_BUDGET (bytes) changes it.
 */
#define DEFAULT_BODY_BUDGET ((size_t) 1024 * 1024 * 1024)

static _Atomic size_t body_budget = DEFAULT_BODY_BUDGET;
static _Atomic size_t bodies_held;

static bool
charge(Request *r, size_t n)
{
	size_t		held = atomic_fetch_add(&bodies_held, n) + n;

	if (held > atomic_load(&body_budget))
	{
		atomic_fetch_sub(&bodies_held, n);
		return false;
	}
	r->charged += n;
	return true;
}

static void
uncharge(Request *r)
{
	atomic_fetch_sub(&bodies_held, r->charged);
	r->charged = 0;
}

/* Request body bytes buffered now (the /metrics gauge). */
static size_t
bodies_held_now(void)
{
	return atomic_load(&bodies_held);
}

static struct MHD_Daemon *daemon_handle;
static unsigned int max_connections;	/* set by connection_limit() */

static const char not_found_body[] = "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"Endpoint not found\"}}";
static const char health_body[] = "{\"status\":\"ok\"}";
static const char version_body[] = "{\"version\":\"" EVENTODB_VERSION "\"}";

/* docs/http-api.md#endpoints: exact, case-sensitive, query string ignored (MHD strips it). */
static Route
route_of(const char *url)
{
	if (strcmp(url, "/rpc") == 0)
		return ROUTE_RPC;
	if (strcmp(url, "/subscribe") == 0)
		return ROUTE_SUBSCRIBE;
	if (strcmp(url, "/import") == 0)
		return ROUTE_IMPORT;
	if (strcmp(url, "/health") == 0)
		return ROUTE_HEALTH;
	if (strcmp(url, "/version") == 0)
		return ROUTE_VERSION;
	if (strcmp(url, "/push") == 0)
		return ROUTE_PUSH;
	if (strcmp(url, "/metrics") == 0)
		return ROUTE_METRICS;
	if (strcmp(url, "/ready") == 0)
		return ROUTE_READY;
	if (ui_serves(url))
		return ROUTE_UI;		/* the console; other /ui/ paths stay unknown */
	return ROUTE_NOT_FOUND;
}

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
set_timeout(struct MHD_Connection *c, unsigned seconds)
{
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, seconds);
}

/* Whether the reaper (conn_reaper.h) watches c: while it waits for a head. */
static void
await_head(struct MHD_Connection *c, bool waiting)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (ci != NULL)
		reaper_watch(ci->socket_context, waiting);
}

static enum MHD_Result
too_large(struct MHD_Connection *c)
{
	return http_error(c, 413, "INVALID_REQUEST", "Request body too large (limit 100 MiB)", NULL);
}

/* What the head says about the body's length (ambiguous_framing). */
typedef struct Framing
{
	int			content_lengths;
	int			transfer_encodings;
	bool		chunked_only;	/* every Transfer-Encoding is exactly "chunked" */
} Framing;

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	Framing    *f = cls;

	(void) kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->content_lengths++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
	{
		f->transfer_encodings++;
		if (value == NULL || strcasecmp(value, "chunked") != 0)
			f->chunked_only = false;
	}
	return MHD_YES;
}

/*
 * NULL, or why the body's length is not clear from the head: two
 * Content-Length headers (libmicrohttpd reads the first), Content-Length
 * with Transfer-Encoding, or a transfer coding other than chunked (which
 * libmicrohttpd would wait on until the head timeout). A proxy in front
 * that reads the length otherwise would take part of this request's body
 * for a second request (request smuggling, RFC 9112 section 6.3), so such
 * a request is refused before its body is read, and the connection closes
 * (docs/http-api.md#endpoints).
 */
static const char *
ambiguous_framing(struct MHD_Connection *c)
{
	Framing		f = {0, 0, true};

	(void) MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.content_lengths > 1)
		return "More than one Content-Length header";
	if (f.transfer_encodings > 0 && f.content_lengths > 0)
		return "Content-Length and Transfer-Encoding together";
	if (f.transfer_encodings > 1 || !f.chunked_only)
		return "Transfer-Encoding other than chunked";
	return NULL;
}

static enum MHD_Result
dispatch(struct MHD_Connection *c, Request *r, const char *url, const char *method)
{
	AuthResult	auth;
	enum MHD_Result ret;

	if (r->too_large)
		return too_large(c);
	if (r->over_budget)
		return http_error(c, 503, "SERVER_BUSY",
						  "Too much request data in flight; retry later", NULL);
	switch (r->route)
	{
		case ROUTE_HEALTH:
			return http_reply(c, 200, "application/json", health_body, sizeof(health_body) - 1);
		case ROUTE_VERSION:
			return http_reply(c, 200, "application/json", version_body, sizeof(version_body) - 1);
		case ROUTE_NOT_FOUND:
			metrics_error("NOT_FOUND");
			return http_reply(c, 404, "application/json", not_found_body, sizeof(not_found_body) - 1);
		case ROUTE_METRICS:
			/* docs/operations.md: localhost, or the metrics token */
			return metrics_handle(c, method);
		case ROUTE_UI:
			return ui_handle(c, url, method);
		case ROUTE_READY:
			return ready_handle(c);
		default:
			break;
	}
	/* docs/http-api.md#endpoints: authentication runs before any per-endpoint logic */
	if (!auth_request(c, &auth, &ret))
		return ret;
	switch (r->route)
	{
		case ROUTE_RPC:
			ret = rpc_handle_deferrable(c, &auth, method, r->body.data ? r->body.data : "",
										r->body.len, &r->deferred);
			break;
		case ROUTE_PUSH:
			ret = push_handle(c, &auth, method);
			break;
		case ROUTE_SUBSCRIBE:
			/* no write timeout: a stream may stay quiet indefinitely (docs/http-api.md#endpoints) */
			set_timeout(c, 0);
			ret = sse_subscribe(c, &auth);
			break;
		case ROUTE_IMPORT:
			{
				const char *force = http_query(c, "force");
				size_t		len = r->body.len;

				set_timeout(c, 0);
				ret = import_handle(c, &auth, sb_steal(&r->body), len,
									force != NULL && strcmp(force, "true") == 0);
				break;
			}
		default:
			ret = MHD_NO;
			break;
	}
	auth_result_free(&auth);
	return ret;
}

/* ---- loop mode (docs/architecture.md#the-http-loop) ---- */

static Request *co_request;		/* the request whose coroutine runs */
static ReqCtx *co_saved_ctx;
static _Thread_local Request *offloaded;	/* the request an offload thread serves */

/*
 * A request body this large takes milliseconds to seconds of CPU to parse
 * (up to SERVER_BODY_LIMIT); on the loop thread that would hold up every
 * other connection, so such requests are served by offload threads.
 */
#define OFFLOAD_BODY ((size_t) 1024 * 1024)
#define OFFLOAD_THREADS 2

static JobQueue offload_jobs = JOBQ_INIT(Request, offload_next);
static pthread_t offload_threads[OFFLOAD_THREADS];
static int	offload_started;
static _Atomic int offload_busy;	/* queued or running */

static int
offload_in_flight(void)
{
	return atomic_load(&offload_busy);
}

static void
co_enter(void *ctx)
{
	Request    *r = ctx;

	co_saved_ctx = reqctx_current();
	if (r != NULL)
		reqctx_enter(&r->ctx);
	co_request = r;
}

static void
co_leave(void)
{
	co_request = NULL;
	if (co_saved_ctx != NULL)
		reqctx_enter(co_saved_ctx);
	else
		reqctx_leave();
}

static HttpCapture *
capture_of(struct MHD_Connection *c)
{
	Request    *r = coro_active() ? co_request : offloaded;

	return r != NULL && r->conn == c ? &r->cap : NULL;
}

/* One handler call - the first, or a deferred one's next step - in a
 * coroutine or an offload thread. */
static void
run_request(void *arg)
{
	Request    *r = arg;

	if (r->deferred.resume != NULL)
		r->co_ret = r->deferred.resume(r->conn, &r->deferred);
	else
		r->co_ret = dispatch(r->conn, r, r->url, r->method);
	if (!r->cap.armed)
		return;					/* it never waited: MHD has its answer already */
	r->cap.armed = false;
	if (r->cap.stay_suspended)
	{
		/* a deferred handler waits for its own wake-up, which resumes it */
		r->cap.stay_suspended = false;
		return;
	}
	r->co_ended = true;
	http_resume(r->conn);
}

/* A large request, outside any coroutine (an offload thread's job). */
static void
serve_offloaded(Request *r)
{
	ReqCtx	   *saved = reqctx_current();

	offloaded = r;
	reqctx_enter(&r->ctx);
	run_request(r);
	if (saved != NULL)
		reqctx_enter(saved);
	else
		reqctx_leave();
	offloaded = NULL;
	atomic_fetch_sub(&offload_busy, 1);
}

static enum MHD_Result
serve_in_coroutine(struct MHD_Connection *c, Request *r, const char *url, const char *method)
{
	if (r->co_ended)
	{
		enum MHD_Result ret = r->co_ret;

		r->co_ended = false;
		if (r->cap.resp != NULL)
		{
			ret = MHD_queue_response(c, r->cap.status, r->cap.resp);
			MHD_destroy_response(r->cap.resp);
			r->cap.resp = NULL;
		}
		return ret;
	}
	r->conn = c;
	r->url = url;
	r->method = method;
	memset(&r->cap, 0, sizeof(r->cap));
	if (r->body.len >= OFFLOAD_BODY && r->deferred.resume == NULL && offload_started > 0)
	{
		r->cap.armed = true;
		MHD_suspend_connection(c);
		atomic_fetch_add(&offload_busy, 1);
		if (!jobq_push(&offload_jobs, r))
		{
			/* offload_stop runs only after the loop ended, so this is a
			 * broken shutdown order: serve it here rather than never */
			log_error("offload queue stopped while the HTTP loop runs; serving a large request on the loop");
			serve_offloaded(r);
		}
		return MHD_YES;
	}
	if (coro_spawn(run_request, r, r))
		return r->co_ret;
	/* it waits: MHD must leave the connection alone until it ends */
	r->cap.armed = true;
	MHD_suspend_connection(c);
	return MHD_YES;
}

static void *
offload_main(void *arg)
{
	Request    *r;

	(void) arg;
	while ((r = jobq_pop(&offload_jobs)) != NULL)
		serve_offloaded(r);
	return NULL;
}

static void
offload_start(void)
{
	for (int i = 0; i < OFFLOAD_THREADS; i++)
	{
		if (pthread_create(&offload_threads[i], NULL, offload_main, NULL) != 0)
		{
			log_warn("cannot start an offload thread; large requests stay on the HTTP loop");
			break;
		}
		offload_started++;
	}
}

/* After the loop drained: the queue is empty, the threads idle. */
static void
offload_stop(void)
{
	jobq_stop(&offload_jobs);
	for (int i = 0; i < offload_started; i++)
		pthread_join(offload_threads[i], NULL);
	offload_started = 0;
}

static bool
is_stream(Route route)
{
	return route == ROUTE_SUBSCRIBE || route == ROUTE_PUSH;
}

static enum MHD_Result
serve(struct MHD_Connection *c, const char *url, const char *method,
	  const char *version, const char *upload_data, size_t *upload_data_size,
	  void **con_cls)
{
	Request    *r = *con_cls;

	(void) version;
	if (r == NULL)
	{
		const char *cl;
		const char *why;

		r = calloc(1, sizeof(Request));
		if (r == NULL)
			return MHD_NO;
		r->route = route_of(url);
		r->started = now_s();
		reqctx_init(&r->ctx, route_op[r->route], method, is_stream(r->route));
		reqctx_enter(&r->ctx);
		metrics_request_begin(r->ctx.streaming);
		*con_cls = r;
		await_head(c, false);
		set_timeout(c, READ_TIMEOUT_S);
		if ((why = ambiguous_framing(c)) != NULL)
			return http_error_close(c, 400, "INVALID_REQUEST", why);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > SERVER_BODY_LIMIT)
		{
			r->too_large = true;
			return too_large(c);	/* before reading a byte of it */
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		size_t		n = *upload_data_size;

		*upload_data_size = 0;
		if (now_s() - r->started > READ_TIMEOUT_S)
		{
			log_debug("request body not received within %d s; closing", READ_TIMEOUT_S);
			return MHD_NO;
		}
		r->received += n;
		if (r->received > SERVER_BODY_LIMIT)
		{
			/* stop buffering; answer 413 once the client is done sending,
			 * or drop a client that keeps going far beyond the limit */
			r->too_large = true;
			sb_free(&r->body);
			uncharge(r);
			return r->received > 2 * SERVER_BODY_LIMIT ? MHD_NO : MHD_YES;
		}
		if (r->over_budget || (r->route != ROUTE_RPC && r->route != ROUTE_IMPORT))
			return MHD_YES;
		if (!charge(r, n))
		{
			/* answer 503 once the client is done sending */
			r->over_budget = true;
			sb_free(&r->body);
			uncharge(r);
			return MHD_YES;
		}
		sb_append(&r->body, upload_data, n);
		return MHD_YES;
	}
	if (loop_mode)
		return serve_in_coroutine(c, r, url, method);
	if (r->deferred.resume != NULL)
		return r->deferred.resume(c, &r->deferred);
	return dispatch(c, r, url, method);
}

/* Every call runs in its request's context (reqctx.h): its log lines carry
 * the request id. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size,
		   void **con_cls)
{
	Request    *r = *con_cls;
	enum MHD_Result ret;

	(void) cls;
	if (r != NULL)
		reqctx_enter(&r->ctx);
	ret = serve(c, url, method, version, upload_data, upload_data_size, con_cls);
	reqctx_leave();
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	Request    *r = *con_cls;

	(void) cls;
	/*
	 * With a URI log callback (url_decode.h) libmicrohttpd reports every
	 * request that got as far as its request line, also one it refused
	 * before calling on_request: nothing of ours was started for that one.
	 */
	if (r != NULL)
	{
		int64_t		us = reqctx_now_us() - r->ctx.started_us;

		reqctx_enter(&r->ctx);
		if (r->deferred.cancel != NULL)
			r->deferred.cancel(&r->deferred);
		/* event streams and imports queue their 200 themselves */
		if (r->ctx.status == 0 && (is_stream(r->route) || r->route == ROUTE_IMPORT))
			r->ctx.status = 200;
		metrics_request_end(r->ctx.op, r->ctx.status, us, r->ctx.streaming);
		log_debug("request done: status %u in %lld us%s", r->ctx.status, (long long) us,
				  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (ended early)");
		reqctx_leave();
		sb_free(&r->body);
		uncharge(r);			/* an import's body is gone with its response */
		free(r);
		*con_cls = NULL;
	}
	if (c != NULL)
	{
		set_timeout(c, IDLE_TIMEOUT_S);	/* keep-alive until the next request */
		await_head(c, true);
	}
}

/* Open connections, counted here: libmicrohttpd's own count
 * (MHD_DAEMON_INFO_CURRENT_CONNECTIONS) runs its connection clean-up, which
 * must not be entered again from its close notification. */
static atomic_uint open_connections;

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	int			one = 1;

	(void) cls;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
	{
		reaper_remove(*socket_context);
		*socket_context = NULL;
		/* At the limit libmicrohttpd stopped accepting; it starts again
		 * in its next run, which the loop would otherwise hold off until
		 * some other event (up to a minute): run it now. */
		if (atomic_fetch_sub(&open_connections, 1) >= max_connections)
			http_loop_kick();
		return;
	}
	atomic_fetch_add(&open_connections, 1);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
	{
		/* docs/http-api.md#endpoints: TCP keep-alive on, so vanished peers are eventually noticed */
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		*socket_context = reaper_add(ci->connect_fd);
	}
	/* docs/http-api.md#endpoints: 30 s to read a request - the first one too */
	set_timeout(c, READ_TIMEOUT_S);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	StrBuf		sb = STRBUF_INIT;
	va_list		cp;
	int			n;

	(void) cls;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n > 0)
	{
		char	   *tmp = malloc((size_t) n + 1);

		if (tmp != NULL)
		{
			vsnprintf(tmp, (size_t) n + 1, fmt, ap);
			sb_append(&sb, tmp, (size_t) n);
			free(tmp);
		}
	}
	while (sb.len > 0 && sb.data[sb.len - 1] == '\n')
		sb.data[--sb.len] = '\0';
	/* MHD reports client misbehaviour here; interesting only when debugging */
	log_debug("http: %s", sb.data ? sb.data : "");
	sb_free(&sb);
}

/*
 * libmicrohttpd's default connection limit is FD_SETSIZE - 4 (1020) even
 * with epoll, so about a thousand idle SSE subscribers would lock every other
 * client out. Raise the descriptor limit as far as the hard limit allows and
 * let connections use all of it but a reserve for the database pool, the
 * LISTEN connection and files.
 */
#define FD_RESERVE 256

static unsigned int
connection_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1020;
	if (rl.rlim_cur < rl.rlim_max)
	{
		rlim_t		want = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;

		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		rl.rlim_cur = 1048576;
	max_connections = rl.rlim_cur <= FD_RESERVE + 64 ? 64 : (unsigned int) (rl.rlim_cur - FD_RESERVE);
	return max_connections;
}

static struct MHD_Daemon *
start_daemon(unsigned flags, int port, int threads)
{
	return MHD_start_daemon(flags, (uint16_t) port, NULL, NULL,
							on_request, NULL,
							MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
							/* loop mode: no thread of MHD's own (0 = none) */
							MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) (loop_mode ? 0 : threads),
							MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) IDLE_TIMEOUT_S,
							MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) HEADER_MEMORY,
							MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
							MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
							MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
							/* no SO_REUSEPORT: a second gateway on a port in use
							 * must fail, not take half of its connections
							 * (libmicrohttpd still sets SO_REUSEADDR for restarts) */
							/* a %00 in the path must not cut it short (url_decode.h) */
							MHD_OPTION_URI_LOG_CALLBACK, url_decode_note_uri, NULL,
							MHD_OPTION_UNESCAPE_CALLBACK, url_decode_unescape, NULL,
							MHD_OPTION_END);
}

bool
server_start(int port, int threads, char **err)
{
	unsigned	base = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	loop_mode = !g_config.http_threads;
	if (g_config.bad_http_mode != NULL)
		log_warn("EVENTODB_HTTP_MODE=%s ignored (want loop or threads)", g_config.bad_http_mode);
	if (loop_mode)
	{
		base = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
		http_set_capture_source(capture_of);
		http_set_resume_hook(http_loop_kick);
		offload_start();
		http_loop_set_busy_source(offload_in_flight);
		coro_set_switch_hooks(co_enter, co_leave);
	}

	if (g_config.request_budget > 0)
		atomic_store(&body_budget, g_config.request_budget);
	else if (g_config.bad_request_budget != NULL)
		log_warn("EVENTODB_REQUEST_BUDGET=%s ignored (want a number of bytes > 0)",
				 g_config.bad_request_budget);

	metrics_set_body_bytes_source(bodies_held_now);
	/* all interfaces, IPv6 and IPv4; IPv4 only where IPv6 is unavailable */
	reaper_start();
	daemon_handle = start_daemon(base | MHD_USE_DUAL_STACK, port, threads);
	if (daemon_handle == NULL)
		daemon_handle = start_daemon(base, port, threads);
	if (daemon_handle == NULL)
	{
		StrBuf		sb = STRBUF_INIT;

		sb_printf(&sb, "cannot listen on port %d (in use, or not permitted)", port);
		*err = sb_steal(&sb);
		reaper_stop();
		return false;
	}
	if (loop_mode && !http_loop_start(daemon_handle, err))
	{
		MHD_stop_daemon(daemon_handle);
		daemon_handle = NULL;
		reaper_stop();
		return false;
	}
	return true;
}

int
server_port(void)
{
	const union MHD_DaemonInfo *di;

	if (daemon_handle == NULL)
		return -1;
	di = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
	return di ? (int) di->port : -1;
}

void
server_stop(void)
{
	if (daemon_handle != NULL)
	{
		if (loop_mode)
			http_loop_stop();
		MHD_stop_daemon(daemon_handle);
		if (loop_mode)
			offload_stop();
		daemon_handle = NULL;
	}
	/* after every connection closed: none is removed from the reaper later */
	reaper_stop();
}
