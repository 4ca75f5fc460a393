-- Client values quoted in the errors of the gateway's entry points are
-- capped (docs/security.md, "Echoed client values"): up to 256 bytes unchanged,
-- longer ones cut at a character boundary with "...(truncated, N bytes)",
-- so a 2 MB message id no longer lands whole in PostgreSQL's log. The
-- Message DB face keeps Message DB's exact texts (docs/sql-api.md#errors-sqlstates), which
-- quote stream names whole.
\set VERBOSITY terse
\pset null <null>

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.f(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN t IS NULL THEN int4send(-1)
              ELSE int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END $$;
CREATE FUNCTION pg_temp.item(stream text, id text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT pg_temp.f('default') || pg_temp.f(stream) || pg_temp.f('T') || pg_temp.f('{}')
      || pg_temp.f(NULL) || pg_temp.f(id) || '\x00'::bytea || int8send(0) $$;

SELECT eventodb.namespace_create('default', 'default', NULL) IS NOT NULL AS created;

-- An invalid id of 2 MB: stream_write and the group commit quote 256 bytes.
SELECT length(e) AS length, left(e, 30) AS head, right(e, 40) AS tail
FROM pg_temp.err(format('SELECT eventodb.stream_write(%L, %L, %L, %L, NULL, %L, NULL)',
                        'default', 'cap-1', 'T', '{}', repeat('x', 2097152))) AS e;
SELECT length(message) AS length, right(message, 40) AS tail, sqlstate
FROM eventodb.stream_write_batch(int4send(2) || pg_temp.item('cap-1', repeat('x', 2097152))
                                 || pg_temp.item('cap-1', NULL));
-- Short values are quoted exactly; a cut never splits a character.
SELECT pg_temp.err($$SELECT eventodb.stream_write('default', 'cap-1', 'T', '{}', NULL, 'not-a-uuid', NULL)$$);
SELECT right(e, 45) AS tail
FROM pg_temp.err(format('SELECT eventodb.stream_write(%L, %L, %L, %L, NULL, %L, NULL)',
                        'default', 'cap-1', 'T', '{}', 'x' || repeat('é', 300))) AS e;

-- Unknown namespaces of 1 MB, a token for another namespace.
SELECT length(e) AS length, right(e, 50) AS tail
FROM pg_temp.err(format('SELECT eventodb.namespace_info(%L)', repeat('n', 1048576))) AS e;
SELECT length(e) AS length, right(e, 50) AS tail
FROM pg_temp.err(format('SELECT eventodb.namespace_delete(%L)', repeat('n', 1048576))) AS e;
SELECT pg_temp.err($$SELECT eventodb.namespace_create('cap-a', '', 'ns_Y2FwLWI_' || repeat('0', 64))$$);

-- The Message DB face, as the message_store role: its texts stay exact,
-- whole stream name included.
SET ROLE message_store;
SELECT length(e) AS length, left(e, 40) AS head
FROM pg_temp.err(format('SELECT write_message(%L, %L, %L, %L, NULL, 5)',
                        gen_random_uuid(), 'cap-' || repeat('s', 1048576), 'T', '{}')) AS e;
RESET ROLE;

SELECT count(*) AS written FROM message_store.messages;
SELECT eventodb.namespace_delete('default') AS default_deleted;
TRUNCATE message_store.messages RESTART IDENTITY;
