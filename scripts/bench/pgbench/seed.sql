-- Deterministic seed for `make bench`: :messages messages over :streams streams in
-- :categories categories (stream s belongs to category s % :categories, message g to
-- stream (g-1) % :streams), so every database of the run holds byte-identical rows.
-- Run against a database that has message_store.messages (ours or Message DB's).
-- :compact true keeps each message's data to its first three fields (the large store:
-- a 10 M-message copy then fits the page cache twice over, so its reads measure the
-- code and the index depth, not the disk).
INSERT INTO message_store.messages (global_position, position, time, stream_name, type, data, metadata, id)
SELECT g,
       (g - 1) / :streams,
       timestamp '2025-01-01' + g * interval '1 millisecond',
       'bench' || ((g - 1) % :streams % :categories) || '-' || ((g - 1) % :streams),
       (ARRAY['Opened', 'Deposited', 'Withdrawn', 'Closed'])[1 + g % 4],
       CASE WHEN :compact THEN jsonb_build_object(
         'accountId', (g - 1) % :streams,
         'amount', (g * 37) % 10000 / 100.0,
         'currency', 'EUR')
       ELSE jsonb_build_object(
         'accountId', (g - 1) % :streams,
         'amount', (g * 37) % 10000 / 100.0,
         'currency', 'EUR',
         'customer', jsonb_build_object(
           'id', 'cust-' || g % 5000,
           'name', 'Customer ' || g % 5000,
           'address', jsonb_build_object('street', g % 999 || ' Main Street', 'city', 'Springfield',
                                         'zip', lpad((g % 100000)::text, 5, '0'))),
         'items', jsonb_build_array(
           jsonb_build_object('sku', 'SKU-' || g % 10000, 'quantity', 1 + g % 5, 'unitPrice', 9.99),
           jsonb_build_object('sku', 'SKU-' || (g * 7) % 10000, 'quantity', 1, 'unitPrice', 24.5)),
         'note', repeat('lorem ipsum ', 8)) END,
       -- correlation category = position % 10: one tenth of every category per value
       jsonb_build_object(
         'correlationStreamName', 'corr' || ((g - 1) / :streams % 10) || '-' || g,
         'causationMessageGlobalPosition', g,
         'userId', 'user-' || g % 100,
         'schemaVersion', 2),
       md5('bench-message-' || g)::uuid
FROM generate_series(1, :messages) AS g;
SELECT setval('message_store.messages_global_position_seq', :messages);
