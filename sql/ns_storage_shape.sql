-- A namespace's table is message_store.messages as the scripts define it
-- (generated from them, extension/ns_storage_ddl.awk): the same columns,
-- defaults, constraints and indexes, but for the schema and its own
-- global-position sequence.
SELECT eventodb.namespace_create('shape') IS NOT NULL AS created;
SELECT quote_ident(schema_name) || '.messages' AS t FROM eventodb.namespaces WHERE id = 'shape' \gset

CREATE FUNCTION pg_temp.shape(t regclass) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT format('column %s %s %s %s', attnum, attname, format_type(atttypid, atttypmod), attnotnull) || ' ' ||
         coalesce(regexp_replace(pg_get_expr(adbin, adrelid), '^nextval\(.*\)$', 'nextval(<own>)'), '')
  FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
  WHERE attrelid = t AND attnum > 0 AND NOT attisdropped
  UNION ALL
  SELECT 'index ' || c.relname || ' ' || regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', '')
  FROM pg_index JOIN pg_class c ON c.oid = indexrelid WHERE indrelid = t
  UNION ALL
  SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = t
$$;

SELECT count(*) AS lines FROM pg_temp.shape('message_store.messages');
(SELECT * FROM pg_temp.shape('message_store.messages') EXCEPT SELECT * FROM pg_temp.shape(:'t'))
UNION ALL
(SELECT * FROM pg_temp.shape(:'t') EXCEPT SELECT * FROM pg_temp.shape('message_store.messages'));
SELECT pg_get_serial_sequence(:'t', 'global_position') <>
       pg_get_serial_sequence('message_store.messages', 'global_position') AS own_sequence;

SELECT eventodb.namespace_delete('shape') >= 0 AS deleted;
