-- limit for the consumer-group read: Message DB's hash_64(cardinal_id()) written inline
\set c random(0, :categories - 1)
\set g random(1, :messages - :messages / 10)
\set m random(0, 3)
SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time
FROM bare.messages
WHERE split_part(stream_name, '-', 1) = 'bench' || :c AND global_position >= :g
  AND mod(abs(('x' || substr(md5(split_part(substr(stream_name, strpos(stream_name, '-') + 1), '+', 1)), 1, 16))::bit(64)::bigint), 4) = :m
ORDER BY global_position LIMIT 100;
