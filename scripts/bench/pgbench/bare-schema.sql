-- The physical limit: a plain table with Message DB's columns and the same indexes,
-- built from plain SQL expressions instead of our functions, holding a copy of the
-- seeded rows. Bench workloads on it are what any implementation must pay at least.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bare CASCADE;
CREATE SCHEMA bare;
CREATE TABLE bare.messages (
  global_position bigserial NOT NULL PRIMARY KEY,
  position bigint NOT NULL,
  time timestamp without time zone DEFAULT (now() AT TIME ZONE 'utc') NOT NULL,
  stream_name text NOT NULL,
  type text NOT NULL,
  data jsonb,
  metadata jsonb,
  id uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO bare.messages SELECT * FROM message_store.messages ORDER BY global_position;
SELECT setval('bare.messages_global_position_seq', (SELECT max(global_position) FROM bare.messages));
CREATE UNIQUE INDEX bare_messages_id ON bare.messages (id);
CREATE UNIQUE INDEX bare_messages_stream ON bare.messages (stream_name, position);
CREATE INDEX bare_messages_category ON bare.messages (
  split_part(stream_name, '-', 1),
  global_position,
  split_part(metadata->>'correlationStreamName', '-', 1)
);
