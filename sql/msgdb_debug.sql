-- docs/sql-api.md#settings-and-debug-notices: debug notices - texts and order, which setting enables
-- which function, and only the exact value 'on' counts.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

-- Off by default.
SELECT write_message('40000000-0000-4000-8000-000000000001', 'dbg-1', 'T', '{"a": 1}');

-- debug_write: acquire_lock and write_message (after the insert).
SET message_store.debug_write = on;
SELECT write_message('40000000-0000-4000-8000-000000000002', 'dbg-1', 'T', '{"b": [1,2], "a": 1}', '{"m": null}', 0);
SELECT write_message('40000000-0000-4000-8000-000000000003', 'dbg-2', 'T', NULL);
SELECT acquire_lock('dbg-1');
SELECT acquire_lock(NULL);
-- A rejected write prints the lock notices only.
SELECT write_message('40000000-0000-4000-8000-000000000004', 'dbg-1', 'T', '{}', NULL, 7);
-- debug_write does not cover the readers.
SELECT count(*) FROM get_stream_messages('dbg-1');
RESET message_store.debug_write;

-- debug_get: the three readers.
SET message_store.debug_get = on;
SELECT global_position FROM get_stream_messages('dbg-1');
SELECT global_position FROM get_stream_messages('dbg-1', NULL, NULL);
SELECT global_position FROM get_category_messages('dbg');
SELECT global_position FROM get_category_messages('dbg', 2, 5, 'wf', 0, 2);
SELECT global_position FROM get_last_stream_message('dbg-1');
SELECT global_position FROM get_last_stream_message('dbg-1', 'T');
-- The notices come before the query runs, so before its errors.
SELECT * FROM get_category_messages('dbg', 1, 10, NULL, 0, 40000);
SELECT * FROM get_stream_messages('dbg-1', 0, -5);
-- Validation errors come first.
SELECT * FROM get_stream_messages('dbg');
-- debug_get does not cover writes.
SELECT write_message('40000000-0000-4000-8000-000000000005', 'dbg-3', 'T', '{}');
RESET message_store.debug_get;

-- debug: everything.
SET message_store.debug = on;
SELECT write_message('40000000-0000-4000-8000-000000000006', 'dbg-3', 'T', '{}', NULL, 0);
SELECT global_position FROM get_last_stream_message('dbg-3');

-- Only exactly 'on'.
SET message_store.debug = 'ON';
SELECT write_message('40000000-0000-4000-8000-000000000007', 'dbg-3', 'T', '{}');
SELECT count(*) FROM get_stream_messages('dbg-3');
SET message_store.debug = 'true';
SELECT count(*) FROM get_stream_messages('dbg-3');
SET message_store.debug_get = 'On';
SELECT count(*) FROM get_stream_messages('dbg-3');
RESET message_store.debug;
RESET message_store.debug_get;
SELECT count(*) FROM get_stream_messages('dbg-3');
