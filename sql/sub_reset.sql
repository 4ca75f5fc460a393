-- Persistent subscriptions, positions (docs/subscriptions.md): start
-- "beginning" / "end" / a position, the checkpoint, lag, reset (in-flight
-- deliveries end, reading restarts, parked stay parked), replayParked.
\set VERBOSITY terse
\pset null <null>

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE q INTO r;
  RETURN coalesce(r, '<null>');
EXCEPTION WHEN OTHERS THEN
  -- Delivery ids are <subscription>.<n>: masked, they depend on other tests.
  RETURN regexp_replace(SQLSTATE || ' ' || SQLERRM, '\d+(\.\d+)+', '<id>', 'g');
END $$;
CREATE FUNCTION pg_temp.pos(j text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('checkpoint', j::jsonb->'checkpoint', 'lag', j::jsonb->'lag',
                            'inFlight', j::jsonb->'inFlight', 'parked', j::jsonb->'parked')
$$;

SELECT eventodb.namespace_create('sr', '', 'ns_c3I_' || repeat('0', 64)) IS NOT NULL AS created;
SELECT count(eventodb.stream_write('sr', 'ord-' || (i % 2), 'Placed', jsonb_build_object('i', i), NULL, NULL, NULL))
  FROM generate_series(1, 4) i;

SELECT pg_temp.pos(eventodb.subscription_create('sr', 'b', 'ord', '{"strategy":"roundRobin"}')) AS beginning;
SELECT pg_temp.pos(eventodb.subscription_create('sr', 'e', 'ord', '{"start":"end"}')) AS at_end;
SELECT pg_temp.pos(eventodb.subscription_create('sr', 'p', 'ord', '{"start":3,"strategy":"roundRobin"}')) AS from_3;
SELECT count(eventodb.stream_write('sr', 'ord-9', 'Placed', '{"i":5}', NULL, NULL, NULL));
SELECT global_position FROM eventodb.subscription_fetch('sr', 'e', 'x', 10);
SELECT global_position FROM eventodb.subscription_fetch('sr', 'p', 'x', 10) ORDER BY 1;

-- The checkpoint stays at the lowest message not completed.
CREATE TEMP TABLE d AS SELECT * FROM eventodb.subscription_fetch('sr', 'b', 'x', 10);
SELECT global_position FROM d ORDER BY 1;
SELECT eventodb.subscription_ack('sr', 'b', ARRAY(SELECT delivery_id FROM d WHERE global_position IN (2, 3)));
SELECT pg_temp.pos(eventodb.subscription_get('sr', 'b')) AS one_and_four_left;
SELECT eventodb.subscription_nack('sr', 'b', ARRAY(SELECT delivery_id FROM d WHERE global_position = 1), 'park');
SELECT pg_temp.pos(eventodb.subscription_get('sr', 'b')) AS one_parked;

-- reset: in-flight deliveries end (their ids are 409, no attempt counted),
-- messages from the position on come again with attempt 1, the parked one
-- stays parked.
SELECT pg_temp.pos(eventodb.subscription_reset('sr', 'b', 'beginning')) AS reset;
SELECT pg_temp.try(format($$SELECT eventodb.subscription_ack('sr', 'b', ARRAY[%L])$$,
                          (SELECT delivery_id FROM d WHERE global_position = 4)));
SELECT global_position, attempt FROM eventodb.subscription_fetch('sr', 'b', 'x', 10) ORDER BY 1;
SELECT pg_temp.pos(eventodb.subscription_reset('sr', 'b', '4')) AS reset_4;
SELECT global_position, attempt FROM eventodb.subscription_fetch('sr', 'b', 'x', 10) ORDER BY 1;
SELECT pg_temp.pos(eventodb.subscription_reset('sr', 'b', 'end')) AS reset_end;
SELECT count(*) AS nothing FROM eventodb.subscription_fetch('sr', 'b', 'x', 10);
SELECT pg_temp.try(q) FROM (VALUES
  ($$SELECT eventodb.subscription_reset('sr', 'b', '-1')$$),
  ($$SELECT eventodb.subscription_reset('sr', 'b', 'start')$$),
  ($$SELECT eventodb.subscription_reset('sr', 'b', '')$$),
  ($$SELECT eventodb.subscription_reset('sr', 'b', NULL)$$),
  ($$SELECT eventodb.subscription_reset('sr', 'b', '99999999999999999999')$$),
  ($$SELECT eventodb.subscription_reset('sr', 'bad name', '1')$$),
  ($$SELECT eventodb.subscription_reset('sr', 'nope', '1')$$)
) AS t(q);
SELECT pg_temp.pos(eventodb.subscription_get('sr', 'b')) AS unchanged;

-- replayParked: the parked message is deliverable again from attempt 1 and
-- the checkpoint moves down to it; positions not parked are ignored.
SELECT eventodb.subscription_replay_parked('sr', 'b', ARRAY[7, 8]) AS none_parked_there;
SELECT eventodb.subscription_replay_parked('sr', 'b', ARRAY[1, 2]) AS replayed;
SELECT pg_temp.pos(eventodb.subscription_get('sr', 'b')) AS after_replay;
CREATE TEMP TABLE d3 AS SELECT * FROM eventodb.subscription_fetch('sr', 'b', 'x', 10);
SELECT global_position, attempt FROM d3;
SELECT pg_temp.try(q) FROM (VALUES
  ($$SELECT eventodb.subscription_replay_parked('sr', 'b', ARRAY[]::bigint[])::text$$),
  ($$SELECT eventodb.subscription_replay_parked('sr', 'b', ARRAY[NULL]::bigint[])::text$$),
  ($$SELECT eventodb.subscription_replay_parked('sr', 'b', array_fill(1::bigint, ARRAY[1001]))::text$$)
) AS t(q);
-- Replay of everything (NULL).
SELECT eventodb.subscription_nack('sr', 'b', ARRAY(SELECT delivery_id FROM d3), 'park');
SELECT pg_temp.pos(eventodb.subscription_get('sr', 'b')) AS parked_again;
SELECT eventodb.subscription_replay_parked('sr', 'b') AS replayed_all;
SELECT pg_temp.pos(eventodb.subscription_get('sr', 'b')) AS all_back;
