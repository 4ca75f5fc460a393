-- limit for get_category_messages batch 100
\set c random(0, :categories - 1)
\set g random(1, :messages - :messages / 10)
SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time
FROM bare.messages
WHERE split_part(stream_name, '-', 1) = 'bench' || :c AND global_position >= :g
ORDER BY global_position LIMIT 100;
