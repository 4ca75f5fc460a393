/* load-test: HTTP load generator for the gateway's /rpc endpoint.
 *
 * Reference workload (docs/benchmarks.md, the original's): 10 workers, 90 % stream.write
 * to 100 streams of one category, 10 % stream.get with batch 10, 30 s. One thread
 * per worker, each with its own keep-alive connection, closed loop (a worker sends
 * its next request when the previous answer arrived) unless --rate paces it.
 * Progress every 5 s on stderr; the report on stdout and, with --json, as JSON.
 * The token is sent but never printed. */
#define _GNU_SOURCE
#include "httpc.h"
#include "latency.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct config {
    int workers;
    double duration_s;
    double warmup_s;
    double write_ratio;
    int streams;
    int categories;
    int batch;
    int payload_size;
    double rate;        /* total ops/s; 0 = as fast as possible */
    double progress_s;
    const char *url;
    const char *token;
    const char *prefix;
    const char *json_path;
    uint64_t seed;
} config;

enum { OP_WRITE, OP_READ, OP_KINDS };

typedef struct worker {
    pthread_t thread;
    int index;
    const config *cfg;
    const http_url *url;
    /* Read by the progress printer while the worker runs. */
    _Atomic uint64_t done[OP_KINDS];
    _Atomic uint64_t errors;
    /* Owned by the worker until joined. */
    latency_hist hist[OP_KINDS];
    uint64_t errors_transport;
    uint64_t errors_by_class[6]; /* index = status / 100 */
    uint64_t reconnects;
    char first_error[256];
} worker;

