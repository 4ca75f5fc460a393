-- The gateway's entry points (README "SQL API for the gateway"): PROTOCOL.md
-- §6 semantics for one namespace, the response JSON rendered in C.
-- None is STRICT: NULL arguments have defined meanings.

CREATE FUNCTION eventodb.stream_write(
  ns text, stream_name text, type text, data jsonb, metadata jsonb,
  id text, expected_version bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_write'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.stream_get(
  ns text, stream_name text, "position" bigint, global_position bigint,
  batch_size bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_get'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.stream_last(ns text, stream_name text, type text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_last'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.stream_version(ns text, stream_name text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_stream_version'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.category_get(
  ns text, category text, "position" bigint, batch_size bigint,
  correlation text, member bigint, size bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_category_get'
LANGUAGE C VOLATILE;

-- Consumer-group membership as category_get filters by it (SQL-API.md §9.2).
CREATE FUNCTION eventodb.in_consumer_group(stream_name text, member bigint, size bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ev_in_consumer_group'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION eventodb.ns_streams(ns text, prefix text, cursor text, lim int)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_ns_streams'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.ns_categories(ns text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_ns_categories'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.namespace_create(
  id text, description text DEFAULT '', token text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_namespace_create'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.namespace_delete(id text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_namespace_delete'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.namespace_list()
RETURNS text
AS 'MODULE_PATHNAME', 'ev_namespace_list'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.namespace_info(id text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_namespace_info'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.namespace_of_token(token text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_namespace_of_token'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION eventodb.namespace_exists(id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ev_namespace_exists'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.import_batch(ns text, records text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_import_batch'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.import_clear(ns text)
RETURNS void
AS 'MODULE_PATHNAME', 'ev_import_clear'
LANGUAGE C VOLATILE;

-- The gateway's group commit: several stream_write calls in one transaction,
-- one row per item in order (result, or sqlstate + message + detail); the
-- argument's layout is common/write_batch.h.
CREATE FUNCTION eventodb.stream_write_batch(items bytea,
  OUT result text, OUT sqlstate text, OUT message text, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ev_stream_write_batch'
LANGUAGE C VOLATILE STRICT;
