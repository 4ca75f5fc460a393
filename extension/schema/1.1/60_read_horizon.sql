
-- Reads from hot standbys (docs/scale-out.md#reads-from-standbys).
--
-- The commit horizon lives in the primary's shared memory, which a standby
-- cannot see. The poke worker copies each namespace's horizon here, in a
-- transaction of its own, so it reaches standbys through WAL: when a mark
-- commits, every position below it has committed or aborted earlier in WAL,
-- so a standby snapshot that sees the mark sees all of them. A category
-- read on a standby returns only positions below its namespace's mark.
-- Standby readers look the mark up by the primary key directly (no ACL
-- check), so no role needs a grant; only the worker writes it.
CREATE TABLE eventodb.read_horizons (
  schema_name name PRIMARY KEY,
  safe_below bigint NOT NULL,
  published_at timestamptz NOT NULL
);
REVOKE ALL ON eventodb.read_horizons FROM PUBLIC;

-- The bound a category read of a namespace would use if it started now
-- (on a standby its mark, on the primary its horizon): the gateway asks a
-- standby for it to keep read-your-writes for category reads.
CREATE FUNCTION eventodb.read_horizon(ns text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_read_horizon'
LANGUAGE C VOLATILE STRICT;
