-- gateway entry point behind stream.get: 10 messages rendered as the response JSON
\set s random(0, :streams - 1)
\set c :s % :categories
\set p random(0, :messages / :streams - 10)
SELECT eventodb.stream_get('default', 'bench' || :c || '-' || :s, :p, NULL, 10);
