-- limit for get_last_stream_message
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time
FROM bare.messages
WHERE stream_name = 'bench' || :c || '-' || :s
ORDER BY position DESC LIMIT 1;