static _Atomic int stop_flag;
static volatile sig_atomic_t got_signal; /* SIGINT/SIGTERM: stop early, still report */
static struct timespec measure_start; /* set before workers start, read-only after */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static uint64_t ts_ns(const struct timespec *ts)
{
    return (uint64_t) ts->tv_sec * 1000000000u + (uint64_t) ts->tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

static void category_name(const config *cfg, int stream, hbuf *out)
{
    if (cfg->categories <= 1)
        hbuf_puts(out, cfg->prefix);
    else
        hbuf_printf(out, "%s%d", cfg->prefix, stream % cfg->categories);
}

static void stream_name(const config *cfg, int stream, hbuf *out)
{
    category_name(cfg, stream, out);
    hbuf_printf(out, "-%d", stream);
}

/* An order-like event: nested objects, an array, numbers with fractions, booleans,
 * and a note padding the data object to about --payload-size bytes. */
static void write_body(const config *cfg, worker *w, uint64_t seq, uint64_t *rng, hbuf *b)
{
    int stream = (int) (rng_next(rng) % (uint64_t) cfg->streams);
    uint64_t r = rng_next(rng);
    hbuf_puts(b, "[\"stream.write\",\"");
    stream_name(cfg, stream, b);
    hbuf_puts(b, "\",{\"type\":\"OrderPlaced\",\"data\":");
    size_t data_start = b->len;
    hbuf_printf(b,
                "{\"orderId\":\"ord-%d-%" PRIu64 "\",\"customer\":{\"id\":\"cust-%" PRIu64
                "\",\"name\":\"Customer %" PRIu64 "\",\"tier\":\"%s\",\"address\":{\"street\":\"%" PRIu64
                " Main Street\",\"city\":\"Springfield\",\"zip\":\"%05" PRIu64 "\",\"country\":\"US\"}},",
                w->index, seq, r % 100000, r % 100000, (r & 1) ? "gold" : "standard", r % 999 + 1,
                (r >> 8) % 100000);
    hbuf_puts(b, "\"items\":[");
    unsigned items = 1 + (unsigned) (r >> 20) % 3;
    uint64_t total = 0;
    for (unsigned i = 0; i < items; i++) {
        uint64_t q = 1 + (r >> (24 + i * 4)) % 5, cents = 199 + (r >> (30 + i * 7)) % 9800;
        total += q * cents;
        hbuf_printf(b, "%s{\"sku\":\"SKU-%04" PRIu64 "\",\"quantity\":%" PRIu64 ",\"unitPrice\":%" PRIu64
                       ".%02" PRIu64 "}",
                    i ? "," : "", (r >> (i * 9)) % 10000, q, cents / 100, cents % 100);
    }
    hbuf_printf(b, "],\"total\":%" PRIu64 ".%02" PRIu64 ",\"currency\":\"EUR\",\"express\":%s,\"note\":\"",
                total / 100, total % 100, (r >> 40) & 1 ? "true" : "false");
    size_t used = b->len - data_start + 2;
    static const char filler[] = "lorem ipsum dolor sit amet consectetur adipiscing elit ";
    for (size_t i = used; i < (size_t) cfg->payload_size; i++)
        hbuf_append(b, &filler[(i - used) % (sizeof filler - 1)], 1);
    hbuf_printf(b,
                "\"},\"metadata\":{\"correlationStreamName\":\"checkout-%" PRIu64
                "\",\"causationMessageStreamName\":\"cart-%" PRIu64 "\",\"causationMessagePosition\":%" PRIu64
                ",\"userId\":\"user-%" PRIu64 "\",\"traceId\":\"%016" PRIx64 "%016" PRIx64
                "\",\"schemaVersion\":2}}]",
                r % 1000, r % 100000, seq, r % 5000, r, rng_next(rng));
}

static void read_body(const config *cfg, uint64_t *rng, hbuf *b)
{
    int stream = (int) (rng_next(rng) % (uint64_t) cfg->streams);
    hbuf_puts(b, "[\"stream.get\",\"");
    stream_name(cfg, stream, b);
    hbuf_printf(b, "\",{\"position\":0,\"batchSize\":%d}]", cfg->batch);
}

static void note_error(worker *w, const http_response *r)
{
    if (r->status == 0)
        w->errors_transport++;
    else
        w->errors_by_class[r->status / 100 < 6 ? r->status / 100 : 5]++;
    if (w->first_error[0] == '\0') {
        if (r->status == 0)
            snprintf(w->first_error, sizeof w->first_error, "%s", r->transport_error);
        else
            snprintf(w->first_error, sizeof w->first_error, "HTTP %d %.200s", r->status,
                     r->body.data ? r->body.data : "");
    }
    atomic_fetch_add_explicit(&w->errors, 1, memory_order_relaxed);
}

static void pace(const config *cfg, uint64_t *next_ns)
{
    if (cfg->rate <= 0)
        return;
    uint64_t interval = (uint64_t) (1e9 * cfg->workers / cfg->rate);
    uint64_t now = now_ns();
    if (*next_ns == 0 || now > *next_ns + 1000000000u)
        *next_ns = now; /* fell far behind: do not burst to catch up */
    *next_ns += interval;
    if (*next_ns > now) {
        struct timespec d = {.tv_sec = (time_t) ((*next_ns - now) / 1000000000u),
                             .tv_nsec = (long) ((*next_ns - now) % 1000000000u)};
        nanosleep(&d, NULL);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    const config *cfg = w->cfg;
    http_conn conn;
    http_conn_init(&conn, w->url, 30);
    hbuf body = {0}, req = {0};
    http_response resp = {0};
    uint64_t rng = cfg->seed ^ (UINT64_C(0x9E3779B97F4A7C15) * (uint64_t) (w->index + 1));
    uint64_t seq = 0, next = 0;
    if (rng == 0)
        rng = 1;
    uint64_t measure_from = ts_ns(&measure_start);
    uint32_t write_cut = (uint32_t) (cfg->write_ratio * 4294967295.0);

    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        pace(cfg, &next);
        int op = (uint32_t) rng_next(&rng) <= write_cut && cfg->write_ratio > 0 ? OP_WRITE : OP_READ;
        body.len = 0;
        if (op == OP_WRITE)
            write_body(cfg, w, seq++, &rng, &body);
        else
            read_body(cfg, &rng, &body);
        req.len = 0;
        hbuf_printf(&req,
                    "POST /rpc HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                    w->url->host_header, cfg->token, body.len);
        hbuf_append(&req, body.data, body.len);

        uint64_t t0 = now_ns();
        int rc = http_exchange(&conn, req.data, req.len, &resp);
        uint64_t t1 = now_ns();
        if (t0 < measure_from)
            continue; /* warm-up */
        if (rc == 0 && resp.status == 200) {
            lat_record(&w->hist[op], t1 - t0);
            atomic_fetch_add_explicit(&w->done[op], 1, memory_order_relaxed);
        } else {
            note_error(w, &resp);
            if (rc != 0) {
                struct timespec pause = {0, 50000000}; /* a dead server must not spin us */
                nanosleep(&pause, NULL);
            }
        }
    }
    w->reconnects = conn.reconnects;
    http_conn_close(&conn);
    hbuf_free(&conn.in);
    hbuf_free(&body);
    hbuf_free(&req);
    hbuf_free(&resp.body);
    return NULL;
}

static void usage(FILE *f)
{
    fputs("usage: load-test [options]\n"
          "  --url URL           gateway base URL (default http://127.0.0.1:8080)\n"
          "  --token T           bearer token (default $EVENTODB_TOKEN; never printed)\n"
          "  --workers N         concurrent workers, one connection each (10)\n"
          "  --duration S        measured seconds (30)\n"
          "  --warmup S          unmeasured seconds before (0)\n"
          "  --write-ratio F     share of stream.write, rest stream.get (0.9)\n"
          "  --streams N         streams written and read (100)\n"
          "  --categories N      categories the streams are spread over (1)\n"
          "  --batch N           stream.get batchSize (10)\n"
          "  --payload-size B    approximate bytes of each message's data (512)\n"
          "  --rate R            total ops/s cap, 0 = closed loop flat out (0)\n"
          "  --prefix NAME       category name (prefix when --categories > 1) (loadtest)\n"
          "  --progress S        progress line interval on stderr, 0 = off (5)\n"
          "  --seed N            payload/stream choice seed (1)\n"
          "  --json FILE         also write the results as JSON\n",
          f);
}

static double parse_num(const char *name, const char *v, double lo)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || d < lo) {
        fprintf(stderr, "load-test: bad value for --%s: %s\n", name, v);
        exit(2);
    }
    return d;
}

