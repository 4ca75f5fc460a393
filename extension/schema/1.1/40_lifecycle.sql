-- Stream lifecycle (docs/lifecycle.md): delete, retention and redaction.
-- The state lives in tables of the namespace's schema (eventodb_default for
-- the default namespace), made by the namespace's first lifecycle call
-- (extension/lifecycle_storage.c); removed messages leave the messages
-- table, so the existing readers need no change. None is STRICT: NULL
-- arguments are refused with their own messages (SQLSTATE 22023).

CREATE FUNCTION eventodb.stream_delete(ns text, stream_name text, hard boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_delete'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.stream_info(ns text, stream_name text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_info'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.stream_set_retention(ns text, stream_name text,
  max_age bigint DEFAULT NULL, max_count bigint DEFAULT NULL,
  truncate_before bigint DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_set_retention'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.stream_retention(ns text, stream_name text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_stream_retention'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.category_set_retention(ns text, category text,
  max_age bigint DEFAULT NULL, max_count bigint DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_category_set_retention'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.category_retention(ns text, category text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_category_retention'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.message_redact(ns text, global_position bigint, reason text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_message_redact'
LANGUAGE C VOLATILE;

-- One bounded retention pass over a namespace (what the retention worker
-- runs); the number of messages removed.
CREATE FUNCTION eventodb.retention_run(ns text, max_rows bigint DEFAULT 1000)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_retention_run'
LANGUAGE C VOLATILE;
