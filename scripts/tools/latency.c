#include "latency.h"

#include <string.h>

void lat_init(latency_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_ns = UINT64_MAX;
}

/* Values below 2^LAT_SUB_BITS get one bucket each; above, every power of two is
 * split into LAT_HALF buckets, so a bucket is never wider than 1/64 of its value. */
static unsigned bucket_of(uint64_t v)
{
    if (v < (1u << LAT_SUB_BITS))
        return (unsigned) v;
    unsigned msb = 63u - (unsigned) __builtin_clzll(v);
    unsigned e = msb - (LAT_SUB_BITS - 1);
    unsigned b = e * LAT_HALF + (unsigned) (v >> e);
    return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

static uint64_t bucket_mid(unsigned b)
{
    if (b < (1u << LAT_SUB_BITS))
        return b;
    unsigned e = b / LAT_HALF - 1;
    uint64_t m = b % LAT_HALF + LAT_HALF;
    return (m << e) + ((UINT64_C(1) << e) >> 1);
}

void lat_record(latency_hist *h, uint64_t ns)
{
    h->count++;
    h->sum_ns += ns;
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
    h->buckets[bucket_of(ns)]++;
}

void lat_merge(latency_hist *dst, const latency_hist *src)
{
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    if (src->min_ns < dst->min_ns)
        dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
    for (unsigned i = 0; i < LAT_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
}

uint64_t lat_percentile(const latency_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p >= 100.0)
        return h->max_ns;
    uint64_t rank = (uint64_t) (p / 100.0 * (double) h->count + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LAT_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = bucket_mid(i);
            if (v > h->max_ns)
                v = h->max_ns;
            if (v < h->min_ns)
                v = h->min_ns;
            return v;
        }
    }
    return h->max_ns;
}

double lat_avg_ns(const latency_hist *h)
{
    return h->count ? (double) h->sum_ns / (double) h->count : 0.0;
}
