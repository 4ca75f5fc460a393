-- stream_positions / category_positions (the gateway's SSE catch-up): for
-- every argument combination, exactly the rows stream_get / category_get
-- return, as (stream_name, position, global_position), or the same error.
\set VERBOSITY terse
\pset null <null>

SELECT eventodb.namespace_create('gw-pos') IS NOT NULL AS created;
SELECT count(eventodb.stream_write('gw-pos', s, 'T', '{}',
                                   CASE WHEN n % 3 = 0 THEN '{"correlationStreamName":"wf-1"}'::jsonb END,
                                   NULL, NULL)) AS written
FROM unnest(ARRAY['account-1', 'account-1', 'account-2', 'account', 'account-123',
                  'account-123+retry', 'account-abc', 'account-', '-1', '', 'other-1',
                  'account-1', 'account-42']) WITH ORDINALITY AS u(s, n);

-- Rows (or the error) of a rendered answer and of the positions function.
CREATE FUNCTION pg_temp.rendered(q text, with_stream boolean, stream text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  j text;
BEGIN
  EXECUTE q INTO j;
  RETURN (SELECT coalesce(string_agg(CASE WHEN with_stream
                                          THEN (m->>1) || ':' || (m->>3) || '@' || (m->>4)
                                          ELSE stream || ':' || (m->>2) || '@' || (m->>3) END,
                                     ' ' ORDER BY o), '')
          FROM jsonb_array_elements(j::jsonb) WITH ORDINALITY AS t(m, o));
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.positions(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE 'SELECT coalesce(string_agg(stream_name || '':'' || position || ''@'' || global_position, '' ''), '''')'
          ' FROM (' || q || ') AS p' INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- Category reads: every combination below, counted where they agree.
CREATE TEMP TABLE cat_args AS
SELECT format('%L, %s, %s, %s, %s, %s, %s', 'gw-pos', quote_nullable(c), p, b,
              quote_nullable(r), coalesce(g.m::text, 'NULL'), coalesce(g.s::text, 'NULL')) AS args
FROM unnest(ARRAY['account', '', 'other', 'nope', 'a-b', NULL]) AS c,
     unnest(ARRAY[1, 3, 100]) AS p,
     unnest(ARRAY[1000, 2, 0, -1, -2]) AS b,
     unnest(ARRAY[NULL, 'wf', 'w-f']) AS r,
     (VALUES (NULL::int, NULL::int), (0, 2), (1, 2), (2, 3), (-1, 2), (0, 0)) AS g(m, s);
SELECT count(*) AS combinations,
       count(*) FILTER (WHERE pg_temp.rendered('SELECT eventodb.category_get(' || args || ')', true, NULL)
                              = pg_temp.positions('SELECT * FROM eventodb.category_positions(' || args || ')'))
         AS agree
FROM cat_args;
-- A few of them spelled out.
SELECT pg_temp.positions($$SELECT * FROM eventodb.category_positions('gw-pos', 'account', 1, 1000, NULL, NULL, NULL)$$) AS category;
SELECT pg_temp.positions($$SELECT * FROM eventodb.category_positions('gw-pos', 'account', 1, 1000, NULL, 1, 2)$$) AS member_1_of_2;
SELECT pg_temp.positions($$SELECT * FROM eventodb.category_positions('gw-pos', '', 5, 3, NULL, NULL, NULL)$$) AS everything_from_5;
SELECT pg_temp.positions($$SELECT * FROM eventodb.category_positions('gw-pos', 'account', 1, 1000, NULL, 0, 0)$$) AS size_0;
SELECT pg_temp.positions($$SELECT * FROM eventodb.category_positions('no-such-ns', 'account', 1, 1000, NULL, NULL, NULL)$$) AS unknown_ns;

-- Stream reads, both paths.
CREATE TEMP TABLE stream_args AS
SELECT s, format('%L, %s, %s, %s, %s', 'gw-pos', quote_nullable(s), p, coalesce(g::text, 'NULL'), b) AS args
FROM unnest(ARRAY['account-1', 'account', '', 'nope-1']) AS s,
     unnest(ARRAY[0, 1, -5]) AS p,
     unnest(ARRAY[NULL, 1, 3]) AS g,
     unnest(ARRAY[1000, 1, 0, -1, -2]) AS b;
SELECT count(*) AS combinations,
       count(*) FILTER (WHERE pg_temp.rendered('SELECT eventodb.stream_get(' || args || ')', false, s)
                              = pg_temp.positions('SELECT * FROM eventodb.stream_positions(' || args || ')'))
         AS agree
FROM stream_args;
SELECT pg_temp.positions($$SELECT * FROM eventodb.stream_positions('gw-pos', 'account-1', 0, NULL, 1000)$$) AS stream;
SELECT pg_temp.positions($$SELECT * FROM eventodb.stream_positions('gw-pos', 'account-1', 0, NULL, -2)$$) AS below_minus_1;

SELECT eventodb.namespace_delete('gw-pos') IS NOT NULL AS deleted;
