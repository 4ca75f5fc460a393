-- Persistent subscriptions, ends of deliveries (docs/subscriptions.md):
-- ack, nack skip/park/retry, lease expiry and redelivery, parking after
-- maxDeliveries, acks of expired, superseded, foreign and unknown ids
-- (409, atomic, nothing changes), delivery ids never reused.
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
  -- Delivery ids are <subscription>.<batch>.<n>: masked, they depend on other tests.
  RETURN regexp_replace(SQLSTATE || ' ' || SQLERRM || coalesce(' / ' || nullif(d, ''), ''),
                        '\d+(\.\d+)+', '<id>', 'g');
END $$;

SELECT eventodb.namespace_create('sl', '', 'ns_c2w_' || repeat('0', 64)) IS NOT NULL AS created;
SELECT eventodb.namespace_create('sm', '', 'ns_c20_' || repeat('0', 64)) IS NOT NULL AS created;
SELECT eventodb.subscription_create('sl', 'l', 'job',
  '{"strategy":"roundRobin","ackTimeoutMs":100,"maxDeliveries":2,"maxInFlight":100}') IS NOT NULL AS created;
SELECT count(eventodb.stream_write('sl', 'job-' || i, 'Run', jsonb_build_object('i', i), NULL, NULL, NULL))
  FROM generate_series(1, 6) i;

CREATE TEMP TABLE d AS SELECT * FROM eventodb.subscription_fetch('sl', 'l', 'w', 6);
SELECT stream_name, attempt FROM d ORDER BY global_position;
CREATE FUNCTION pg_temp.id(s text) RETURNS text LANGUAGE sql AS $$
  SELECT delivery_id FROM d WHERE stream_name = s
$$;

-- ack: atomic; an unknown id anywhere fails the whole call and acks nothing.
SELECT pg_temp.try(format($$SELECT eventodb.subscription_ack('sl', 'l', ARRAY[%L, 'nope', %L, 'nope'])$$,
                          pg_temp.id('job-1'), pg_temp.id('job-2')));
SELECT (eventodb.subscription_get('sl', 'l')::jsonb)->'inFlight' AS still_in_flight;
-- Duplicates count once.
SELECT eventodb.subscription_ack('sl', 'l', ARRAY[pg_temp.id('job-1'), pg_temp.id('job-1')]) AS acked;
-- A second ack of the same delivery is 409.
SELECT pg_temp.try(format($$SELECT eventodb.subscription_ack('sl', 'l', ARRAY[%L])$$, pg_temp.id('job-1')));
-- nack skip completes, nack park parks with the reason.
SELECT eventodb.subscription_nack('sl', 'l', ARRAY[pg_temp.id('job-2')], 'skip') AS skipped;
SELECT eventodb.subscription_nack('sl', 'l', ARRAY[pg_temp.id('job-3')], 'park', 'poison') AS parked;
SELECT pg_temp.try(format($$SELECT eventodb.subscription_nack('sl', 'l', ARRAY[%L], 'retry')$$, pg_temp.id('job-3')));
-- Bad nack arguments, in order; nothing changes.
SELECT pg_temp.try(q) FROM (VALUES
  ($$SELECT eventodb.subscription_nack('sl', 'l', ARRAY[]::text[], 'bogus')$$),
  ($$SELECT eventodb.subscription_nack('sl', 'l', ARRAY[''], 'retry')$$),
  ($$SELECT eventodb.subscription_nack('sl', 'l', ARRAY[NULL]::text[], 'retry')$$),
  ($$SELECT eventodb.subscription_nack('sl', 'l', NULL, 'retry')$$),
  ($$SELECT eventodb.subscription_nack('sl', 'l', array_fill('x'::text, ARRAY[1001]), 'retry')$$),
  ($$SELECT eventodb.subscription_nack('sl', 'l', ARRAY['x'], 'bogus')$$),
  ($$SELECT eventodb.subscription_nack('sl', 'l', ARRAY['x'], NULL)$$),
  ($$SELECT eventodb.subscription_nack('sl', 'l', ARRAY['x'], 'park', repeat('r', 1001))$$),
  ($$SELECT eventodb.subscription_nack('sl', 'nope', ARRAY['x'], 'park')$$),
  ($$SELECT eventodb.subscription_ack('sl', 'l', ARRAY['x'])$$)
) AS t(q);
-- nack retry: deliverable again at once, attempt 2, new delivery id.
SELECT eventodb.subscription_nack('sl', 'l', ARRAY[pg_temp.id('job-4')]) AS retried;
CREATE TEMP TABLE d2 AS SELECT * FROM eventodb.subscription_fetch('sl', 'l', 'w', 6);
SELECT stream_name, attempt, delivery_id <> pg_temp.id('job-4') AS new_id FROM d2;
-- The superseded delivery id is 409.
SELECT pg_temp.try(format($$SELECT eventodb.subscription_ack('sl', 'l', ARRAY[%L])$$, pg_temp.id('job-4')));

