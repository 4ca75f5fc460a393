-- get_category_messages batch 100 as member :m of a consumer group of 4
\set c random(0, :categories - 1)
\set g random(1, :messages - :messages / 10)
\set m random(0, 3)
SELECT * FROM message_store.get_category_messages('bench' || :c, :g, 100, NULL, :m, 4);
