-- docs/http-api.md#bulk-import-import through eventodb.import_batch / import_clear: rows as
-- given (ids, positions, times, payloads), one statement per batch, any
-- unique violation reported with the offending record's gpos, the sequence
-- kept above everything stored, no pokes.
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

CREATE FUNCTION pg_temp.rec(id int, stream text, pos int, gpos int) RETURNS text LANGUAGE sql AS $$
  SELECT format('{"id":"00000000-0000-4000-8000-%s","stream":"%s","type":"Imported","pos":%s,"gpos":%s,"data":{"gpos":%s},"meta":null,"time":"2025-01-01T00:00:00Z"}',
                lpad(id::text, 12, '0'), stream, pos, gpos, gpos)
$$;

CREATE FUNCTION pg_temp.imp(VARIADIC recs text[]) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.try(format('SELECT eventodb.import_batch(%L, %L)', 'gw-import', '[' || array_to_string(recs, ',') || ']'))
$$;

SELECT eventodb.namespace_create('gw-import') IS NOT NULL AS created;
SELECT schema_name AS s FROM eventodb.namespaces WHERE id = 'gw-import' \gset

-- Records are stored exactly as given, unsorted, gaps allowed; the answer
-- is the batch's highest gpos. Imports never poke: psql would print a
-- notification after the command (writes' pokes are tested in specs/).
LISTEN eventodb_poke;
SELECT pg_temp.imp(pg_temp.rec(3, 'order-1', 1, 30), pg_temp.rec(1, 'order-1', 0, 10), pg_temp.rec(2, 'order-2', 0, 20));
SELECT eventodb.import_batch('gw-import', $$[{"id":"A11E9022-E741-4450-BF9C-C4CC5DDB6EA4","stream":"full-1","type":"T","pos":7,"gpos":40,
  "data":{"b":1,"a":[1.0,"x"]},"meta":{"correlationStreamName":"wf-1"},"time":"2025-06-02T10:00:01.204518+02:00","extra":"ignored"}]$$);
UNLISTEN eventodb_poke;
SELECT global_position, position, stream_name, type, data, metadata, time, id
FROM :s.messages ORDER BY global_position;

-- Missing keys take zero values; a JSON null payload is stored as NULL.
SELECT eventodb.import_batch('gw-import', '[{"id":"00000000-0000-4000-8000-000000000050","gpos":50,"data":null}]');
SELECT global_position, position, stream_name = '' AS empty_stream, type = '' AS empty_type,
       data IS NULL AS data_null, metadata IS NULL AS meta_null, time
FROM :s.messages WHERE global_position = 50;

-- The next write continues after the highest stored position ...
SELECT eventodb.stream_write('gw-import', 'live-1', 'T', '{}', NULL, NULL, NULL);
-- ... also when a later batch holds only smaller positions (the original
-- moved the sequence back to the batch maximum).
SELECT pg_temp.imp(pg_temp.rec(4, 'order-3', 0, 5));
SELECT eventodb.stream_write('gw-import', 'live-1', 'T', '{}', NULL, NULL, NULL);
-- ... and the sequence never moves backwards, even below its own value.
SELECT pg_temp.imp(pg_temp.rec(5, 'order-3', 1, 6));
SELECT eventodb.stream_write('gw-import', 'live-1', 'T', '{}', NULL, NULL, NULL);

-- Any unique violation is 23505 "global position already exists: <gpos of
-- the offending record>", and the whole batch is rolled back.
SELECT count(*) AS before FROM :s.messages \gset
-- duplicate global position against the table
SELECT pg_temp.imp(pg_temp.rec(60, 'dup-1', 0, 60), pg_temp.rec(61, 'dup-2', 0, 20));
-- duplicate id against the table: the offending record's own gpos
SELECT pg_temp.imp(pg_temp.rec(62, 'dup-3', 0, 62), pg_temp.rec(1, 'dup-4', 0, 63));
-- duplicate (stream, position) against the table
SELECT pg_temp.imp(pg_temp.rec(64, 'dup-5', 0, 64), pg_temp.rec(65, 'order-1', 1, 65));
-- duplicates inside the batch: the second occurrence offends
SELECT pg_temp.imp(pg_temp.rec(66, 'dup-6', 0, 66), pg_temp.rec(67, 'dup-7', 0, 66));
SELECT pg_temp.imp(pg_temp.rec(68, 'dup-8', 0, 68), pg_temp.rec(69, 'dup-9', 0, 69), pg_temp.rec(68, 'dup-10', 0, 70));
SELECT pg_temp.imp(pg_temp.rec(71, 'dup-11', 0, 71), pg_temp.rec(72, 'dup-11', 0, 72));
SELECT count(*) = :before AS batch_rolled_back FROM :s.messages;

-- Other failures keep their own SQLSTATE (IMPORT_FAILED in the gateway).
SELECT pg_temp.try($$SELECT eventodb.import_batch('gw-import', '[{"id":"nope","gpos":80}]')$$);
SELECT pg_temp.try($$SELECT eventodb.import_batch('gw-import', '[{"id":"00000000-0000-4000-8000-000000000081","gpos":81,"pos":"1"}]')$$);
SELECT pg_temp.try($$SELECT eventodb.import_batch('gw-import', '[{"id":"00000000-0000-4000-8000-000000000082","gpos":82,"time":"yesterday-ish"}]')$$);
SELECT pg_temp.try($$SELECT eventodb.import_batch('gw-import', '{"id":"x"}')$$);
SELECT pg_temp.try($$SELECT eventodb.import_batch('gw-import', '[1,')$$);
SELECT pg_temp.try($$SELECT eventodb.import_batch('nope', '[]')$$);
SELECT eventodb.import_batch('gw-import', '[]') AS empty_batch, eventodb.import_batch('gw-import', NULL) AS null_batch;

-- One transaction per call: an outer rollback undoes the batch.
BEGIN;
SELECT pg_temp.imp(pg_temp.rec(90, 'tx-1', 0, 90));
ROLLBACK;
SELECT count(*) AS rolled_back FROM :s.messages WHERE stream_name = 'tx-1';

-- import_clear: everything gone, positions restart at 1 (transactionally).
BEGIN;
SELECT eventodb.import_clear('gw-import');
ROLLBACK;
SELECT count(*) > 0 AS kept_after_rollback FROM :s.messages;
SELECT eventodb.import_clear('gw-import');
SELECT count(*) AS after_clear FROM :s.messages;
SELECT eventodb.stream_write('gw-import', 'live-1', 'T', '{}', NULL, NULL, -1);
SELECT pg_temp.try($$SELECT eventodb.import_clear('nope')$$);

-- A batch of 1000 in one call.
SELECT eventodb.import_clear('gw-import');
SELECT eventodb.import_batch('gw-import', '[' || string_agg(pg_temp.rec(1000 + g, 'bulk-' || (g % 10), g / 10, g), ',' ORDER BY g) || ']')
FROM generate_series(1, 1000) g;
SELECT count(*), min(global_position), max(global_position), count(DISTINCT stream_name) FROM :s.messages;
SELECT eventodb.stream_write('gw-import', 'bulk-1', 'T', '{}', NULL, NULL, 99);

SELECT eventodb.namespace_delete('gw-import');
