-- gateway entry point behind category.get for the rare category, rendered as the response JSON
SELECT eventodb.category_get('default', 'rare', 1, 1000, NULL, NULL, NULL);
