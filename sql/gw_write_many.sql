-- docs/writes-and-reads.md through eventodb.stream_write_idempotent and
-- eventodb.stream_write_many: replays answer the stored positions, another
-- message under the id is EV030, a multi-stream write is all or nothing,
-- expected versions count the call's earlier messages, bad input is 22023.
\set VERBOSITY terse
\pset null <null>

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

CREATE FUNCTION pg_temp.wi(stream text, type text, data jsonb, id text, expected bigint) RETURNS text
LANGUAGE sql AS $$
  SELECT pg_temp.try(format('SELECT eventodb.stream_write_idempotent(%L, %L, %L, %L, NULL, %L, %L)',
                            'gw-many', stream, type, data, id, expected))
$$;

CREATE FUNCTION pg_temp.wm(messages text, idempotent bool DEFAULT false) RETURNS text
LANGUAGE sql AS $$
  SELECT pg_temp.try(format('SELECT eventodb.stream_write_many(%L, %L, %L)',
                            'gw-many', messages, idempotent))
$$;

SELECT eventodb.namespace_create('gw-many') IS NOT NULL AS created;
SELECT schema_name AS s FROM eventodb.namespaces WHERE id = 'gw-many' \gset

-- Idempotent writes: the first writes, a repeat answers the same positions
-- (even against an expected version the first write moved), anything else
-- under the id is EV030 with where the id lives.
SELECT pg_temp.wi('acct-1', 'Opened', '{"a":1}', 'a0000000-0000-4000-8000-000000000001', -1);
SELECT pg_temp.wi('acct-1', 'Opened', '{"a":1}', 'A0000000-0000-4000-8000-000000000001', -1);
SELECT pg_temp.wi('acct-1', 'Opened', '{"a":2}', 'a0000000-0000-4000-8000-000000000001', NULL);
SELECT pg_temp.wi('acct-1', 'Closed', '{"a":1}', 'a0000000-0000-4000-8000-000000000001', NULL);
SELECT pg_temp.wi('acct-2', 'Opened', '{"a":1}', 'a0000000-0000-4000-8000-000000000001', NULL);
-- a new id still meets its expected version; no id means a fresh one
SELECT pg_temp.wi('acct-1', 'Closed', '{}', 'a0000000-0000-4000-8000-000000000002', 5);
SELECT pg_temp.wi('acct-1', 'Closed', '{}', NULL, 0);
SELECT pg_temp.wi('acct-1', 'Closed', '{}', 'nope', NULL);
-- stream_write itself is unchanged: a repeat is the duplicate key
SELECT pg_temp.try($$SELECT eventodb.stream_write('gw-many', 'acct-1', 'Opened', '{"a":1}', NULL,
                   'a0000000-0000-4000-8000-000000000001', NULL)$$) ~ '^23505' AS duplicate;

-- Multi-stream writes: positions per stream, answers in call order.
SELECT pg_temp.wm('[{"streamName":"acct-1","type":"A","data":{"x":1},"expectedVersion":1},
                    {"streamName":"bank-9","type":"B","data":{},"metadata":{"m":1}},
                    {"streamName":"acct-1","type":"C","data":{},"expectedVersion":2.9}]');
SELECT stream_name, position, global_position, type, data, metadata
  FROM :"s".messages ORDER BY global_position;
-- A conflict anywhere writes nothing.
SELECT pg_temp.wm('[{"streamName":"new-1","type":"A","data":{}},
                    {"streamName":"bank-9","type":"B","data":{},"expectedVersion":7}]');
SELECT pg_temp.wm('[{"streamName":"new-1","type":"A","data":{}},
                    {"streamName":"new-1","type":"A","data":{},"expectedVersion":-1}]');
SELECT count(*) AS new_1 FROM :"s".messages WHERE stream_name = 'new-1';
-- Idempotent replays of a whole call answer the first call's positions.
SELECT pg_temp.wm('[{"streamName":"idem-1","type":"A","data":{},"id":"b0000000-0000-4000-8000-000000000001","expectedVersion":-1},
                    {"streamName":"idem-2","type":"A","data":{},"id":"b0000000-0000-4000-8000-000000000002"}]', true);
SELECT pg_temp.wm('[{"streamName":"idem-1","type":"A","data":{},"id":"b0000000-0000-4000-8000-000000000001","expectedVersion":-1},
                    {"streamName":"idem-2","type":"A","data":{},"id":"b0000000-0000-4000-8000-000000000002"}]', true);
SELECT pg_temp.wm('[{"streamName":"idem-1","type":"A","data":{},"id":"b0000000-0000-4000-8000-000000000001","expectedVersion":-1}]');
-- the same id twice in one idempotent call is one message
SELECT pg_temp.wm('[{"streamName":"idem-3","type":"A","data":{},"id":"b0000000-0000-4000-8000-000000000003"},
                    {"streamName":"idem-3","type":"A","data":{},"id":"b0000000-0000-4000-8000-000000000003"}]', true);

-- Bad input.
SELECT pg_temp.wm(NULL);
SELECT pg_temp.wm('{}');
SELECT pg_temp.wm('[]');
SELECT pg_temp.wm('"x"');
SELECT pg_temp.wm('[1]');
SELECT pg_temp.wm('[{"type":"A","data":{}}]');
SELECT pg_temp.wm('[{"streamName":"","type":"A","data":{}}]');
SELECT pg_temp.wm('[{"streamName":"a-1","type":"","data":{}}]');
SELECT pg_temp.wm('[{"streamName":"a-1","type":"A","data":[]}]');
SELECT pg_temp.wm('[{"streamName":"a-1","type":"A"}]');
SELECT pg_temp.wm('[{"streamName":"a-1","type":"A","data":{},"metadata":1}]');
SELECT pg_temp.wm('[{"streamName":"a-1","type":"A","data":{},"metadata":null}]') ~ '"position":0' AS null_metadata_ok;
SELECT pg_temp.wm('[{"streamName":"a-1","type":"A","data":{},"id":1}]');
SELECT pg_temp.wm('[{"streamName":"a-1","type":"A","data":{},"id":"zz"}]');
SELECT pg_temp.wm('[{"streamName":"a-1","type":"A","data":{},"expectedVersion":"1"}]');
SELECT pg_temp.wm('[{"streamName":"a-1","type":"A","data":{},"expectedVersion":1e30}]');
SELECT pg_temp.wm((SELECT jsonb_agg(jsonb_build_object('streamName', 'a-1', 'type', 'A', 'data', '{}'::jsonb))
                     FROM generate_series(1, 1001))::text);
SELECT pg_temp.try($$SELECT eventodb.stream_write_many(NULL, '[{"streamName":"a-1","type":"A","data":{}}]')$$);
SELECT pg_temp.try($$SELECT eventodb.stream_write_many('nope', '[{"streamName":"a-1","type":"A","data":{}}]')$$);

SELECT eventodb.namespace_delete('gw-many') >= 0 AS deleted;
