-- write_message to one of 1000 streams spread over 10 categories
\set s random(0, 999)
\set c :s % 10
SELECT message_store.write_message(gen_random_uuid()::varchar, 'benchw' || :c || '-' || :s, 'Deposited',
  '{"amount": 100.5, "currency": "EUR", "accountId": 42, "customer": {"id": "cust-42", "name": "Customer 42", "address": {"zip": "01234", "city": "Springfield", "street": "42 Main Street"}}, "items": [{"sku": "SKU-42", "quantity": 2, "unitPrice": 9.99}], "note": "lorem ipsum lorem ipsum lorem ipsum lorem ipsum"}',
  '{"correlationStreamName": "corr1-1", "causationMessageGlobalPosition": 1, "userId": "user-1", "schemaVersion": 2}');
