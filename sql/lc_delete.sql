-- Stream delete through eventodb.stream_delete (docs/lifecycle.md): soft
-- (messages removed, positions continue) and hard (a tombstone refusing
-- every later write, of both faces and of the group commit), stream_info,
-- and what the existing calls answer for a deleted stream.
\set VERBOSITY terse
\pset null <null>

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE q INTO r;
  RETURN coalesce(r, '<null>');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

SELECT eventodb.namespace_create('lc-del') IS NOT NULL AS created;
SELECT eventodb.stream_write('lc-del', 'acct-' || (i % 2), 'T', format('{"i":%s}', i)::jsonb, NULL, NULL, NULL)
  FROM generate_series(0, 5) AS i;

-- Soft: the stream's messages go, the version stays, the next write continues.
SELECT eventodb.stream_delete('lc-del', 'acct-0');
SELECT eventodb.stream_get('lc-del', 'acct-0', 0, NULL, 100);
SELECT eventodb.stream_last('lc-del', 'acct-0', NULL);
SELECT eventodb.stream_version('lc-del', 'acct-0');
SELECT regexp_replace(eventodb.ns_streams('lc-del', NULL, NULL, 10), '"lastActivity":"[^"]*"', '"lastActivity":"<t>"');
SELECT eventodb.category_get('lc-del', 'acct', 1, 10, NULL, NULL, NULL) NOT LIKE '%acct-0%' AS category_skips_it;
SELECT regexp_replace(eventodb.stream_info('lc-del', 'acct-0'), '"deletedAt":"[^"]*"', '"deletedAt":"<t>"');
SELECT pg_temp.try($$SELECT eventodb.stream_write('lc-del', 'acct-0', 'T', '{}', NULL, NULL, -1)$$);
SELECT eventodb.stream_write('lc-del', 'acct-0', 'T', '{}', NULL, NULL, 2);
SELECT eventodb.stream_info('lc-del', 'acct-0');
-- A delete in a rolled-back transaction leaves everything as it was.
BEGIN;
SELECT eventodb.stream_delete('lc-del', 'acct-1', true);
ROLLBACK;
SELECT eventodb.stream_version('lc-del', 'acct-1'), eventodb.stream_info('lc-del', 'acct-1');

-- Hard: a tombstone. Reads keep their shapes; writes fail with EV020.
SELECT eventodb.stream_delete('lc-del', 'acct-1', true);
SELECT eventodb.stream_get('lc-del', 'acct-1', 0, NULL, 100);
SELECT eventodb.stream_version('lc-del', 'acct-1');
SELECT regexp_replace(eventodb.stream_info('lc-del', 'acct-1'), '"deletedAt":"[^"]*"', '"deletedAt":"<t>"');
SELECT pg_temp.try($$SELECT eventodb.stream_write('lc-del', 'acct-1', 'T', '{}', NULL, NULL, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_write('lc-del', 'acct-1', 'T', '{}', NULL, NULL, 2)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_delete('lc-del', 'acct-1')$$);
SELECT pg_temp.try($$SELECT eventodb.stream_set_retention('lc-del', 'acct-1', NULL, 1, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_retention('lc-del', 'acct-1')$$);

-- The Message DB face: the default namespace's tombstones hold there too.
SELECT CASE WHEN eventodb.namespace_exists('default') THEN true
            ELSE eventodb.namespace_create('default') IS NOT NULL END AS registered;
SELECT message_store.write_message('b0000000-0000-4000-8000-00000000000' || i, 'lcmdb-1', 'T', '{}')
  FROM generate_series(1, 2) AS i;
SELECT eventodb.stream_delete('default', 'lcmdb-1', true);
SELECT pg_temp.try($$SELECT message_store.write_message(gen_random_uuid()::text, 'lcmdb-1', 'T', '{}')$$);
SELECT message_store.stream_version('lcmdb-1');
SELECT count(*) FROM message_store.get_stream_messages('lcmdb-1');
-- Soft in the default namespace: Message DB's writer continues the positions.
SELECT message_store.write_message('b0000000-0000-4000-8000-000000000009', 'lcmdb-2', 'T', '{}');
SELECT eventodb.stream_delete('default', 'lcmdb-2');
SELECT message_store.write_message('b0000000-0000-4000-8000-00000000000a', 'lcmdb-2', 'T', '{}');
SELECT position FROM message_store.get_stream_messages('lcmdb-2');

-- Bad arguments.
SELECT pg_temp.try($$SELECT eventodb.stream_delete('lc-del', '')$$);
SELECT pg_temp.try($$SELECT eventodb.stream_delete('lc-del', NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_delete('nope', 'acct-9')$$);
SELECT pg_temp.try($$SELECT eventodb.stream_delete(NULL, 'acct-9')$$);
SELECT pg_temp.try($$SELECT eventodb.stream_info('lc-del', NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_info('nope', 'acct-9')$$);
-- A namespace that never used the lifecycle has no state tables.
SELECT eventodb.namespace_create('lc-none') IS NOT NULL AS created;
SELECT eventodb.stream_info('lc-none', 'x-1');
SELECT count(*) AS lifecycle_tables FROM pg_tables t JOIN eventodb.namespaces n ON n.schema_name = t.schemaname
 WHERE n.id = 'lc-none' AND t.tablename LIKE 'lifecycle%';

-- Message DB's role has no rights on eventodb_default, where the default
-- namespace's lifecycle state lives: its writes and versions work as
-- before, and a tombstone still refuses it.
SET ROLE message_store;
SELECT message_store.write_message('b0000000-0000-4000-8000-00000000000b', 'lcmdb-3', 'T', '{}');
SELECT message_store.write_message('b0000000-0000-4000-8000-00000000000c', 'lcmdb-2', 'T', '{}', NULL, 1);
SELECT message_store.stream_version('lcmdb-1');
SELECT message_store.write_message('b0000000-0000-4000-8000-00000000000d', 'lcmdb-1', 'T', '{}');
RESET ROLE;
