-- docs/sql-api.md#get_stream_messages, #get_category_messages: a `condition`
-- is spliced into a command laid out as Message DB's, and run as Message DB
-- runs it: the condition ends its line (a "--" in it comments out nothing
-- after it), $3 is the batch size even when it is -1 (then no LIMIT), there
-- is no $7, and every statement a condition smuggles in must return rows.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
SET message_store.sql_condition = on;

SELECT write_message(gen_random_uuid()::text, 'cm-1', 'T', '{}') FROM generate_series(1, 5);

-- A trailing comment keeps ORDER BY and LIMIT (and, in category reads, the
-- commit horizon).
SELECT position FROM get_stream_messages('cm-1', 0, 2, 'true) -- note');
SELECT global_position FROM get_category_messages('cm', 1, 2, NULL, NULL, NULL, 'true) -- note');

-- $3 is the batch size, -1 included.
SELECT count(*) FROM get_stream_messages('cm-1', 0, -1, 'position < $3 OR $3 IS NULL');
SELECT count(*) FROM get_category_messages('cm', 1, -1, NULL, NULL, NULL,
                                           'global_position < $3 OR $3 IS NULL');
SELECT count(*) FROM get_category_messages('cm', 1, 3, NULL, NULL, NULL, 'global_position <= $3');

-- Message DB's parameters stop at $6.
SELECT count(*) FROM get_category_messages('cm', 1, 10, NULL, NULL, NULL, '$7 > 0');
SELECT count(*) FROM get_category_messages('cm', 1, 10, NULL, NULL, NULL, '$6 IS NULL');

-- A statement that returns no rows is refused, and nothing of it runs.
CREATE TABLE public.cond_victim (x int);
INSERT INTO public.cond_victim VALUES (1), (2);
SELECT count(*) FROM get_stream_messages('cm-1', 0, 1000,
  'true); DELETE FROM public.cond_victim; SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time FROM message_store.messages AS messages WHERE (true');
SELECT count(*) FROM get_stream_messages('cm-1', 0, 1000,
  'true); CREATE TABLE public.cond_created (x int); SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time FROM message_store.messages AS messages WHERE (true');
SELECT count(*) AS victims FROM public.cond_victim;
SELECT to_regclass('public.cond_created') AS created;
DROP TABLE public.cond_victim;

RESET message_store.sql_condition;
TRUNCATE message_store.messages RESTART IDENTITY;
