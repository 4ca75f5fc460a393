/* sse-fanout: measures how fast the gateway delivers SSE pokes to N subscribers.
 *
 * N subscribers (epoll, a few threads) open /subscribe in one mode (stream, category
 * or all) and wait for ": ready". A probe writer then writes a message to a probe
 * stream every 1/--probe-rate s and notes when it sent the write and when the 200
 * came back. Every subscriber timestamps the probe's poke on arrival, so for each
 * (probe, subscriber) we know
 *   send -> poke : from the write leaving us to the poke arriving (an upper bound of
 *                  commit-to-delivery: it includes the write's own latency), and
 *   ack  -> poke : from the write's response to the poke (about commit-to-delivery
 *                  minus the response's trip; negative when the poke won the race).
 * Background load (scripts/tools/load-test) is the driver script's business; pokes of
 * other streams are counted but not timed. With --gateway-pid it also reads the
 * gateway's CPU time and memory from /proc. */
#define _GNU_SOURCE
#include "httpc.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct config {
    const char *url, *token, *mode, *category, *json_path;
    int subscribers, threads, gateway_pid;
    double duration_s, probe_rate, ready_timeout_s;
} config;

enum sub_state { S_CONNECTING, S_SENDING, S_HEADERS, S_BODY, S_CLOSED };
enum chunk_state { CH_SIZE, CH_DATA, CH_CRLF, CH_END };

typedef struct recv_rec {
    int64_t gpos;
    uint64_t t_ns;
} recv_rec;

typedef struct shard shard;

typedef struct sub {
    shard *sh;
    int fd;
    enum sub_state state;
    int retries;
    size_t out_off;
    hbuf hdr, frame, line;
    bool chunked, headers_seen, ready;
    enum chunk_state ch;
    uint64_t ch_left;
    int64_t last_probe;
} sub;

struct shard {
    pthread_t thread;
    int epfd;
    sub *subs;
    int n;
    recv_rec *recv;
    size_t nrecv, caprecv;
    uint64_t pokes, dups, failed, closed_live;
};

static config cfg;
static http_url url;
static hbuf sub_request;   /* the same GET for every subscriber */
static char *probe_stream;
static _Atomic int stop_flag, n_headers, n_ready, n_failed;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec d = {.tv_sec = (time_t) (ns / 1000000000u), .tv_nsec = (long) (ns % 1000000000u)};
    nanosleep(&d, NULL);
}

static void url_encode(hbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
            hbuf_append(b, s, 1);
        else
            hbuf_printf(b, "%%%02X", c);
    }
}

/* --- subscriber side ------------------------------------------------------------ */

static void sub_fail(sub *s);

