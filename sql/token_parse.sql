-- docs/http-api.md#tokens: token parsing, the code shared with the gateway
-- (common/token.c) seen through eventodb.token_namespace. Order of the
-- checks, exact texts (including Go's decoder details) and the lenient
-- base64url decoding.
\set VERBOSITY terse
\set z64 '''0000000000000000000000000000000000000000000000000000000000000000'''

CREATE FUNCTION pg_temp.tok(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  ns bytea;
BEGIN
  ns := eventodb.token_namespace(t);
  RETURN 'ok ' || ns::text;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- Valid tokens: "default" with all-zero and mixed-case hex.
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || :z64);
SELECT convert_from(eventodb.token_namespace('ns_ZGVmYXVsdA_' || repeat('aB', 32)), 'UTF8');

-- Lenient base64url: unused low bits of the last character are ignored,
-- embedded CR/LF skipped.
SELECT convert_from(eventodb.token_namespace('ns_ZGVmYXVsdB_' || :z64), 'UTF8') AS low_bits;
SELECT convert_from(eventodb.token_namespace(E'ns_ZGVm\nYXVs\r\ndA_' || :z64), 'UTF8') AS crlf;
-- The decoded id need not be UTF-8.
SELECT pg_temp.tok('ns_-w_' || :z64);

-- 1. prefix
SELECT pg_temp.tok('');
SELECT pg_temp.tok('ns');
SELECT pg_temp.tok('NS_ZGVmYXVsdA_' || :z64);
SELECT pg_temp.tok('Bearer ns_ZGVmYXVsdA_' || :z64);

-- 2. exactly two parts after the prefix (split on every '_')
SELECT pg_temp.tok('ns_');
SELECT pg_temp.tok('ns_ZGVmYXVsdA');
SELECT pg_temp.tok('ns_a_b_' || :z64);
SELECT pg_temp.tok('ns_YWI__' || :z64) AS ab_question_mark;
SELECT pg_temp.tok('ns____');

-- 3. random part length, in bytes
SELECT pg_temp.tok('ns_ZGVmYXVsdA_');
SELECT pg_temp.tok('ns_ZGVmYXVsdA_abc');
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || repeat('0', 63));
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || repeat('0', 65));
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || repeat('é', 32));

-- 4. hex, first invalid byte formatted like Go's %#U
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || repeat('0', 63) || 'g');
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || 'x' || repeat('0', 62) || 'g');
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || ' ' || repeat('0', 63));
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || '''' || repeat('0', 63));
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || E'\x01' || repeat('0', 63));
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || E'\x7f' || repeat('0', 63));
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || repeat('é', 32));
SELECT pg_temp.tok('ns_ZGVmYXVsdA_' || '€' || repeat('0', 61));
-- hex is checked before the namespace part
SELECT pg_temp.tok('ns_!!!_' || repeat('0', 63) || 'z');

-- 5. base64url (no padding, URL alphabet), Go's byte offsets
SELECT pg_temp.tok('ns_ZGV!_' || :z64);
SELECT pg_temp.tok('ns_Z_' || :z64);
SELECT pg_temp.tok('ns_ZGVmY_' || :z64);
SELECT pg_temp.tok('ns_ZGVmYXVsdA==_' || :z64);
SELECT pg_temp.tok('ns_ZG==_' || :z64);
SELECT pg_temp.tok('ns_ab+c_' || :z64);
SELECT pg_temp.tok('ns_ab/c_' || :z64);
SELECT pg_temp.tok(E'ns_ZGVmY\n_' || :z64);
SELECT pg_temp.tok(E'ns_ZGVm\tYXVsdA_' || :z64);
SELECT pg_temp.tok('ns_ZGVmYXVsdA _' || :z64);

-- 6. empty namespace
SELECT pg_temp.tok('ns__' || :z64);
SELECT pg_temp.tok(E'ns_\r\n_' || :z64);

-- Tokens minted by namespace_create parse back to their namespace, for
-- ids of every length mod 3 and non-ASCII ids.
SELECT id, convert_from(eventodb.token_namespace(eventodb.namespace_create(id)), 'UTF8') = id AS round_trip
FROM unnest(ARRAY['a', 'ab', 'abc', 'tenant-a', 'ümlaut ñ', '日本']) AS id;
SELECT eventodb.namespace_delete(id)
FROM unnest(ARRAY['a', 'ab', 'abc', 'tenant-a', 'ümlaut ñ', '日本']) AS id;
