-- docs/writes-and-reads.md through eventodb.stream_get_backward,
-- eventodb.category_position_at, eventodb.category_get_types and the opt-in
-- type index: backward order and bounds, the first position at or after a
-- time, type filters with and without the index, bad input.
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

-- [stream, type, position, global position] of each message of an answer
CREATE FUNCTION pg_temp.brief(answer text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT coalesce(jsonb_agg(CASE jsonb_array_length(m) WHEN 8
                              THEN jsonb_build_array(m->1, m->2, m->3, m->4)
                              ELSE jsonb_build_array(m->1, m->2, m->3) END ORDER BY o), '[]')
    FROM jsonb_array_elements(answer::jsonb) WITH ORDINALITY AS e(m, o)
$$;

SELECT eventodb.namespace_create('gw-read-more') IS NOT NULL AS created;
SELECT schema_name AS s FROM eventodb.namespaces WHERE id = 'gw-read-more' \gset

SELECT eventodb.stream_write_many('gw-read-more', jsonb_agg(jsonb_build_object(
         'streamName', 'acct-' || (i % 3), 'type', CASE WHEN i % 10 = 0 THEN 'Rare' WHEN i % 10 = 5 THEN 'Odd' ELSE 'Common' END,
         'data', jsonb_build_object('i', i)) ORDER BY i)) IS NOT NULL AS written
  FROM generate_series(1, 30) i;
SELECT eventodb.stream_write('gw-read-more', 'other-1', 'Rare', '{}', NULL, NULL, NULL) IS NOT NULL AS written;

-- Backward: newest first, from the end or from a position, bounded batch.
SELECT pg_temp.brief(eventodb.stream_get_backward('gw-read-more', 'acct-1', NULL, 3));
SELECT pg_temp.brief(eventodb.stream_get_backward('gw-read-more', 'acct-1', 4, 2));
SELECT pg_temp.brief(eventodb.stream_get_backward('gw-read-more', 'acct-1', 0));
SELECT pg_temp.brief(eventodb.stream_get_backward('gw-read-more', 'acct-1', -1));
SELECT pg_temp.brief(eventodb.stream_get_backward('gw-read-more', 'acct-1', NULL, 0));
SELECT pg_temp.brief(eventodb.stream_get_backward('gw-read-more', 'nope-1'));
SELECT jsonb_array_length(eventodb.stream_get_backward('gw-read-more', 'acct-1')::jsonb) AS all_of_acct_1;
SELECT pg_temp.try($$SELECT eventodb.stream_get_backward('gw-read-more', 'acct-1', NULL, -1)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_get_backward('gw-read-more', 'acct-1', NULL, 10001)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_get_backward('nope', 'acct-1')$$);

-- Time lookup: the whole call shares one time, so any earlier time finds
-- the first message and any later one finds none.
SELECT eventodb.category_position_at('gw-read-more', '', '2000-01-01Z') AS from_2000;
SELECT eventodb.category_position_at('gw-read-more', 'other', '2000-01-01Z') AS other_from_2000;
SELECT eventodb.category_position_at('gw-read-more', 'acct', time AT TIME ZONE 'UTC') AS acct_at_own_time
  FROM :"s".messages WHERE global_position = 1;
SELECT eventodb.category_position_at('gw-read-more', '', time AT TIME ZONE 'UTC') AS at_other_time
  FROM :"s".messages WHERE global_position = 31;
SELECT eventodb.category_position_at('gw-read-more', '', '2999-01-01Z') AS from_2999;
SELECT eventodb.category_position_at('gw-read-more', 'acct-1', '2000-01-01Z') AS dash_is_no_category;
SELECT eventodb.category_position_at('gw-read-more', 'nope', '2000-01-01Z') AS unknown_category;
SELECT pg_temp.try($$SELECT eventodb.category_position_at('gw-read-more', '', NULL)$$);

-- Type filters, the same answers without and with the index.
CREATE TEMP TABLE answers (indexed bool, q text, answer jsonb);
DO $$
BEGIN
  FOR pass IN 0..1 LOOP
    IF pass = 1 THEN
      PERFORM eventodb.type_index_create('gw-read-more');
      PERFORM eventodb.type_index_create('gw-read-more');   -- twice is fine
    END IF;
    INSERT INTO answers VALUES
      (pass = 1, 'rare', pg_temp.brief(eventodb.category_get_types('gw-read-more', 'acct', 1, 10, NULL, NULL, NULL, '{Rare}'))),
      (pass = 1, 'rare+odd, 4', pg_temp.brief(eventodb.category_get_types('gw-read-more', 'acct', 1, 4, NULL, NULL, NULL, '{Rare,Odd,Rare}'))),
      (pass = 1, 'rare from 11', pg_temp.brief(eventodb.category_get_types('gw-read-more', 'acct', 11, 10, NULL, NULL, NULL, '{Rare}'))),
      (pass = 1, 'rare, all', pg_temp.brief(eventodb.category_get_types('gw-read-more', '', 1, -1, NULL, NULL, NULL, '{Rare}'))),
      (pass = 1, 'rare, group 0/2', pg_temp.brief(eventodb.category_get_types('gw-read-more', 'acct', 1, 10, NULL, 0, 2, '{Rare}'))),
      (pass = 1, 'no types', pg_temp.brief(eventodb.category_get_types('gw-read-more', 'acct', 1, 3, NULL, NULL, NULL, '{}'))),
      (pass = 1, 'null types', pg_temp.brief(eventodb.category_get_types('gw-read-more', 'acct', 28, -1, NULL, NULL, NULL, NULL))),
      (pass = 1, 'dash', pg_temp.brief(eventodb.category_get_types('gw-read-more', 'acct-1', 1, 10, NULL, NULL, NULL, '{Rare}'))),
      (pass = 1, 'unknown type', pg_temp.brief(eventodb.category_get_types('gw-read-more', 'acct', 1, 10, NULL, NULL, NULL, '{rare}')));
  END LOOP;
END $$;
SELECT q, answer FROM answers WHERE NOT indexed ORDER BY q;
SELECT count(*) AS differences FROM answers a JOIN answers b USING (q)
 WHERE NOT a.indexed AND b.indexed AND a.answer IS DISTINCT FROM b.answer;
SELECT replace(indexdef, :'s', 'S') AS indexdef FROM pg_indexes WHERE schemaname = :'s' AND indexname = 'messages_category_type';
SELECT eventodb.type_index_drop('gw-read-more');
SELECT count(*) AS type_indexes FROM pg_indexes WHERE schemaname = :'s' AND indexname = 'messages_category_type';
SELECT pg_temp.try($$SELECT eventodb.category_get_types('gw-read-more', 'acct', 1, 10, NULL, NULL, NULL, '{A,NULL}')$$);
SELECT pg_temp.try($$SELECT eventodb.category_get_types('gw-read-more', 'acct', 1, 10, NULL, NULL, NULL,
                     (SELECT array_agg(i::text) FROM generate_series(1, 101) i))$$);
SELECT pg_temp.try($$SELECT eventodb.type_index_create('nope')$$);

SELECT eventodb.namespace_delete('gw-read-more') >= 0 AS deleted;
