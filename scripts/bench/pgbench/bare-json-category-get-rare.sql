-- limit for category.get of the rare category rendered by SQL
SELECT coalesce(json_agg(json_build_array(id, stream_name, type, position, global_position, data, metadata, replace(time::text, ' ', 'T') || 'Z')
                         ORDER BY global_position), '[]')::text
FROM (SELECT * FROM bare.messages
      WHERE split_part(stream_name, '-', 1) = 'rare' AND global_position >= 1
      ORDER BY global_position LIMIT 1000) m;
