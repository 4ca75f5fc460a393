-- docs/http-api.md#streamwrite through eventodb.stream_write: id spellings and UUIDv7
-- generation, positions, expected versions and the EV001 conflict, errors,
-- one call returning both positions.
\set VERBOSITY terse
\pset null <null>

CREATE FUNCTION pg_temp.try(q text, with_detail bool DEFAULT true) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
  d text;
BEGIN
  EXECUTE q INTO r;
  RETURN coalesce(r, '<null>');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  IF NOT with_detail THEN
    d := NULL;
  END IF;
  RETURN SQLSTATE || ' ' || SQLERRM || coalesce(' | ' || nullif(d, ''), '');
END $$;

CREATE FUNCTION pg_temp.w(stream text, id text, expected bigint) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.try(format('SELECT eventodb.stream_write(%L, %L, %L, %L, NULL, %L, %L)',
                            'gw-write', stream, 'T', '{}', id, expected))
$$;

SELECT eventodb.namespace_create('gw-write') IS NOT NULL AS created;
SELECT schema_name AS s FROM eventodb.namespaces WHERE id = 'gw-write' \gset

-- Positions are dense per stream from 0; global positions from 1 per
-- namespace; both come back from the one call.
SELECT pg_temp.w('account-1', NULL, NULL);
SELECT pg_temp.w('account-1', NULL, NULL);
SELECT pg_temp.w('account-2', NULL, NULL);
SELECT pg_temp.w('account-1', NULL, NULL);
-- Names without '-' are ordinary streams.
SELECT pg_temp.w('account', NULL, NULL);

-- expectedVersion: the current version, -1 for an empty stream; anything
-- else never matches.
SELECT pg_temp.w('account-1', NULL, 2);
SELECT pg_temp.w('account-1', NULL, 2);
SELECT pg_temp.w('account-3', NULL, -1);
SELECT pg_temp.w('account-3', NULL, -1);
SELECT pg_temp.w('account-4', NULL, 0);
SELECT pg_temp.w('account-4', NULL, -2);
SELECT pg_temp.w('account-4', NULL, 9223372036854775807);
-- The conflict's SQLSTATE, message and JSON detail, in full.
\set VERBOSITY default
SELECT eventodb.stream_write('gw-write', 'account-1', 'T', '{}', NULL, NULL, 7);
\set VERBOSITY terse

