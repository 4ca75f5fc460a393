-- get_last_stream_message of a random stream
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT * FROM message_store.get_last_stream_message('bench' || :c || '-' || :s);
