-- docs/sql-api.md#id-cardinal_id-category-is_category: category, id, cardinal_id, is_category, hash_64,
-- acquire_lock and the consumer-group hash for every vector, NULL included.
SET search_path = message_store, public;

CREATE TEMP TABLE vectors (n int, s varchar);
INSERT INTO vectors VALUES
  (1, 'account-123'),
  (2, 'account-123+retry'),
  (3, 'account'),
  (4, 'account-'),
  (5, '-123'),
  (6, ''),
  (7, 'a-b-c'),
  (8, 'account-+x'),
  (9, 'account-1+2+3'),
  (10, 'account+x-1'),
  (11, 'Ümlaut-ñ1'),
  (12, '账户-42'),
  (13, 'someStream-a5eb2a97-84d9-4ccf-8a56-7160338b11e2'),
  (14, 'account:command-123'),
  (15, 'account:command+position-abc+def'),
  (16, 'x y-z w'),
  (17, '123'),
  (18, NULL);

-- NULL results print as <null>, '' as nothing.
\pset null <null>
SELECT n, s, category(s), id(s), cardinal_id(s), is_category(s)
FROM vectors ORDER BY n;

BEGIN;
SELECT n, hash_64(s), acquire_lock(s), hash_64(cardinal_id(s))
FROM vectors ORDER BY n;
-- acquire_lock takes the transaction-scoped advisory lock on
-- hash_64(category(s)) in the single-bigint key space (objsubid 1: classid
-- holds the high, objid the low 32 bits); NULL takes none. The 17 non-NULL
-- vectors have 11 distinct categories. It also takes the category's private
-- lock that horizon-mode writers share (objsubid 0x4577 = 17783).
SELECT count(*) FILTER (WHERE objsubid = 1) AS locks,
       count(*) FILTER (WHERE objsubid = 17783) AS private_category_locks,
       count(*) FILTER (WHERE objsubid NOT IN (1, 17783)) AS others,
       bool_and(granted) AS granted
FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid();
SELECT count(*) AS account_lock
FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid()
  AND ((classid::bigint << 32) | objid::bigint) = hash_64('account');
COMMIT;
-- Released at commit.
SELECT count(*) AS locks_after_commit FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid();

-- Spot checks of the algorithm (docs/sql-api.md#hash_64).
SELECT hash_64('') AS empty, left(md5(''), 16) AS md5_prefix;
SELECT hash_64('account-123') AS account_123, left(md5('account-123'), 16) AS md5_prefix;
SELECT hash_64(s) = left('x' || md5(s), 17)::bit(64)::bigint AS same_as_sql
FROM vectors WHERE s IS NOT NULL GROUP BY 1;

-- All five are IMMUTABLE, none STRICT.
SELECT proname, provolatile, proisstrict
FROM pg_proc
WHERE pronamespace = 'message_store'::regnamespace
  AND proname IN ('category', 'id', 'cardinal_id', 'is_category', 'hash_64')
ORDER BY proname;
