-- get_stream_messages, get_category_messages (plain: no correlation, no
-- consumer group, no condition) and stream_version read by a direct index
-- scan (extension/read_direct.c): every row as the SQL query gives it, the
-- LIMIT's edge values, the transaction's own writes, and the SQL path for
-- callers and tables the scan must not serve.
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

SELECT message_store.write_message('70000000-0000-4000-8000-00000000000' || n, 'direct-' || (n % 3), 'T' || (n % 2),
                     jsonb_build_object('n', n), CASE WHEN n % 4 = 0 THEN NULL ELSE '{"m": 1}'::jsonb END)
FROM generate_series(1, 9) n;
SELECT message_store.write_message('70000000-0000-4000-8000-000000000010', 'direct-' || repeat('x', 2400), 'L' || repeat('t', 3000),
                     jsonb_build_object('big', repeat('y', 5000)), '{}');
SELECT message_store.write_message('70000000-0000-4000-8000-000000000011', 'directx-1', 'T', '{}');
SELECT message_store.write_message('70000000-0000-4000-8000-000000000012', 'direct:a-1', 'T', '{}');

-- The reference: the plain SQL over the table.
CREATE FUNCTION pg_temp.stream_sql(s text, p bigint, b bigint) RETURNS SETOF message_store.message
LANGUAGE sql AS $$
  SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position,
         data::varchar, metadata::varchar, time
  FROM message_store.messages WHERE stream_name = s AND position >= p
  ORDER BY position LIMIT CASE WHEN b = -1 THEN NULL ELSE b END $$;
CREATE FUNCTION pg_temp.category_sql(c text, p bigint, b bigint) RETURNS SETOF message_store.message
LANGUAGE sql AS $$
  SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position,
         data::varchar, metadata::varchar, time
  FROM message_store.messages WHERE message_store.category(stream_name) = c AND global_position >= p
  ORDER BY global_position LIMIT CASE WHEN b = -1 THEN NULL ELSE b END $$;
CREATE FUNCTION pg_temp.same_stream(s text, p bigint, b bigint) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN (SELECT array_agg(m ORDER BY m.position) FROM message_store.get_stream_messages(s, p, b) m)
                   IS NOT DISTINCT FROM
                   (SELECT array_agg(m ORDER BY m.position) FROM pg_temp.stream_sql(s, p, b) m)
         THEN 'same' ELSE 'DIFFERENT' END
    || ' ' || (SELECT count(*) FROM message_store.get_stream_messages(s, p, b)) $$;
CREATE FUNCTION pg_temp.same_category(c text, p bigint, b bigint) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN (SELECT array_agg(m ORDER BY m.global_position) FROM message_store.get_category_messages(c, p, b) m)
                   IS NOT DISTINCT FROM
                   (SELECT array_agg(m ORDER BY m.global_position) FROM pg_temp.category_sql(c, p, b) m)
         THEN 'same' ELSE 'DIFFERENT' END
    || ' ' || (SELECT count(*) FROM message_store.get_category_messages(c, p, b)) $$;

SELECT left(s, 12) AS s, p, b, pg_temp.same_stream(s, p, b)
FROM (VALUES ('direct-0', 0, 1000), ('direct-1', 1, 2), ('direct-1', 0, -1), ('direct-2', 0, 0),
             ('direct-2', 3, 10), ('direct-9', 0, 10), ('direct-' || repeat('x', 2400), 0, 10)) v(s, p, b);
SELECT c, p, b, pg_temp.same_category(c, p, b)
FROM (VALUES ('direct', 1, 1000), ('direct', 4, 3), ('direct', 1, -1), ('direct', 1, 0),
             ('direct', 99, 10), ('directx', 0, 10), ('direct:a', 1, 10), ('nothing', 1, 10)) v(c, p, b);
SELECT length(stream_name), length(type), length(data), position
FROM message_store.get_stream_messages('direct-' || repeat('x', 2400));
SELECT id, stream_name, type, position, global_position, data, metadata
FROM message_store.get_category_messages('direct', 2, 4);
SELECT count(*) FROM message_store.get_category_messages(NULL);
SELECT count(*) FROM message_store.get_stream_messages('direct-1', NULL, NULL);
SELECT count(*) FROM message_store.get_category_messages('direct', NULL, NULL);
SELECT s, message_store.stream_version(s)
FROM (VALUES ('direct-0'), ('direct-1'), ('direct-9'), ('directx-1')) v(s);
-- The LIMIT's own error below -1.
SELECT count(*) FROM message_store.get_stream_messages('direct-1', 0, -2);
SELECT count(*) FROM message_store.get_category_messages('direct', 1, -2);

-- The transaction's own writes: versions, the stream and its category.
BEGIN;
SELECT message_store.write_message('70000000-0000-4000-8000-000000000013', 'direct-1', 'T', '{}', NULL, 2);
SELECT message_store.write_message('70000000-0000-4000-8000-000000000014', 'direct-1', 'T', '{}', NULL, 3);
SELECT message_store.stream_version('direct-1');
SELECT id, position FROM message_store.get_stream_messages('direct-1', 2);
SELECT id, position FROM message_store.get_category_messages('direct', 10);
ROLLBACK;
SELECT message_store.stream_version('direct-1');
SELECT message_store.write_message('70000000-0000-4000-8000-000000000015', 'direct-1', 'T', '{}', NULL, 3);

-- No SELECT on the table: the SQL path reports it.
CREATE ROLE read_direct_reader;
GRANT USAGE ON SCHEMA message_store TO read_direct_reader;
SET ROLE read_direct_reader;
SELECT count(*) FROM message_store.get_stream_messages('direct-1');
SELECT count(*) FROM message_store.get_category_messages('direct');
SELECT message_store.stream_version('direct-1');
RESET ROLE;

-- Row-level security: the SQL path applies the policy.
GRANT SELECT ON message_store.messages TO read_direct_reader;
ALTER TABLE message_store.messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_direct_only_t0 ON message_store.messages FOR SELECT TO read_direct_reader
  USING (type = 'T0');
SET ROLE read_direct_reader;
SELECT id, type, position FROM message_store.get_stream_messages('direct-1');
SELECT id, type, global_position FROM message_store.get_category_messages('direct');
SELECT message_store.stream_version('direct-1');
RESET ROLE;
DROP POLICY read_direct_only_t0 ON message_store.messages;
ALTER TABLE message_store.messages DISABLE ROW LEVEL SECURITY;
SET ROLE read_direct_reader;
SELECT count(*) FROM message_store.get_stream_messages('direct-1');
SELECT count(*) FROM message_store.get_category_messages('direct');
RESET ROLE;
REVOKE ALL ON message_store.messages FROM read_direct_reader;
REVOKE ALL ON SCHEMA message_store FROM read_direct_reader;
DROP ROLE read_direct_reader;

-- A category index that is not the one the scan knows (here: partial) is
-- left to the SQL; the backend notices the change within the session.
SELECT count(*) FROM message_store.get_category_messages('direct');
BEGIN;
DROP INDEX message_store.messages_category;
CREATE INDEX messages_category ON message_store.messages (
  message_store.category(stream_name), global_position,
  message_store.category(metadata->>'correlationStreamName')) WHERE position < 2;
SELECT pg_temp.same_category('direct', 1, 1000);
ROLLBACK;
SELECT pg_temp.same_category('direct', 1, 1000);
TRUNCATE message_store.messages RESTART IDENTITY;
