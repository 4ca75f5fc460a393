-- the SQL call behind one stream.get (batch 10) of scripts/tools/load-test, issued directly
\set s random(0, 99)
SELECT eventodb.stream_get('default', 'ovh-' || :s, 0, NULL, 10);
