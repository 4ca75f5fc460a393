-- limit for stream.last rendered by SQL
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT coalesce((SELECT json_build_array(id, type, position, global_position, data, metadata, replace(time::text, ' ', 'T') || 'Z')::text
                 FROM bare.messages WHERE stream_name = 'bench' || :c || '-' || :s ORDER BY position DESC LIMIT 1), 'null');
