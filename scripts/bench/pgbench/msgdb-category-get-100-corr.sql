-- get_category_messages batch 100 filtered by correlation category (1 in 10 match)
\set c random(0, :categories - 1)
\set g random(1, :messages - :messages / 10)
\set k random(0, 9)
SELECT * FROM message_store.get_category_messages('bench' || :c, :g, 100, 'corr' || :k);
