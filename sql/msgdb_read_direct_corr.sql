-- get_category_messages with a correlation, read by a direct scan of the
-- category index (extension/read_direct.c): every row as the SQL query gives
-- it, with and without the correlation, messages without metadata or
-- without a correlation, and the SQL path when the index's third column is
-- not the correlation's category.
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse

SELECT count(message_store.write_message(
         '71000000-0000-4000-8000-' || lpad(n::text, 12, '0'), 'corr' || (n % 2) || '-' || (n % 5), 'T',
         jsonb_build_object('n', n),
         CASE n % 4
           WHEN 0 THEN NULL
           WHEN 1 THEN jsonb_build_object('correlationStreamName', 'orders-' || n)
           WHEN 2 THEN jsonb_build_object('correlationStreamName', 'payments:x-' || n)
           ELSE jsonb_build_object('other', n)
         END))
FROM generate_series(1, 40) n;

-- The reference: the plain SQL over the table.
CREATE FUNCTION pg_temp.category_sql(c text, p bigint, b bigint, corr text) RETURNS SETOF message_store.message
LANGUAGE sql AS $$
  SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position,
         data::varchar, metadata::varchar, time
  FROM message_store.messages
  WHERE message_store.category(stream_name) = c AND global_position >= p
    AND message_store.category(metadata->>'correlationStreamName') = corr
  ORDER BY global_position LIMIT CASE WHEN b = -1 THEN NULL ELSE b END $$;
CREATE FUNCTION pg_temp.same(c text, p bigint, b bigint, corr text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN (SELECT array_agg(m ORDER BY m.global_position)
                    FROM message_store.get_category_messages(c, p, b, corr) m)
                   IS NOT DISTINCT FROM
                   (SELECT array_agg(m ORDER BY m.global_position) FROM pg_temp.category_sql(c, p, b, corr) m)
         THEN 'same' ELSE 'DIFFERENT' END
    || ' ' || (SELECT count(*) FROM message_store.get_category_messages(c, p, b, corr)) $$;

SELECT c, p, b, corr, pg_temp.same(c, p, b, corr)
FROM (VALUES ('corr0', 1, 1000, 'orders'), ('corr1', 1, 1000, 'orders'), ('corr0', 1, 1000, 'payments:x'),
             ('corr1', 1, 1000, 'payments:x'), ('corr1', 10, 3, 'orders'), ('corr1', 1, -1, 'orders'),
             ('corr1', 1, 0, 'orders'), ('corr1', 99, 10, 'orders'), ('corr1', 1, 10, 'nothing'),
             ('corr1', 1, 10, 'order'), ('nothing', 1, 10, 'orders')) v(c, p, b, corr);
SELECT global_position, stream_name, metadata
FROM message_store.get_category_messages('corr1', 1, 3, 'orders');

-- An index whose third column is something else: the SQL path answers,
-- the same rows; the plain read keeps its direct scan.
BEGIN;
DROP INDEX message_store.messages_category;
CREATE INDEX messages_category ON message_store.messages (
  message_store.category(stream_name), global_position, message_store.category(type));
SELECT pg_temp.same('corr1', 1, 1000, 'orders');
SELECT count(*) FROM message_store.get_category_messages('corr1');
ROLLBACK;
SELECT pg_temp.same('corr1', 1, 1000, 'orders');
TRUNCATE message_store.messages RESTART IDENTITY;
