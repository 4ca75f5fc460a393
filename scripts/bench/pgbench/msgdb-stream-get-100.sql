-- get_stream_messages, a whole 100-message stream
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT * FROM message_store.get_stream_messages('bench' || :c || '-' || :s, 0, 100);
