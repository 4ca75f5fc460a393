-- limit for category.get batch 100 rendered by SQL
\set c random(0, :categories - 1)
\set g random(1, :messages - :messages / 10)
SELECT coalesce(json_agg(json_build_array(id, stream_name, type, position, global_position, data, metadata, replace(time::text, ' ', 'T') || 'Z')
                         ORDER BY global_position), '[]')::text
FROM (SELECT * FROM bare.messages
      WHERE split_part(stream_name, '-', 1) = 'bench' || :c AND global_position >= :g
      ORDER BY global_position LIMIT 100) m;