static void parse_args(int argc, char **argv, config *cfg)
{
    static const struct option opts[] = {
        {"url", 1, 0, 'u'},      {"token", 1, 0, 't'},       {"workers", 1, 0, 'w'},
        {"duration", 1, 0, 'd'}, {"warmup", 1, 0, 'W'},      {"write-ratio", 1, 0, 'r'},
        {"streams", 1, 0, 's'},  {"categories", 1, 0, 'c'},  {"batch", 1, 0, 'b'},
        {"payload-size", 1, 0, 'p'}, {"rate", 1, 0, 'R'},    {"prefix", 1, 0, 'P'},
        {"progress", 1, 0, 'g'}, {"seed", 1, 0, 'S'},        {"json", 1, 0, 'j'},
        {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    *cfg = (config){.workers = 10, .duration_s = 30, .write_ratio = 0.9, .streams = 100,
                    .categories = 1, .batch = 10, .payload_size = 512, .progress_s = 5,
                    .url = "http://127.0.0.1:8080", .token = getenv("EVENTODB_TOKEN"),
                    .prefix = "loadtest", .seed = 1};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char *name = c == '?' ? "" : opts[0].name;
        for (const struct option *o = opts; o->name; o++)
            if (o->val == c)
                name = o->name;
        switch (c) {
        case 'u': cfg->url = optarg; break;
        case 't': cfg->token = optarg; break;
        case 'w': cfg->workers = (int) parse_num(name, optarg, 1); break;
        case 'd': cfg->duration_s = parse_num(name, optarg, 0.1); break;
        case 'W': cfg->warmup_s = parse_num(name, optarg, 0); break;
        case 'r': cfg->write_ratio = parse_num(name, optarg, 0); break;
        case 's': cfg->streams = (int) parse_num(name, optarg, 1); break;
        case 'c': cfg->categories = (int) parse_num(name, optarg, 1); break;
        case 'b': cfg->batch = (int) parse_num(name, optarg, -1); break;
        case 'p': cfg->payload_size = (int) parse_num(name, optarg, 0); break;
        case 'R': cfg->rate = parse_num(name, optarg, 0); break;
        case 'P': cfg->prefix = optarg; break;
        case 'g': cfg->progress_s = parse_num(name, optarg, 0); break;
        case 'S': cfg->seed = (uint64_t) parse_num(name, optarg, 0) + 1; break;
        case 'j': cfg->json_path = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc || cfg->write_ratio > 1) {
        usage(stderr);
        exit(2);
    }
    if (!cfg->token || !*cfg->token) {
        fputs("load-test: no token (--token or $EVENTODB_TOKEN)\n", stderr);
        exit(2);
    }
    if (strpbrk(cfg->token, "\r\n") || strpbrk(cfg->prefix, "\"\\-")) {
        fputs("load-test: token must be one line; prefix must not contain '\"', '\\' or '-'\n", stderr);
        exit(2);
    }
}

typedef struct totals {
    latency_hist hist[OP_KINDS + 1]; /* OP_KINDS = all ops */
    uint64_t errors, transport, by_class[6], reconnects;
    const char *first_error;
} totals;

static void sum_workers(worker *ws, int n, totals *t)
{
    memset(t, 0, sizeof *t);
    for (int k = 0; k <= OP_KINDS; k++)
        lat_init(&t->hist[k]);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < OP_KINDS; k++) {
            lat_merge(&t->hist[k], &ws[i].hist[k]);
            lat_merge(&t->hist[OP_KINDS], &ws[i].hist[k]);
        }
        t->errors += atomic_load(&ws[i].errors);
        t->transport += ws[i].errors_transport;
        for (int k = 0; k < 6; k++)
            t->by_class[k] += ws[i].errors_by_class[k];
        t->reconnects += ws[i].reconnects;
        if (!t->first_error && ws[i].first_error[0])
            t->first_error = ws[i].first_error;
    }
}

