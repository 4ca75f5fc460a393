-- docs/architecture.md#invariants invariant 4 and docs/http-api.md#nscreate: namespaces never share storage.
-- Streams, categories, versions, consumer groups and global positions are
-- per namespace; ids that the original mapped to one schema name (a-b,
-- a_b, a.b; Unicode; spaces; over-long ids) stay separate.
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

-- Message arrays without their random ids and real times.
CREATE FUNCTION pg_temp.msgs(j text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(j, '"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",', '', 'g'),
                        ',"\d{4}-[^"]*Z"', '', 'g')
$$;

CREATE TEMP TABLE ids (n int, id text);
INSERT INTO ids VALUES
  (1, 'a-b'), (2, 'a_b'), (3, 'a.b'), (4, 'A-B'),
  (5, '日本'), (6, '__'), (7, 'with space'), (8, 'with  space'),
  (9, repeat('x', 500)), (10, repeat('x', 499) || 'y'), (11, repeat('é', 500)),
  (12, 'ümlaut'), (13, 'umlaut'), (14, 'a/b'), (15, 'Robert''); DROP TABLE x;--'),
  (16, '"quoted"'), (17, 'eventodb_ns_1'), (18, 'message_store');

SELECT n, eventodb.namespace_create(id) IS NOT NULL AS created FROM ids ORDER BY n;
SELECT count(DISTINCT schema_name) AS distinct_schemas, count(*) AS namespaces,
       bool_and(schema_name ~ '^eventodb_ns_[0-9]+$') AS all_generated,
       max(length(schema_name)) < 64 AS never_truncated
FROM eventodb.namespaces JOIN ids USING (id);

-- Every namespace gets the same stream names; positions and global
-- positions start over in each.
SELECT n, eventodb.stream_write(id, 'account-1', 'Opened', jsonb_build_object('n', n), NULL, NULL, -1)
FROM ids ORDER BY n;
SELECT n, eventodb.stream_write(id, 'only-' || n, 'Opened', '{}', NULL, NULL, -1)
FROM ids WHERE n <= 3 ORDER BY n;

-- Each sees only its own messages.
SELECT n, pg_temp.msgs(eventodb.stream_get(id, 'account-1', 0, NULL, 1000)) FROM ids ORDER BY n;
SELECT n, pg_temp.msgs(eventodb.category_get(id, 'account', 1, 1000, NULL, NULL, NULL)) FROM ids WHERE n <= 4 ORDER BY n;
SELECT n, pg_temp.msgs(eventodb.category_get(id, 'only', 1, 1000, NULL, NULL, NULL)) FROM ids WHERE n <= 4 ORDER BY n;
SELECT n, pg_temp.msgs(eventodb.category_get(id, '', 1, 1000, NULL, NULL, NULL)) FROM ids WHERE n <= 4 ORDER BY n;
SELECT n, eventodb.stream_version(id, 'only-1'), eventodb.stream_version(id, 'account-1') FROM ids WHERE n <= 4 ORDER BY n;
SELECT n, pg_temp.msgs(eventodb.stream_last(id, 'account-1', NULL)) FROM ids WHERE n <= 4 ORDER BY n;
SELECT n, regexp_replace(eventodb.ns_streams(id, '', '', 100), '"\d{4}-[^"]*Z"', '"<t>"', 'g') FROM ids WHERE n <= 4 ORDER BY n;
SELECT n, eventodb.ns_categories(id) FROM ids WHERE n <= 4 ORDER BY n;

-- Expected versions are checked against the namespace's own stream.
SELECT pg_temp.try($$SELECT eventodb.stream_write('a-b', 'account-2', 'T', '{}', NULL, NULL, 0)$$);
SELECT pg_temp.try($$SELECT eventodb.stream_write('a_b', 'account-2', 'T', '{}', NULL, NULL, -1)$$);

-- Consumer groups partition each namespace's own streams.
SELECT n, pg_temp.msgs(eventodb.category_get(id, 'account', 1, 1000, NULL, m, 2)) AS member_streams
FROM ids, generate_series(0, 1) AS m WHERE n <= 2 ORDER BY n, m;

-- Message ids are unique per namespace, not across namespaces.
SELECT eventodb.stream_write('a-b', 'dup-1', 'T', '{}', NULL, '00000000-0000-4000-8000-000000000001', NULL);
SELECT eventodb.stream_write('a_b', 'dup-1', 'T', '{}', NULL, '00000000-0000-4000-8000-000000000001', NULL);

-- Counts per namespace.
SELECT n, (eventodb.namespace_info(id)::jsonb)->'messageCount' AS messages FROM ids ORDER BY n;

-- Deleting one leaves the look-alikes untouched.
SELECT eventodb.namespace_delete('a-b');
SELECT n, pg_temp.try(format('SELECT eventodb.stream_version(%L, %L)', id, 'account-1')) FROM ids WHERE n <= 4 ORDER BY n;

SELECT count(*) AS deleted FROM ids WHERE n > 1 AND eventodb.namespace_delete(id) >= 0;
SELECT count(*) AS namespaces_left FROM eventodb.namespaces;
SELECT count(*) AS schemas_left FROM pg_namespace WHERE nspname LIKE 'eventodb\_ns\_%';
