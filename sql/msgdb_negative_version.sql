-- docs/sql-api.md#stream_version: max(position), NULL only for a stream
-- without messages. Positions below 0 come only from a plain INSERT (which
-- the message_store role may do) or an import; Message DB reports them as
-- they are and writes after them, and so do both faces here. The gateway's
-- stream_version keeps the original's answer for -1: NULL.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

INSERT INTO messages (stream_name, position, type, data) VALUES ('neg-1', -5, 'T', '{}');
INSERT INTO messages (stream_name, position, type, data) VALUES ('neg-2', -1, 'T', '{}');
SELECT stream_version('neg-1') AS v1, stream_version('neg-2') AS v2, stream_version('neg-3') AS v3;
SELECT eventodb.stream_version('default', 'neg-1') AS g1, eventodb.stream_version('default', 'neg-2') AS g2,
       eventodb.stream_version('default', 'neg-3') AS g3;

-- The expected version is the negative one; the next position follows it.
SELECT write_message(gen_random_uuid()::text, 'neg-1', 'T', '{}', NULL, -1);
SELECT write_message(gen_random_uuid()::text, 'neg-1', 'T', '{}', NULL, -5);
SELECT write_message(gen_random_uuid()::text, 'neg-1', 'T', '{}');
-- A stream at -1 is written at 0, as an empty one is.
SELECT write_message(gen_random_uuid()::text, 'neg-2', 'T', '{}', NULL, -1);
SELECT stream_name, position FROM messages ORDER BY global_position;

TRUNCATE message_store.messages RESTART IDENTITY;
