-- Persistent subscriptions, hand-out (docs/subscriptions.md): pinned gives
-- each stream to one owner, one delivery per stream at a time, in position
-- order; ownership moves when a consumer goes away; roundRobin hands out
-- anything to anyone with capacity; maxInFlight, max and types limit it.
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

SELECT eventodb.namespace_create('sp', '', 'ns_c3A_' || repeat('0', 64)) IS NOT NULL AS created;
SELECT eventodb.subscription_create('sp', 'pin', 'acct', '{"maxInFlight":100}') IS NOT NULL AS created;
SELECT eventodb.subscription_create('sp', 'rr', 'acct', '{"strategy":"roundRobin","maxInFlight":4}') IS NOT NULL AS created;

-- Four streams with three messages each, interleaved, plus other categories and types.
SELECT count(eventodb.stream_write('sp', 'acct-' || s, CASE WHEN p = 1 THEN 'Other' ELSE 'Opened' END,
                                   jsonb_build_object('s', s, 'p', p), NULL, NULL, NULL))
  FROM generate_series(0, 2) p, generate_series(1, 4) s;
SELECT count(eventodb.stream_write('sp', 'other-1', 'Opened', '{}', NULL, NULL, NULL));

CREATE TEMP TABLE got (who text, delivery_id text, stream_name text, "position" bigint,
                       global_position bigint, attempt int);
CREATE FUNCTION pg_temp.fetch(sub text, who text, n int) RETURNS SETOF got LANGUAGE sql AS $$
  INSERT INTO got SELECT who, delivery_id, stream_name, "position", global_position, attempt
    FROM eventodb.subscription_fetch('sp', sub, who, n) RETURNING *
$$;
CREATE FUNCTION pg_temp.ack(sub text, who text) RETURNS bigint LANGUAGE sql AS $$
  SELECT eventodb.subscription_ack('sp', sub, array_agg(delivery_id))
    FROM got g WHERE g.who = $2 AND delivery_id IS NOT NULL;
$$;

-- One consumer alone owns every stream but gets one message per stream.
SELECT stream_name, "position", attempt FROM pg_temp.fetch('pin', 'w1', 100) ORDER BY global_position;
-- Nothing more while the first of each stream is in flight.
SELECT count(*) AS more FROM pg_temp.fetch('pin', 'w1', 100);
SELECT pg_temp.ack('pin', 'w1');
DELETE FROM got;
-- Next positions, in order.
SELECT stream_name, "position" FROM pg_temp.fetch('pin', 'w1', 2) ORDER BY global_position;
SELECT stream_name, "position" FROM pg_temp.fetch('pin', 'w1', 100) ORDER BY global_position;
SELECT pg_temp.ack('pin', 'w1');
DELETE FROM got;

-- A second consumer: w1 keeps the streams it owns, w2 gets only its own
-- share (rendezvous hashing); neither gets a stream the other holds.
SELECT count(*) AS w2_first FROM pg_temp.fetch('pin', 'w2', 100);
SELECT count(*) AS w1_second FROM pg_temp.fetch('pin', 'w1', 100);
SELECT count(*) AS w2_second FROM pg_temp.fetch('pin', 'w2', 100);
SELECT count(*) AS streams, count(DISTINCT stream_name) AS distinct_streams,
       count(DISTINCT who) AS consumers FROM got;
SELECT stream_name, count(DISTINCT who) AS owners FROM got GROUP BY 1 HAVING count(DISTINCT who) > 1;
-- Both consumers are active and listed with what they hold.
SELECT jsonb_path_query_array(eventodb.subscription_get('sp', 'pin')::jsonb, '$.consumers[*].consumerId') AS consumers,
       (eventodb.subscription_get('sp', 'pin')::jsonb)->'inFlight' AS in_flight;

-- w2 leaves (released, inactive): its in-flight messages are deliverable
-- again and w1 now owns every stream.
SELECT eventodb.subscription_release('sp', 'pin', 'w2') = (SELECT count(*) FROM got WHERE who = 'w2') AS released_all;
SELECT pg_temp.ack('pin', 'w1');
DELETE FROM got;
SELECT stream_name, "position", attempt FROM pg_temp.fetch('pin', 'w1', 100) ORDER BY global_position;
SELECT jsonb_path_query_array(eventodb.subscription_get('sp', 'pin')::jsonb, '$.consumers[*].consumerId') AS consumers;
SELECT pg_temp.ack('pin', 'w1');
DELETE FROM got;
SELECT count(*) AS drained FROM pg_temp.fetch('pin', 'w1', 100);
SELECT (eventodb.subscription_get('sp', 'pin')::jsonb) - 'createdAt' - 'consumers' AS pin_done;

-- roundRobin: several messages of one stream at once, up to maxInFlight per consumer.
SELECT stream_name, "position" FROM pg_temp.fetch('rr', 'a', 100) ORDER BY global_position;
SELECT stream_name, "position" FROM pg_temp.fetch('rr', 'b', 2) ORDER BY global_position;
SELECT count(*) AS a_full FROM pg_temp.fetch('rr', 'a', 100);
SELECT pg_temp.ack('rr', 'a');
SELECT stream_name, "position" FROM pg_temp.fetch('rr', 'a', 100) ORDER BY global_position;

-- types: only those types are source messages (a new list applies to messages not read yet).
SELECT eventodb.subscription_create('sp', 'typed', '', '{"types":["Other"]}') IS NOT NULL AS created;
SELECT stream_name, "position" FROM pg_temp.fetch('typed', 't', 100) ORDER BY global_position;

-- max 0 only marks the consumer active; bad arguments change nothing.
SELECT count(*) AS none FROM pg_temp.fetch('typed', 'idle', 0);
SELECT jsonb_path_query_array(eventodb.subscription_get('sp', 'typed')::jsonb, '$.consumers[*].consumerId') AS consumers;
SELECT pg_temp.try(q) FROM (VALUES
  ($$SELECT count(*)::text FROM eventodb.subscription_fetch('sp', 'typed', 'x', 1001)$$),
  ($$SELECT count(*)::text FROM eventodb.subscription_fetch('sp', 'typed', 'x', -1)$$),
  ($$SELECT count(*)::text FROM eventodb.subscription_fetch('sp', 'typed', repeat('c', 101), 1)$$),
  ($$SELECT count(*)::text FROM eventodb.subscription_fetch('sp', 'typed', 'sp ace', 1)$$),
  ($$SELECT count(*)::text FROM eventodb.subscription_fetch('sp', 'typed', '', 1)$$),
  ($$SELECT count(*)::text FROM eventodb.subscription_fetch('sp', 'nope', 'x', 1)$$),
  ($$SELECT count(*)::text FROM eventodb.subscription_fetch('nowhere', 'typed', 'x', 1)$$)
) AS t(q);
SELECT (eventodb.subscription_get('sp', 'typed')::jsonb)->'inFlight' AS in_flight;

-- A delivery as JSON: the contract's object with the category message.
SELECT eventodb.subscription_create('sp', 'js', 'other') IS NOT NULL AS created;
SELECT regexp_replace(eventodb.delivery_json(d), '"[0-9a-f-]{36}"|"[0-9T:.-]+Z"|"[0-9]+([.][0-9]+)+"', '"…"', 'g') AS delivery
  FROM eventodb.subscription_fetch('sp', 'js', 'json', 1) d;
