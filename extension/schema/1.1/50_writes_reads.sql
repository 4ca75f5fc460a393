-- Write guarantees and richer reads (docs/writes-and-reads.md).

-- stream_write with idempotence: a repeat of a stored message (same id,
-- stream, type and data) answers the stored positions.
CREATE FUNCTION eventodb.stream_write_idempotent(
  ns text, stream_name text, type text, data jsonb, metadata jsonb,
  id text, expected_version bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_write_idempotent'
LANGUAGE C VOLATILE;

-- Several messages to several streams of one namespace, all or nothing.
-- messages: [{"streamName","type","data","metadata"?,"id"?,"expectedVersion"?}, ...]
CREATE FUNCTION eventodb.stream_write_many(
  ns text, messages jsonb, idempotent boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_write_many'
LANGUAGE C VOLATILE;

-- A stream from its end: position <= "position" (NULL: the last), newest first.
CREATE FUNCTION eventodb.stream_get_backward(
  ns text, stream_name text, "position" bigint DEFAULT NULL, batch_size bigint DEFAULT 1000)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_get_backward'
LANGUAGE C VOLATILE;

-- The global position of the first message of a category ('': every
-- category) written at or after a time; NULL when there is none yet.
CREATE FUNCTION eventodb.category_position_at(ns text, category text, at timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_category_position_at'
LANGUAGE C VOLATILE;

-- category_get keeping only the listed message types (NULL or '{}': all).
CREATE FUNCTION eventodb.category_get_types(
  ns text, category text, "position" bigint, batch_size bigint,
  correlation text, member bigint, size bigint, types text[])
RETURNS text
AS 'MODULE_PATHNAME', 'ev_category_get_types'
LANGUAGE C VOLATILE;

-- The opt-in index (category, type, global_position) that serves
-- category_get_types; every write of the namespace then maintains it.
CREATE FUNCTION eventodb.type_index_create(ns text)
RETURNS void
AS 'MODULE_PATHNAME', 'ev_type_index_create'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION eventodb.type_index_drop(ns text)
RETURNS void
AS 'MODULE_PATHNAME', 'ev_type_index_drop'
LANGUAGE C VOLATILE STRICT;
