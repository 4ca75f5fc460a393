-- Retention rules and passes (docs/lifecycle.md): max count, truncate
-- before and max age per stream, max age and max count per category;
-- passes are bounded; versions never move; bad arguments are refused.
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

SELECT eventodb.namespace_create('lc-ret') IS NOT NULL AS created;
SELECT schema_name AS s FROM eventodb.namespaces WHERE id = 'lc-ret' \gset
CREATE FUNCTION pg_temp.positions(stream text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(m->>2, ',' ORDER BY (m->>2)::int), '')
    FROM jsonb_array_elements(eventodb.stream_get('lc-ret', stream, 0, NULL, -1)::jsonb) AS m
$$;
SELECT count(eventodb.stream_write('lc-ret', s, 'T', '{}', NULL, NULL, NULL))
  FROM generate_series(1, 8), unnest(ARRAY['cnt-1', 'tb-1', 'age-1', 'none-1']) AS s;

-- No rule: nothing is removed.
SELECT eventodb.retention_run('lc-ret');
SELECT eventodb.stream_retention('lc-ret', 'cnt-1');

-- Max count keeps the newest n.
SELECT eventodb.stream_set_retention('lc-ret', 'cnt-1', max_count => 3);
-- Truncate before removes the positions below it.
SELECT eventodb.stream_set_retention('lc-ret', 'tb-1', truncate_before => 5);
-- Max age: the first four made two hours old.
UPDATE :"s".messages SET time = time - interval '2 hours' WHERE stream_name = 'age-1' AND position < 4;
SELECT eventodb.stream_set_retention('lc-ret', 'age-1', max_age => 3600);
SELECT eventodb.retention_run('lc-ret');
SELECT pg_temp.positions('cnt-1') AS cnt, pg_temp.positions('tb-1') AS tb,
       pg_temp.positions('age-1') AS age, pg_temp.positions('none-1') AS none;
SELECT eventodb.retention_run('lc-ret');

-- Truncating everything keeps the version, and the next write follows it.
SELECT eventodb.stream_set_retention('lc-ret', 'tb-1', truncate_before => 1000);
SELECT eventodb.retention_run('lc-ret');
SELECT pg_temp.positions('tb-1') AS tb, eventodb.stream_version('lc-ret', 'tb-1'),
       eventodb.stream_last('lc-ret', 'tb-1', NULL);
SELECT eventodb.stream_write('lc-ret', 'tb-1', 'T', '{}', NULL, NULL, 7);
-- ... which the rule removes again at the next pass.
SELECT eventodb.retention_run('lc-ret'), eventodb.stream_version('lc-ret', 'tb-1');
-- Clearing a rule stops removal.
SELECT eventodb.stream_set_retention('lc-ret', 'tb-1');
SELECT eventodb.stream_write('lc-ret', 'tb-1', 'T', '{}', NULL, NULL, 8);
SELECT eventodb.retention_run('lc-ret'), pg_temp.positions('tb-1') AS tb;

-- Category max count: per stream of the category; other categories untouched.
SELECT count(eventodb.stream_write('lc-ret', 'cat-' || (i % 3), 'T', '{}', NULL, NULL, NULL))
  FROM generate_series(0, 11) AS i;
SELECT eventodb.category_set_retention('lc-ret', 'cat', max_count => 2);
SELECT eventodb.retention_run('lc-ret');
SELECT pg_temp.positions('cat-0') AS c0, pg_temp.positions('cat-1') AS c1, pg_temp.positions('cat-2') AS c2,
       pg_temp.positions('none-1') AS none;
-- Category max age.
UPDATE :"s".messages SET time = time - interval '1 day' WHERE stream_name = 'cat-0';
SELECT eventodb.category_set_retention('lc-ret', 'cat', max_age => 3600);
SELECT eventodb.category_retention('lc-ret', 'cat');
SELECT eventodb.retention_run('lc-ret');
SELECT pg_temp.positions('cat-0') AS c0, pg_temp.positions('cat-1') AS c1,
       eventodb.stream_version('lc-ret', 'cat-0') AS v0;

-- A max-count pass that starts from its cursor (here: past every message)
-- goes on from the start: one pass with budget left examines the whole
-- category, so "removed nothing" means nothing is left to remove.
SELECT eventodb.category_set_retention('lc-ret', 'cat', max_count => 1);
UPDATE :"s".lifecycle_categories SET count_scan_from = 1000000 WHERE category = 'cat';
SELECT eventodb.retention_run('lc-ret');
SELECT pg_temp.positions('cat-1') AS c1, pg_temp.positions('cat-2') AS c2;
SELECT eventodb.retention_run('lc-ret');

-- Passes are bounded by max_rows.
SELECT count(eventodb.stream_write('lc-ret', 'big-1', 'T', '{}', NULL, NULL, NULL)) FROM generate_series(1, 25);
SELECT eventodb.stream_set_retention('lc-ret', 'big-1', max_count => 1);
SELECT eventodb.retention_run('lc-ret', 10), eventodb.retention_run('lc-ret', 10),
       eventodb.retention_run('lc-ret', 10), eventodb.retention_run('lc-ret', 10);
SELECT pg_temp.positions('big-1') AS big;

-- Category readers page over removed positions.
SELECT jsonb_agg(m->>1 ORDER BY (m->>4)::int) FROM jsonb_array_elements(
  eventodb.category_get('lc-ret', 'cat', 1, 100, NULL, NULL, NULL)::jsonb) AS m;

-- Bad arguments.
SELECT pg_temp.try($$SELECT eventodb.stream_set_retention('lc-ret', 'x-1', 0, NULL, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_set_retention('lc-ret', 'x-1', NULL, 0, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_set_retention('lc-ret', 'x-1', NULL, NULL, -1)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_set_retention('lc-ret', '', NULL, NULL, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_retention('lc-ret', NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.category_set_retention('lc-ret', 'a-b', 1, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.category_set_retention('lc-ret', '', 1, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.category_set_retention('lc-ret', 'c', -1, NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.category_set_retention('lc-ret', 'c', NULL, 0)$$);
SELECT pg_temp.try($$SELECT eventodb.category_retention('lc-ret', NULL)$$);
SELECT pg_temp.try($$SELECT eventodb.retention_run('lc-ret', 0)$$);
SELECT pg_temp.try($$SELECT eventodb.retention_run('nope')$$);
