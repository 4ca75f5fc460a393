-- Both faces read a category with one statement (category_query.h) whose
-- generic plan - the one their saved plans use - walks the category index
-- from (category, position), for a rare category as for a common one; an
-- equality on the category would let a generic plan walk the primary key
-- and filter the whole table. Plans of the statements the faces prepare
-- (eventodb.category_read_sql) for a store of 20,000 'common' messages
-- and 5 'rare' ones at its end.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
INSERT INTO message_store.messages (position, stream_name, type, data, metadata)
SELECT g / 100, 'common-' || g % 100, 'T', '{}', jsonb_build_object('correlationStreamName', 'wf-' || g)
FROM generate_series(1, 20000) AS g;
INSERT INTO message_store.messages (position, stream_name, type, data, metadata)
SELECT 0, 'rare-' || g, 'T', '{}', jsonb_build_object('correlationStreamName', 'wf-' || g)
FROM generate_series(1, 5) AS g;
ANALYZE message_store.messages;

SELECT eventodb.namespace_create('default', 'Default namespace', 'ns_ZGVmYXVsdA_' || repeat('0', 64))
       IS NOT NULL AS default_namespace
WHERE NOT eventodb.namespace_exists('default');

-- Prepares every statement of the faces under its face's parameter types.
CREATE FUNCTION pg_temp.prepare_all() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  f text;
  c boolean;
  g boolean;
BEGIN
  FOREACH f IN ARRAY ARRAY['get_category_messages', 'category_get', 'category_positions'] LOOP
    FOREACH c IN ARRAY ARRAY[false, true] LOOP
      FOREACH g IN ARRAY ARRAY[false, true] LOOP
        EXECUTE format('PREPARE %I (%s) AS %s',
                       f || CASE WHEN c THEN '_corr' ELSE '' END || CASE WHEN g THEN '_group' ELSE '' END,
                       CASE f WHEN 'get_category_messages' THEN 'text, bigint, bigint, text, bigint, smallint, bigint'
                              ELSE 'bigint, text, text, bigint, bigint, bigint, bigint' END,
                       eventodb.category_read_sql(f, c, g));
      END LOOP;
    END LOOP;
  END LOOP;
END $$;
SELECT pg_temp.prepare_all();

SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE get_category_messages('rare', 1, 1000, NULL, NULL, NULL, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE get_category_messages_corr('rare', 1, 1000, 'wf', NULL, NULL, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE get_category_messages_group('rare', 1, 1000, NULL, 0, 2, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE get_category_messages_corr_group('rare', 1, 1000, 'wf', 0, 2, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE category_get(1, 'rare', NULL, NULL, NULL, 1000, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE category_get_corr(1, 'rare', 'wf', NULL, NULL, 1000, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE category_get_group(1, 'rare', NULL, 0, 2, 1000, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE category_get_corr_group(1, 'rare', 'wf', 0, 2, 1000, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE category_positions(1, 'rare', NULL, NULL, NULL, 1000, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE category_positions_group(1, 'rare', NULL, 0, 2, 1000, 9223372036854775807);

-- What an equality on the category gets as a generic plan: the primary key,
-- filtering every row of the store.
PREPARE equality (text, bigint, bigint) AS
  SELECT * FROM message_store.messages
  WHERE message_store.category(stream_name) = $1 AND global_position >= $2
  ORDER BY global_position LIMIT $3;
EXPLAIN (COSTS OFF) EXECUTE equality('rare', 1, 1000);

-- Custom plans (values known) agree, for the rare and the common category.
SET plan_cache_mode = force_custom_plan;
EXPLAIN (COSTS OFF) EXECUTE get_category_messages('rare', 1, 1000, NULL, NULL, NULL, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE get_category_messages('common', 1, 1000, NULL, NULL, NULL, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE category_get(1, 'rare', NULL, NULL, NULL, 1000, 9223372036854775807);
EXPLAIN (COSTS OFF) EXECUTE category_get(1, 'common', NULL, NULL, NULL, 1000, 9223372036854775807);
RESET plan_cache_mode;

-- The statements are the ones the faces run: same rows.
SELECT count(*) AS rare_rows FROM get_category_messages('rare');
SELECT jsonb_array_length(eventodb.category_get('default', 'rare', 1, 1000, NULL, NULL, NULL)::jsonb) AS rare_rows_gw;

-- And the faces themselves, under generic plans, scan the category index
-- and never walk the primary key: index scans and tuples read counted by
-- the statistics (pg_stat_force_next_flush() makes the next idle moment
-- publish them). Planning a condition probes the primary key for the
-- column's actual bounds, a tuple or two: "walked" means 1,000 or more.
-- A `condition` is planned for its values each time, as PL/pgSQL's EXECUTE
-- is, so it too uses the category index for a rare category.
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE scans AS
SELECT indexrelname AS index, idx_scan AS scans_before, idx_tup_read AS read_before
FROM pg_stat_user_indexes
WHERE schemaname = 'message_store' AND relname = 'messages';
SET plan_cache_mode = force_generic_plan;
SET message_store.sql_condition = on;
SELECT count(*) AS rare_rows FROM get_category_messages('rare');
SELECT count(*) AS rare_rows_group FROM get_category_messages('rare', 1, 1000, NULL, 0, 1);
SELECT count(*) AS rare_rows_condition FROM get_category_messages('rare', 1, 1000, NULL, NULL, NULL, $$type = 'T'$$);
SELECT jsonb_array_length(eventodb.category_get('default', 'rare', 1, 1000, NULL, NULL, NULL)::jsonb) AS rare_rows_gw;
SELECT count(*) AS rare_positions FROM eventodb.category_positions('default', 'rare', 1, 1000, NULL, 0, 1);
RESET message_store.sql_condition;
RESET plan_cache_mode;
SELECT pg_stat_force_next_flush();
SELECT s.index, i.idx_scan - s.scans_before >= 5 AS scanned_5_times,
       i.idx_tup_read - s.read_before >= 1000 AS walked
FROM scans s JOIN pg_stat_user_indexes i ON i.indexrelname = s.index
WHERE i.schemaname = 'message_store' AND i.relname = 'messages'
ORDER BY s.index;
SELECT eventodb.category_read_sql('nope', false, false);

DEALLOCATE ALL;
TRUNCATE message_store.messages RESTART IDENTITY;
SELECT eventodb.namespace_delete('default') >= 0 AS default_deleted;
