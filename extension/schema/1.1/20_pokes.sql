-- Pokes (docs/security.md, "Pokes").
--
-- The private poke channel. Pokes of every
-- namespace but default go to a channel named by a random secret that only
-- roles with access to schema eventodb can read, so a login without it can
-- neither LISTEN to other tenants' namespace and stream names nor NOTIFY
-- forged pokes where the gateway listens for them. The default namespace,
-- Message DB's face, keeps eventodb_poke and its payload (docs/sql-api.md#pokes-and-write-mode).
CREATE TABLE eventodb.poke_channel (
  name text NOT NULL CHECK (name ~ '^eventodb_poke_[0-9a-f]{32}$')
);
INSERT INTO eventodb.poke_channel
SELECT 'eventodb_poke_' || replace(gen_random_uuid()::text, '-', '');
REVOKE ALL ON eventodb.poke_channel FROM PUBLIC;

-- The private channel's name (for the gateway's LISTEN).
CREATE FUNCTION eventodb.poke_channel()
RETURNS text
AS 'MODULE_PATHNAME', 'ev_poke_channel'
LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION eventodb.poke_channel() FROM PUBLIC;

-- poke_barrier for one namespace's pokes (the gateway's all mode): an open
-- transaction holding back another namespace's horizon does not delay it.
CREATE FUNCTION eventodb.poke_barrier(channel text, payload text, ns text)
RETURNS void
AS 'MODULE_PATHNAME', 'ev_poke_barrier_ns'
LANGUAGE C VOLATILE STRICT;
