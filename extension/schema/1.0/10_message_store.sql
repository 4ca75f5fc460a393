-- The Message DB 1.3.0 interface (SQL-API.md §1-§8), implemented in C.
-- Names, parameter names, defaults, types and volatility are the interface.

-- §3: physical column order is part of the interface.
CREATE TABLE message_store.messages (
  global_position bigserial NOT NULL,
  position bigint NOT NULL,
  time timestamp without time zone DEFAULT (now() AT TIME ZONE 'utc') NOT NULL,
  stream_name text NOT NULL,
  type text NOT NULL,
  data jsonb,
  metadata jsonb,
  id uuid NOT NULL DEFAULT gen_random_uuid()
);

ALTER TABLE message_store.messages
  ADD PRIMARY KEY (global_position) NOT DEFERRABLE INITIALLY IMMEDIATE;

-- Messages are user data: pg_dump must dump them although the table belongs
-- to the extension.
SELECT pg_catalog.pg_extension_config_dump('message_store.messages', '');
SELECT pg_catalog.pg_extension_config_dump('message_store.messages_global_position_seq', '');

-- §4: the read functions' row type (varchar, not uuid/jsonb).
CREATE TYPE message_store.message AS (
  id varchar,
  stream_name varchar,
  type varchar,
  position bigint,
  global_position bigint,
  data varchar,
  metadata varchar,
  time timestamp
);

-- §5.6-§5.9, §5.11: IMMUTABLE (category() is used in an index expression).
CREATE FUNCTION message_store.hash_64(value varchar)
RETURNS bigint
AS 'MODULE_PATHNAME', 'msgdb_hash_64'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION message_store.category(stream_name varchar)
RETURNS varchar
AS 'MODULE_PATHNAME', 'msgdb_category'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION message_store.id(stream_name varchar)
RETURNS varchar
AS 'MODULE_PATHNAME', 'msgdb_id'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION message_store.cardinal_id(stream_name varchar)
RETURNS varchar
AS 'MODULE_PATHNAME', 'msgdb_cardinal_id'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION message_store.is_category(stream_name varchar)
RETURNS boolean
AS 'MODULE_PATHNAME', 'msgdb_is_category'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- §3: index names are quoted in constraint errors.
CREATE UNIQUE INDEX messages_id ON message_store.messages (
  id
);

CREATE UNIQUE INDEX messages_stream ON message_store.messages (
  stream_name,
  position
);

CREATE INDEX messages_category ON message_store.messages (
  message_store.category(stream_name),
  global_position,
  message_store.category(metadata->>'correlationStreamName')
);

-- §5: none STRICT; everything but the string functions VOLATILE.
CREATE FUNCTION message_store.acquire_lock(stream_name varchar)
RETURNS bigint
AS 'MODULE_PATHNAME', 'msgdb_acquire_lock'
LANGUAGE C VOLATILE;

CREATE FUNCTION message_store.stream_version(stream_name varchar)
RETURNS bigint
AS 'MODULE_PATHNAME', 'msgdb_stream_version'
LANGUAGE C VOLATILE;

CREATE FUNCTION message_store.write_message(
  id varchar,
  stream_name varchar,
  "type" varchar,
  data jsonb,
  metadata jsonb DEFAULT NULL,
  expected_version bigint DEFAULT NULL
)
RETURNS bigint
AS 'MODULE_PATHNAME', 'msgdb_write_message'
LANGUAGE C VOLATILE;

CREATE FUNCTION message_store.get_stream_messages(
  stream_name varchar,
  "position" bigint DEFAULT 0,
  batch_size bigint DEFAULT 1000,
  condition varchar DEFAULT NULL
)
RETURNS SETOF message_store.message
AS 'MODULE_PATHNAME', 'msgdb_get_stream_messages'
LANGUAGE C VOLATILE ROWS 1000;

CREATE FUNCTION message_store.get_category_messages(
  category varchar,
  "position" bigint DEFAULT 1,
  batch_size bigint DEFAULT 1000,
  correlation varchar DEFAULT NULL,
  consumer_group_member bigint DEFAULT NULL,
  consumer_group_size bigint DEFAULT NULL,
  condition varchar DEFAULT NULL
)
RETURNS SETOF message_store.message
AS 'MODULE_PATHNAME', 'msgdb_get_category_messages'
LANGUAGE C VOLATILE ROWS 1000;

CREATE FUNCTION message_store.get_last_stream_message(
  stream_name varchar,
  "type" varchar DEFAULT NULL
)
RETURNS SETOF message_store.message
AS 'MODULE_PATHNAME', 'msgdb_get_last_stream_message'
LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION message_store.message_store_version()
RETURNS varchar
AS 'MODULE_PATHNAME', 'msgdb_message_store_version'
LANGUAGE C VOLATILE;

