-- Redaction through eventodb.message_redact (docs/lifecycle.md): data and
-- metadata become the marker, id/type/positions/time stay, the reason is
-- logged, the original is in no live row (also not in TOAST), and bad
-- arguments are refused.
\set VERBOSITY terse
\pset null <null>

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE q INTO r;
  RETURN coalesce(r, '<null>');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

SELECT eventodb.namespace_create('lc-red') IS NOT NULL AS created;
SELECT schema_name AS s FROM eventodb.namespaces WHERE id = 'lc-red' \gset
SELECT eventodb.stream_write('lc-red', 'person-1', 'Registered',
  jsonb_build_object('name', 'Ann Example', 'bio', repeat('private ', 20000)),
  '{"correlationStreamName":"signup-7","ip":"10.1.2.3"}', 'c0000000-0000-4000-8000-000000000001', NULL);
SELECT eventodb.stream_write('lc-red', 'person-1', 'Renamed', '{"name":"Ann B"}', NULL, NULL, NULL);
SELECT id, type, position, global_position, time AS t0 FROM :"s".messages WHERE global_position = 1 \gset

SELECT regexp_replace(eventodb.message_redact('lc-red', 1, 'GDPR erasure request #12'),
                      '"redactedAt":"[^"]*"', '"redactedAt":"<t>"');
SELECT id = :'id' AS same_id, type, position, global_position, time = :'t0' AS same_time,
       data->'$redacted'->>'reason' AS data_reason, metadata = data AS metadata_is_marker,
       data->'$redacted' ? 'redactedAt' AS has_time
  FROM :"s".messages WHERE global_position = 1;
SELECT count(*) AS live_rows_with_original FROM :"s".messages
 WHERE data::text LIKE '%Ann Example%' OR data::text LIKE '%private%' OR metadata::text LIKE '%10.1.2.3%';
SELECT global_position, stream_name, position, reason FROM :"s".lifecycle_redactions;
-- The gateway's read renders the marker like any data.
SELECT regexp_replace(eventodb.stream_get('lc-red', 'person-1', 0, NULL, 1),
                      '"redactedAt":"[^"]*"|"[0-9]{4}-[^"]*Z"', '<t>', 'g');
-- A correlation filter no longer matches the redacted message.
SELECT eventodb.category_get('lc-red', 'person', 1, 10, 'signup', NULL, NULL);
-- Redacting again replaces the reason; versions never move.
SELECT eventodb.message_redact('lc-red', 1, 'second') LIKE '%"reason":"second"%' AS again;
SELECT eventodb.stream_version('lc-red', 'person-1');

-- Bad arguments and unknown positions.
SELECT pg_temp.try($$SELECT eventodb.message_redact('lc-red', 999, 'r')$$);
SELECT pg_temp.try($$SELECT eventodb.message_redact('lc-red', 0, 'r')$$);
SELECT pg_temp.try($$SELECT eventodb.message_redact('lc-red', NULL, 'r')$$);
SELECT pg_temp.try($$SELECT eventodb.message_redact('lc-red', 2, '')$$);
SELECT pg_temp.try($$SELECT eventodb.message_redact('lc-red', 2, NULL)$$);
SELECT pg_temp.try(format('SELECT eventodb.message_redact(%L, 2, %L)', 'lc-red', repeat('r', 1001)));
SELECT pg_temp.try($$SELECT eventodb.message_redact('nope', 2, 'r')$$);
-- A failed redaction changed nothing.
SELECT data FROM :"s".messages WHERE global_position = 2;
