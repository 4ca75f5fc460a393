-- limit for stream_version
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT max(position) FROM bare.messages WHERE stream_name = 'bench' || :c || '-' || :s;
