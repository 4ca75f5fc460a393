/*
 * Prometheus metrics of the gateway (GET /metrics, text format 0.0.4; the
 * list with types and labels is in docs/operations.md). Every counter is a
 * C11 atomic bumped where its event happens; a scrape reads them and a few
 * process figures from /proc and never touches the database.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include "strbuf.h"

#include <libpq-fe.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kinds of long-lived event streams. */
typedef enum MetricsStream
{
	METRICS_SSE_STREAM, METRICS_SSE_CATEGORY, METRICS_SSE_ALL, METRICS_PUSH,
	METRICS_STREAM_KINDS
} MetricsStream;

/* Records the start time; call once before serving. */
void		metrics_init(void);

/* The gauge of request-body bytes buffered now reads this (server.c). */
void		metrics_set_body_bytes_source(size_t (*fn) (void));

/* A request began / ended (op = its method label, see reqctx.h). Streams
 * are counted but neither in flight nor in the latency histogram. */
void		metrics_request_begin(bool streaming);
void		metrics_request_end(const char *op, unsigned status, int64_t usec, bool streaming);

/* An error envelope (or import error event) with this code was sent. */
void		metrics_error(const char *code);

/* Pokes: one arrived on the LISTEN connection; a poke frame was queued to
 * a /subscribe stream, or dropped because its queue was full (docs/http-api.md#modes). */
void		metrics_poke_received(void);
void		metrics_poke_delivered(void);
void		metrics_poke_dropped(void);

void		metrics_stream_opened(MetricsStream kind);
void		metrics_stream_closed(MetricsStream kind);

/* One group-commit call carrying n writes (1 = a write sent alone). */
void		metrics_group_commit(int n);

/* Import records committed. */
void		metrics_import_records(int64_t n);

/* Persistent subscriptions as the gateway sees them: deliveries handed out
 * by a fetch (rows; column attempt_col holds the attempt, -1 = unknown),
 * ids acked, ids nacked with an action ("retry", "park", "skip"). */
void		metrics_sub_fetched(const PGresult *res, int attempt_col);
void		metrics_sub_acked(const PGresult *res);
void		metrics_sub_nacked(const PGresult *res, const char *action, size_t action_len);

/* GET /metrics: open to loopback clients, to others with the metrics token
 * (--metrics-token) as a Bearer token. */
enum MHD_Result metrics_handle(struct MHD_Connection *c, const char *http_method);

/* The scrape body (for tests of the format and the handler). */
void		metrics_render(StrBuf *out);

#endif
