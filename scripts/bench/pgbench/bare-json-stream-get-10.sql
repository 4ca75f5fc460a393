-- limit for stream.get batch 10: the same rows rendered to a JSON array by SQL
\set s random(0, :streams - 1)
\set c :s % :categories
\set p random(0, :messages / :streams - 10)
SELECT coalesce(json_agg(json_build_array(id, type, position, global_position, data, metadata, replace(time::text, ' ', 'T') || 'Z')
                         ORDER BY position), '[]')::text
FROM (SELECT * FROM bare.messages WHERE stream_name = 'bench' || :c || '-' || :s AND position >= :p
      ORDER BY position LIMIT 10) m;
