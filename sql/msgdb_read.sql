-- docs/sql-api.md#table-row-type-role, #the-message-db-face-message_store: the readers - row type and text forms, filters,
-- order, batch sizes, NULL-argument defaults.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

SELECT write_message('20000000-0000-4000-8000-00000000000' || n, s, t, d::jsonb, m::jsonb)
FROM (VALUES
  (1, 'read-1', 'A', '{"n": 1}', NULL),
  (2, 'read-2', 'A', '{"n": 2}', '{"correlationStreamName": "x-1"}'),
  (3, 'read-1', 'B', '{"n": 3, "b": [1,2], "a": 1.0}', 'null'),
  (4, 'other-1', 'A', '{}', NULL),
  (5, 'read-1', 'A', '1e21', NULL),
  (6, 'read', 'C', '[]', NULL),
  (7, 'read-1', 'B', '"s"', '{}')
) AS v(n, s, t, d, m)
ORDER BY n;

-- Row type: all eight columns, varchar text forms of uuid/jsonb.
SELECT pg_typeof(m) FROM get_stream_messages('read-1', 0, 1) AS m;
SELECT id, stream_name, type, position, global_position, data, metadata,
       pg_typeof(id) AS id_type, pg_typeof(data) AS data_type, pg_typeof(time) AS time_type
FROM get_stream_messages('read-1');

-- get_stream_messages: position >= $2, ascending, batch limit.
SELECT position, global_position FROM get_stream_messages('read-1', 2);
SELECT position, global_position FROM get_stream_messages('read-1', 1, 2);
SELECT position, global_position FROM get_stream_messages('read-1', -5, -1);
SELECT position FROM get_stream_messages('read-1', 0, 0);
SELECT position FROM get_stream_messages('read-1', 99);
SELECT position FROM get_stream_messages('read-9');
SELECT position FROM get_stream_messages(stream_name => 'read-1', batch_size => 1);
-- NULL position -> 0, NULL batch size -> 1000.
SELECT position FROM get_stream_messages('read-1', NULL, NULL);
-- Called in the select list too.
SELECT (get_stream_messages('read-2')).stream_name;

-- get_category_messages: category(stream_name) = $1, global_position >= $2.
SELECT stream_name, position, global_position FROM get_category_messages('read');
SELECT stream_name, global_position FROM get_category_messages('read', 3);
SELECT stream_name, global_position FROM get_category_messages('read', 2, 2);
SELECT stream_name, global_position FROM get_category_messages('read', 0, -1);
SELECT stream_name, global_position FROM get_category_messages('read', 1, 0);
-- NULL position -> 1, NULL batch size -> 1000.
SELECT stream_name, global_position FROM get_category_messages('read', NULL, NULL);
SELECT count(*) FROM get_category_messages('rea');
-- Category '' selects the stream '' and streams starting with '-'.
BEGIN;
SELECT write_message(gen_random_uuid()::varchar, s, 'T', '{}')
FROM unnest(ARRAY['-x', '', '-', 'x-']) AS s;
SELECT stream_name FROM get_category_messages('');
ROLLBACK;
SELECT count(*) FROM get_category_messages('Read');

-- get_last_stream_message: highest position, optionally of one type; no
-- name validation.
SELECT stream_name, type, position FROM get_last_stream_message('read-1');
SELECT stream_name, type, position FROM get_last_stream_message('read-1', 'A');
SELECT stream_name, type, position FROM get_last_stream_message('read-1', 'a');
SELECT stream_name, type, position FROM get_last_stream_message('read-1', NULL);
SELECT stream_name, type, position FROM get_last_stream_message('read');
SELECT count(*) FROM get_last_stream_message(NULL);
SELECT count(*) FROM get_last_stream_message('read-9');

-- stream_version: max(position), NULL when empty or NULL.
SELECT stream_version('read-1'), stream_version('read'), stream_version('read-9'),
       stream_version(NULL);

-- Reads see writes of the same transaction (a fresh snapshot per call).
BEGIN;
SELECT write_message('20000000-0000-4000-8000-000000000008', 'read-1', 'C', '{}');
SELECT position FROM get_last_stream_message('read-1');
SELECT count(*) FROM get_category_messages('read');
ROLLBACK;