static double ms(uint64_t ns)
{
    return (double) ns / 1e6;
}

static void print_lat(FILE *f, const char *label, const latency_hist *h)
{
    fprintf(f, "  %-7s avg %7.3f  p50 %7.3f  p90 %7.3f  p99 %7.3f  p99.9 %7.3f  max %8.3f ms  (n=%" PRIu64 ")\n",
            label, lat_avg_ns(h) / 1e6, ms(lat_percentile(h, 50)), ms(lat_percentile(h, 90)),
            ms(lat_percentile(h, 99)), ms(lat_percentile(h, 99.9)), ms(h->max_ns), h->count);
}

static void json_lat(FILE *f, const char *key, const latency_hist *h)
{
    fprintf(f,
            "  \"%s\": {\"count\": %" PRIu64 ", \"avg\": %.4f, \"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, "
            "\"p999\": %.4f, \"max\": %.4f}",
            key, h->count, lat_avg_ns(h) / 1e6, ms(lat_percentile(h, 50)), ms(lat_percentile(h, 90)),
            ms(lat_percentile(h, 99)), ms(lat_percentile(h, 99.9)), ms(h->max_ns));
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char) *s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

typedef struct sample {
    double t, writes_s, reads_s;
    uint64_t errors;
} sample;

static void write_json(const config *cfg, const totals *t, double elapsed, double cpu_user, double cpu_sys,
                       const sample *series, int nseries)
{
    FILE *f = fopen(cfg->json_path, "w");
    if (!f) {
        fprintf(stderr, "load-test: cannot write %s: %s\n", cfg->json_path, strerror(errno));
        return;
    }
    uint64_t ops = t->hist[OP_KINDS].count;
    fprintf(f, "{\n  \"config\": {\"url\": ");
    json_string(f, cfg->url);
    fprintf(f,
            ", \"workers\": %d, \"duration_s\": %g, \"warmup_s\": %g, \"write_ratio\": %g, \"streams\": %d, "
            "\"categories\": %d, \"batch\": %d, \"payload_size\": %d, \"rate\": %g, \"prefix\": ",
            cfg->workers, cfg->duration_s, cfg->warmup_s, cfg->write_ratio, cfg->streams, cfg->categories,
            cfg->batch, cfg->payload_size, cfg->rate);
    json_string(f, cfg->prefix);
    fprintf(f, "},\n  \"elapsed_s\": %.3f,\n  \"ops\": %" PRIu64 ",\n  \"ops_per_sec\": %.1f,\n", elapsed, ops,
            ops / elapsed);
    fprintf(f, "  \"writes\": %" PRIu64 ",\n  \"writes_per_sec\": %.1f,\n", t->hist[OP_WRITE].count,
            t->hist[OP_WRITE].count / elapsed);
    fprintf(f, "  \"reads\": %" PRIu64 ",\n  \"reads_per_sec\": %.1f,\n", t->hist[OP_READ].count,
            t->hist[OP_READ].count / elapsed);
    fprintf(f,
            "  \"errors\": %" PRIu64 ",\n  \"errors_detail\": {\"transport\": %" PRIu64 ", \"http_4xx\": %" PRIu64
            ", \"http_5xx\": %" PRIu64 ", \"other\": %" PRIu64 ", \"reconnects\": %" PRIu64 "},\n",
            t->errors, t->transport, t->by_class[4], t->by_class[5],
            t->by_class[1] + t->by_class[2] + t->by_class[3], t->reconnects);
    fputs("  \"first_error\": ", f);
    if (t->first_error)
        json_string(f, t->first_error);
    else
        fputs("null", f);
    fputs(",\n", f);
    json_lat(f, "latency_ms", &t->hist[OP_KINDS]);
    fputs(",\n", f);
    json_lat(f, "write_latency_ms", &t->hist[OP_WRITE]);
    fputs(",\n", f);
    json_lat(f, "read_latency_ms", &t->hist[OP_READ]);
    fprintf(f,
            ",\n  \"client_cpu\": {\"user_s\": %.3f, \"sys_s\": %.3f, \"percent_of_one_core\": %.1f, "
            "\"us_per_op\": %.2f},\n",
            cpu_user, cpu_sys, 100.0 * (cpu_user + cpu_sys) / elapsed,
            ops ? 1e6 * (cpu_user + cpu_sys) / (double) ops : 0.0);
    fputs("  \"progress\": [", f);
    for (int i = 0; i < nseries; i++)
        fprintf(f, "%s{\"t\": %.1f, \"writes_per_sec\": %.1f, \"reads_per_sec\": %.1f, \"errors\": %" PRIu64 "}",
                i ? ", " : "", series[i].t, series[i].writes_s, series[i].reads_s, series[i].errors);
    fputs("]\n}\n", f);
    fclose(f);
}

