-- gateway entry point behind stream.last
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT eventodb.stream_last('default', 'bench' || :c || '-' || :s, NULL);
