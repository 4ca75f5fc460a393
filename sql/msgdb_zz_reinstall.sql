-- The extension drops and re-creates cleanly in a session that already used
-- it (saved plans of the dropped objects must be re-prepared), keeping the
-- role; a quick write/read on the fresh store.
SET search_path = message_store, public;
SELECT write_message(gen_random_uuid()::varchar, 'reinstall-1', 'T', '{}') >= 0 AS wrote;
SELECT count(*) > 0 AS read FROM get_category_messages('reinstall');

SET client_min_messages = warning;
DROP EXTENSION eventodb CASCADE;
RESET client_min_messages;
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname IN ('message_store', 'eventodb');
SELECT count(*) AS role_kept FROM pg_roles WHERE rolname = 'message_store';

CREATE EXTENSION eventodb;
SET search_path = message_store, public;
SELECT write_message('80000000-0000-4000-8000-000000000001', 'reinstall-1', 'T', '{"a": 1}');
SELECT write_message('80000000-0000-4000-8000-000000000002', 'reinstall-1', 'T', '{"a": 2}', NULL, 0);
SELECT id, stream_name, position, global_position, data FROM get_stream_messages('reinstall-1');
SELECT stream_name, global_position FROM get_category_messages('reinstall');
SELECT stream_name, position FROM get_last_stream_message('reinstall-1');
SELECT stream_version('reinstall-1');
SELECT has_table_privilege('message_store', 'message_store.messages', 'INSERT') AS granted;
