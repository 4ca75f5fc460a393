-- docs/sql-api.md#table-row-type-role: `time` is the transaction start time in UTC whatever
-- the session TimeZone; messages of one transaction share it.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;

SET TimeZone = 'America/New_York';
BEGIN;
SELECT write_message('60000000-0000-4000-8000-000000000001', 'time-1', 'T', '{}');
SELECT pg_sleep(0.01);
SELECT write_message('60000000-0000-4000-8000-000000000002', 'time-1', 'T', '{}');
SELECT count(DISTINCT time) AS distinct_times,
       bool_and(time = (now() AT TIME ZONE 'utc')) AS utc_transaction_start
FROM messages;
SELECT bool_and(time = (now() AT TIME ZONE 'utc')) AS read_back_utc
FROM get_stream_messages('time-1');
COMMIT;

SET TimeZone = 'Asia/Tokyo';
BEGIN;
SELECT write_message('60000000-0000-4000-8000-000000000003', 'time-1', 'T', '{}');
SELECT time = (now() AT TIME ZONE 'utc') AS utc
FROM get_last_stream_message('time-1');
COMMIT;
-- The Tokyo write is not 9 hours "later" than the New York ones.
SELECT max(time) - min(time) < interval '1 minute' AS same_clock FROM messages;
RESET TimeZone;

-- Text form: DateStyle ISO, microseconds, trailing fractional zeros dropped.
SET DateStyle = 'ISO, MDY';
INSERT INTO messages (stream_name, position, type, time, id) VALUES
  ('time-2', 0, 'T', '2026-11-25 17:56:30.749487', '60000000-0000-4000-8000-000000000004'),
  ('time-2', 1, 'T', '2026-11-25 17:56:30.5', '60000000-0000-4000-8000-000000000005'),
  ('time-2', 2, 'T', '2026-11-25 17:56:30', '60000000-0000-4000-8000-000000000006');
SELECT position, time, time::text FROM get_stream_messages('time-2');
RESET DateStyle;
