/* Latency histogram for the benchmark tools: log-linear buckets in the style of
 * HdrHistogram (under 1 % relative error), constant memory however long the run,
 * mergeable across threads. Values are nanoseconds. */
#ifndef EVENTODB_LATENCY_H
#define EVENTODB_LATENCY_H

#include <stdint.h>

#define LAT_SUB_BITS 7                       /* 128 sub-buckets per power of two */
#define LAT_HALF (1u << (LAT_SUB_BITS - 1))
#define LAT_BUCKETS (64u * LAT_HALF)

typedef struct latency_hist {
    uint64_t count;
    uint64_t sum_ns;
    uint64_t min_ns;
    uint64_t max_ns;
    uint64_t buckets[LAT_BUCKETS];
} latency_hist;

void lat_init(latency_hist *h);
void lat_record(latency_hist *h, uint64_t ns);
void lat_merge(latency_hist *dst, const latency_hist *src);
/* p in [0,100]; 0 when empty. Exact for the maximum. */
uint64_t lat_percentile(const latency_hist *h, double p);
double lat_avg_ns(const latency_hist *h);

#endif
