-- Positions have an end (docs/security.md, "Positions"). A stream at the
-- highest position (9223372036854775807, reachable by import or a plain
-- INSERT) refuses the next write on every path - Message DB's "bigint out
-- of range" on its face, a clear error on the gateway's - instead of
-- answering position -9223372036854775808. An import may not take a
-- namespace's global positions near the end of its sequence (at most 2^62),
-- so one record cannot end the namespace's writes.
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
CREATE FUNCTION pg_temp.f(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN t IS NULL THEN int4send(-1)
              ELSE int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END $$;
CREATE FUNCTION pg_temp.item(ns text, stream text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT pg_temp.f(ns) || pg_temp.f(stream) || pg_temp.f('T') || pg_temp.f('{}')
      || pg_temp.f(NULL) || pg_temp.f(NULL) || '\x00'::bytea || int8send(0) $$;
CREATE FUNCTION pg_temp.rec(id int, stream text, pos bigint, gpos bigint) RETURNS text LANGUAGE sql AS $$
  SELECT format('{"id":"00000000-0000-4000-8000-%s","stream":"%s","type":"Imported","pos":%s,"gpos":%s,"data":{},"meta":null,"time":"2025-01-01T00:00:00Z"}',
                lpad(id::text, 12, '0'), stream, pos, gpos)
$$;

SELECT eventodb.namespace_create('default', 'default', NULL) IS NOT NULL AS created;
SELECT eventodb.namespace_create('sec-limits') IS NOT NULL AS created;
SELECT schema_name AS s FROM eventodb.namespaces WHERE id = 'sec-limits' \gset

-- Message DB face, as the message_store role: its own INSERT puts a stream
-- at the highest position; the next write_message fails as Message DB's
-- "_stream_version + 1" does (22003), after the expected-version check.
SET ROLE message_store;
INSERT INTO messages (stream_name, position, type) VALUES ('top-1', 9223372036854775807, 'T');
SELECT pg_temp.try($$SELECT write_message('30000000-0000-4000-8000-000000000001', 'top-1', 'T', '{}')$$);
SELECT pg_temp.try($$SELECT write_message('30000000-0000-4000-8000-000000000002', 'top-1', 'T', '{}', NULL, 9223372036854775807)$$);
SELECT pg_temp.try($$SELECT write_message('30000000-0000-4000-8000-000000000003', 'top-1', 'T', '{}', NULL, 0)$$);
SELECT stream_name, position FROM messages WHERE stream_name = 'top-1' ORDER BY global_position;
-- The stream below it still takes writes.
SELECT write_message('30000000-0000-4000-8000-000000000004', 'top-2', 'T', '{}');
RESET ROLE;

-- Gateway face: stream_write and the group commit refuse the same stream;
-- the batch answers the refusal as that item's row and writes the others.
INSERT INTO :s.messages (stream_name, position, type) VALUES ('top-1', 9223372036854775807, 'T');
SELECT pg_temp.try($$SELECT eventodb.stream_write('sec-limits', 'top-1', 'T', '{}', NULL, NULL, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_write('sec-limits', 'top-1', 'T', '{}', NULL, NULL, 9223372036854775807)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_write('default', 'top-1', 'T', '{}', NULL, NULL, NULL)$$);
SELECT * FROM eventodb.stream_write_batch(int4send(3)
  || pg_temp.item('sec-limits', 'top-1') || pg_temp.item('sec-limits', 'top-2')
  || pg_temp.item('default', 'top-1'));
SELECT stream_name, position FROM :s.messages ORDER BY global_position;
SELECT stream_name, position FROM message_store.messages ORDER BY global_position;

-- Imports: a global position above 2^62 is refused with nothing stored and
-- the sequence untouched, so the namespace's writes go on; 2^62 itself is
-- the highest accepted.
SELECT pg_temp.try(format('SELECT eventodb.import_batch(%L, %L)', 'sec-limits',
  '[' || pg_temp.rec(1, 'imp-1', 0, 5) || ',' || pg_temp.rec(2, 'imp-1', 1, 9223372036854775807) || ']'));
\set VERBOSITY default
SELECT eventodb.import_batch('sec-limits', '[' || pg_temp.rec(3, 'imp-1', 0, 4611686018427387905) || ']');
\set VERBOSITY terse
SELECT count(*) AS imported FROM :s.messages WHERE stream_name = 'imp-1';
SELECT eventodb.stream_write('sec-limits', 'after-1', 'T', '{}', NULL, NULL, NULL);
SELECT eventodb.import_batch('sec-limits', '[' || pg_temp.rec(4, 'imp-1', 0, 4611686018427387904) || ']');
SELECT eventodb.stream_write('sec-limits', 'after-1', 'T', '{}', NULL, NULL, NULL);
-- A stream position is stored as given, even the highest; the stream then
-- takes no more writes.
SELECT eventodb.import_batch('sec-limits', '[' || pg_temp.rec(5, 'imp-2', 9223372036854775807, 100) || ']');
SELECT pg_temp.try($$SELECT eventodb.stream_write('sec-limits', 'imp-2', 'T', '{}', NULL, NULL, NULL)$$);

-- Neither a login without grants nor the message_store role reaches the
-- gateway's entry points.
SET client_min_messages = warning;
DROP ROLE IF EXISTS sec_limits_nobody;
RESET client_min_messages;
CREATE ROLE sec_limits_nobody LOGIN;
SET ROLE sec_limits_nobody;
SELECT pg_temp.try(format('SELECT eventodb.import_batch(%L, %L)', 'sec-limits', '[]'));
RESET ROLE;
SET ROLE message_store;
SELECT pg_temp.try($$SELECT eventodb.stream_write('default', 'top-2', 'T', '{}', NULL, NULL, NULL)$$);
RESET ROLE;
DROP ROLE sec_limits_nobody;

SELECT eventodb.namespace_delete('sec-limits') > 0 AS deleted, eventodb.namespace_delete('default') AS default_deleted;
TRUNCATE message_store.messages RESTART IDENTITY;
