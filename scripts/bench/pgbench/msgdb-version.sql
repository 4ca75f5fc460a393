-- stream_version of a random stream
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT message_store.stream_version('bench' || :c || '-' || :s);
