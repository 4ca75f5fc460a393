-- docs/sql-api.md#settings-and-debug-notices: message_store.sql_condition - deactivated only when never
-- set (NULL) or exactly 'off' - and how the condition is evaluated.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

SELECT write_message('30000000-0000-4000-8000-00000000000' || n, 'cond-' || (n % 2), 'T',
                     jsonb_build_object('n', n, 'x', CASE WHEN n > 2 THEN 'y' END))
FROM generate_series(1, 5) AS n ORDER BY n;

-- Never set: deactivated.
SELECT current_setting('message_store.sql_condition', true) IS NULL AS never_set;
SELECT * FROM get_stream_messages('cond-1', condition => 'true');
SELECT * FROM get_category_messages('cond', condition => 'true');

-- Values that activate it: anything but NULL and exactly 'off'.
SET message_store.sql_condition = on;
SELECT global_position FROM get_stream_messages('cond-1', condition => 'global_position > 1');
SET message_store.sql_condition = 'true';
SELECT global_position FROM get_stream_messages('cond-1', condition => 'global_position > 1');
SET message_store.sql_condition = 'yes';
SELECT global_position FROM get_stream_messages('cond-1', condition => 'global_position > 1');
SET message_store.sql_condition = 'false';
SELECT global_position FROM get_stream_messages('cond-1', condition => 'global_position > 1');
SET message_store.sql_condition = 'OFF';
SELECT current_setting('message_store.sql_condition');
SELECT global_position FROM get_stream_messages('cond-1', condition => 'global_position > 1');
SET message_store.sql_condition = '';
SELECT global_position FROM get_stream_messages('cond-1', condition => 'global_position > 1');

-- Exactly 'off' deactivates; unquoted OFF is lower-cased by the parser.
SET message_store.sql_condition = OFF;
SELECT current_setting('message_store.sql_condition');
SELECT * FROM get_stream_messages('cond-1', condition => 'true');
SET message_store.sql_condition = 'off';
SELECT * FROM get_category_messages('cond', condition => 'true');
-- A NULL condition needs no activation.
SELECT count(*) FROM get_stream_messages('cond-1', condition => NULL);

-- Pitfall: after SET and RESET the value reads as '' - still activated.
SET message_store.sql_condition = on;
RESET message_store.sql_condition;
SELECT current_setting('message_store.sql_condition', true) = '' AS reads_empty;
SELECT global_position FROM get_stream_messages('cond-1', condition => 'global_position > 1');

SET message_store.sql_condition = on;
-- The condition sees the table as `messages` with native column types
-- (jsonb operators work) and is appended as AND (<condition>).
SELECT global_position FROM get_stream_messages('cond-1', 0, 1000, 'messages.data->>''x'' = ''y''');
SELECT global_position FROM get_category_messages('cond', 1, 1000, NULL, NULL, NULL, 'data->>''n'' IN (''2'', ''5'')');
SELECT global_position FROM get_category_messages('cond', 1, 1000, NULL, NULL, NULL, 'false OR true');
SELECT global_position FROM get_stream_messages('cond-1', 0, 1000, 'messages.time <= now() AT TIME ZONE ''utc''');
-- Batch size and position still apply; the group filter composes with it.
SELECT global_position FROM get_category_messages('cond', 2, 2, NULL, NULL, NULL, 'position >= 0');
SELECT global_position FROM get_category_messages('cond', 1, -1, NULL, 0, 1, 'type = ''T''');
-- Unqualified names in the condition resolve through the caller's path.
CREATE FUNCTION public.cond_even(n jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS $$ SELECT (n->>'n')::int % 2 = 0 $$;
SELECT global_position FROM get_category_messages('cond', condition => 'cond_even(data)');
SET search_path = pg_catalog;
SELECT global_position FROM message_store.get_category_messages('cond', condition => 'cond_even(data)');
SELECT global_position FROM message_store.get_category_messages('cond', condition => 'public.cond_even(messages.data)');
SET search_path = message_store, public;
DROP FUNCTION public.cond_even(jsonb);
-- A broken condition is reported by the parser.
SELECT * FROM get_stream_messages('cond-1', condition => 'no_such_column = 1');
\echo :LAST_ERROR_SQLSTATE
RESET message_store.sql_condition;
