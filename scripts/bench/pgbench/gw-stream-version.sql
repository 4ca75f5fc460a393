-- gateway entry point behind stream.version
\set s random(0, :streams - 1)
\set c :s % :categories
SELECT eventodb.stream_version('default', 'bench' || :c || '-' || :s);
