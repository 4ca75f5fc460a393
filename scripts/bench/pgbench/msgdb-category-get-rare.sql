-- get_category_messages of the rare category: its 5 messages among the whole store
SELECT * FROM message_store.get_category_messages('rare', 1, 1000);