static void sub_start(sub *s)
{
    s->fd = http_connect_fd(&url, true);
    s->state = S_CONNECTING;
    s->out_off = 0;
    s->hdr.len = s->frame.len = s->line.len = 0;
    s->chunked = s->headers_seen = false;
    s->ch = CH_SIZE;
    if (s->fd < 0) {
        sub_fail(s);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    epoll_ctl(s->sh->epfd, EPOLL_CTL_ADD, s->fd, &ev);
}

static void sub_close(sub *s)
{
    if (s->fd >= 0) {
        epoll_ctl(s->sh->epfd, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
    }
    s->fd = -1;
    s->state = S_CLOSED;
}

/* Connection storms can be refused; retry a few times before giving up. */
static void sub_fail(sub *s)
{
    bool was_live = s->headers_seen;
    sub_close(s);
    if (was_live) {
        s->sh->closed_live++;
        return;
    }
    if (++s->retries <= 5 && !atomic_load(&stop_flag)) {
        sleep_ns(20000000u * (uint64_t) s->retries);
        sub_start(s);
        return;
    }
    s->sh->failed++;
    atomic_fetch_add(&n_failed, 1);
}

static void record_probe(sub *s, int64_t gpos, uint64_t t)
{
    shard *sh = s->sh;
    if (gpos <= s->last_probe) {
        sh->dups++;
        return;
    }
    s->last_probe = gpos;
    if (sh->nrecv == sh->caprecv) {
        sh->caprecv = sh->caprecv ? sh->caprecv * 2 : 4096;
        sh->recv = realloc(sh->recv, sh->caprecv * sizeof *sh->recv);
        if (!sh->recv)
            abort();
    }
    sh->recv[sh->nrecv++] = (recv_rec){gpos, t};
}

static void on_frame(sub *s, const char *f, size_t n, uint64_t t)
{
    if (n > 0 && f[0] == ':') {
        if (!s->ready && memmem(f, n, "ready", 5)) {
            s->ready = true;
            atomic_fetch_add(&n_ready, 1);
        }
        return;
    }
    if (!memmem(f, n, "event: poke", 11))
        return;
    s->sh->pokes++;
    const char *key = "\"stream\":\"";
    const char *p = memmem(f, n, key, strlen(key));
    if (!p)
        return;
    p += strlen(key);
    size_t plen = strlen(probe_stream);
    if ((size_t) (f + n - p) <= plen || memcmp(p, probe_stream, plen) != 0 || p[plen] != '"')
        return;
    const char *g = memmem(f, n, "\"globalPosition\":", 17);
    if (g)
        record_probe(s, strtoll(g + 17, NULL, 10), t);
}

static int sse_feed(sub *s, const char *p, size_t n, uint64_t t)
{
    hbuf_append(&s->frame, p, n);
    size_t start = 0;
    for (;;) {
        char *end = memmem(s->frame.data + start, s->frame.len - start, "\n\n", 2);
        if (!end)
            break;
        on_frame(s, s->frame.data + start, (size_t) (end - (s->frame.data + start)), t);
        start = (size_t) (end - s->frame.data) + 2;
    }
    if (start > 0) {
        memmove(s->frame.data, s->frame.data + start, s->frame.len - start);
        s->frame.len -= start;
    }
    return s->frame.len > (1u << 20) ? -1 : 0; /* a frame that never ends */
}

static int body_feed(sub *s, const char *p, size_t n, uint64_t t)
{
    if (!s->chunked)
        return sse_feed(s, p, n, t);
    while (n > 0) {
        switch (s->ch) {
        case CH_SIZE:
        case CH_CRLF: {
            const char *nl = memchr(p, '\n', n);
            size_t take = nl ? (size_t) (nl - p) + 1 : n;
            if (s->ch == CH_SIZE)
                hbuf_append(&s->line, p, take);
            p += take;
            n -= take;
            if (!nl)
                break;
            if (s->ch == CH_CRLF) {
                s->ch = CH_SIZE;
                break;
            }
            s->ch_left = strtoull(s->line.data, NULL, 16);
            s->line.len = 0;
            s->ch = s->ch_left ? CH_DATA : CH_END;
            break;
        }
        case CH_DATA: {
            size_t take = n < s->ch_left ? n : (size_t) s->ch_left;
            if (sse_feed(s, p, take, t) < 0)
                return -1;
            p += take;
            n -= take;
            s->ch_left -= take;
            if (s->ch_left == 0)
                s->ch = CH_CRLF;
            break;
        }
        case CH_END:
            return -1; /* the server ended the stream */
        }
    }
    return 0;
}

static int on_bytes(sub *s, const char *p, size_t n, uint64_t t)
{
    if (s->state == S_BODY)
        return body_feed(s, p, n, t);
    hbuf_append(&s->hdr, p, n);
    char *end = memmem(s->hdr.data, s->hdr.len, "\r\n\r\n", 4);
    if (!end)
        return s->hdr.len > 65536 ? -1 : 0;
    if (s->hdr.len < 12 || strncmp(s->hdr.data, "HTTP/1.", 7) != 0 || atoi(s->hdr.data + 9) != 200) {
        fprintf(stderr, "sse-fanout: subscribe answered: %.*s\n", (int) strcspn(s->hdr.data, "\r\n"), s->hdr.data);
        s->retries = 99; /* an HTTP refusal will not change on retry */
        return -1;
    }
    *end = '\0';
    for (char *h = strstr(s->hdr.data, "\r\n"); h; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "transfer-encoding:", 18) == 0 && strcasestr(h + 20, "chunked"))
            s->chunked = true;
    s->state = S_BODY;
    s->headers_seen = true;
    atomic_fetch_add(&n_headers, 1);
    size_t rest = s->hdr.len - (size_t) (end + 4 - s->hdr.data);
    return rest ? body_feed(s, end + 4, rest, t) : 0;
}

static void on_event(sub *s, uint32_t events)
{
    if (s->state == S_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events & (EPOLLERR | EPOLLHUP))) {
            sub_fail(s);
            return;
        }
        s->state = S_SENDING;
    }
    if (s->state == S_SENDING) {
        while (s->out_off < sub_request.len) {
            ssize_t w = send(s->fd, sub_request.data + s->out_off, sub_request.len - s->out_off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN)
                    return;
                sub_fail(s);
                return;
            }
            s->out_off += (size_t) w;
        }
        s->state = S_HEADERS;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        epoll_ctl(s->sh->epfd, EPOLL_CTL_MOD, s->fd, &ev);
        return;
    }
    char buf[16384];
    for (;;) {
        ssize_t r = recv(s->fd, buf, sizeof buf, 0);
        if (r > 0) {
            if (on_bytes(s, buf, (size_t) r, now_ns()) < 0) {
                sub_fail(s);
                return;
            }
            continue;
        }
        if (r < 0 && errno == EAGAIN)
            return;
        if (r < 0 && errno == EINTR)
            continue;
        sub_fail(s);
        return;
    }
}

