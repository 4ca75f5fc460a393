-- docs/sql-api.md#the-gateway-face-eventodb: namespace_create / _delete / _list /
-- _info / _of_token / _exists and the registry behind them (docs/http-api.md#tokens, #namespace-methods, docs/architecture.md#namespaces).
\set VERBOSITY terse
\pset null <null>
\set z64 '''0000000000000000000000000000000000000000000000000000000000000000'''

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
  d text;
BEGIN
  EXECUTE q INTO r;
  RETURN coalesce(r, '<null>');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ' ' || SQLERRM || coalesce(' | ' || nullif(d, ''), '');
END $$;

-- Times are real; show their shape only.
CREATE FUNCTION pg_temp.mask(j text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(j, '"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', '"<seconds>"', 'g'),
                        '"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"', '"<fraction>"', 'g')
$$;

SELECT count(*) AS registered FROM eventodb.namespaces;

-- A generated token: ns_<base64url(id)>_<64 lowercase hex>; only its
-- SHA-256 is stored.
SELECT eventodb.namespace_create('tenant-a', 'first tenant') AS tok \gset
SELECT :'tok' ~ '^ns_dGVuYW50LWE_[0-9a-f]{64}$' AS token_shape;
SELECT token_hash = encode(sha256(convert_to(:'tok', 'UTF8')), 'hex') AS hash_stored,
       token_hash <> :'tok' AS plaintext_not_stored,
       description, schema_name ~ '^eventodb_ns_[0-9]+$' AS own_schema,
       created_at BETWEEN extract(epoch FROM now())::bigint - 5 AND extract(epoch FROM now())::bigint + 5 AS created_now
FROM eventodb.namespaces WHERE id = 'tenant-a';
SELECT eventodb.namespace_of_token(:'tok');

-- Two tokens never repeat.
SELECT eventodb.namespace_create('tenant-b') <> eventodb.namespace_create('tenant-c') AS distinct_tokens;

-- The schema: Message DB's table, indexes and an own sequence.
SELECT schema_name AS s FROM eventodb.namespaces WHERE id = 'tenant-a' \gset
SELECT attname, format_type(atttypid, atttypmod), attnotnull,
       regexp_replace(pg_get_expr(adbin, adrelid), 'eventodb_ns_\d+', '<schema>') AS def
FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
WHERE attrelid = (quote_ident(:'s') || '.messages')::regclass AND attnum > 0 ORDER BY attnum;
SELECT indexrelid::regclass::text = quote_ident(:'s') || '.' || c.relname AS in_schema, c.relname,
       regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', '') AS def
FROM pg_index JOIN pg_class c ON c.oid = indexrelid
WHERE indrelid = (quote_ident(:'s') || '.messages')::regclass ORDER BY c.relname;
SELECT pg_get_serial_sequence(quote_ident(:'s') || '.messages', 'global_position')
       = quote_ident(:'s') || '.messages_global_position_seq' AS own_sequence;
-- Each namespace schema depends on the extension (DROP EXTENSION CASCADE).
SELECT count(*) AS depends_on_extension FROM pg_depend
WHERE classid = 'pg_namespace'::regclass AND objid = :'s'::regnamespace
  AND refclassid = 'pg_extension'::regclass AND deptype = 'n'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'eventodb');

