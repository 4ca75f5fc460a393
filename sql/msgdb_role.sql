-- docs/sql-api.md#search-path, #table-row-type-role: role message_store and its privileges. With the default
-- search path ("$user", public) the role's unqualified calls resolve to
-- schema message_store.
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

SELECT rolname, rolcanlogin, rolsuper, rolpassword IS NULL AS no_password
FROM pg_authid WHERE rolname = 'message_store';
-- It owns nothing in the schema.
SELECT count(*) AS owned
FROM pg_class WHERE relnamespace = 'message_store'::regnamespace
  AND relowner = 'message_store'::regrole;

SELECT has_schema_privilege('message_store', 'message_store', 'USAGE') AS schema_usage,
       has_schema_privilege('message_store', 'message_store', 'CREATE') AS schema_create;
SELECT p AS privilege, has_table_privilege('message_store', 'message_store.messages', p)
FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p;
SELECT has_sequence_privilege('message_store', 'message_store.messages_global_position_seq', 'USAGE') AS seq_usage,
       has_sequence_privilege('message_store', 'message_store.messages_global_position_seq', 'SELECT') AS seq_select,
       has_sequence_privilege('message_store', 'message_store.messages_global_position_seq', 'UPDATE') AS seq_update;
SELECT p.oid::regprocedure AS function,
       has_function_privilege('message_store', p.oid, 'EXECUTE') AS execute
FROM pg_proc p
WHERE p.pronamespace = 'message_store'::regnamespace OR p.proname = 'gen_random_uuid'
ORDER BY p.oid::regprocedure::text;
SELECT c.relname AS view, has_table_privilege('message_store', c.oid, 'SELECT') AS select
FROM pg_class c
WHERE c.relnamespace = 'message_store'::regnamespace AND c.relkind = 'v'
ORDER BY 1;
-- Explicit grants to the role (not just PUBLIC defaults).
SELECT p.proname
FROM pg_proc p, aclexplode(p.proacl) a
WHERE p.pronamespace = 'message_store'::regnamespace
  AND a.grantee = 'message_store'::regrole AND a.privilege_type = 'EXECUTE'
ORDER BY 1;

-- Working as the role, default search path, unqualified calls.
SET ROLE message_store;
SHOW search_path;
SELECT current_schemas(false);
SELECT write_message('50000000-0000-4000-8000-000000000001', 'role-1', 'T', '{"a": 1}');
SELECT write_message('50000000-0000-4000-8000-000000000002', 'role-1', 'T', '{"a": 2}', NULL, 0);
SELECT stream_name, position, data FROM get_stream_messages('role-1');
SELECT stream_name, position FROM get_category_messages('role', 1, 10, NULL, 0, 1);
SELECT stream_name, position FROM get_last_stream_message('role-1');
SELECT stream_version('role-1'), category('role-1'), id('role-1'), cardinal_id('role-1'),
       is_category('role'), hash_64('role'), message_store_version();
BEGIN;
SELECT acquire_lock('role-1');
COMMIT;
SELECT stream_name, message_count, percent FROM stream_summary;
SELECT count(*) FROM messages;
INSERT INTO messages (stream_name, position, type) VALUES ('role-2', 0, 'T');
SELECT stream_name, position FROM messages ORDER BY global_position;
-- No UPDATE or DELETE.
UPDATE messages SET type = 'X';
DELETE FROM messages;
RESET ROLE;
