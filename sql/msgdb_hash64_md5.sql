-- hash_64 runs its own MD5 (common/md5.c): it must agree with the definition
-- Message DB gives it (docs/sql-api.md#hash_64) over every padding case (byte lengths
-- around the 56/64-byte block boundaries), multi-byte and supplementary-plane
-- UTF-8, and long multi-block inputs.
SET search_path = message_store, public;

CREATE TEMP TABLE hash_inputs (s text);
-- Every character length 0..300 of an ASCII/2-/3-/4-byte UTF-8 mix.
INSERT INTO hash_inputs
  SELECT left(repeat('aé€𝄞b', 80), n) FROM generate_series(0, 300) AS n;
-- Every byte length 0..200 of plain ASCII.
INSERT INTO hash_inputs
  SELECT repeat('x', n) FROM generate_series(0, 200) AS n;
-- Stream-like names with a BMP character (below the surrogates) or an astral one.
INSERT INTO hash_inputs
  SELECT 'cat' || chr(1 + (i * 7919) % 55000) || '-' || md5(i::text) || repeat('+', i % 3)
  FROM generate_series(1, 1500) AS i;
INSERT INTO hash_inputs
  SELECT chr(65536 + (i * 104729) % 1000000) || left(md5(i::text), i % 33)
  FROM generate_series(1, 1000) AS i;
-- Long inputs: many blocks, up to about a megabyte.
INSERT INTO hash_inputs
  SELECT repeat(md5(i::text), 1000 * i + i) FROM generate_series(1, 30) AS i;

SELECT count(*) >= 3000 AS enough,
       count(DISTINCT octet_length(s)) > 250 AS many_lengths,
       bool_or(s = '') AS has_empty,
       max(octet_length(s)) > 900000 AS has_long
FROM hash_inputs;

SELECT count(*) AS mismatches
FROM hash_inputs
WHERE hash_64(s) IS DISTINCT FROM ('x' || left(md5(s), 16))::bit(64)::bigint;

SELECT hash_64(NULL) IS NULL AS null_is_null;
