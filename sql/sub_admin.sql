-- Persistent subscriptions, management (docs/subscriptions.md): create,
-- update, get, list, delete; every validation message in the contract's
-- order; SUBSCRIPTION_EXISTS / NOT_FOUND; a bad call changes nothing;
-- namespaces never see each other's subscriptions.
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

-- The info object without its clock readings.
CREATE FUNCTION pg_temp.info(j text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT (j::jsonb - 'createdAt') || jsonb_build_object('consumers',
    coalesce((SELECT jsonb_agg(c - 'lastSeen') FROM jsonb_array_elements(j::jsonb->'consumers') c), '[]'))
$$;

SELECT eventodb.namespace_create('sa', '', 'ns_c2E_' || repeat('0', 64)) IS NOT NULL AS created;
SELECT eventodb.namespace_create('sb', '', 'ns_c2I_' || repeat('0', 64)) IS NOT NULL AS created;

-- Defaults, and the key order of the info object.
SELECT eventodb.subscription_create('sa', 'billing', 'account') ~
  '^\{"ackTimeoutMs":30000,"category":"account","checkpoint":1,"consumers":\[\],"createdAt":"[0-9T:.-]+Z","inFlight":0,"lag":0,"maxDeliveries":10,"maxInFlight":10,"name":"billing","parked":0,"strategy":"pinned","types":\[\]\}$' AS info_shape;
SELECT pg_temp.try($$SELECT eventodb.subscription_create('sa', 'billing', 'other')$$);
SELECT pg_temp.info(eventodb.subscription_create('sa', 'all.of:it_2', '',
  '{"types":["b","a","b"],"maxInFlight":1000,"ackTimeoutMs":100,"maxDeliveries":1,"strategy":"roundRobin","start":7.9}'));

-- Validation, in order: name, category, options, then each option.
SELECT pg_temp.try(q) FROM (VALUES
  ($$SELECT eventodb.subscription_create('sa', NULL, 'x')$$),
  ($$SELECT eventodb.subscription_create('sa', '', 'x')$$),
  ($$SELECT eventodb.subscription_create('sa', 'bad name', 'x-y')$$),
  ($$SELECT eventodb.subscription_create('sa', repeat('n', 101), 'x')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', NULL)$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a-b', 'null')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '[]')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', NULL)$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"types":"x","start":-1}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"types":[""]}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"types":[1]}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"types":null}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', jsonb_build_object('types', (SELECT jsonb_agg(i::text) FROM generate_series(1, 101) i)))$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"start":-1,"maxInFlight":0}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"start":"middle"}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"start":1e30}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"maxInFlight":"5"}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"maxInFlight":0.9}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"maxInFlight":1001,"ackTimeoutMs":1}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"ackTimeoutMs":99.9}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"ackTimeoutMs":3600001}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"maxDeliveries":null}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"maxDeliveries":1000.5,"strategy":"x"}')$$),
  ($$SELECT eventodb.subscription_create('sa', 'n', 'a', '{"strategy":"RoundRobin"}')$$),
  ($$SELECT eventodb.subscription_create('nowhere', 'n', 'a')$$)
) AS t(q);
-- Bad input created nothing.
SELECT json_array_length(eventodb.subscription_list('sa')::json) AS subscriptions;

-- Update: present keys replace, absent ones stay; category and start are fixed.
SELECT pg_temp.info(eventodb.subscription_update('sa', 'billing', '{"maxInFlight":3,"types":["z"]}'));
SELECT pg_temp.info(eventodb.subscription_update('sa', 'billing', '{}'));
SELECT pg_temp.try(q) FROM (VALUES
  ($$SELECT eventodb.subscription_update('sa', 'billing', '{"category":"x","start":1}')$$),
  ($$SELECT eventodb.subscription_update('sa', 'billing', '{"start":1,"maxInFlight":0}')$$),
  ($$SELECT eventodb.subscription_update('sa', 'billing', '{"maxInFlight":0}')$$),
  ($$SELECT eventodb.subscription_update('sa', 'billing', '5')$$),
  ($$SELECT eventodb.subscription_update('sa', 'nope', '{}')$$)
) AS t(q);
SELECT (eventodb.subscription_get('sa', 'billing')::jsonb)->'maxInFlight' AS unchanged;

-- List: ascending by name in byte order; get; unknown names.
SELECT eventodb.subscription_create('sa', 'Zeta', 'account') IS NOT NULL AS created;
SELECT jsonb_path_query_array(eventodb.subscription_list('sa')::jsonb, '$[*].name') AS names;
SELECT eventodb.subscription_list('sb') AS other_namespace;
SELECT pg_temp.try($$SELECT eventodb.subscription_get('sb', 'billing')$$);
SELECT pg_temp.try($$SELECT eventodb.subscription_get('sa', 'bad name')$$);

-- Names are per namespace: the same name in sb is another subscription.
SELECT pg_temp.info(eventodb.subscription_create('sb', 'billing', 'invoice'));
SELECT (eventodb.subscription_get('sa', 'billing')::jsonb)->>'category' AS sa_category;

-- Delete: the answer, then it is gone everywhere; a second delete is 404.
SELECT eventodb.subscription_delete('sa', 'Zeta') ~ '^\{"deletedAt":"[0-9T:.-]+Z","name":"Zeta"\}$' AS deleted;
SELECT pg_temp.try($$SELECT eventodb.subscription_delete('sa', 'Zeta')$$);
SELECT pg_temp.try($$SELECT eventodb.subscription_get('sa', 'Zeta')$$);
SELECT jsonb_path_query_array(eventodb.subscription_list('sa')::jsonb, '$[*].name') AS names;

-- Deleting a namespace drops its subscriptions with it.
SELECT schema_name AS sb_schema FROM eventodb.namespaces WHERE id = 'sb' \gset
SELECT count(*) AS state_tables FROM pg_tables WHERE tablename LIKE 'subscription%' AND schemaname = :'sb_schema';
SELECT eventodb.namespace_delete('sb');
SELECT count(*) AS state_tables_left FROM pg_tables WHERE tablename LIKE 'subscription%' AND schemaname = :'sb_schema';
