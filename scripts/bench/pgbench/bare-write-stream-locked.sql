-- limit for write_message with a per-stream lock (our commit-horizon write path): version lookup +
-- INSERT under an advisory lock on the stream held to commit.
-- Pipelined, so that the lock is not held across client round trips (a function call is one).
\set s random(0, 99)
\startpipeline
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('benchw-' || :s));
INSERT INTO bare.messages (id, stream_name, position, type, data, metadata)
SELECT gen_random_uuid(), 'benchw-' || :s, coalesce(max(position), -1) + 1, 'Deposited',
  '{"amount": 100.5, "currency": "EUR", "accountId": 42, "customer": {"id": "cust-42", "name": "Customer 42", "address": {"zip": "01234", "city": "Springfield", "street": "42 Main Street"}}, "items": [{"sku": "SKU-42", "quantity": 2, "unitPrice": 9.99}], "note": "lorem ipsum lorem ipsum lorem ipsum lorem ipsum"}',
  '{"correlationStreamName": "corr1-1", "causationMessageGlobalPosition": 1, "userId": "user-1", "schemaVersion": 2}'
FROM bare.messages WHERE stream_name = 'benchw-' || :s;
END;
\endpipeline
