-- eventodb.stat_namespaces, stat_poke_worker and stat_reset()
-- (docs/operations.md): the counters match what this file does - writes,
-- conflicts, reads and the messages they returned, imports, pokes - per
-- namespace; an open writing transaction shows as a writer in flight with a
-- horizon age; stat_reset() zeroes the counts and keeps the positions.
\set VERBOSITY terse
\pset null <null>

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;

CREATE VIEW pg_temp.stats AS
SELECT namespace, writes, conflicts, messages_written, messages_imported, reads, messages_read,
       CASE WHEN namespace = 'default'
            THEN last_global_position >= (SELECT max(global_position) FROM message_store.messages
                                          WHERE stream_name = 'statdefault-1')
            WHEN namespace = 'stat-a' THEN last_global_position IS NOT DISTINCT FROM 101 END AS last_gpos_ok
FROM eventodb.stat_namespaces WHERE namespace IN ('default', 'stat-a', 'stat-b')
ORDER BY namespace;

SELECT eventodb.namespace_create('stat-a') IS NOT NULL AS created;
SELECT eventodb.namespace_create('stat-b') IS NOT NULL AS created;
SELECT eventodb.stat_reset();
SELECT count(*) AS counted FROM pg_temp.stats WHERE writes + conflicts + reads + messages_imported > 0;

-- stat-a: three writes, two conflicts, four reads returning 3 + 2 + 1 + 0 messages
SELECT eventodb.stream_write('stat-a', 'acct-1', 'T', '{}', NULL, NULL, NULL);
SELECT eventodb.stream_write('stat-a', 'acct-1', 'T', '{}', NULL, NULL, 0);
SELECT eventodb.stream_write('stat-a', 'acct-2', 'T', '{}', NULL, NULL, -1);
SELECT pg_temp.try($$SELECT eventodb.stream_write('stat-a', 'acct-1', 'T', '{}', NULL, NULL, 5)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_write('stat-a', 'acct-2', 'T', '{}', NULL, NULL, -1)$$);
SELECT length(eventodb.category_get('stat-a', 'acct', 1, 10, NULL, NULL, NULL)) > 0 AS read;
SELECT length(eventodb.stream_get('stat-a', 'acct-1', 0, NULL, 10)) > 0 AS read;
SELECT length(eventodb.stream_last('stat-a', 'acct-2', NULL)) > 0 AS read;
SELECT eventodb.stream_version('stat-a', 'acct-3');
-- an import of two messages, up to global position 101
SELECT eventodb.import_batch('stat-a', '[
  {"id":"00000000-0000-4000-8000-000000000100","stream":"imp-1","type":"I","pos":0,"gpos":100,"data":{},"meta":null,"time":"2025-01-01T00:00:00Z"},
  {"id":"00000000-0000-4000-8000-000000000101","stream":"imp-1","type":"I","pos":1,"gpos":101,"data":{},"meta":null,"time":"2025-01-01T00:00:00Z"}]');

-- default (the Message DB face): two writes, one conflict, two reads of 2 and 1 messages
SELECT message_store.write_message(gen_random_uuid()::text, 'statdefault-1', 'T', '{}') >= 0 AS written;
SELECT message_store.write_message(gen_random_uuid()::text, 'statdefault-1', 'T', '{}', NULL, 0) >= 0 AS written;
SELECT pg_temp.try($$SELECT message_store.write_message(gen_random_uuid()::text, 'statdefault-1', 'T', '{}', NULL, 7)$$);
SELECT count(*) FROM message_store.get_stream_messages('statdefault-1');
SELECT count(*) FROM message_store.get_last_stream_message('statdefault-1');

SELECT * FROM pg_temp.stats;

-- the poke worker sent the five writes' pokes (imports are never poked)
SELECT eventodb.poke_sync(10000) AS synced;
SELECT namespace, pokes_sent, last_poked_position IS NOT NULL AS poked,
       poke_lag >= interval '0' AS lag_known, last_poke_at IS NOT NULL AS poked_at_known
FROM eventodb.stat_namespaces WHERE namespace IN ('default', 'stat-a') ORDER BY namespace;
SELECT last_poked_position FROM eventodb.stat_namespaces WHERE namespace = 'stat-a';
SELECT state, queued_runs, started_at IS NOT NULL AS started, namespaces_untracked
FROM eventodb.stat_poke_worker;

-- a writer in flight holds back readers: it shows until its transaction ends
SELECT writers_in_flight, horizon_age FROM eventodb.stat_namespaces WHERE namespace = 'stat-b';
BEGIN;
SELECT eventodb.stream_write('stat-b', 'open-1', 'T', '{}', NULL, NULL, NULL);
SELECT pg_sleep(0.05);
SELECT writers_in_flight, horizon_age >= interval '50 milliseconds' AS held
FROM eventodb.stat_namespaces WHERE namespace = 'stat-b';
ROLLBACK;
-- counted when written, as pg_stat counts rows of rolled-back transactions
SELECT writes, writers_in_flight, horizon_age FROM eventodb.stat_namespaces WHERE namespace = 'stat-b';

-- reset: counts back to zero, positions kept, the reset time moves
SELECT stats_reset AS before_reset FROM eventodb.stat_namespaces WHERE namespace = 'stat-a' \gset
SELECT eventodb.stat_reset();
SELECT * FROM pg_temp.stats;
SELECT pokes_sent, last_poked_position, stats_reset > :'before_reset' AS reset_moved
FROM eventodb.stat_namespaces WHERE namespace = 'stat-a';

-- resetting is not for everyone
SELECT has_function_privilege('public', 'eventodb.stat_reset()', 'EXECUTE') AS public_may_reset;

SELECT eventodb.namespace_delete('stat-a');
SELECT eventodb.namespace_delete('stat-b');
SELECT count(*) FROM eventodb.stat_namespaces WHERE namespace IN ('stat-a', 'stat-b');