static void *shard_main(void *arg)
{
    shard *sh = arg;
    for (int i = 0; i < sh->n; i++) {
        sub_start(&sh->subs[i]);
        if (i % 50 == 49)
            sleep_ns(5000000u); /* spread the connection storm a little */
    }
    struct epoll_event evs[128];
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        int n = epoll_wait(sh->epfd, evs, 128, 100);
        for (int i = 0; i < n; i++) {
            sub *s = evs[i].data.ptr;
            if (s->state != S_CLOSED)
                on_event(s, evs[i].events);
        }
    }
    for (int i = 0; i < sh->n; i++)
        sub_close(&sh->subs[i]);
    return NULL;
}

/* --- probe writer ------------------------------------------------------------------- */

typedef struct probe {
    int64_t gpos;
    uint64_t t_send, t_ack;
} probe;

static int64_t write_probe(http_conn *c, uint64_t seq, hbuf *req, http_response *r, uint64_t *t_send,
                           uint64_t *t_ack)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    hbuf body = {0};
    hbuf_printf(&body,
                "[\"stream.write\",\"%s\",{\"type\":\"Probe\",\"data\":{\"probe\":%" PRIu64
                ",\"sentAtUnixNs\":%" PRIu64 "}}]",
                probe_stream, seq, (uint64_t) wall.tv_sec * 1000000000u + (uint64_t) wall.tv_nsec);
    req->len = 0;
    hbuf_printf(req,
                "POST /rpc HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                "Content-Length: %zu\r\n\r\n%s",
                url.host_header, cfg.token, body.len, body.data);
    hbuf_free(&body);
    *t_send = now_ns();
    int rc = http_exchange(c, req->data, req->len, r);
    *t_ack = now_ns();
    if (rc != 0 || r->status != 200) {
        fprintf(stderr, "sse-fanout: probe write failed: %s %.200s\n", r->transport_error ? r->transport_error : "",
                r->body.data ? r->body.data : "");
        return -1;
    }
    const char *g = strstr(r->body.data, "\"globalPosition\":");
    return g ? strtoll(g + 17, NULL, 10) : -1;
}

/* --- /proc readings ----------------------------------------------------------------- */

static long long proc_ticks(int pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long) (ut + st);
}

