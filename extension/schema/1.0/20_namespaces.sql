-- The namespace registry of the gateway face (DESIGN.md §2, SQL-API.md §11.1).
-- One row per namespace: its token's SHA-256 (lowercase hex) and the schema
-- holding its messages. "default" maps to message_store; every other
-- namespace gets eventodb_ns_<n>, numbered by the sequence below, never
-- derived from the id.
CREATE TABLE eventodb.namespaces (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  schema_name text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  created_at bigint NOT NULL
);

CREATE SEQUENCE eventodb.namespace_schema_seq;

-- Registered namespaces are user data: pg_dump must dump them.
SELECT pg_catalog.pg_extension_config_dump('eventodb.namespaces', '');
SELECT pg_catalog.pg_extension_config_dump('eventodb.namespace_schema_seq', '');

-- Any change of the registry, by our functions or by plain SQL, drops every
-- backend's cached namespace lookups (extension/namespace.c).
CREATE FUNCTION eventodb.namespaces_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ev_namespaces_changed'
LANGUAGE C;

CREATE TRIGGER namespaces_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON eventodb.namespaces
  FOR EACH STATEMENT EXECUTE FUNCTION eventodb.namespaces_changed();

-- The token parser shared with the gateway (PROTOCOL.md §4.2): the decoded
-- namespace bytes, or SQLSTATE 22023 with the exact error text.
CREATE FUNCTION eventodb.token_namespace(token text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ev_token_namespace'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
