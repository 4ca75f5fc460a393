-- eventodb.stream_write_batch, the gateway's group commit: per-item answers
-- identical to stream_write's, conflicts and bad ids per item, anything else
-- rolling the whole batch back, and a malformed argument refused.
\set VERBOSITY terse
\pset null <null>

SELECT eventodb.namespace_create('default', 'default', NULL) IS NOT NULL AS created;

-- The layout of common/write_batch.h, built in SQL.
CREATE FUNCTION pg_temp.f(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN t IS NULL THEN int4send(-1)
              ELSE int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END $$;
CREATE FUNCTION pg_temp.item(ns text, stream text, type text, data text,
                             meta text DEFAULT NULL, id text DEFAULT NULL,
                             expected bigint DEFAULT NULL) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT pg_temp.f(ns) || pg_temp.f(stream) || pg_temp.f(type) || pg_temp.f(data)
      || pg_temp.f(meta) || pg_temp.f(id)
      || CASE WHEN expected IS NULL THEN '\x00'::bytea || int8send(0)
              ELSE '\x01'::bytea || int8send(expected) END $$;

-- Items answer in the order given; a later item of the same stream sees the
-- earlier ones; a conflict or a bad id leaves the others alone.
SELECT * FROM eventodb.stream_write_batch(int4send(6)
  || pg_temp.item('default', 'acct-1', 'Opened', '{"a":1}', NULL, NULL, -1)
  || pg_temp.item('default', 'acct-1', 'Deposited', '{"a":2}', '{"m":1}', NULL, 0)
  || pg_temp.item('default', 'acct-1', 'Late', '{}', NULL, NULL, 0)
  || pg_temp.item('default', 'acct-2', 'Bad', '{}', NULL, 'not-a-uuid', -1)
  || pg_temp.item('default', 'acct-2', 'Opened', '{}', NULL, '{0190A0B0-C0D0-7E0F-8011-223344556677}', -1)
  || pg_temp.item('default', 'acct-1', 'Third', '{}', NULL, '0190a0b0c0d07e0f8011223344556688', 1));

SELECT stream_name, position, global_position, type, data, metadata,
       CASE WHEN id::text LIKE '0190%' THEN id::text ELSE 'generated v' || substr(id::text, 15, 1) END AS id
  FROM message_store.messages ORDER BY global_position;

-- The same answers stream_write gives for the same situation.
SELECT eventodb.stream_write('default', 'acct-1', 'Late', '{}', NULL, NULL, 0);

-- Lock order differs from arrival order: results still follow arrival.
SELECT result FROM eventodb.stream_write_batch(int4send(3)
  || pg_temp.item('default', 'zeta-1', 'Z', '{}')
  || pg_temp.item('default', 'alpha-1', 'A', '{}')
  || pg_temp.item('default', 'zeta-1', 'Z', '{}'));

-- Anything else fails the whole batch: nothing of it is written.
SELECT count(*) AS before FROM message_store.messages;
SELECT * FROM eventodb.stream_write_batch(int4send(2)
  || pg_temp.item('default', 'roll-1', 'T', '{}')
  || pg_temp.item('default', 'roll-2', 'T', '{bad'));
SELECT * FROM eventodb.stream_write_batch(int4send(2)
  || pg_temp.item('default', 'roll-1', 'T', '{}', NULL, '0190a0b0c0d07e0f8011223344556699')
  || pg_temp.item('default', 'roll-2', 'T', '{}', NULL, '0190a0b0c0d07e0f8011223344556699'));
SELECT * FROM eventodb.stream_write_batch(int4send(2)
  || pg_temp.item('default', 'roll-1', 'T', '{}')
  || pg_temp.item('no-such-ns', 'roll-2', 'T', '{}'));
SELECT count(*) AS after FROM message_store.messages;

-- Malformed arguments.
SELECT * FROM eventodb.stream_write_batch(int4send(0));
SELECT * FROM eventodb.stream_write_batch(int4send(65) || pg_temp.item('default', 'm-1', 'T', '{}'));
SELECT * FROM eventodb.stream_write_batch(int4send(2) || pg_temp.item('default', 'm-1', 'T', '{}'));
SELECT * FROM eventodb.stream_write_batch(int4send(1) || pg_temp.item('default', 'm-1', 'T', '{}') || '\x00'::bytea);
SELECT * FROM eventodb.stream_write_batch(int4send(1) || pg_temp.item('default', NULL, 'T', '{}'));
SELECT * FROM eventodb.stream_write_batch(int4send(1) || int4send(7) || 'default'::bytea || int4send(-5));
SELECT * FROM eventodb.stream_write_batch(int4send(1) || pg_temp.f('default') || int4send(3)
  || '\x6d2d00'::bytea || pg_temp.f('T') || pg_temp.f('{}') || int4send(-1) || int4send(-1)
  || '\x00'::bytea || int8send(0));
SELECT * FROM eventodb.stream_write_batch('\x0000000100000007'::bytea || 'def'::bytea || '\x00'::bytea || 'ult'::bytea);
SELECT * FROM eventodb.stream_write_batch(NULL);
