-- Deferred pokes and the write mode (extension/horizon.h, poke_queue.h).

-- NOTIFY channel with payload once every poke of writes committed before the
-- call has been sent (the gateway's all-mode barrier).
CREATE FUNCTION eventodb.poke_barrier(channel text, payload text)
RETURNS void
AS 'MODULE_PATHNAME', 'ev_poke_barrier'
LANGUAGE C VOLATILE STRICT;

-- Waits until the pokes of writes committed before the call are sent;
-- false when that takes longer than timeout_ms.
CREATE FUNCTION eventodb.poke_sync(timeout_ms integer DEFAULT 10000)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ev_poke_sync'
LANGUAGE C VOLATILE STRICT;

-- 'horizon' (preloaded, eventodb.write_mode = horizon) or 'category_lock'.
CREATE FUNCTION eventodb.write_mode()
RETURNS text
AS 'MODULE_PATHNAME', 'ev_write_mode'
LANGUAGE C STABLE;