-- §7: report views; percent of all messages, two decimals.
CREATE VIEW message_store.stream_summary AS
  WITH
    stream_count AS (
      SELECT stream_name, COUNT(id) AS message_count
      FROM message_store.messages
      GROUP BY stream_name
    ),
    total_count AS (
      SELECT COUNT(id)::decimal AS total_count
      FROM message_store.messages
    )
  SELECT
    stream_name,
    message_count,
    ROUND((message_count / total_count)::decimal * 100, 2) AS percent
  FROM stream_count, total_count
  ORDER BY stream_name;

CREATE VIEW message_store.type_summary AS
  WITH
    type_count AS (
      SELECT type, COUNT(id) AS message_count
      FROM message_store.messages
      GROUP BY type
    ),
    total_count AS (
      SELECT COUNT(id)::decimal AS total_count
      FROM message_store.messages
    )
  SELECT
    type,
    message_count,
    ROUND((message_count / total_count)::decimal * 100, 2) AS percent
  FROM type_count, total_count
  ORDER BY type;

CREATE VIEW message_store.stream_type_summary AS
  WITH
    type_count AS (
      SELECT stream_name, type, COUNT(id) AS message_count
      FROM message_store.messages
      GROUP BY stream_name, type
    ),
    total_count AS (
      SELECT COUNT(id)::decimal AS total_count
      FROM message_store.messages
    )
  SELECT
    stream_name,
    type,
    message_count,
    ROUND((message_count / total_count)::decimal * 100, 2) AS percent
  FROM type_count, total_count
  ORDER BY stream_name, type;

CREATE VIEW message_store.type_stream_summary AS
  WITH
    type_count AS (
      SELECT type, stream_name, COUNT(id) AS message_count
      FROM message_store.messages
      GROUP BY type, stream_name
    ),
    total_count AS (
      SELECT COUNT(id)::decimal AS total_count
      FROM message_store.messages
    )
  SELECT
    type,
    stream_name,
    message_count,
    ROUND((message_count / total_count)::decimal * 100, 2) AS percent
  FROM type_count, total_count
  ORDER BY type, stream_name;

CREATE VIEW message_store.category_type_summary AS
  WITH
    type_count AS (
      SELECT message_store.category(stream_name) AS category, type,
             COUNT(id) AS message_count
      FROM message_store.messages
      GROUP BY category, type
    ),
    total_count AS (
      SELECT COUNT(id)::decimal AS total_count
      FROM message_store.messages
    )
  SELECT
    category,
    type,
    message_count,
    ROUND((message_count / total_count)::decimal * 100, 2) AS percent
  FROM type_count, total_count
  ORDER BY category, type;

CREATE VIEW message_store.type_category_summary AS
  WITH
    type_count AS (
      SELECT type, message_store.category(stream_name) AS category,
             COUNT(id) AS message_count
      FROM message_store.messages
      GROUP BY type, category
    ),
    total_count AS (
      SELECT COUNT(id)::decimal AS total_count
      FROM message_store.messages
    )
  SELECT
    type,
    category,
    message_count,
    ROUND((message_count / total_count)::decimal * 100, 2) AS percent
  FROM type_count, total_count
  ORDER BY type, category;

-- §8: Message DB tooling connects as role message_store. Roles are cluster
-- wide and outlive the extension, so an existing one is reused.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'message_store') THEN
    CREATE ROLE message_store WITH LOGIN;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA message_store TO message_store;
GRANT SELECT, INSERT ON message_store.messages TO message_store;
GRANT USAGE, SELECT ON SEQUENCE message_store.messages_global_position_seq TO message_store;

GRANT EXECUTE ON FUNCTION gen_random_uuid() TO message_store;
GRANT EXECUTE ON FUNCTION message_store.acquire_lock(varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.cardinal_id(varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.category(varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.get_category_messages(varchar, bigint, bigint, varchar, bigint, bigint, varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.get_last_stream_message(varchar, varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.get_stream_messages(varchar, bigint, bigint, varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.hash_64(varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.id(varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.is_category(varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.message_store_version() TO message_store;
GRANT EXECUTE ON FUNCTION message_store.stream_version(varchar) TO message_store;
GRANT EXECUTE ON FUNCTION message_store.write_message(varchar, varchar, varchar, jsonb, jsonb, bigint) TO message_store;

GRANT SELECT ON message_store.category_type_summary TO message_store;
GRANT SELECT ON message_store.stream_summary TO message_store;
GRANT SELECT ON message_store.stream_type_summary TO message_store;
GRANT SELECT ON message_store.type_category_summary TO message_store;
GRANT SELECT ON message_store.type_stream_summary TO message_store;
GRANT SELECT ON message_store.type_summary TO message_store;
