-- Statistics of the store, in the spirit of pg_stat_* (docs/operations.md):
-- counters kept in shared memory by the write, read, import and poke paths
-- with atomic increments, since the server started or eventodb.stat_reset().
-- Empty unless the library is in shared_preload_libraries.

CREATE FUNCTION eventodb.stat_namespaces_raw(
  OUT schema_oid oid, OUT writes bigint, OUT conflicts bigint, OUT messages_imported bigint,
  OUT reads bigint, OUT messages_read bigint, OUT last_global_position bigint,
  OUT pokes_sent bigint, OUT poke_lag_us bigint, OUT last_poked_position bigint,
  OUT last_poke_at timestamptz, OUT writers_in_flight integer,
  OUT oldest_writer_since timestamptz, OUT stats_reset timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ev_stat_namespaces'
LANGUAGE C VOLATILE STRICT;

CREATE VIEW eventodb.stat_namespaces AS
SELECT CASE WHEN n.nspname = 'message_store' THEN 'default' ELSE r.id END AS namespace,
       n.nspname::text AS schema_name,
       s.writes,
       s.conflicts,
       s.writes + s.messages_imported AS messages_written,
       s.messages_imported,
       s.reads,
       s.messages_read,
       NULLIF(s.last_global_position, 0) AS last_global_position,
       s.pokes_sent,
       NULLIF(s.last_poked_position, 0) AS last_poked_position,
       s.poke_lag_us * interval '1 microsecond' AS poke_lag,
       s.last_poke_at,
       s.writers_in_flight,
       clock_timestamp() - s.oldest_writer_since AS horizon_age,
       s.stats_reset
FROM eventodb.stat_namespaces_raw() s
JOIN pg_catalog.pg_namespace n ON n.oid = s.schema_oid
LEFT JOIN eventodb.namespaces r ON r.schema_name = n.nspname
WHERE n.nspname = 'message_store' OR r.id IS NOT NULL;

CREATE FUNCTION eventodb.stat_poke_worker_raw(
  OUT state text, OUT queued_runs bigint, OUT started_at timestamptz,
  OUT namespaces_untracked bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ev_stat_poke_worker'
LANGUAGE C VOLATILE STRICT;

CREATE VIEW eventodb.stat_poke_worker AS
SELECT * FROM eventodb.stat_poke_worker_raw();

CREATE FUNCTION eventodb.stat_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'ev_stat_reset'
LANGUAGE C VOLATILE;

-- Resetting is for the owner and whom it grants it to (as pg_stat_reset).
REVOKE EXECUTE ON FUNCTION eventodb.stat_reset() FROM PUBLIC;
