-- docs/sql-api.md#report-views: the six report views - columns, order, and percent of all
-- messages rounded to two decimals.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;

-- Empty table: no rows.
SELECT * FROM stream_summary;
SELECT * FROM category_type_summary;

-- 30 messages: 12 in category cgtest (40.00 %), 17 in other, 1 in single
-- (3.33 %).
SELECT count(*) AS written FROM (
SELECT write_message(gen_random_uuid()::varchar, s, t, '{}')
FROM (
  SELECT n, 'cgtest-' || (n % 3) AS s, 'Cg' AS t
  FROM generate_series(1, 12) AS n
  UNION ALL
  SELECT 12 + n, 'other-' || (n % 2), CASE WHEN n % 2 = 0 THEN 'Even' ELSE 'Other' END
  FROM generate_series(1, 17) AS n
  UNION ALL
  SELECT 30, 'single', 'Odd'
) AS w
ORDER BY n) AS x;

SELECT * FROM stream_summary;
SELECT * FROM type_summary;
SELECT * FROM stream_type_summary;
SELECT * FROM type_stream_summary;
SELECT * FROM category_type_summary;
SELECT * FROM type_category_summary;

-- Column names and types.
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'message_store'::regnamespace AND c.relkind = 'v'
  AND a.attnum > 0
ORDER BY c.relname, a.attnum;
