-- docs/http-api.md#nsstreams, #nscategories through eventodb.ns_streams / ns_categories:
-- literal prefixes (no LIKE wildcards), byte order (COLLATE "C") for
-- sorting and the cursor, limits, per-stream version, per-category counts.
\set VERBOSITY terse
\pset null <null>

CREATE FUNCTION pg_temp.names(j text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg((e->>'stream') || '@' || (e->>'version'), ' ' ORDER BY o), '[]')
  FROM jsonb_array_elements(j::jsonb) WITH ORDINALITY AS t(e, o)
$$;

SELECT eventodb.namespace_create('gw-list') IS NOT NULL AS created;
SELECT count(eventodb.stream_write('gw-list', s, 'T', '{}', NULL, NULL, NULL)) AS written
FROM unnest(ARRAY['account-2', 'account-10', 'account-1', 'Account-1', 'account-1', 'account_x-1',
                  'account%-1', 'accountZ-1', 'acc', 'b-1', 'é-1', 'z-1', '_-1', '%-1', '-1', '-1',
                  'account\x-1', 'account-1', '日本-1', 'Zebra', 'account-1+retry']) WITH ORDINALITY AS u(s, n);

-- Everything in byte order: upper case before lower case, '_' between,
-- multibyte UTF-8 last; version = highest position.
SELECT pg_temp.names(eventodb.ns_streams('gw-list', '', '', 100));
-- Literal prefix: '_' and '%' and '\' are ordinary characters.
SELECT pg_temp.names(eventodb.ns_streams('gw-list', 'account', '', 100)) AS account;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', 'account_', '', 100)) AS underscore;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', 'account%', '', 100)) AS percent;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', '%', '', 100)) AS lone_percent;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', '_', '', 100)) AS lone_underscore;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', 'account\', '', 100)) AS backslash;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', 'Account', '', 100)) AS case_sensitive;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', '日', '', 100)) AS multibyte;
SELECT eventodb.ns_streams('gw-list', 'nope', '', 100) AS no_match;
-- Cursor: strictly greater, byte order; paging visits every stream once.
SELECT pg_temp.names(eventodb.ns_streams('gw-list', '', 'account-1', 3)) AS after_account_1;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', 'account', 'account-10', 100)) AS prefix_and_cursor;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', '', 'zz', 100)) AS after_everything;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', '', 'B', 100)) AS cursor_need_not_exist;
WITH RECURSIVE pages(n, cursor, page) AS (
  SELECT 1, '', eventodb.ns_streams('gw-list', '', '', 4)::jsonb
  UNION ALL
  SELECT n + 1, page->-1->>'stream', eventodb.ns_streams('gw-list', '', page->-1->>'stream', 4)::jsonb
  FROM pages WHERE jsonb_array_length(page) > 0
)
SELECT n, jsonb_array_length(page) AS streams FROM pages ORDER BY n;
-- Limit, NULL defaults (prefix '', cursor '', limit 100).
SELECT pg_temp.names(eventodb.ns_streams('gw-list', '', '', 1)) AS limit_1;
SELECT pg_temp.names(eventodb.ns_streams('gw-list', NULL, NULL, NULL)) = pg_temp.names(eventodb.ns_streams('gw-list', '', '', 100)) AS null_defaults;
-- lastActivity = newest message time, whole seconds.
SELECT bool_and(e->>'lastActivity' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$') AS whole_seconds
FROM jsonb_array_elements(eventodb.ns_streams('gw-list', '', '', 100)::jsonb) e;
SELECT regexp_replace(eventodb.ns_streams('gw-list', 'account-1', '', 100), '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', '<time>', 'g') AS raw;

-- ns_categories: byte order; '' for names starting with '-'; counts.
SELECT jsonb_pretty(eventodb.ns_categories('gw-list')::jsonb);
SELECT eventodb.ns_categories('gw-list') ~ '^\[\{"category":"","messageCount":2,"streamCount":1\},' AS compact_sorted_keys;

-- Empty namespace; unknown namespace.
SELECT eventodb.namespace_create('gw-list-empty') IS NOT NULL AS created;
SELECT eventodb.ns_streams('gw-list-empty', '', '', 100), eventodb.ns_categories('gw-list-empty');
\set VERBOSITY sqlstate
SELECT eventodb.ns_streams('nope', '', '', 100);
SELECT eventodb.ns_categories('nope');
\set VERBOSITY terse
SELECT eventodb.ns_streams('nope', '', '', 100);

SELECT eventodb.namespace_delete('gw-list'), eventodb.namespace_delete('gw-list-empty');
