-- docs/sql-api.md#write_message: write_message - positions, expected versions, returned
-- value, stored values, named notation, unvalidated inputs.
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

-- Positions are dense per stream and returned; global positions shared.
SELECT write_message('10000000-0000-4000-8000-000000000001', 'account-1', 'Opened', '{"a": 1}');
SELECT write_message('10000000-0000-4000-8000-000000000002', 'account-1', 'Deposited', '{"amount": 10}');
SELECT write_message('10000000-0000-4000-8000-000000000003', 'account-2', 'Opened', '{"a": 2}');
SELECT write_message('10000000-0000-4000-8000-000000000004', 'account-1', 'Deposited', '{"amount": 5}',
                     '{"correlationStreamName": "wf-1"}');
SELECT global_position, position, stream_name, type, data, metadata, id
FROM messages ORDER BY global_position;

-- Expected version: the current version, or -1 for an empty stream.
SELECT write_message('10000000-0000-4000-8000-000000000005', 'account-1', 'Withdrawn', '{}', NULL, 2);
SELECT write_message('10000000-0000-4000-8000-000000000006', 'account-3', 'Opened', '{}', NULL, -1);
SELECT write_message('10000000-0000-4000-8000-000000000007', 'account-3', 'Opened', '{}', NULL, -1);
SELECT write_message('10000000-0000-4000-8000-000000000007', 'account-1', 'Withdrawn', '{}', NULL, 2);
SELECT stream_version('account-1'), stream_version('account-3');

-- Named notation with Message DB's parameter names.
SELECT write_message(
  id => '10000000-0000-4000-8000-000000000008',
  stream_name => 'account-3',
  "type" => 'Closed',
  data => '{"reason": "done"}',
  metadata => '{"m": true}',
  expected_version => 0);

-- data/metadata: any JSON value, or SQL NULL; stored as jsonb.
SELECT write_message('10000000-0000-4000-8000-000000000009', 'json-1', 'T', '[1, 2]');
SELECT write_message('10000000-0000-4000-8000-00000000000a', 'json-1', 'T', '"text"');
SELECT write_message('10000000-0000-4000-8000-00000000000b', 'json-1', 'T', 'null', 'null');
SELECT write_message('10000000-0000-4000-8000-00000000000c', 'json-1', 'T', NULL, NULL);
SELECT write_message('10000000-0000-4000-8000-00000000000d', 'json-1', 'T', '{"b": [1,2], "a": 1.0, "big": 1e21}');
SELECT position, data, metadata, jsonb_typeof(data) AS data_type
FROM messages WHERE stream_name = 'json-1' ORDER BY position;

-- Stream names are not validated: category-like, empty, odd characters.
SELECT write_message('10000000-0000-4000-8000-00000000000e', 'account', 'T', '{}');
SELECT write_message('10000000-0000-4000-8000-00000000000f', '', 'T', '{}');
SELECT write_message('10000000-0000-4000-8000-000000000010', 'Ümlaut-ñ1', 'T', '{}');
SELECT write_message('10000000-0000-4000-8000-000000000011', 'Ümlaut-ñ1', 'T', '{}', NULL, 0);

-- A rejected write leaves nothing behind.
SELECT write_message('10000000-0000-4000-8000-000000000012', 'account-1', 'T', '{}', NULL, 0);
SELECT count(*) FROM messages WHERE id = '10000000-0000-4000-8000-000000000012';

-- Within a transaction, later writes see earlier ones; a rollback undoes them.
BEGIN;
SELECT write_message('10000000-0000-4000-8000-000000000013', 'tx-1', 'T', '{}');
SELECT write_message('10000000-0000-4000-8000-000000000014', 'tx-1', 'T', '{}', NULL, 0);
ROLLBACK;
SELECT stream_version('tx-1');
SELECT write_message('10000000-0000-4000-8000-000000000013', 'tx-1', 'T', '{}', NULL, -1);

-- Rolled-back inserts consumed global positions 17 and 18 (gaps).
SELECT global_position, position, stream_name FROM messages ORDER BY global_position;
