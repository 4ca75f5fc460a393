/*
 * Statistics of each namespace in shared memory, in the spirit of
 * pg_stat_*: writes, conflicts, reads, messages written and imported, the
 * last global position, pokes sent and their lag. Bumped with atomic
 * increments on the write and read paths (no lock); read by the views of
 * extension/schema/1.1/30_stats.sql and reset by eventodb.stat_reset().
 *
 * Needs the library in shared_preload_libraries; without it every call
 * here does nothing and the views are empty.
 */
#ifndef EVENTODB_STATS_H
#define EVENTODB_STATS_H

#include "postgres.h"

#include "datatype/timestamp.h"

void		stats_shmem_request(void);
void		stats_shmem_startup(void);

/* A message written by a write function at global position gpos. */
void		stats_write(Oid nsp, int64 gpos);
/* A write refused for its expected version, in the namespace of schema. */
void		stats_conflict(const char *schema);
/* One read call that returned rows messages. */
void		stats_read(const char *schema, uint64 rows);
/* An import batch of n messages, the highest at max_gpos. */
void		stats_import(const char *schema, uint64 n, int64 max_gpos);
/* The poke worker sent n pokes of nsp up to gpos; lag_us for the newest. */
void		stats_poked(Oid nsp, uint64 n, int64 gpos, int64 lag_us);

#endif
