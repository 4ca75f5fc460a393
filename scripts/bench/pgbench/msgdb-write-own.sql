-- write_message with each client on a stream of its own, all in ONE category: the same rows
-- as bare-write-unlocked.sql, so the ratio is the cost of the function and its stream lock,
-- without waits for another writer of the stream (msgdb-write.sql has those, 10 clients on
-- 100 streams)
SELECT message_store.write_message(gen_random_uuid()::varchar, 'benchu-' || :client_id, 'Deposited',
  '{"amount": 100.5, "currency": "EUR", "accountId": 42, "customer": {"id": "cust-42", "name": "Customer 42", "address": {"zip": "01234", "city": "Springfield", "street": "42 Main Street"}}, "items": [{"sku": "SKU-42", "quantity": 2, "unitPrice": 9.99}], "note": "lorem ipsum lorem ipsum lorem ipsum lorem ipsum"}',
  '{"correlationStreamName": "corr1-1", "causationMessageGlobalPosition": 1, "userId": "user-1", "schemaVersion": 2}');
