-- The extension's statements resolve operators and functions in pg_catalog
-- alone (docs/security.md#the-search-path): exact-match operators and
-- functions planted in a schema ahead on the caller's search path are never
-- called, from any face. The planted ones raise, so a hijacked call fails.
\set VERBOSITY terse

CREATE SCHEMA planted;
CREATE FUNCTION planted.trap(a varchar, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'planted operator called'; END $$;
CREATE FUNCTION planted.trap_vv(a varchar, b varchar) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'planted operator called'; END $$;
CREATE FUNCTION planted.trap_jj(a jsonb, b jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'planted operator called'; END $$;
CREATE OPERATOR planted.= (LEFTARG = varchar, RIGHTARG = text, FUNCTION = planted.trap);
CREATE OPERATOR planted.>= (LEFTARG = varchar, RIGHTARG = text, FUNCTION = planted.trap);
CREATE OPERATOR planted.<= (LEFTARG = varchar, RIGHTARG = text, FUNCTION = planted.trap);
CREATE OPERATOR planted.< (LEFTARG = varchar, RIGHTARG = text, FUNCTION = planted.trap);
CREATE OPERATOR planted.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = planted.trap_vv);
CREATE OPERATOR planted.>= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = planted.trap_vv);
CREATE OPERATOR planted.<= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = planted.trap_vv);
CREATE OPERATOR planted.->> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = planted.trap_jj);

-- the trap springs where the path reaches it
SET search_path = planted, public;
SELECT 'a'::varchar = 'a'::text AS sprung;
RESET search_path;

SELECT eventodb.namespace_create('pin') IS NOT NULL AS created;
SELECT count(eventodb.stream_write('pin', s, 'Opened', '{}', '{"correlationStreamName":"flow-1"}', NULL, NULL))
  AS written
FROM unnest(ARRAY['account-1', 'account-2', 'account-1', 'other-1']) AS s;
SELECT count(message_store.write_message(gen_random_uuid()::text, s, 'Opened', '{}',
                                         '{"correlationStreamName":"flow-1"}'))
  AS written
FROM unnest(ARRAY['account-1', 'account-2', 'other-1']) AS s;

SET search_path = planted, public;
SELECT count(*) AS msgdb_category FROM message_store.get_category_messages('account');
SELECT count(*) AS msgdb_correlated FROM message_store.get_category_messages('account', 1, 1000, 'flow');
SELECT count(*) AS msgdb_member FROM message_store.get_category_messages('account', 1, 1000, NULL, 0, 2);
SELECT count(*) AS msgdb_stream FROM message_store.get_stream_messages('account-1');
SELECT type AS msgdb_last FROM message_store.get_last_stream_message('account-1');
SELECT message_store.stream_version('account-1') AS msgdb_version;
SELECT jsonb_array_length(eventodb.category_get('pin', 'account', 1, 1000, NULL, NULL, NULL)::jsonb) AS category_get;
SELECT jsonb_array_length(eventodb.category_get('pin', 'account', 1, 1000, 'flow', NULL, NULL)::jsonb) AS correlated;
SELECT jsonb_array_length(eventodb.category_get('pin', 'account', 1, 1000, NULL, 1, 2)::jsonb) AS member;
SELECT jsonb_array_length(eventodb.category_get_types('pin', 'account', 1, 1000, NULL, NULL, NULL,
                                                      ARRAY['Opened'])::jsonb) AS typed;
SELECT count(*) AS positions FROM eventodb.category_positions('pin', 'account', 1, 1000, NULL, NULL, NULL);
SELECT eventodb.category_position_at('pin', 'account', now() - interval '1 hour') AS position_at;
SELECT eventodb.subscription_create('pin', 'billing', 'account') IS NOT NULL AS subscribed;
SELECT count(*) AS fetched FROM eventodb.subscription_fetch('pin', 'billing', 'c1', 10);
SELECT eventodb.stream_set_retention('pin', 'account-1', max_count => 1) IS NOT NULL AS rule_set;
SELECT eventodb.retention_run('pin') AS removed;

-- The inserts of the writes run in the caller's path, as Message DB's do: a
-- trigger on a messages table that names its objects without a schema works.
CREATE TABLE public.pin_audit (stream text);
CREATE FUNCTION public.pin_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO pin_audit VALUES (NEW.stream_name); RETURN NEW; END $$;
CREATE TRIGGER pin_audit AFTER INSERT ON message_store.messages
  FOR EACH ROW EXECUTE FUNCTION public.pin_audit_write();
SELECT message_store.write_message(gen_random_uuid()::text, 'audit-1', 'Opened', '{}') AS msgdb_written;
SELECT stream FROM pin_audit;
DROP TRIGGER pin_audit ON message_store.messages;
RESET search_path;

SELECT eventodb.namespace_delete('pin') AS deleted;
DROP SCHEMA planted CASCADE;
DROP TABLE public.pin_audit;
DROP FUNCTION public.pin_audit_write();
TRUNCATE message_store.messages RESTART IDENTITY;