-- Ids of another namespace's subscription are never in flight here.
SELECT eventodb.subscription_create('sm', 'l', 'job') IS NOT NULL AS created;
SELECT pg_temp.try(format($$SELECT eventodb.subscription_ack('sm', 'l', ARRAY[%L])$$, pg_temp.id('job-5')));

-- Leases: after 100 ms job-5 and job-6 (attempt 1) and job-4 (attempt 2)
-- expired. An ack now is 409; the next fetch redelivers 5 and 6 with
-- attempt 2 and parks 4 (maxDeliveries 2).
SELECT pg_sleep(0.25);
-- Expired deliveries are no longer in flight, even before a fetch ends them.
SELECT (eventodb.subscription_get('sl', 'l')::jsonb)->'inFlight' AS in_flight_after_expiry;
SELECT pg_temp.try(format($$SELECT eventodb.subscription_ack('sl', 'l', ARRAY[%L])$$, pg_temp.id('job-5')));
SELECT stream_name, attempt FROM eventodb.subscription_fetch('sl', 'l', 'v', 10) ORDER BY global_position;
SELECT jsonb_build_object('parked', j->'parked', 'inFlight', j->'inFlight', 'lag', j->'lag', 'checkpoint', j->'checkpoint')
  FROM (SELECT eventodb.subscription_get('sl', 'l')::jsonb AS j) s;
SELECT stream_name, attempts, reason FROM eventodb.subscription_parked('sl', 'l') ORDER BY global_position;
-- After their second lease both park too; nothing is delivered again.
SELECT pg_sleep(0.25);
SELECT count(*) AS nothing FROM eventodb.subscription_fetch('sl', 'l', 'v', 10);
SELECT stream_name, attempts, reason FROM eventodb.subscription_parked('sl', 'l') ORDER BY global_position;
SELECT jsonb_build_object('parked', j->'parked', 'inFlight', j->'inFlight', 'lag', j->'lag', 'checkpoint', j->'checkpoint')
  FROM (SELECT eventodb.subscription_get('sl', 'l')::jsonb AS j) s;
-- Parked as JSON, and paging of the list.
SELECT regexp_replace(eventodb.parked_json(p), '"[0-9a-f-]{36}"|"[0-9T:.-]+Z"', '"…"', 'g') AS parked
  FROM eventodb.subscription_parked('sl', 'l', 0, 1) p;
SELECT stream_name FROM eventodb.subscription_parked('sl', 'l', 5, 2) ORDER BY global_position;
SELECT pg_temp.try(q) FROM (VALUES
  ($$SELECT count(*)::text FROM eventodb.subscription_parked('sl', 'l', 0, 0)$$),
  ($$SELECT count(*)::text FROM eventodb.subscription_parked('sl', 'l', 0, 1001)$$),
  ($$SELECT count(*)::text FROM eventodb.subscription_parked('sl', 'l', NULL, 1)$$)
) AS t(q);

-- Delivery ids are never reused, not even by a re-created subscription.
SELECT eventodb.subscription_delete('sl', 'l') IS NOT NULL AS deleted;
SELECT eventodb.subscription_create('sl', 'l', 'job', '{"strategy":"roundRobin"}') IS NOT NULL AS created;
SELECT count(*) AS reused FROM eventodb.subscription_fetch('sl', 'l', 'w', 10) f
  WHERE f.delivery_id IN (SELECT delivery_id FROM d UNION SELECT delivery_id FROM d2);
SELECT pg_temp.try(format($$SELECT eventodb.subscription_ack('sl', 'l', ARRAY[%L])$$, pg_temp.id('job-6')));

-- An id no delivery can have (over 100 bytes) is echoed cut at 100 bytes.
SELECT pg_temp.try(format($$SELECT eventodb.subscription_ack('sl', 'l', ARRAY[%L, 'short'])$$, repeat('x', 5000)));