static long proc_kb(int pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* --- statistics ------------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

typedef struct dist {
    size_t n;
    double avg, p50, p90, p99, max, min;
} dist;

static dist summarize(int64_t *v, size_t n)
{
    dist d = {.n = n};
    if (n == 0)
        return d;
    qsort(v, n, sizeof *v, cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double) v[i];
    d.avg = sum / (double) n / 1e6;
#define PCT(p) ((double) v[(size_t) ((p) / 100.0 * (double) (n - 1) + 0.5)] / 1e6)
    d.p50 = PCT(50);
    d.p90 = PCT(90);
    d.p99 = PCT(99);
#undef PCT
    d.min = (double) v[0] / 1e6;
    d.max = (double) v[n - 1] / 1e6;
    return d;
}

static void print_dist(const char *label, dist d)
{
    printf("  %-22s p50 %8.3f  p90 %8.3f  p99 %8.3f  max %8.3f  avg %8.3f ms  (n=%zu)\n", label, d.p50, d.p90,
           d.p99, d.max, d.avg, d.n);
}

static void json_dist(FILE *f, const char *key, dist d)
{
    fprintf(f, "  \"%s\": {\"n\": %zu, \"min\": %.4f, \"avg\": %.4f, \"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"max\": %.4f}",
            key, d.n, d.min, d.avg, d.p50, d.p90, d.p99, d.max);
}

static int cmp_probe(const void *a, const void *b)
{
    int64_t x = ((const probe *) a)->gpos, y = ((const probe *) b)->gpos;
    return x < y ? -1 : x > y;
}

static const probe *find_probe(const probe *ps, size_t n, int64_t gpos)
{
    probe key = {.gpos = gpos};
    return bsearch(&key, ps, n, sizeof *ps, cmp_probe);
}

/* --- main -------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: sse-fanout [options]\n"
          "  --url URL            gateway base URL (http://127.0.0.1:8080)\n"
          "  --token T            bearer token (default $EVENTODB_TOKEN; never printed)\n"
          "  --mode M             stream | category | all (stream)\n"
          "  --subscribers N      concurrent subscriptions (100)\n"
          "  --category C         category of the probe stream and of category mode (loadtest)\n"
          "  --duration S         seconds of probe writes (20)\n"
          "  --probe-rate R       probe writes per second (20)\n"
          "  --threads T          subscriber threads (2)\n"
          "  --ready-timeout S    wait this long for all subscriptions to be ready (30)\n"
          "  --gateway-pid PID    read the gateway's CPU and memory from /proc\n"
          "  --json FILE          also write the results as JSON\n",
          f);
}

static void parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", 1, 0, 'u'},        {"token", 1, 0, 't'},       {"mode", 1, 0, 'm'},
        {"subscribers", 1, 0, 'n'}, {"category", 1, 0, 'c'},   {"duration", 1, 0, 'd'},
        {"probe-rate", 1, 0, 'r'}, {"threads", 1, 0, 'T'},     {"ready-timeout", 1, 0, 'R'},
        {"gateway-pid", 1, 0, 'p'}, {"json", 1, 0, 'j'},       {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    cfg = (config){.url = "http://127.0.0.1:8080", .token = getenv("EVENTODB_TOKEN"), .mode = "stream",
                   .category = "loadtest", .subscribers = 100, .threads = 2, .duration_s = 20,
                   .probe_rate = 20, .ready_timeout_s = 30};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': cfg.url = optarg; break;
        case 't': cfg.token = optarg; break;
        case 'm': cfg.mode = optarg; break;
        case 'n': cfg.subscribers = atoi(optarg); break;
        case 'c': cfg.category = optarg; break;
        case 'd': cfg.duration_s = atof(optarg); break;
        case 'r': cfg.probe_rate = atof(optarg); break;
        case 'T': cfg.threads = atoi(optarg); break;
        case 'R': cfg.ready_timeout_s = atof(optarg); break;
        case 'p': cfg.gateway_pid = atoi(optarg); break;
        case 'j': cfg.json_path = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    bool mode_ok = !strcmp(cfg.mode, "stream") || !strcmp(cfg.mode, "category") || !strcmp(cfg.mode, "all");
    if (optind < argc || !mode_ok || cfg.subscribers < 0 || cfg.threads < 1 || cfg.probe_rate <= 0 ||
        cfg.duration_s <= 0 || strpbrk(cfg.category, "-\"\\")) {
        usage(stderr);
        exit(2);
    }
    if (!cfg.token || !*cfg.token || strpbrk(cfg.token, "\r\n")) {
        fputs("sse-fanout: no usable token (--token or $EVENTODB_TOKEN)\n", stderr);
        exit(2);
    }
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    raise_fd_limit();
    const char *err;
    if (http_url_parse(cfg.url, &url, &err) < 0) {
        fprintf(stderr, "sse-fanout: %s: %s\n", cfg.url, err);
        return 2;
    }
    hbuf name = {0};
    hbuf_printf(&name, "%s-probe%dx%ld", cfg.category, (int) getpid(), (long) time(NULL));
    probe_stream = name.data;

    http_conn conn;
    http_conn_init(&conn, &url, 30);
    hbuf req = {0};
    http_response resp = {0};
    uint64_t ts, ta;
    int64_t g0 = write_probe(&conn, 0, &req, &resp, &ts, &ta);
    if (g0 < 0)
        return 1;

    hbuf_puts(&sub_request, "GET /subscribe?");
    if (!strcmp(cfg.mode, "stream")) {
        hbuf_puts(&sub_request, "stream=");
        url_encode(&sub_request, probe_stream);
        hbuf_puts(&sub_request, "&position=1");
    } else if (!strcmp(cfg.mode, "category")) {
        hbuf_puts(&sub_request, "category=");
        url_encode(&sub_request, cfg.category);
        hbuf_printf(&sub_request, "&position=%" PRId64, g0 + 1);
    } else {
        hbuf_puts(&sub_request, "all=true");
    }
    hbuf_printf(&sub_request, " HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
                url.host_header, cfg.token);

    int gw = cfg.gateway_pid;
    long rss_before = gw ? proc_kb(gw, "VmRSS") : -1;
    int nthreads = cfg.subscribers < cfg.threads ? (cfg.subscribers ? cfg.subscribers : 1) : cfg.threads;
    shard *shards = calloc((size_t) nthreads, sizeof *shards);
    sub *subs = calloc((size_t) cfg.subscribers + 1, sizeof *subs);
    for (int i = 0; i < cfg.subscribers; i++) {
        subs[i].fd = -1;
        subs[i].last_probe = g0;
    }
    uint64_t t_connect = now_ns();
    for (int t = 0, next = 0; t < nthreads; t++) {
        shard *sh = &shards[t];
        sh->n = cfg.subscribers / nthreads + (t < cfg.subscribers % nthreads);
        sh->subs = subs + next;
        next += sh->n;
        sh->epfd = epoll_create1(EPOLL_CLOEXEC);
        for (int i = 0; i < sh->n; i++)
            sh->subs[i].sh = sh;
        pthread_create(&sh->thread, NULL, shard_main, sh);
    }

    /* Ready = ": ready" seen; a gateway that never sends it gets 1 s after its headers. */
    uint64_t headers_done = 0;
    for (;;) {
        int h = atomic_load(&n_headers), r = atomic_load(&n_ready), f = atomic_load(&n_failed);
        if (r + f >= cfg.subscribers)
            break;
        if (h + f >= cfg.subscribers && !headers_done)
            headers_done = now_ns();
        if (headers_done && now_ns() - headers_done > 1000000000u)
            break;
        if (now_ns() - t_connect > (uint64_t) (cfg.ready_timeout_s * 1e9)) {
            fprintf(stderr, "sse-fanout: only %d of %d subscriptions ready after %.0f s\n", r, cfg.subscribers,
                    cfg.ready_timeout_s);
            break;
        }
        sleep_ns(10000000u);
    }
    double connect_s = (double) (now_ns() - t_connect) / 1e9;
    sleep_ns(200000000u);
    long rss_idle = gw ? proc_kb(gw, "VmRSS") : -1;
    long threads_idle = gw ? proc_kb(gw, "Threads") : -1;
    long long ticks0 = gw ? proc_ticks(gw) : -1;
    fprintf(stderr, "sse-fanout: %s mode, %d/%d subscriptions ready in %.2f s (%d failed); probing %s for %.0f s at %.0f/s\n",
            cfg.mode, atomic_load(&n_ready), cfg.subscribers, connect_s, atomic_load(&n_failed), probe_stream,
            cfg.duration_s, cfg.probe_rate);

    size_t nprobes = 0, capprobes = (size_t) (cfg.duration_s * cfg.probe_rate) + 16;
    probe *probes = calloc(capprobes, sizeof *probes);
    int64_t *wlat = calloc(capprobes, sizeof *wlat);
    long rss_peak = rss_idle;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    uint64_t t_start = now_ns(), interval = (uint64_t) (1e9 / cfg.probe_rate);
    uint64_t t_end = t_start + (uint64_t) (cfg.duration_s * 1e9), next = t_start;
    uint64_t probe_errors = 0;
    while (now_ns() < t_end && nprobes < capprobes) {
        int64_t g = write_probe(&conn, nprobes + 1, &req, &resp, &ts, &ta);
        if (g > 0) {
            probes[nprobes] = (probe){g, ts, ta};
            wlat[nprobes] = (int64_t) (ta - ts);
            nprobes++;
        } else {
            probe_errors++;
        }
        if (gw) {
            long r = proc_kb(gw, "VmRSS");
            if (r > rss_peak)
                rss_peak = r;
        }
        next += interval;
        uint64_t now = now_ns();
        if (next > now)
            sleep_ns(next - now);
    }
    double probe_s = (double) (now_ns() - t_start) / 1e9;
    sleep_ns(2000000000u); /* let the last pokes arrive */
    long long ticks1 = gw ? proc_ticks(gw) : -1;
    long hwm = gw ? proc_kb(gw, "VmHWM") : -1;
    atomic_store(&stop_flag, 1);
    for (int t = 0; t < nthreads; t++)
        pthread_join(shards[t].thread, NULL);
    getrusage(RUSAGE_SELF, &ru1);
    double client_cpu = (double) (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                        (double) (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;

    qsort(probes, nprobes, sizeof *probes, cmp_probe);
    size_t total_recv = 0;
    uint64_t pokes = 0, dups = 0, failed = 0, closed = 0;
    for (int t = 0; t < nthreads; t++) {
        total_recv += shards[t].nrecv;
        pokes += shards[t].pokes;
        dups += shards[t].dups;
        failed += shards[t].failed;
        closed += shards[t].closed_live;
    }
    int64_t *lsend = calloc(total_recv + 1, sizeof *lsend), *lack = calloc(total_recv + 1, sizeof *lack);
    int64_t *last = calloc(nprobes + 1, sizeof *last);
    size_t *got = calloc(nprobes + 1, sizeof *got);
    size_t nl = 0, negative = 0;
    for (int t = 0; t < nthreads; t++)
        for (size_t i = 0; i < shards[t].nrecv; i++) {
            const probe *p = find_probe(probes, nprobes, shards[t].recv[i].gpos);
            if (!p)
                continue;
            int64_t ds = (int64_t) (shards[t].recv[i].t_ns - p->t_send);
            int64_t da = (int64_t) shards[t].recv[i].t_ns - (int64_t) p->t_ack;
            lsend[nl] = ds;
            lack[nl] = da;
            negative += da < 0;
            nl++;
            size_t k = (size_t) (p - probes);
            got[k]++;
            if (ds > last[k])
                last[k] = ds;
        }
    /* "all subscribers have it": only probes every live subscriber received */
    size_t nfull = 0;
    int live = cfg.subscribers - (int) failed;
    for (size_t k = 0; k < nprobes; k++)
        if (live > 0 && got[k] >= (size_t) live)
            last[nfull++] = last[k];
    dist d_send = summarize(lsend, nl), d_ack = summarize(lack, nl), d_last = summarize(last, nfull);
    dist d_write = summarize(wlat, nprobes);
    size_t expected = nprobes * (size_t) live;
    double gw_cpu = gw && ticks0 >= 0 && ticks1 >= 0 ? 100.0 * (double) (ticks1 - ticks0) / (double) sysconf(_SC_CLK_TCK) / (probe_s + 2.0) : -1;

    printf("sse-fanout: %s mode, %d subscribers (%" PRIu64 " failed to subscribe, %" PRIu64 " dropped later)\n",
           cfg.mode, cfg.subscribers, failed, closed);
    printf("  probe writes %zu (%" PRIu64 " failed) over %.1f s; probe pokes delivered %zu of %zu (%.2f %%), duplicates %" PRIu64 "\n",
           nprobes, probe_errors, probe_s, nl, expected, expected ? 100.0 * (double) nl / (double) expected : 0.0, dups);
    printf("  pokes received in total %" PRIu64 " (%.0f/s across all subscribers)\n", pokes, (double) pokes / (probe_s + 2.0));
    print_dist("write latency", d_write);
    print_dist("send -> poke", d_send);
    print_dist("ack -> poke", d_ack);
    print_dist("send -> last subscriber", d_last);
    printf("  ack -> poke negative (poke before the write's response): %.1f %%\n", nl ? 100.0 * (double) negative / (double) nl : 0.0);
    if (gw)
        printf("  gateway: CPU %.1f %% of one core during probing; RSS %.1f MiB before, %.1f MiB with idle subscribers "
               "(%.1f KiB each), peak %.1f MiB, VmHWM %.1f MiB; %ld threads while subscribed\n",
               gw_cpu, rss_before / 1024.0, rss_idle / 1024.0,
               cfg.subscribers ? (double) (rss_idle - rss_before) / cfg.subscribers : 0.0, rss_peak / 1024.0, hwm / 1024.0,
               threads_idle);
    printf("  client CPU %.2f s (%.1f %% of one core)\n", client_cpu, 100.0 * client_cpu / (probe_s + 2.0));

    if (cfg.json_path) {
        FILE *f = fopen(cfg.json_path, "w");
        if (f) {
            fprintf(f, "{\n  \"mode\": \"%s\",\n  \"subscribers\": %d,\n  \"failed\": %" PRIu64 ",\n  \"dropped\": %" PRIu64
                       ",\n  \"connect_s\": %.3f,\n  \"probe_writes\": %zu,\n  \"probe_errors\": %" PRIu64
                       ",\n  \"probe_seconds\": %.2f,\n  \"probe_rate\": %g,\n  \"expected_pokes\": %zu,\n  \"delivered_pokes\": %zu,\n"
                       "  \"delivery_ratio\": %.4f,\n  \"duplicates\": %" PRIu64 ",\n  \"pokes_total\": %" PRIu64 ",\n",
                    cfg.mode, cfg.subscribers, failed, closed, connect_s, nprobes, probe_errors, probe_s, cfg.probe_rate,
                    expected, nl, expected ? (double) nl / (double) expected : 0.0, dups, pokes);
            json_dist(f, "write_latency_ms", d_write);
            fputs(",\n", f);
            json_dist(f, "send_to_poke_ms", d_send);
            fputs(",\n", f);
            json_dist(f, "ack_to_poke_ms", d_ack);
            fputs(",\n", f);
            json_dist(f, "send_to_last_subscriber_ms", d_last);
            fprintf(f, ",\n  \"ack_to_poke_negative_share\": %.4f,\n", nl ? (double) negative / (double) nl : 0.0);
            fprintf(f, "  \"gateway\": {\"cpu_percent\": %.1f, \"rss_kb_before\": %ld, \"rss_kb_idle_subscribed\": %ld, "
                       "\"rss_kb_peak\": %ld, \"vmhwm_kb\": %ld, \"threads_subscribed\": %ld},\n",
                    gw_cpu, rss_before, rss_idle, rss_peak, hwm, threads_idle);
            fprintf(f, "  \"client_cpu_s\": %.3f\n}\n", client_cpu);
            fclose(f);
        }
    }
    return 0;
}