-- Ids: canonical in any case, in braces, or 32 bare hex digits; stored
-- canonical lowercase.
SELECT pg_temp.w('ids-1', 'A11E9022-E741-4450-BF9C-C4CC5DDB6EA4', NULL);
SELECT pg_temp.w('ids-1', '{a11e9022-e741-4450-bf9c-c4cc5ddb6ea5}', NULL);
SELECT pg_temp.w('ids-1', 'a11e9022e7414450bf9cc4cc5ddb6ea6', NULL);
SELECT pg_temp.w('ids-1', '00000000-0000-0000-0000-000000000000', NULL);
SELECT pg_temp.w('ids-1', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', NULL);
SELECT id, position FROM :s.messages WHERE stream_name = 'ids-1' ORDER BY position;
-- Anything else is 22P02 "invalid UUID format: <id>".
SELECT pg_temp.w('ids-2', 'urn:uuid:a11e9022-e741-4450-bf9c-c4cc5ddb6ea4', NULL);
SELECT pg_temp.w('ids-2', 'a11e-9022-e741-4450-bf9c-c4cc-5ddb-6ea4', NULL);
SELECT pg_temp.w('ids-2', '{a11e9022e7414450bf9cc4cc5ddb6ea4}', NULL);
SELECT pg_temp.w('ids-2', '{a11e9022-e741-4450-bf9c-c4cc5ddb6ea4', NULL);
SELECT pg_temp.w('ids-2', '(a11e9022-e741-4450-bf9c-c4cc5ddb6ea4)', NULL);
SELECT pg_temp.w('ids-2', 'a11e9022-e741-4450-bf9c-c4cc5ddb6eag', NULL);
SELECT pg_temp.w('ids-2', ' a11e9022-e741-4450-bf9c-c4cc5ddb6ea4', NULL);
SELECT pg_temp.w('ids-2', 'not-a-uuid', NULL);
SELECT count(*) AS nothing_written FROM :s.messages WHERE stream_name = 'ids-2';
-- An id already used in the namespace: the unique violation (not EV001).
SELECT pg_temp.w('ids-3', 'a11e9022-e741-4450-bf9c-c4cc5ddb6ea4', NULL);

-- No id (NULL or ''): a UUIDv7 - version 7, RFC 4122 variant, its
-- timestamp the current Unix milliseconds.
SELECT pg_temp.w('gen-1', NULL, NULL);
SELECT pg_temp.w('gen-1', '', NULL);
SELECT position,
       substr(id::text, 15, 1) AS version,
       substr(id::text, 20, 1) IN ('8', '9', 'a', 'b') AS variant,
       abs(('x' || lpad(replace(substr(id::text, 1, 13), '-', ''), 16, '0'))::bit(64)::bigint
           - (extract(epoch FROM clock_timestamp()) * 1000)::bigint) < 60000 AS unix_ms
FROM :s.messages WHERE stream_name = 'gen-1' ORDER BY position;
SELECT count(eventodb.stream_write('gw-write', 'gen-2', 'T', '{}', NULL, NULL, NULL)) AS written
FROM generate_series(1, 100);
SELECT count(DISTINCT id) AS unique_ids, bool_and(substr(id::text, 15, 1) = '7') AS all_v7
FROM :s.messages WHERE stream_name = 'gen-2';

-- Stored values: stream and type verbatim, data and metadata as JSON,
-- metadata NULL when absent, time = transaction start in UTC.
SET TIME ZONE 'America/New_York';
BEGIN;
SELECT eventodb.stream_write('gw-write', 'Ünïcode stream-x+y', 'Typé', '{"a":[1,2]}', '{"correlationStreamName":"wf-1"}', NULL, NULL);
SELECT eventodb.stream_write('gw-write', 'Ünïcode stream-x+y', 'Typé', '{}', NULL, NULL, NULL);
SELECT stream_name, type, data, metadata,
       time = (transaction_timestamp() AT TIME ZONE 'UTC') AS utc_transaction_time
FROM :s.messages WHERE stream_name = 'Ünïcode stream-x+y' ORDER BY position;
COMMIT;
RESET TIME ZONE;

-- NULL stream or type: the table's not-null constraints.
SELECT pg_temp.try($$SELECT eventodb.stream_write('gw-write', NULL, 'T', '{}', NULL, NULL, NULL)$$, false);
SELECT pg_temp.try($$SELECT eventodb.stream_write('gw-write', 'x-1', NULL, '{}', NULL, NULL, NULL)$$, false);
-- A NULL stream with an expected version other than -1 is a conflict first.
SELECT pg_temp.try($$SELECT eventodb.stream_write('gw-write', NULL, 'T', '{}', NULL, NULL, 0)$$);

-- Unknown namespace: EV002, nothing written anywhere.
SELECT pg_temp.try($$SELECT eventodb.stream_write('nope', 'account-1', 'T', '{}', NULL, NULL, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_write(NULL, 'account-1', 'T', '{}', NULL, NULL, NULL)$$);

-- A failed write consumes nothing visible: the stream stays dense.
SELECT pg_temp.w('account-1', NULL, NULL);
SELECT string_agg(position::text, ',' ORDER BY position) AS positions
FROM :s.messages WHERE stream_name = 'account-1';

-- The "default" namespace writes into message_store, visible to the
-- Message DB face.
SELECT eventodb.namespace_create('default') IS NOT NULL AS created;
TRUNCATE message_store.messages RESTART IDENTITY;
SELECT eventodb.stream_write('default', 'face-1', 'T', '{"x":1}', NULL, '10000000-0000-4000-8000-000000000001', -1);
SELECT id, stream_name, position, global_position, data FROM message_store.get_stream_messages('face-1');
SELECT message_store.write_message('10000000-0000-4000-8000-000000000002', 'face-1', 'T', '{}', NULL, 0);
SELECT eventodb.stream_write('default', 'face-1', 'T', '{}', NULL, NULL, 1);

SELECT eventodb.namespace_delete('gw-write') > 0 AS deleted, eventodb.namespace_delete('default') AS default_deleted;
