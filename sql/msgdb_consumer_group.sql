-- docs/sql-api.md#hash_64: consumer-group assignment
-- member = MOD(@hash_64(cardinal_id(stream)), size); streams without '-' go
-- to no member; compound ids stay together.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\pset null <null>

SELECT write_message(gen_random_uuid()::varchar, s, 'T', '{}')
FROM unnest(ARRAY[
  'account-1', 'account-2', 'account-3', 'account-123', 'account-123+retry',
  'account-abc', 'account-a5eb2a97-84d9-4ccf-8a56-7160338b11e2', 'account-ñ1',
  'account-', 'account', 'account-42', 'account-user@example.com'
]) WITH ORDINALITY AS u(s, n)
ORDER BY n;

-- The docs/sql-api.md#hash_64 table, from the functions themselves.
SELECT s.stream_name, cardinal_id(s.stream_name), hash_64(cardinal_id(s.stream_name)),
       mod(@hash_64(cardinal_id(s.stream_name)), 2) AS size_2,
       mod(@hash_64(cardinal_id(s.stream_name)), 3) AS size_3,
       mod(@hash_64(cardinal_id(s.stream_name)), 4) AS size_4
FROM messages s ORDER BY global_position;

-- What each member receives, for sizes 1 to 4.
SELECT size, member,
       array_agg(stream_name ORDER BY global_position) AS streams
FROM generate_series(1, 4) AS size,
     generate_series(0, 3) AS member,
     get_category_messages('account', 1, -1, NULL, member, size)
WHERE member < size
GROUP BY size, member
ORDER BY size, member;

-- Every message with an id lands on exactly one member; 'account' on none.
SELECT size,
       (SELECT count(*) FROM generate_series(0, size - 1) AS m,
               get_category_messages('account', 1, -1, NULL, m, size)) AS delivered,
       (SELECT count(*) FROM messages) AS total
FROM generate_series(1, 5) AS size;

-- The group filter composes with position, batch size and correlation.
SELECT stream_name, global_position
FROM get_category_messages('account', 3, 2, NULL, 1, 3);
SELECT write_message(gen_random_uuid()::varchar, s, 'Correlated', '{}',
                     '{"correlationStreamName": "workflow-7"}')
FROM unnest(ARRAY['account-1', 'account-2', 'account-42']) WITH ORDINALITY AS u(s, n)
ORDER BY n;
SELECT stream_name, position, global_position
FROM get_category_messages('account', 1, 1000, 'workflow', 0, 3);

-- Large sizes are fine up to the smallint limit (docs/sql-api.md#get_category_messages quirk).
SELECT count(*) FROM get_category_messages('account', 1, -1, NULL, 0, 32767);
