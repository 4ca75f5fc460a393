-- get_category_messages, 100 messages of a random category from a random global position
\set c random(0, :categories - 1)
\set g random(1, :messages - :messages / 10)
SELECT * FROM message_store.get_category_messages('bench' || :c, :g, 100);
