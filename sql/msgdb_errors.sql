-- docs/sql-api.md#errors-sqlstates: every error vector with its SQLSTATE and exact text.
-- VERBOSITY terse prints the message alone; the code is echoed after it.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

SELECT write_message('00000000-0000-4000-8000-000000000001', 'errs-1', 'T', '{}');

-- Expected version
SELECT write_message('00000000-0000-4000-8000-000000000002', 'errs-1', 'T', '{}', NULL, 5);
\echo :LAST_ERROR_SQLSTATE
SELECT write_message('00000000-0000-4000-8000-000000000002', 'errs-new', 'T', '{}', NULL, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT write_message('00000000-0000-4000-8000-000000000002', 'errs-new2', 'T', '{}', NULL, -1);
-- The version check precedes the id check.
SELECT write_message('bogus', 'errs-1', 'T', '{}', NULL, 99);
\echo :LAST_ERROR_SQLSTATE

-- Ids: PostgreSQL's uuid input, after the version check.
SELECT write_message('not-a-uuid', 'errs-2', 'T', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT write_message('urn:uuid:a11e9022-e741-4450-bf9c-c4cc5ddb6ea4', 'errs-2', 'T', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT write_message('{A11E9022-E741-4450-BF9C-C4CC5DDB6EA4}', 'errs-2', 'T', '{}');
SELECT write_message('a11e9022e7414450bf9cc4cc5ddb6ea5', 'errs-2', 'T', '{}');
SELECT write_message('A11E-9022-E741-4450-BF9C-C4CC-5DDB-6EA6', 'errs-2', 'T', '{}');
SELECT id, position FROM messages WHERE stream_name = 'errs-2' ORDER BY position;
-- Constraint errors surface unchanged.
SELECT write_message('a11e9022-e741-4450-bf9c-c4cc5ddb6ea4', 'errs-2', 'T', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT write_message(NULL, 'errs-2', 'T', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT write_message('00000000-0000-4000-8000-000000000003', NULL, 'T', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT write_message('00000000-0000-4000-8000-000000000003', NULL, 'T', '{}', NULL, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT write_message('00000000-0000-4000-8000-000000000003', NULL, 'T', '{}', NULL, -1);
\echo :LAST_ERROR_SQLSTATE
SELECT write_message('00000000-0000-4000-8000-000000000003', 'errs-2', NULL, '{}');
\echo :LAST_ERROR_SQLSTATE
-- Not validated: NULL data, category-like and empty stream names.
SELECT write_message('00000000-0000-4000-8000-000000000004', 'errs-3', 'T', NULL);
SELECT write_message('00000000-0000-4000-8000-000000000005', 'errs', 'T', '{}');
SELECT write_message('00000000-0000-4000-8000-000000000006', '', 'T', '{}');
-- Failed inserts consumed global positions (gaps).
SELECT global_position, stream_name, position FROM messages ORDER BY global_position;

-- get_stream_messages
SELECT * FROM get_stream_messages('errs');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_stream_messages('');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_stream_messages(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_stream_messages('errs-1', 0, -2);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM get_stream_messages('errs-1', 0, 0);
SELECT stream_name, position FROM get_stream_messages('errs-1', NULL, NULL);
-- Never set in this session (a RESET would create the placeholder as '',
-- which activates it: see msgdb_settings).
SELECT * FROM get_stream_messages('errs-1', 0, 1000, 'true');
\echo :LAST_ERROR_SQLSTATE

-- get_category_messages: checks in order
SELECT * FROM get_category_messages('errs-1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('a-1', 1, 10, 'x-1', 5, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, 'wf-1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, 'wf-1', 5, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, NULL, 0, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, NULL, NULL, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, NULL, 0, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, NULL, -1, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, NULL, -1, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, NULL, 2, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, NULL, 0, 40000);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('errs', 1, 1000, NULL, 0, 2, 'true');
\echo :LAST_ERROR_SQLSTATE
-- The size fits a smallint up to 32767.
SELECT count(*) FROM get_category_messages('errs', 1, 1000, NULL, 32766, 32767);
SELECT * FROM get_category_messages('errs', 1, -2);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM get_category_messages(NULL);

-- Others
SELECT stream_version('nope-1');
SELECT count(*) FROM get_last_stream_message('errs-1', 'Nope');
SELECT stream_name, position FROM get_last_stream_message('errs');
SELECT message_store_version();
