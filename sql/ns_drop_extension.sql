-- Namespace schemas belong to the extension's lifetime: a plain DROP
-- EXTENSION refuses while namespaces exist, DROP EXTENSION ... CASCADE
-- removes every namespace schema, and a re-created extension starts with
-- an empty registry in a session that had cached the old namespaces.
\set VERBOSITY terse

SELECT eventodb.namespace_create(id) IS NOT NULL AS created
FROM unnest(ARRAY['drop-a', 'drop-b', 'default']) AS id;
SELECT eventodb.stream_write(id, 'account-1', 'T', '{}', NULL, NULL, NULL)
FROM unnest(ARRAY['drop-a', 'drop-b']) AS id;
SELECT count(*) AS namespace_schemas FROM pg_namespace WHERE nspname LIKE 'eventodb\_ns\_%';

DROP EXTENSION eventodb;
SELECT count(*) AS namespace_schemas FROM pg_namespace WHERE nspname LIKE 'eventodb\_ns\_%';

SET client_min_messages = warning;
DROP EXTENSION eventodb CASCADE;
RESET client_min_messages;
SELECT count(*) AS namespace_schemas FROM pg_namespace WHERE nspname LIKE 'eventodb\_ns\_%';
SELECT count(*) AS extension_schemas FROM pg_namespace WHERE nspname IN ('eventodb', 'message_store');

CREATE EXTENSION eventodb;
SELECT count(*) AS registered FROM eventodb.namespaces;
SELECT eventodb.namespace_exists('drop-a') AS cached_namespace_gone;
SELECT eventodb.stream_version('drop-a', 'account-1');
-- The same names work again from scratch (the schema counter restarts).
SELECT eventodb.namespace_create('drop-a') IS NOT NULL AS created;
SELECT schema_name FROM eventodb.namespaces WHERE id = 'drop-a';
SELECT eventodb.stream_write('drop-a', 'account-1', 'T', '{}', NULL, NULL, -1);
SELECT eventodb.namespace_delete('drop-a');
