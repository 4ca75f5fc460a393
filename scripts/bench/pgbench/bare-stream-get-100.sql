-- limit for get_stream_messages batch 100
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time
FROM bare.messages
WHERE stream_name = 'bench' || :c || '-' || :s AND position >= 0
ORDER BY position LIMIT 100;
