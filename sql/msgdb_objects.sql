-- docs/sql-api.md#the-message-db-face-message_store, #table-row-type-role: the objects of schema message_store, with the
-- exact column order, defaults, index names and definitions, row type and
-- function signatures (parameter names, defaults, volatility, not STRICT).
\d message_store.messages
\d message_store.messages_global_position_seq
SELECT pg_get_serial_sequence('message_store.messages', 'global_position');
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid)
FROM pg_index
WHERE indrelid = 'message_store.messages'::regclass
ORDER BY indexrelid::regclass::text;
\d message_store.message

\x on
SELECT p.proname,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, l.lanname
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'message_store'::regnamespace
ORDER BY p.proname;
\x off

SELECT c.relname, c.relkind
FROM pg_class c
WHERE c.relnamespace = 'message_store'::regnamespace
ORDER BY c.relname;

SELECT message_store.message_store_version();
