-- limit for write_message over 10 categories with a per-stream lock (our commit-horizon write path)
\set s random(0, 999)
\set c :s % 10
\startpipeline
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('benchw' || :c || '-' || :s));
INSERT INTO bare.messages (id, stream_name, position, type, data, metadata)
SELECT gen_random_uuid(), 'benchw' || :c || '-' || :s, coalesce(max(position), -1) + 1, 'Deposited',
  '{"amount": 100.5, "currency": "EUR", "accountId": 42, "customer": {"id": "cust-42", "name": "Customer 42", "address": {"zip": "01234", "city": "Springfield", "street": "42 Main Street"}}, "items": [{"sku": "SKU-42", "quantity": 2, "unitPrice": 9.99}], "note": "lorem ipsum lorem ipsum lorem ipsum lorem ipsum"}',
  '{"correlationStreamName": "corr1-1", "causationMessageGlobalPosition": 1, "userId": "user-1", "schemaVersion": 2}'
FROM bare.messages WHERE stream_name = 'benchw' || :c || '-' || :s;
END;
\endpipeline
