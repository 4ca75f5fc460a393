-- limit for the correlation read
\set c random(0, :categories - 1)
\set g random(1, :messages - :messages / 10)
\set k random(0, 9)
SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time
FROM bare.messages
WHERE split_part(stream_name, '-', 1) = 'bench' || :c AND global_position >= :g
  AND split_part(metadata->>'correlationStreamName', '-', 1) = 'corr' || :k
ORDER BY global_position LIMIT 100;
