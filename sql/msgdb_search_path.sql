-- docs/sql-api.md#search-path: unqualified calls work with message_store on the search
-- path; the functions reference their own objects qualified, so qualified
-- calls work from any search path, and same-named objects elsewhere on the
-- path are never picked up.
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

-- Only message_store on the path.
SET search_path = message_store;
SELECT write_message('70000000-0000-4000-8000-000000000001', 'path-1', 'T', '{}');
SELECT stream_name, position FROM get_stream_messages('path-1');
SELECT stream_name, position FROM get_category_messages('path');
SELECT stream_name FROM get_last_stream_message('path-1');
SELECT stream_version('path-1'), category('path-1'), hash_64('path'), is_category('path');
SELECT count(*) FROM stream_summary;

-- message_store not on the path: qualified calls.
SET search_path = public;
SELECT message_store.write_message('70000000-0000-4000-8000-000000000002', 'path-1', 'T', '{}', NULL, 0);
SELECT stream_name, position FROM message_store.get_stream_messages('path-1');
SELECT stream_name, position FROM message_store.get_category_messages('path', 1, 10, NULL, 0, 2);
SELECT message_store.stream_version('path-1');
BEGIN;
SELECT message_store.acquire_lock('path-1') = message_store.hash_64('path') AS lock_key;
COMMIT;

-- Not even pg_catalog explicitly, and a decoy `messages` table in public.
CREATE TABLE public.messages (stream_name text, position bigint);
INSERT INTO public.messages VALUES ('path-1', 99);
CREATE FUNCTION public.category(varchar) RETURNS varchar
  LANGUAGE sql IMMUTABLE AS $$ SELECT 'decoy'::varchar $$;
SET search_path = public, pg_catalog;
SELECT message_store.write_message('70000000-0000-4000-8000-000000000003', 'path-1', 'T', '{}', NULL, 1);
SELECT message_store.stream_version('path-1');
SELECT stream_name, position FROM message_store.get_stream_messages('path-1');
SELECT stream_name, position FROM message_store.get_category_messages('path');
SELECT count(*) FROM message_store.get_category_messages('decoy');
SET search_path = '';
SELECT message_store.write_message('70000000-0000-4000-8000-000000000004', 'path-1', 'T', '{}', NULL, 2);
SELECT stream_name, position FROM message_store.get_last_stream_message('path-1');
DROP TABLE public.messages;
DROP FUNCTION public.category(varchar);

-- Switching paths back and forth keeps working (saved plans are qualified).
SET search_path = message_store, public;
SELECT stream_version('path-1');
SET search_path = public;
SELECT message_store.stream_version('path-1');
-- Unqualified without message_store on the path fails, as in Message DB.
SELECT write_message('70000000-0000-4000-8000-000000000005', 'path-1', 'T', '{}');
RESET search_path;
