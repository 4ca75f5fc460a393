-- get_last_stream_message reads by a direct index scan (extension/read_direct.c):
-- every column as the SQL query would give it, long (compressed) values,
-- the transaction's own writes, and the SQL path for callers the scan must
-- not serve (no SELECT on the table, row-level security).
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

SELECT message_store.write_message('60000000-0000-4000-8000-000000000001', 'last-1', 'A', '{"a": 1, "b": [1, 2]}', '{"m": "x"}');
SELECT message_store.write_message('60000000-0000-4000-8000-000000000002', 'last-1', 'B', '{}');
SELECT message_store.write_message('60000000-0000-4000-8000-000000000003', 'last-1', 'A', '{"z": null}');
SELECT message_store.write_message('60000000-0000-4000-8000-000000000004', 'last-2', 'A', NULL, NULL);
SELECT message_store.write_message('60000000-0000-4000-8000-000000000005', 'last-' || repeat('x', 2400), 'A' || repeat('t', 3000),
                     jsonb_build_object('big', repeat('y', 5000)), '{}');
SELECT message_store.write_message('60000000-0000-4000-8000-000000000006', 'last-1x', 'A', '{}');

CREATE FUNCTION pg_temp.same(s text, t text) RETURNS boolean LANGUAGE sql AS $$
  SELECT NOT EXISTS (
    (SELECT * FROM message_store.get_last_stream_message(s, t)
     EXCEPT ALL
     SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position,
            data::varchar, metadata::varchar, time
     FROM (SELECT * FROM message_store.messages
           WHERE stream_name = s AND (t IS NULL OR type = t)
           ORDER BY position DESC LIMIT 1) m)
    UNION ALL
    (SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position,
            data::varchar, metadata::varchar, time
     FROM (SELECT * FROM message_store.messages
           WHERE stream_name = s AND (t IS NULL OR type = t)
           ORDER BY position DESC LIMIT 1) m
     EXCEPT ALL
     SELECT * FROM message_store.get_last_stream_message(s, t))) $$;

SELECT s, t, pg_temp.same(s, t) AS same,
       (SELECT count(*) FROM message_store.get_last_stream_message(s, t)) AS rows
FROM (VALUES ('last-1', NULL), ('last-1', 'A'), ('last-1', 'B'), ('last-1', 'C'), ('last-1', 'a'),
             ('last-2', NULL), ('last-1x', NULL), ('last', NULL), ('last-9', NULL)) v(s, t);
SELECT pg_temp.same('last-' || repeat('x', 2400), NULL) AS long_same,
       pg_temp.same('last-' || repeat('x', 2400), 'A' || repeat('t', 3000)) AS long_typed_same;
SELECT length(stream_name), length(type), length(data), position
FROM message_store.get_last_stream_message('last-' || repeat('x', 2400));
SELECT id, position, data, metadata FROM message_store.get_last_stream_message('last-1');
SELECT id, position, data, metadata FROM message_store.get_last_stream_message('last-2');
SELECT count(*) FROM message_store.get_last_stream_message(NULL);
SELECT count(*) FROM message_store.get_last_stream_message(NULL, 'A');

-- The transaction's own writes, also of this very statement's predecessor.
BEGIN;
SELECT message_store.write_message('60000000-0000-4000-8000-000000000007', 'last-1', 'C', '{}');
SELECT id, type, position FROM message_store.get_last_stream_message('last-1');
SELECT id, type, position FROM message_store.get_last_stream_message('last-1', 'A');
ROLLBACK;
SELECT id, type, position FROM message_store.get_last_stream_message('last-1');

-- No SELECT on the table: the SQL path reports it.
CREATE ROLE last_direct_reader;
GRANT USAGE ON SCHEMA message_store TO last_direct_reader;
SET ROLE last_direct_reader;
SELECT count(*) FROM message_store.get_last_stream_message('last-1');
RESET ROLE;

-- Row-level security: the SQL path applies the policy.
GRANT SELECT ON message_store.messages TO last_direct_reader;
ALTER TABLE message_store.messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY last_direct_only_b ON message_store.messages FOR SELECT TO last_direct_reader
  USING (type = 'B');
SET ROLE last_direct_reader;
SELECT id, type, position FROM message_store.get_last_stream_message('last-1');
RESET ROLE;
DROP POLICY last_direct_only_b ON message_store.messages;
ALTER TABLE message_store.messages DISABLE ROW LEVEL SECURITY;
SET ROLE last_direct_reader;
SELECT id, type, position FROM message_store.get_last_stream_message('last-1');
RESET ROLE;
REVOKE ALL ON message_store.messages FROM last_direct_reader;
REVOKE ALL ON SCHEMA message_store FROM last_direct_reader;
DROP ROLE last_direct_reader;
TRUNCATE message_store.messages RESTART IDENTITY;