static void snapshot(worker *ws, int n, uint64_t out[OP_KINDS + 1])
{
    memset(out, 0, sizeof(uint64_t) * (OP_KINDS + 1));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < OP_KINDS; k++)
            out[k] += atomic_load_explicit(&ws[i].done[k], memory_order_relaxed);
        out[OP_KINDS] += atomic_load_explicit(&ws[i].errors, memory_order_relaxed);
    }
}

static void on_signal(int sig)
{
    (void) sig;
    got_signal = 1;
}

static void sleep_until(uint64_t t)
{
    uint64_t now = now_ns();
    if (t <= now)
        return;
    struct timespec d = {.tv_sec = (time_t) ((t - now) / 1000000000u), .tv_nsec = (long) ((t - now) % 1000000000u)};
    nanosleep(&d, NULL);
}

int main(int argc, char **argv)
{
    config cfg;
    parse_args(argc, argv, &cfg);
    http_url url;
    const char *err;
    if (http_url_parse(cfg.url, &url, &err) < 0) {
        fprintf(stderr, "load-test: %s: %s\n", cfg.url, err);
        return 2;
    }
    fprintf(stderr,
            "load-test: %s, %d workers, %.0f s (+%.0f s warm-up), %.0f %% writes to %d streams in %d "
            "categor%s, reads batch %d, payload ~%d B%s\n",
            cfg.url, cfg.workers, cfg.duration_s, cfg.warmup_s, cfg.write_ratio * 100, cfg.streams,
            cfg.categories, cfg.categories == 1 ? "y" : "ies", cfg.batch, cfg.payload_size,
            cfg.rate > 0 ? ", rate-limited" : "");

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    worker *ws = calloc((size_t) cfg.workers, sizeof *ws);
    if (!ws)
        return 1;
    uint64_t t_begin = now_ns();
    uint64_t t_measure = t_begin + (uint64_t) (cfg.warmup_s * 1e9);
    measure_start.tv_sec = (time_t) (t_measure / 1000000000u);
    measure_start.tv_nsec = (long) (t_measure % 1000000000u);
    for (int i = 0; i < cfg.workers; i++) {
        ws[i].index = i;
        ws[i].cfg = &cfg;
        ws[i].url = &url;
        for (int k = 0; k < OP_KINDS; k++)
            lat_init(&ws[i].hist[k]);
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
            fputs("load-test: cannot start worker thread\n", stderr);
            return 1;
        }
    }

    sleep_until(t_measure);
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    uint64_t t_end = t_measure + (uint64_t) (cfg.duration_s * 1e9);
    int max_series = cfg.progress_s > 0 ? (int) (cfg.duration_s / cfg.progress_s) + 2 : 0;
    sample *series = calloc((size_t) max_series + 1, sizeof *series);
    int nseries = 0;
    uint64_t prev[OP_KINDS + 1] = {0}, cur[OP_KINDS + 1];
    uint64_t t_prev = t_measure;
    while (now_ns() < t_end && !got_signal) {
        uint64_t next = cfg.progress_s > 0 ? t_prev + (uint64_t) (cfg.progress_s * 1e9) : t_end;
        sleep_until(next < t_end ? next : t_end);
        if (cfg.progress_s <= 0 || now_ns() < next)
            continue;
        snapshot(ws, cfg.workers, cur);
        double dt = (double) (now_ns() - t_prev) / 1e9;
        sample s = {(double) (now_ns() - t_measure) / 1e9, (cur[OP_WRITE] - prev[OP_WRITE]) / dt,
                    (cur[OP_READ] - prev[OP_READ]) / dt, cur[OP_KINDS]};
        fprintf(stderr, "[%5.0fs] writes/s %8.1f  reads/s %8.1f  errors %" PRIu64 "\n", s.t, s.writes_s,
                s.reads_s, s.errors);
        if (nseries < max_series)
            series[nseries++] = s;
        memcpy(prev, cur, sizeof prev);
        t_prev = now_ns();
    }
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < cfg.workers; i++)
        pthread_join(ws[i].thread, NULL);
    double elapsed = (double) (now_ns() - t_measure) / 1e9;
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    double cpu_user = (double) (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                      (double) (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
    double cpu_sys = (double) (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                     (double) (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;

    totals t;
    sum_workers(ws, cfg.workers, &t);
    uint64_t ops = t.hist[OP_KINDS].count;
    printf("load-test results (%.1f s measured)\n", elapsed);
    printf("  ops      %10" PRIu64 "  %9.1f /s\n", ops, ops / elapsed);
    printf("  writes   %10" PRIu64 "  %9.1f /s\n", t.hist[OP_WRITE].count, t.hist[OP_WRITE].count / elapsed);
    printf("  reads    %10" PRIu64 "  %9.1f /s\n", t.hist[OP_READ].count, t.hist[OP_READ].count / elapsed);
    printf("  errors   %10" PRIu64 "  (transport %" PRIu64 ", 4xx %" PRIu64 ", 5xx %" PRIu64 ")\n", t.errors,
           t.transport, t.by_class[4], t.by_class[5]);
    if (t.first_error)
        printf("  first error: %s\n", t.first_error);
    puts("latency");
    print_lat(stdout, "all", &t.hist[OP_KINDS]);
    print_lat(stdout, "writes", &t.hist[OP_WRITE]);
    print_lat(stdout, "reads", &t.hist[OP_READ]);
    printf("client CPU %.2f s user + %.2f s sys = %.1f %% of one core, %.1f us per op\n", cpu_user, cpu_sys,
           100.0 * (cpu_user + cpu_sys) / elapsed, ops ? 1e6 * (cpu_user + cpu_sys) / (double) ops : 0.0);
    if (cfg.json_path)
        write_json(&cfg, &t, elapsed, cpu_user, cpu_sys, series, nseries);
    free(series);
    free(ws);
    http_url_free(&url);
    return ops == 0 ? 1 : 0;
}
