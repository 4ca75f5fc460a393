/*
 * /subscribe (docs/http-api.md#live-pokes-subscribe). The response is produced by a content-reader
 * callback: when a subscription has nothing to send, the callback suspends
 * the MHD connection, and whoever queues bytes later (fan-out, catch-up
 * worker, heartbeat) resumes it. An idle subscription thus holds no thread
 * and no database connection, only its Sub.
 */
#include "sse.h"

#include "config.h"
#include "fanout.h"
#include "http.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "pokes.h"
#include "sse_sub.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_bool shutting_down;
static _Atomic uint64_t next_barrier = 1;

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define SHUTDOWN_GRACE_MS 1000

/* ---- subscriber state (callers hold s->mu) ---- */

void
sub_ref(Sub *s)
{
	s->refs++;
}

void
sub_clear_pending(Sub *s)
{
	while (s->pend_head)
	{
		PendingPoke *p = s->pend_head;

		s->pend_head = p->next;
		free(p);
	}
	s->pend_tail = NULL;
	s->npend = 0;
}

void
sub_unref(Sub *s)
{
	bool		last;

	pthread_mutex_lock(&s->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (!last)
		return;
	sub_clear_pending(s);
	sb_free(&s->out);
	pthread_mutex_destroy(&s->mu);
	free(s->ns);
	free(s->name);
	free(s);
}

void
sub_wake(Sub *s)
{
	if (s->suspended && !s->closed)
	{
		s->suspended = false;
		http_resume(s->conn);
	}
}

void
sub_frame(Sub *s, const char *bytes, size_t len, unsigned max_frames)
{
	if (s->frames >= max_frames || s->out.len - s->out_off + len > SSE_QUEUE_BYTES)
		return;
	sb_append(&s->out, bytes, len);
	s->frames++;
}

/*
 * Per-thread scratch of the threads that poke (LISTEN, catch-up workers),
 * freed by a key destructor when such a thread ends.
 *
 * frame: the last frame rendered. A poke's frame depends only on (stream,
 * position, gpos), and fan-out hands the same poke to every matching
 * subscriber in a row, so the JSON is rendered once per poke rather than
 * once per subscriber.
 *
 * wake: suspended subscriptions poked during the thread's current batch
 * (PokeHooks in pokes.h), each holding a reference; empty outside a batch.
 */
typedef struct PokerTls
{
	StrBuf		frame;
	StrBuf		frame_stream;
	int64_t		frame_pos,
				frame_gpos;
	bool		frame_valid;
	bool		batching;
	Sub		  **wake;
	size_t		wake_n,
				wake_cap;
} PokerTls;

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void
tls_free(void *p)
{
	PokerTls   *t = p;

	sb_free(&t->frame);
	sb_free(&t->frame_stream);
	free(t->wake);
	free(t);
}

static void
tls_make_key(void)
{
	if (pthread_key_create(&tls_key, tls_free) != 0)
		abort();
}

static PokerTls *
tls_get(void)
{
	PokerTls   *t;

	pthread_once(&tls_once, tls_make_key);
	t = pthread_getspecific(tls_key);
	if (t == NULL)
	{
		t = calloc(1, sizeof(PokerTls));
		if (t == NULL || pthread_setspecific(tls_key, t) != 0)
			abort();
	}
	return t;
}

static const StrBuf *
poke_frame(const char *stream, size_t stream_len, int64_t position, int64_t gpos)
{
	PokerTls   *t = tls_get();

	if (t->frame_valid && t->frame_pos == position && t->frame_gpos == gpos &&
		t->frame_stream.len == stream_len &&
		(stream_len == 0 || memcmp(t->frame_stream.data, stream, stream_len) == 0))
		return &t->frame;
	sb_reset(&t->frame);
	/* docs/http-api.md#frames: these bytes exactly, key order fixed. */
	sb_puts(&t->frame, "event: poke\ndata: {\"stream\":");
	jw_string(&t->frame, stream, stream_len);
	sb_puts(&t->frame, ",\"position\":");
	jw_int(&t->frame, position);
	sb_puts(&t->frame, ",\"globalPosition\":");
	jw_int(&t->frame, gpos);
	sb_puts(&t->frame, "}\n\n");
	sb_reset(&t->frame_stream);
	sb_append(&t->frame_stream, stream, stream_len);
	t->frame_pos = position;
	t->frame_gpos = gpos;
	t->frame_valid = true;
	return &t->frame;
}

void
sub_poke(Sub *s, const char *stream, size_t stream_len, int64_t position,
		 int64_t gpos, unsigned max_frames)
{
	const StrBuf *f;
	unsigned	before = s->frames;

	/* A full queue drops the poke (docs/http-api.md#modes) without rendering it. */
	if (s->frames >= max_frames)
	{
		metrics_poke_dropped();
		return;
	}
	f = poke_frame(stream, stream_len, position, gpos);
	sub_frame(s, f->data, f->len, max_frames);
	if (s->frames > before)
		metrics_poke_delivered();
	else
		metrics_poke_dropped();
}

/* The live filter of docs/http-api.md#modes, applied to a poke of a matching message. */
void
sub_live(Sub *s, const char *stream, size_t stream_len, int64_t position, int64_t gpos)
{
	switch (s->fe.kind)
	{
		case FAN_STREAM:
			if (position < s->tracker)
				return;
			s->tracker = position + 1;
			break;
		case FAN_CATEGORY:
			if (gpos < s->tracker)
				return;
			s->tracker = gpos + 1;
			break;
		case FAN_ALL:
			/* No tracker in all mode: late arrivals are still poked. */
			if (gpos < s->start)
				return;
			if (!s->tracker_known || gpos >= s->tracker)
				s->tracker = gpos + 1;
			s->tracker_known = true;
			break;
	}
	sub_poke(s, stream, stream_len, position, gpos, SSE_QUEUE_FRAMES);
}

void
sub_go_live(Sub *s, bool (*sent) (const void *arg, int64_t gpos), const void *arg)
{
	PendingPoke *p = s->pend_head;

	s->pend_head = s->pend_tail = NULL;
	s->npend = 0;
	s->phase = SUB_LIVE;
	while (p)
	{
		PendingPoke *next = p->next;

		if (sent == NULL || !sent(arg, p->gpos))
			sub_live(s, p->stream, p->stream_len, p->position, p->gpos);
		free(p);
		p = next;
	}
}

void
sub_release_barrier(Sub *s)
{
	int64_t		high;

	s->awaiting_barrier = false;
	s->phase = SUB_LIVE;
	if (fanout_ns_high(s->ns, s->fe.ns_len, &high))
	{
		s->tracker_known = true;
		if (high + 1 > s->tracker)
			s->tracker = high + 1;
	}
	sub_frame(s, ": ready\n\n", 9, 2 * SSE_QUEUE_FRAMES);
	sub_wake(s);
}

static void
sse_batch_begin(void)
{
	tls_get()->batching = true;
}

static void
sse_batch_end(void)
{
	PokerTls   *t = tls_get();

	t->batching = false;
	for (size_t i = 0; i < t->wake_n; i++)
	{
		Sub		   *s = t->wake[i];

		pthread_mutex_lock(&s->mu);
		s->wake_queued = false;
		sub_wake(s);
		pthread_mutex_unlock(&s->mu);
		sub_unref(s);
	}
	t->wake_n = 0;
}

/* Caller holds s->mu. */
static void
wake_later(Sub *s)
{
	PokerTls   *t = tls_get();

	if (!t->batching)
	{
		sub_wake(s);
		return;
	}
	if (s->wake_queued || !s->suspended)
		return;
	if (t->wake_n == t->wake_cap)
	{
		size_t		nc = t->wake_cap ? t->wake_cap * 2 : 256;
		Sub		  **nl = realloc(t->wake, nc * sizeof(Sub *));

		if (nl == NULL)
		{
			sub_wake(s);
			return;
		}
		t->wake = nl;
		t->wake_cap = nc;
	}
	sub_ref(s);
	s->wake_queued = true;
	t->wake[t->wake_n++] = s;
}

/* FanDeliver: runs under the registry lock. */
static void
sse_deliver(FanEntry *e, const char *stream, size_t stream_len,
			int64_t position, int64_t gpos)
{
	Sub		   *s = (Sub *) e;

	pthread_mutex_lock(&s->mu);
	if (s->ending || s->closed)
		;
	else if (s->awaiting_barrier)
		;						/* committed before the barrier: not new */
	else if (s->phase == SUB_CATCHUP)
	{
		if (s->npend >= SSE_PENDING_MAX)
		{
			/* Rather than lose pokes silently: a second catch-up, queued
			 * once this one is done, reads them from the store. */
			sub_clear_pending(s);
			s->rerun = true;
			s->to_end = true;
		}
		else
		{
			PendingPoke *p = malloc(sizeof(PendingPoke) + stream_len);

			if (p)
			{
				p->next = NULL;
				p->position = position;
				p->gpos = gpos;
				p->stream_len = stream_len;
				memcpy(p->stream, stream, stream_len);
				if (s->pend_tail)
					s->pend_tail->next = p;
				else
					s->pend_head = p;
				s->pend_tail = p;
				s->npend++;
			}
		}
	}
	else
	{
		sub_live(s, stream, stream_len, position, gpos);
		wake_later(s);
	}
	pthread_mutex_unlock(&s->mu);
}

/* ---- MHD callbacks ---- */

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	Sub		   *s = cls;
	ssize_t		n;

	(void) pos;
	pthread_mutex_lock(&s->mu);
	if (s->out.len > s->out_off)
	{
		size_t		avail = s->out.len - s->out_off;
		size_t		k = avail < max ? avail : max;

		memcpy(buf, s->out.data + s->out_off, k);
		/* Frames never contain a blank line, so "\n\n" counts them out. */
		for (size_t i = 0; i < k; i++)
		{
			if (buf[i] == '\n' && s->last_sent == '\n')
			{
				s->frames--;
				s->last_sent = 0;
			}
			else
				s->last_sent = buf[i];
		}
		s->out_off += k;
		if (s->out_off == s->out.len)
		{
			/* Idle subscriptions keep no large buffer around. */
			if (s->out.cap > 16384)
				sb_free(&s->out);
			else
				sb_reset(&s->out);
			s->out_off = 0;
		}
		else if (s->out_off >= 65536 && s->out_off * 2 >= s->out.len)
		{
			memmove(s->out.data, s->out.data + s->out_off, s->out.len - s->out_off);
			s->out.len -= s->out_off;
			s->out.data[s->out.len] = '\0';
			s->out_off = 0;
		}
		n = (ssize_t) k;
	}
	else if (s->ending)
		n = MHD_CONTENT_READER_END_OF_STREAM;
	else
	{
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		n = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

static MetricsStream
metrics_kind(const Sub *s)
{
	return s->fe.kind == FAN_STREAM ? METRICS_SSE_STREAM :
		s->fe.kind == FAN_CATEGORY ? METRICS_SSE_CATEGORY : METRICS_SSE_ALL;
}

static void
sse_free(void *cls)
{
	Sub		   *s = cls;

	metrics_stream_closed(metrics_kind(s));
	/* After this no poke, heartbeat or reconnect can reach s. */
	fanout_remove(&s->fe);
	pthread_mutex_lock(&s->mu);
	s->closed = true;
	s->suspended = false;
	sub_clear_pending(s);
	pthread_mutex_unlock(&s->mu);
	sub_unref(s);
}

/* ---- request validation (docs/http-api.md#validation) ---- */

/* A query value with its length: form-decoded values may hold NUL bytes. */
typedef struct QueryValue
{
	const char *v;				/* NULL when absent or empty */
	size_t		len;
} QueryValue;

static QueryValue
query(struct MHD_Connection *c, const char *name)
{
	QueryValue	q = {NULL, 0};

	if (!http_query_n(c, name, &q.v, &q.len))
		q.v = NULL;
	return q;
}

/* Go's strconv.ParseInt(v, 10, 64): optional sign, decimal digits only. */
static bool
parse_int64(QueryValue q, int64_t *out)
{
	const char *v = q.v;
	char	   *end;
	long long	x;

	if (memchr(v, '\0', q.len) != NULL)
		return false;
	if (v[0] != '+' && v[0] != '-' && (v[0] < '0' || v[0] > '9'))
		return false;
	if ((v[0] == '+' || v[0] == '-') && (v[1] < '0' || v[1] > '9'))
		return false;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = (int64_t) x;
	return true;
}

static enum MHD_Result
bad_request(struct MHD_Connection *c, const char *text)
{
	return http_reply(c, 400, TEXT_PLAIN, text, strlen(text));
}

enum MHD_Result
sse_subscribe(struct MHD_Connection *c, const AuthResult *auth)
{
	QueryValue	stream_q = query(c, "stream");
	QueryValue	category_q = query(c, "category");
	QueryValue	all = query(c, "all");
	QueryValue	position = query(c, "position");
	const char *stream = stream_q.v;
	const char *category = category_q.v;
	bool		is_all = all.v != NULL && all.len == 4 && memcmp(all.v, "true", 4) == 0;
	int64_t		start = 0,
				member = 0,
				size = 0;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	Sub		   *s;

	if (stream == NULL && category == NULL && !is_all)
		return bad_request(c, "Either 'stream', 'category', or 'all=true' parameter required");
	if (is_all && (stream != NULL || category != NULL))
		return bad_request(c, "Cannot combine 'all' with 'stream' or 'category'");
	if (stream != NULL && category != NULL)
		return bad_request(c, "Cannot specify both 'stream' and 'category'");
	if (position.v != NULL && !parse_int64(position, &start))
		return bad_request(c, "Invalid position parameter");
	if (category != NULL)
	{
		QueryValue	consumer = query(c, "consumer");
		QueryValue	sz = query(c, "size");

		if (consumer.v != NULL && !parse_int64(consumer, &member))
			return bad_request(c, "Invalid consumer parameter");
		if (sz.v != NULL && !parse_int64(sz, &size))
			return bad_request(c, "Invalid size parameter");
		if ((member > 0 || size > 0) && (size == 0 || member >= size))
			return bad_request(c, "Invalid consumer group: member must be < size");
	}

	s = calloc(1, sizeof(Sub));
	if (s == NULL)
		abort();
	pthread_mutex_init(&s->mu, NULL);
	s->refs = 1;
	s->conn = c;
	s->ns = mem_dup0(auth->ns, auth->ns_len);
	s->start = start;
	s->fe.ns = s->ns;
	s->fe.ns_len = auth->ns_len;
	if (stream != NULL || category != NULL)
	{
		QueryValue	name = stream ? stream_q : category_q;

		/* All bytes, NULs included: "a\0b" is not stream "a". */
		s->name = mem_dup0(name.v, name.len);
		s->fe.name = s->name;
		s->fe.name_len = name.len;
	}
	s->fe.kind = is_all ? FAN_ALL : stream ? FAN_STREAM : FAN_CATEGORY;
	s->fe.member = member;
	s->fe.size = size;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
											 sse_read, s, sse_free);
	if (resp == NULL)
	{
		sub_unref(s);
		return MHD_NO;
	}
	metrics_stream_opened(metrics_kind(s));	/* closed by sse_free */
	http_event_stream_headers(resp);
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");

	/* docs/http-api.md#frames (deviation 3): the go signal precedes any catch-up poke; in all
	 * mode it waits for the barrier (see sse_sub.h). */
	if (!is_all)
	{
		sb_puts(&s->out, ": ready\n\n");
		s->frames = 1;
	}

	/* Registered before the catch-up query or barrier (docs/http-api.md#modes). */
	fanout_add(&s->fe);
	pthread_mutex_lock(&s->mu);
	s->phase = SUB_CATCHUP;
	s->tracker = start;
	if (atomic_load(&shutting_down))
		s->ending = true;
	else if (is_all)
	{
		s->awaiting_barrier = true;
		s->barrier = atomic_fetch_add(&next_barrier, 1);
		catchup_enqueue(s);
	}
	else
	{
		s->tracker_known = true;
		catchup_enqueue(s);
	}
	pthread_mutex_unlock(&s->mu);

	ret = http_queue(c, 200, resp);
	return ret;
}

/* ---- hooks for the LISTEN connection ---- */

static void
end_one(FanEntry *e, void *arg)
{
	Sub		   *s = (Sub *) e;

	(void) arg;
	pthread_mutex_lock(&s->mu);
	s->ending = true;
	sub_clear_pending(s);
	sub_wake(s);
	pthread_mutex_unlock(&s->mu);
}

static void
sse_end_namespace(const char *ns, size_t ns_len)
{
	fanout_foreach(ns, ns_len, end_one, NULL);
}

static void
restart_one(FanEntry *e, void *arg)
{
	Sub		   *s = (Sub *) e;

	(void) arg;
	pthread_mutex_lock(&s->mu);
	if (s->ending || s->closed)
		;
	else if (s->awaiting_barrier)
	{
		/* A barrier sent before the reconnect is lost; one not sent yet
		 * will travel on the new connection. */
		if (s->barrier_sent)
			sub_release_barrier(s);
	}
	else if (!s->tracker_known)
		;
	else if (s->phase == SUB_CATCHUP)
		s->rerun = true;
	else
	{
		s->phase = SUB_CATCHUP;
		s->to_end = true;
		catchup_enqueue(s);
	}
	pthread_mutex_unlock(&s->mu);
}

static void
sse_connection_restored(void)
{
	fanout_foreach(NULL, 0, restart_one, NULL);
}

static void
barrier_one(FanEntry *e, void *arg)
{
	Sub		   *s = (Sub *) e;
	uint64_t	seq = *(const uint64_t *) arg;

	if (e->kind != FAN_ALL)
		return;
	pthread_mutex_lock(&s->mu);
	if (s->awaiting_barrier && !s->ending && !s->closed && s->barrier <= seq)
		sub_release_barrier(s);
	pthread_mutex_unlock(&s->mu);
}

static void
sse_barrier_passed(uint64_t seq)
{
	fanout_foreach(NULL, 0, barrier_one, &seq);
}

const PokeHooks sse_poke_hooks = {
	.namespace_deleted = sse_end_namespace,
	.connection_restored = sse_connection_restored,
	.barrier_passed = sse_barrier_passed,
	.batch_begin = sse_batch_begin,
	.batch_end = sse_batch_end,
};

/* ---- lifecycle ---- */

bool
sse_init(void)
{
	fanout_init(sse_deliver);
	return catchup_start();
}

void
sse_shutdown(void)
{
	struct timespec pause = {0, 10 * 1000 * 1000};

	atomic_store(&shutting_down, true);
	fanout_foreach(NULL, 0, end_one, NULL);
	catchup_stop();
	/* Give readers a moment to receive their terminating chunk before the
	 * server closes the sockets; clients that do not read are not waited
	 * for beyond the grace period. */
	for (int i = 0; i < SHUTDOWN_GRACE_MS / 10 && fanout_count() > 0; i++)
		nanosleep(&pause, NULL);
}
