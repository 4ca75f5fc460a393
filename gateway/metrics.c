/* See metrics.h. */
#include "metrics.h"

#include "config.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Who holds the request-body budget (the HTTP server); set once at start. */
static size_t (*body_bytes_source) (void);

void
metrics_set_body_bytes_source(size_t (*fn) (void))
{
	body_bytes_source = fn;
}

typedef atomic_uint_fast64_t Counter;

/* The method label: every RPC method (those of methods[] in rpc.c;
 * test_metrics.py checks that none is missing), then the endpoints. "rpc" is
 * a /rpc request that named no known method (envelope errors, 405). */
static const char *const ops[] = {
	"stream.write", "stream.get", "stream.last", "stream.version", "category.get",
	"ns.create", "ns.delete", "ns.list", "ns.info", "ns.streams", "ns.categories",
	"sys.version", "sys.health",
	"subscription.create", "subscription.update", "subscription.delete", "subscription.get",
	"subscription.list", "subscription.fetch", "subscription.ack", "subscription.nack",
	"subscription.parked", "subscription.replayParked", "subscription.reset",
	"stream.writeMany", "category.positionAt",
	"stream.delete", "stream.info", "stream.setRetention", "stream.getRetention",
	"category.setRetention", "category.getRetention", "message.redact",
	"rpc", "subscribe", "push", "import", "health", "version", "ui", "ready", "metrics", "not_found",
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* Status codes the gateway answers with; anything else counts as "other". */
static const unsigned statuses[] = {200, 400, 401, 403, 404, 405, 409, 410, 413, 431, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

/* Latency buckets, microseconds, and the same in seconds as printed. */
static const int64_t latency_le[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};
static const char *const latency_le_text[] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10"
};
#define NLAT (sizeof(latency_le) / sizeof(latency_le[0]))
_Static_assert(sizeof(latency_le_text) / sizeof(latency_le_text[0]) == NLAT,
			   "a printed bound for every latency bucket");

/* Error codes of docs/http-api.md#errors and the import events (docs/http-api.md#bulk-import-import). */
static const char *const error_codes[] = {
	"AUTH_REQUIRED", "AUTH_INVALID_TOKEN", "AUTH_UNAUTHORIZED", "INVALID_REQUEST",
	"METHOD_NOT_FOUND", "NOT_FOUND", "STREAM_VERSION_CONFLICT", "NAMESPACE_NOT_FOUND",
	"NAMESPACE_EXISTS", "SUBSCRIPTION_NOT_FOUND", "SUBSCRIPTION_EXISTS", "DELIVERY_EXPIRED",
	"MESSAGE_ID_CONFLICT", "STREAM_DELETED", "MESSAGE_NOT_FOUND",
	"BACKEND_ERROR", "INTERNAL_ERROR", "SERVER_BUSY", "CLEAR_FAILED",
	"IMPORT_FAILED", "POSITION_EXISTS", "READ_ERROR", "INVALID_JSON", "INVALID_RECORD",
	"OTHER",
};
#define NERRORS (sizeof(error_codes) / sizeof(error_codes[0]))

static const char *const stream_kinds[METRICS_STREAM_KINDS] = {"stream", "category", "all", "push"};

static const int group_le[] = {1, 2, 4, 8, 16, 32, 64};
#define NGROUP (sizeof(group_le) / sizeof(group_le[0]))

static const char *const nack_actions[] = {"retry", "park", "skip"};

typedef struct Histogram
{
	Counter		bucket[NLAT + 1];	/* not cumulative; the last is +Inf */
	Counter		sum_us;
	Counter		count;
} Histogram;

static struct
{
	Counter		requests[NOPS][NSTATUS + 1];
	Histogram	latency[NOPS];
	atomic_int_fast64_t in_flight;
	Counter		errors[NERRORS];
	Counter		pokes_received;
	Counter		pokes_delivered;
	Counter		pokes_dropped;
	atomic_int_fast64_t streams_open[METRICS_STREAM_KINDS];
	Counter		streams_opened[METRICS_STREAM_KINDS];
	Counter		group_bucket[NGROUP + 1];
	Counter		group_sum;
	Counter		group_count;
	Counter		import_records;
	Counter		sub_deliveries;
	Counter		sub_redeliveries;
	Counter		sub_acks;
	Counter		sub_nacks[3];
	double		start_time;
} m;

static void
inc(Counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t
get(Counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void
metrics_init(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	m.start_time = (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

static size_t
op_index(const char *op)
{
	if (op != NULL)
		for (size_t i = 0; i < NOPS; i++)
			if (op == ops[i] || strcmp(op, ops[i]) == 0)
				return i;
	return NOPS - 1;			/* not_found */
}

static size_t
status_index(unsigned status)
{
	for (size_t i = 0; i < NSTATUS; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS;
}

void
metrics_request_begin(bool streaming)
{
	if (!streaming)
		atomic_fetch_add_explicit(&m.in_flight, 1, memory_order_relaxed);
}

void
metrics_request_end(const char *op, unsigned status, int64_t usec, bool streaming)
{
	size_t		o = op_index(op);

	inc(&m.requests[o][status_index(status)], 1);
	if (streaming)
		return;
	atomic_fetch_sub_explicit(&m.in_flight, 1, memory_order_relaxed);
	{
		Histogram  *h = &m.latency[o];
		size_t		b = 0;

		if (usec < 0)
			usec = 0;
		while (b < NLAT && usec > latency_le[b])
			b++;
		inc(&h->bucket[b], 1);
		inc(&h->sum_us, (uint64_t) usec);
		inc(&h->count, 1);
	}
}

void
metrics_error(const char *code)
{
	size_t		i = 0;

	while (i < NERRORS - 1 && strcmp(code, error_codes[i]) != 0)
		i++;
	inc(&m.errors[i], 1);
}

void
metrics_poke_received(void)
{
	inc(&m.pokes_received, 1);
}

void
metrics_poke_delivered(void)
{
	inc(&m.pokes_delivered, 1);
}

void
metrics_poke_dropped(void)
{
	inc(&m.pokes_dropped, 1);
}

void
metrics_stream_opened(MetricsStream kind)
{
	atomic_fetch_add_explicit(&m.streams_open[kind], 1, memory_order_relaxed);
	inc(&m.streams_opened[kind], 1);
}

void
metrics_stream_closed(MetricsStream kind)
{
	atomic_fetch_sub_explicit(&m.streams_open[kind], 1, memory_order_relaxed);
}

void
metrics_group_commit(int n)
{
	size_t		b = 0;

	while (b < NGROUP && n > group_le[b])
		b++;
	inc(&m.group_bucket[b], 1);
	inc(&m.group_sum, (uint64_t) (n > 0 ? n : 0));
	inc(&m.group_count, 1);
}

void
metrics_import_records(int64_t n)
{
	if (n > 0)
		inc(&m.import_records, (uint64_t) n);
}

void
metrics_sub_fetched(const PGresult *res, int attempt_col)
{
	int			rows;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		return;
	rows = PQntuples(res);
	if (rows <= 0)
		return;
	inc(&m.sub_deliveries, (uint64_t) rows);
	if (attempt_col < 0 || attempt_col >= PQnfields(res))
		return;
	for (int i = 0; i < rows; i++)
		if (!PQgetisnull(res, i, attempt_col) && atol(PQgetvalue(res, i, attempt_col)) > 1)
			inc(&m.sub_redeliveries, 1);
}

/* The bigint a successful ack/nack returned, 0 otherwise. */
static uint64_t
count_of(const PGresult *res)
{
	long long	n;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
		PQgetisnull(res, 0, 0))
		return 0;
	n = atoll(PQgetvalue(res, 0, 0));
	return n > 0 ? (uint64_t) n : 0;
}

void
metrics_sub_acked(const PGresult *res)
{
	inc(&m.sub_acks, count_of(res));
}

void
metrics_sub_nacked(const PGresult *res, const char *action, size_t action_len)
{
	for (size_t i = 0; i < 3; i++)
		if (strlen(nack_actions[i]) == action_len && memcmp(action, nack_actions[i], action_len) == 0)
			inc(&m.sub_nacks[i], count_of(res));
}

/* ---- rendering ----
 * A scrape is some 600 lines: numbers are appended by hand rather than
 * through printf, which halves what a scrape costs. */

static void
put_u64(StrBuf *sb, uint64_t v)
{
	char		digits[20];		/* 2^64 - 1 has 20 */
	size_t		n = 0;

	do
	{
		digits[sizeof(digits) - 1 - n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v > 0);
	sb_append(sb, digits + sizeof(digits) - n, n);
}

static void
head(StrBuf *sb, const char *name, const char *type, const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
value_u(StrBuf *sb, const char *name, uint64_t v)
{
	sb_puts(sb, name);
	sb_putc(sb, ' ');
	put_u64(sb, v);
	sb_putc(sb, '\n');
}

/* Prometheus label values escape \, " and newline; ours hold none, but an
 * RPC method name is data, so stay safe. */
static void
label_value(StrBuf *sb, const char *v)
{
	for (; *v; v++)
	{
		if (*v == '\\' || *v == '"')
			sb_putc(sb, '\\');
		if (*v == '\n')
		{
			sb_puts(sb, "\\n");
			continue;
		}
		sb_putc(sb, *v);
	}
}

static void
render_requests(StrBuf *sb)
{
	head(sb, "eventodb_http_requests_total", "counter",
		 "HTTP requests answered, by method (RPC method or endpoint) and status code.");
	for (size_t o = 0; o < NOPS; o++)
		for (size_t s = 0; s <= NSTATUS; s++)
		{
			uint64_t	v = get(&m.requests[o][s]);

			if (v == 0)
				continue;
			sb_puts(sb, "eventodb_http_requests_total{method=\"");
			label_value(sb, ops[o]);
			sb_puts(sb, "\",code=\"");
			if (s < NSTATUS)
				put_u64(sb, statuses[s]);
			else
				sb_puts(sb, "other");
			sb_puts(sb, "\"} ");
			put_u64(sb, v);
			sb_putc(sb, '\n');
		}
	head(sb, "eventodb_http_request_duration_seconds", "histogram",
		 "Time from a request's arrival to its completion, by method (event streams excluded).");
	for (size_t o = 0; o < NOPS; o++)
	{
		Histogram  *h = &m.latency[o];
		uint64_t	cum = 0;
		uint64_t	count = get(&h->count);

		if (count == 0)
			continue;
		for (size_t b = 0; b <= NLAT; b++)
		{
			cum += get(&h->bucket[b]);
			sb_puts(sb, "eventodb_http_request_duration_seconds_bucket{method=\"");
			label_value(sb, ops[o]);
			sb_puts(sb, "\",le=\"");
			sb_puts(sb, b < NLAT ? latency_le_text[b] : "+Inf");
			sb_puts(sb, "\"} ");
			put_u64(sb, cum);
			sb_putc(sb, '\n');
		}
		sb_puts(sb, "eventodb_http_request_duration_seconds_sum{method=\"");
		label_value(sb, ops[o]);
		sb_printf(sb, "\"} %.6f\n", (double) get(&h->sum_us) / 1e6);
		sb_puts(sb, "eventodb_http_request_duration_seconds_count{method=\"");
		label_value(sb, ops[o]);
		/* the buckets were read one by one: +Inf is the count they add up to */
		sb_printf(sb, "\"} %llu\n", (unsigned long long) cum);
	}
	head(sb, "eventodb_http_requests_in_flight", "gauge",
		 "Requests being served now (event streams excluded).");
	sb_printf(sb, "eventodb_http_requests_in_flight %lld\n",
			  (long long) atomic_load_explicit(&m.in_flight, memory_order_relaxed));
	head(sb, "eventodb_http_request_body_bytes", "gauge",
		 "Request body bytes buffered now, against EVENTODB_REQUEST_BUDGET.");
	sb_printf(sb, "eventodb_http_request_body_bytes %zu\n",
			  body_bytes_source != NULL ? body_bytes_source() : (size_t) 0);
	head(sb, "eventodb_errors_total", "counter",
		 "Error answers and import error events sent, by protocol error code.");
	for (size_t i = 0; i < NERRORS; i++)
	{
		uint64_t	v = get(&m.errors[i]);

		if (v > 0)
			sb_printf(sb, "eventodb_errors_total{code=\"%s\"} %llu\n", error_codes[i],
					  (unsigned long long) v);
	}
}

static void
render_streams(StrBuf *sb)
{
	head(sb, "eventodb_sse_subscribers", "gauge",
		 "Open event streams: /subscribe by mode (stream, category, all) and /push.");
	for (int k = 0; k < METRICS_STREAM_KINDS; k++)
		sb_printf(sb, "eventodb_sse_subscribers{kind=\"%s\"} %lld\n", stream_kinds[k],
				  (long long) atomic_load_explicit(&m.streams_open[k], memory_order_relaxed));
	head(sb, "eventodb_sse_connections_total", "counter",
		 "Event streams opened, by kind.");
	for (int k = 0; k < METRICS_STREAM_KINDS; k++)
		sb_printf(sb, "eventodb_sse_connections_total{kind=\"%s\"} %llu\n", stream_kinds[k],
				  (unsigned long long) get(&m.streams_opened[k]));
	head(sb, "eventodb_pokes_received_total", "counter",
		 "Pokes received on the LISTEN connection.");
	value_u(sb, "eventodb_pokes_received_total", get(&m.pokes_received));
	head(sb, "eventodb_pokes_delivered_total", "counter",
		 "Poke frames queued to /subscribe streams (catch-up and live).");
	value_u(sb, "eventodb_pokes_delivered_total", get(&m.pokes_delivered));
	head(sb, "eventodb_pokes_dropped_total", "counter",
		 "Pokes dropped because a subscriber's queue was full (docs/http-api.md, Modes).");
	value_u(sb, "eventodb_pokes_dropped_total", get(&m.pokes_dropped));
}

static void
render_database(StrBuf *sb)
{
	PoolUsage	u;
	uint64_t	cum = 0;

	pool_usage(&u);
	head(sb, "eventodb_pool_connections", "gauge",
		 "Pooled database connections by state (busy: serving a request; idle: open, free).");
	sb_printf(sb, "eventodb_pool_connections{state=\"busy\"} %d\n", u.busy);
	sb_printf(sb, "eventodb_pool_connections{state=\"idle\"} %d\n", u.idle);
	head(sb, "eventodb_pool_size", "gauge", "Connections the pool may open.");
	sb_printf(sb, "eventodb_pool_size %d\n", u.size);
	head(sb, "eventodb_pool_waiting", "gauge", "Requests waiting for a free connection.");
	sb_printf(sb, "eventodb_pool_waiting %d\n", u.waiting);

	head(sb, "eventodb_group_commit_batch_size", "histogram",
		 "Writes per group-commit database call (1 = sent alone).");
	for (size_t b = 0; b <= NGROUP; b++)
	{
		cum += get(&m.group_bucket[b]);
		if (b < NGROUP)
			sb_printf(sb, "eventodb_group_commit_batch_size_bucket{le=\"%d\"} %llu\n",
					  group_le[b], (unsigned long long) cum);
		else
			sb_printf(sb, "eventodb_group_commit_batch_size_bucket{le=\"+Inf\"} %llu\n",
					  (unsigned long long) cum);
	}
	value_u(sb, "eventodb_group_commit_batch_size_sum", get(&m.group_sum));
	value_u(sb, "eventodb_group_commit_batch_size_count", cum);

	head(sb, "eventodb_import_records_total", "counter", "Import records committed.");
	value_u(sb, "eventodb_import_records_total", get(&m.import_records));

	head(sb, "eventodb_subscription_deliveries_total", "counter",
		 "Persistent-subscription deliveries handed out (fetch and /push).");
	value_u(sb, "eventodb_subscription_deliveries_total", get(&m.sub_deliveries));
	head(sb, "eventodb_subscription_redeliveries_total", "counter",
		 "Deliveries handed out with attempt > 1.");
	value_u(sb, "eventodb_subscription_redeliveries_total", get(&m.sub_redeliveries));
	head(sb, "eventodb_subscription_acks_total", "counter", "Deliveries acked.");
	value_u(sb, "eventodb_subscription_acks_total", get(&m.sub_acks));
	head(sb, "eventodb_subscription_nacks_total", "counter", "Deliveries nacked, by action.");
	for (size_t i = 0; i < 3; i++)
		sb_printf(sb, "eventodb_subscription_nacks_total{action=\"%s\"} %llu\n", nack_actions[i],
				  (unsigned long long) get(&m.sub_nacks[i]));
	head(sb, "eventodb_subscription_parked_total", "counter",
		 "Deliveries parked by a nack with action park (parking after maxDeliveries happens "
		 "in the database: see eventodb.subscription_parked).");
	value_u(sb, "eventodb_subscription_parked_total", get(&m.sub_nacks[1]));
}

static long
open_fds(void)
{
	DIR		   *d = opendir("/proc/self/fd");
	struct dirent *e;
	long		n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;				/* the directory's own descriptor */
}

static void
render_process(StrBuf *sb)
{
	long		page = sysconf(_SC_PAGESIZE);
	unsigned long long vsize = 0,
				rss = 0;
	FILE	   *f = fopen("/proc/self/statm", "r");
	struct rusage ru;
	struct rlimit rl;
	long		fds = open_fds();

	if (f != NULL)
	{
		if (fscanf(f, "%llu %llu", &vsize, &rss) != 2)
			vsize = rss = 0;
		fclose(f);
	}
	head(sb, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	value_u(sb, "process_resident_memory_bytes", rss * (unsigned long long) page);
	head(sb, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	value_u(sb, "process_virtual_memory_bytes", vsize * (unsigned long long) page);
	if (fds >= 0)
	{
		head(sb, "process_open_fds", "gauge", "Number of open file descriptors.");
		sb_printf(sb, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
	{
		head(sb, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		value_u(sb, "process_max_fds", (uint64_t) rl.rlim_cur);
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0)
	{
		head(sb, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
		sb_printf(sb, "process_cpu_seconds_total %.6f\n",
				  (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				  (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	head(sb, "process_start_time_seconds", "gauge",
		 "Start time of the process since the Unix epoch in seconds.");
	sb_printf(sb, "process_start_time_seconds %.3f\n", m.start_time);
	head(sb, "eventodb_build_info", "gauge", "The gateway's version (always 1).");
	sb_puts(sb, "eventodb_build_info{version=\"" EVENTODB_VERSION "\"} 1\n");
}

void
metrics_render(StrBuf *out)
{
	render_requests(out);
	render_streams(out);
	render_database(out);
	render_process(out);
}

/* ---- access ---- */

static bool
is_loopback(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

/* Constant time in the presented token's bytes: no early exit on the first
 * differing byte, and a length mismatch costs the same comparison. */
static bool
token_matches(const char *given, size_t given_len, const char *want)
{
	size_t		want_len = strlen(want);
	bool		same_len = given_len == want_len;

	return (CRYPTO_memcmp(same_len ? given : want, want, want_len) == 0) & same_len;
}

static enum MHD_Result
allowed(struct MHD_Connection *c, bool *ok)
{
	const char *h;
	const char *tok = g_config.metrics_token;

	*ok = true;
	if (is_loopback(c))
		return MHD_YES;
	*ok = false;
	if (tok == NULL)
		return http_error(c, 403, "AUTH_UNAUTHORIZED",
						  "Metrics are served to localhost only (set --metrics-token to allow others)",
						  NULL);
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return http_error(c, 401, "AUTH_REQUIRED", "Metrics token required (Authorization: Bearer)",
						  NULL);
	if (!token_matches(h + 7, strlen(h + 7), tok))
		return http_error(c, 403, "AUTH_UNAUTHORIZED", "Invalid metrics token", NULL);
	*ok = true;
	return MHD_YES;
}

enum MHD_Result
metrics_handle(struct MHD_Connection *c, const char *http_method)
{
	StrBuf		sb = STRBUF_INIT;
	enum MHD_Result ret;
	bool		ok;

	ret = allowed(c, &ok);
	if (!ok)
		return ret;
	if (strcmp(http_method, "GET") != 0 && strcmp(http_method, "HEAD") != 0)
		return http_error(c, 405, "INVALID_REQUEST", "Only GET method allowed", NULL);
	metrics_render(&sb);
	ret = http_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", sb.data ? sb.data : "",
					 sb.len);
	sb_free(&sb);
	return ret;
}
