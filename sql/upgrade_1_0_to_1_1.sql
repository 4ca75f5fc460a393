-- Version 1.0 -> 1.1 (extension/schema/README.md): a database installed at
-- 1.0 and holding data updates in place; the data is intact, the objects
-- equal a fresh 1.1 install, and a namespace created under 1.0 gets
-- subscriptions.
\set VERBOSITY terse
SET client_min_messages = warning;
DROP EXTENSION eventodb CASCADE;
RESET client_min_messages;

-- What a fresh install of the default version creates, by identity.
CREATE EXTENSION eventodb;
CREATE TEMP TABLE fresh AS
  SELECT pg_describe_object(classid, objid, objsubid) AS object
    FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
     AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'eventodb');
SET client_min_messages = warning;
DROP EXTENSION eventodb CASCADE;
RESET client_min_messages;

CREATE EXTENSION eventodb VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'eventodb';
SELECT eventodb.namespace_create('old', '', 'ns_b2xk_' || repeat('0', 64)) IS NOT NULL AS created;
SELECT eventodb.stream_write('old', 'acct-1', 'Opened', '{"a":1}', NULL, NULL, NULL);
SELECT eventodb.stream_write('old', 'acct-1', 'Closed', '{"a":2}', NULL, NULL, 0);
SELECT message_store.write_message('a0000000-0000-4000-8000-000000000001', 'acct-2', 'Opened', '{"b":1}');

ALTER EXTENSION eventodb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'eventodb';

-- Same objects as a fresh install (none missing, none extra).
SELECT object AS missing FROM fresh
EXCEPT SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
  WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
    AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'eventodb');
SELECT pg_describe_object(classid, objid, objsubid) AS extra FROM pg_depend
  WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
    AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'eventodb')
EXCEPT SELECT object FROM fresh;
SELECT count(*) > 40 AS objects_compared FROM fresh;

-- Data intact, writes and reads go on.
SELECT stream_name, position, global_position, type, data FROM eventodb_ns_1.messages ORDER BY global_position;
SELECT id, stream_name, position, data FROM message_store.messages;
SELECT eventodb.stream_write('old', 'acct-1', 'Reopened', '{"a":3}', NULL, NULL, 1);

-- The 1.0 namespace gets subscriptions, and they deliver its old messages.
SELECT eventodb.subscription_create('old', 's', 'acct') IS NOT NULL AS created;
SELECT stream_name, position, attempt FROM eventodb.subscription_fetch('old', 's', 'c', 10);

-- The 1.0 namespace gets the stream lifecycle too: its state tables are
-- made by the first call, and its old messages can be deleted and redacted.
SELECT eventodb.message_redact('old', 1, 'erasure request') IS NOT NULL AS redacted;
SELECT eventodb.stream_delete('old', 'acct-1', true);
SELECT eventodb.stream_write('old', 'acct-1', 'Again', '{}', NULL, NULL, NULL);
