-- get_stream_messages, 10 messages from a random position of a random stream
\set s random(0, :streams - 1)
\set c :s % :categories
\set p random(0, :messages / :streams - 10)
SELECT * FROM message_store.get_stream_messages('bench' || :c || '-' || :s, :p, 10);
