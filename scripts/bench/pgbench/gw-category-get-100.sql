-- gateway entry point behind category.get: 100 messages rendered as the response JSON
\set c random(0, :categories - 1)
\set g random(1, :messages - :messages / 10)
SELECT eventodb.category_get('default', 'bench' || :c, :g, 100, NULL, NULL, NULL);
