-- limit for get_stream_messages batch 10: the same rows and text conversions in plain SQL
\set s random(0, :streams - 1)
\set c :s % :categories
\set p random(0, :messages / :streams - 10)
SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time
FROM bare.messages
WHERE stream_name = 'bench' || :c || '-' || :s AND position >= :p
ORDER BY position LIMIT 10;
