-- The rare category of `make bench`: 5 messages of category 'rare' after the
-- seeded store (global positions :messages + 1 to + 5), so a reader that
-- walks the primary key instead of the category index scans the whole store
-- to find them. Run after seed.sql, in every database of the run.
INSERT INTO message_store.messages (global_position, position, time, stream_name, type, data, metadata, id)
SELECT :messages + r, 0,
       timestamp '2025-01-01' + (:messages + r) * interval '1 millisecond',
       'rare-' || r, 'Opened', jsonb_build_object('n', r), NULL,
       md5('bench-rare-' || r)::uuid
FROM generate_series(1, 5) AS r;
SELECT setval('message_store.messages_global_position_seq', :messages + 5);
