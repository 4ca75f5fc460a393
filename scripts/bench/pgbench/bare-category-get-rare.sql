-- limit for get_category_messages of the rare category: the indexed SELECT
SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time
FROM bare.messages
WHERE split_part(stream_name, '-', 1) = 'rare' AND global_position >= 1
ORDER BY global_position LIMIT 1000;