-- Supplied tokens: must parse (docs/http-api.md#nscreate texts) and name the id.
SELECT pg_temp.try($$SELECT eventodb.namespace_create('given', '', 'ns_Z2l2ZW4_$$ || repeat('ab', 32) || $$')$$);
SELECT eventodb.namespace_of_token('ns_Z2l2ZW4_' || repeat('ab', 32));
SELECT eventodb.namespace_of_token('ns_Z2l2ZW4_' || repeat('AB', 32)) AS hex_case_matters;
SELECT pg_temp.try($$SELECT eventodb.namespace_create('bad', '', 'nope')$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_create('bad', '', '')$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_create('bad', '', 'ns_YmFk_xyz')$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_create('bad', '', 'ns_ZGVmYXVsdA_' || repeat('0', 64))$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_create('bad', '', 'ns_-w_' || repeat('0', 64))$$);
SELECT eventodb.namespace_exists('bad');

-- Ids must be non-empty; existing ids are EV003.
SELECT pg_temp.try($$SELECT eventodb.namespace_create('')$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_create(NULL)$$);
-- Pokes and the deletion notice carry the id in a NOTIFY payload (< 8000
-- bytes), so an id whose JSON form cannot fit is refused up front.
SELECT pg_temp.try($$SELECT eventodb.namespace_create(repeat(E'\x01', 1400))$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_create(repeat('x', 2000)) IS NOT NULL$$) AS long_but_fits;
SELECT eventodb.namespace_delete(repeat('x', 2000));
SELECT pg_temp.try($$SELECT eventodb.namespace_create('tenant-a')$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_create('tenant-a', 'x', 'ns_dGVuYW50LWE_$$ || repeat('0', 64) || $$')$$);
SELECT description FROM eventodb.namespaces WHERE id = 'tenant-a';

-- namespace_of_token: NULL for malformed tokens, unknown namespaces and
-- hash mismatches.
SELECT eventodb.namespace_of_token('garbage') AS malformed,
       eventodb.namespace_of_token('ns_dGVuYW50LWE_' || :z64) AS wrong_hash,
       eventodb.namespace_of_token('ns_bm9wZQ_' || :z64) AS unknown,
       eventodb.namespace_of_token('ns_-w_' || :z64) AS not_utf8,
       eventodb.namespace_of_token(NULL) AS null_token;

-- "default" is the Message DB face: registering it creates no schema.
SELECT eventodb.namespace_create('default', 'Default namespace', 'ns_ZGVmYXVsdA_' || :z64);
SELECT schema_name FROM eventodb.namespaces WHERE id = 'default';
SELECT eventodb.namespace_of_token('ns_ZGVmYXVsdA_' || :z64);
SELECT eventodb.namespace_exists('default'), eventodb.namespace_exists('tenant-a'),
       eventodb.namespace_exists('nope'), eventodb.namespace_exists(NULL);

-- Real message counts.
SELECT eventodb.stream_write('tenant-a', 'account-1', 'Opened', '{}', NULL, NULL, NULL);
SELECT eventodb.stream_write('tenant-a', 'account-1', 'Deposited', '{}', NULL, NULL, NULL);
SELECT eventodb.stream_write('tenant-a', 'account-2', 'Opened', '{}', NULL, NULL, NULL);
SELECT eventodb.stream_write('default', 'account-1', 'Opened', '{}', NULL, NULL, NULL);

-- namespace_info: real messageCount, streamCount and lastActivity.
SELECT pg_temp.mask(eventodb.namespace_info('tenant-a'));
SELECT pg_temp.mask(eventodb.namespace_info('tenant-b'));
SELECT pg_temp.mask(eventodb.namespace_info('default'));
SELECT pg_temp.try($$SELECT eventodb.namespace_info('nope')$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_info('')$$);
-- createdAt is whole seconds.
SELECT (eventodb.namespace_info('tenant-a')::jsonb->>'createdAt') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS whole_seconds;

-- namespace_list: newest first, real counts, never a token.
-- (order among equal seconds is unspecified; the tie-break is the id)
UPDATE eventodb.namespaces SET created_at = 1700000000 + CASE id
  WHEN 'default' THEN 0 WHEN 'tenant-a' THEN 10 WHEN 'tenant-b' THEN 10
  WHEN 'given' THEN 20 ELSE 30 END;
SELECT eventodb.namespace_list();
SELECT position('token' IN eventodb.namespace_list()) AS token_listed;

-- namespace_delete: real count, registry row and schema gone in one
-- transaction, token unusable, id reusable with a fresh schema.
SELECT eventodb.namespace_delete('tenant-a');
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = :'s';
SELECT eventodb.namespace_of_token(:'tok') AS token_after_delete,
       eventodb.namespace_exists('tenant-a') AS exists_after_delete;
SELECT pg_temp.try($$SELECT eventodb.namespace_delete('tenant-a')$$);
SELECT pg_temp.try($$SELECT eventodb.namespace_info('tenant-a')$$);
SELECT pg_temp.try($$SELECT eventodb.stream_version('tenant-a', 'account-1')$$);

BEGIN;
SELECT eventodb.namespace_delete('tenant-b');
ROLLBACK;
SELECT eventodb.namespace_exists('tenant-b') AS survives_rollback,
       eventodb.stream_version('tenant-b', 'x') AS usable;

SELECT eventodb.namespace_create('tenant-a') IS NOT NULL AS recreated;
SELECT schema_name <> :'s' AS fresh_schema FROM eventodb.namespaces WHERE id = 'tenant-a';
SELECT eventodb.stream_write('tenant-a', 'account-1', 'Opened', '{}', NULL, NULL, -1);

-- Schema names skip any that already exist.
SELECT last_value + 1 AS n FROM eventodb.namespace_schema_seq \gset
CREATE SCHEMA eventodb_ns_:n;
SELECT eventodb.namespace_create('squatted') IS NOT NULL AS created;
SELECT schema_name <> 'eventodb_ns_' || :n AS skipped FROM eventodb.namespaces WHERE id = 'squatted';
DROP SCHEMA eventodb_ns_:n;

-- Deleting "default" keeps message_store (the Message DB face) but removes
-- its messages and restarts its positions.
SELECT eventodb.namespace_delete('default');
SELECT count(*) AS message_store_kept FROM pg_namespace WHERE nspname = 'message_store';
SELECT count(*) AS messages FROM message_store.messages;
SELECT pg_temp.try($$SELECT eventodb.stream_write('default', 'account-1', 'Opened', '{}', NULL, NULL, NULL)$$);
SELECT message_store.write_message(gen_random_uuid()::text, 'account-9', 'Opened', '{}');
SELECT global_position FROM message_store.messages;
SELECT eventodb.namespace_create('default', 'Default namespace', 'ns_ZGVmYXVsdA_' || :z64) IS NOT NULL AS reregistered;
SELECT eventodb.stream_write('default', 'account-9', 'Opened', '{}', NULL, NULL, 0);

-- The registry can be edited with plain SQL too; lookups follow at once.
DELETE FROM eventodb.namespaces WHERE id = 'squatted';
SELECT pg_temp.try($$SELECT eventodb.stream_version('squatted', 'x')$$);

-- Clean up for the other tests.
SELECT eventodb.namespace_delete(id) >= 0 AS deleted FROM eventodb.namespaces ORDER BY id;
SET client_min_messages = warning;
DO $$
DECLARE
  s text;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'eventodb\_ns\_%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
END $$;
RESET client_min_messages;
