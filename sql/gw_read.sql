-- docs/http-api.md#stream-methods, #category-reads through eventodb.stream_get / stream_last /
-- stream_version / category_get, where they differ from Message DB
-- (docs/sql-api.md#the-gateway-face-eventodb): names without '-', '' = everything, '-' matches
-- nothing, consumer groups of any size, the batch rules of both paths.
\set VERBOSITY terse
\pset null <null>

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE q INTO r;
  RETURN coalesce(r, '<null>');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- [position, globalPosition] pairs of a stream.get / category.get answer
-- (and the stream for category messages).
CREATE FUNCTION pg_temp.pos(j text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(CASE jsonb_array_length(m)
                               WHEN 8 THEN (m->>1) || ':' || (m->>3) || '@' || (m->>4)
                               ELSE (m->>2) || '@' || (m->>3) END, ' ' ORDER BY o), '[]')
  FROM jsonb_array_elements(j::jsonb) WITH ORDINALITY AS t(m, o)
$$;

SELECT eventodb.namespace_create('gw-read') IS NOT NULL AS created;

-- Fixture: ids 1..n in write order so they can be recognised.
CREATE TEMP TABLE w (n serial, stream text, type text, meta jsonb);
INSERT INTO w (stream, type, meta) VALUES
  ('account-1', 'Opened', NULL),                                          -- 1
  ('account-1', 'Deposited', '{"correlationStreamName":"workflow-123"}'),  -- 2
  ('account-2', 'Opened', '{"correlationStreamName":"workflow"}'),         -- 3
  ('account', 'Opened', '{"correlationStreamName":"other-1"}'),            -- 4
  ('account-1', 'Deposited', '{"correlationStreamName":""}'),              -- 5
  ('account-3', 'Opened', '{"correlationStreamName":"-9"}'),               -- 6
  ('account-123', 'Opened', '{"correlationStreamName":"workflow:command-1"}'), -- 7
  ('account-123+retry', 'Opened', '{"other":1}'),                         -- 8
  ('account-abc', 'Opened', NULL),                                         -- 9
  ('account-a5eb2a97-84d9-4ccf-8a56-7160338b11e2', 'Opened', NULL),        -- 10
  ('account-ñ1', 'Opened', NULL),                                          -- 11
  ('account-', 'Opened', NULL),                                            -- 12
  ('account-42', 'Opened', NULL),                                          -- 13
  ('account-user@example.com', 'Opened', NULL),                            -- 14
  ('-123', 'Opened', NULL),                                                -- 15
  ('', 'Opened', NULL),                                                    -- 16
  ('accounts-1', 'Opened', NULL),                                          -- 17
  ('Account-1', 'Opened', NULL);                                           -- 18
SELECT count(eventodb.stream_write('gw-read', stream, type, jsonb_build_object('n', n), meta,
                                   '00000000-0000-4000-8000-' || lpad(n::text, 12, '0'), NULL)) AS written
FROM (SELECT * FROM w ORDER BY n) AS ordered;

-- stream_get, position path: position >= P, ascending, batch limits.
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 0, NULL, 1000)) AS all_of_it;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 1, NULL, 1000)) AS from_1;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', -5, NULL, 2)) AS negative_pos_batch_2;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 0, NULL, -1)) AS unlimited;
SELECT eventodb.stream_get('gw-read', 'account-1', 0, NULL, 0) AS batch_0;
SELECT pg_temp.try($$SELECT eventodb.stream_get('gw-read', 'account-1', 0, NULL, -2)$$) AS below_minus_1;
SELECT eventodb.stream_get('gw-read', 'account-1', 3, NULL, 1000) AS past_end;
SELECT eventodb.stream_get('gw-read', 'nope-1', 0, NULL, 1000) AS unknown_stream;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', NULL, NULL, NULL)) AS null_defaults;
-- Names without '-' (and '') are ordinary streams here.
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account', 0, NULL, 1000)) AS category_like;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', '', 0, NULL, 1000)) AS empty_name;
-- Exact, case-sensitive match.
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'Account-1', 0, NULL, 1000)) AS case_sensitive;

-- stream_get, global path: global_position >= G, ascending by position,
-- position ignored, batch <= 0 unlimited.
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 99, 2, 1000)) AS from_gpos_2;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 0, 3, 1000)) AS from_gpos_3;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 0, 0, 1)) AS batch_1;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 0, 0, 0)) AS batch_0_unlimited;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 0, -7, -1)) AS batch_minus_1;
SELECT pg_temp.pos(eventodb.stream_get('gw-read', 'account-1', 0, 1, -5)) AS batch_minus_5;
SELECT eventodb.stream_get('gw-read', 'account-1', 0, 6, 10) AS past_end;

-- stream_last: highest position, optionally of one type (exact match).
SELECT pg_temp.pos('[' || eventodb.stream_last('gw-read', 'account-1', NULL) || ']') AS last;
SELECT pg_temp.pos('[' || eventodb.stream_last('gw-read', 'account-1', 'Opened') || ']') AS last_opened;
SELECT eventodb.stream_last('gw-read', 'account-1', 'opened') AS wrong_case,
       eventodb.stream_last('gw-read', 'account-1', '') AS empty_type,
       eventodb.stream_last('gw-read', 'nope-1', NULL) AS unknown;
SELECT pg_temp.pos('[' || eventodb.stream_last('gw-read', 'account', NULL) || ']') AS category_like;

-- stream_version: highest position, NULL when empty.
SELECT eventodb.stream_version('gw-read', 'account-1') AS v1,
       eventodb.stream_version('gw-read', 'account') AS v_category_like,
       eventodb.stream_version('gw-read', 'nope-1') AS v_unknown,
       eventodb.stream_version('gw-read', NULL) AS v_null;

-- category_get: category = text before the first '-', exact.
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', 1, 1000, NULL, NULL, NULL)) AS account;
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', 5, 3, NULL, NULL, NULL)) AS from_5_batch_3;
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'accounts', 1, 1000, NULL, NULL, NULL)) AS accounts;
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'Account', 1, 1000, NULL, NULL, NULL)) AS case_sensitive;
SELECT eventodb.category_get('gw-read', 'nope', 1, 1000, NULL, NULL, NULL) AS unknown;
-- '' is the whole namespace, in global order (how export reads).
SELECT pg_temp.pos(eventodb.category_get('gw-read', '', 1, 1000, NULL, NULL, NULL)) AS everything;
SELECT pg_temp.pos(eventodb.category_get('gw-read', '', 16, 1000, NULL, NULL, NULL)) AS everything_from_16;
SELECT pg_temp.pos(eventodb.category_get('gw-read', NULL, 17, 1000, NULL, NULL, NULL)) AS null_is_everything;
-- A category containing '-' matches nothing - no error.
SELECT eventodb.category_get('gw-read', 'account-1', 1, 1000, NULL, NULL, NULL) AS dash,
       eventodb.category_get('gw-read', '-', 1, 1000, NULL, NULL, NULL) AS lone_dash;
-- Batch rules: -1 unlimited, 0 empty, below -1 LIMIT's error.
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', 10, -1, NULL, NULL, NULL)) AS unlimited;
SELECT eventodb.category_get('gw-read', 'account', 1, 0, NULL, NULL, NULL) AS batch_0;
SELECT pg_temp.try($$SELECT eventodb.category_get('gw-read', 'account', 1, -2, NULL, NULL, NULL)$$) AS below_minus_1;
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', NULL, NULL, NULL, NULL, NULL)) = pg_temp.pos(eventodb.category_get('gw-read', 'account', 1, 1000, NULL, NULL, NULL)) AS null_defaults;

-- Correlation: category of metadata.correlationStreamName (docs/sql-api.md#get_category_messages).
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', 1, 1000, 'workflow', NULL, NULL)) AS workflow;
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', 1, 1000, '', NULL, NULL)) AS empty_correlation;
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', 1, 1000, 'workflow:command', NULL, NULL)) AS workflow_command;
SELECT pg_temp.pos(eventodb.category_get('gw-read', '', 1, 1000, 'other', NULL, NULL)) AS whole_namespace_other;
SELECT eventodb.category_get('gw-read', 'account', 1, 1000, 'workflow-123', NULL, NULL) AS dash_correlation;

-- Consumer groups: abs(hash_64(cardinal_id)) mod size (docs/sql-api.md#hash_64);
-- 'account' (no '-') in no member; compound ids with their cardinal id.
SELECT size, member,
       (SELECT string_agg(DISTINCT m->>1, ' ' ORDER BY m->>1)
        FROM jsonb_array_elements(eventodb.category_get('gw-read', 'account', 1, -1, NULL, member, size)::jsonb) m) AS streams
FROM generate_series(1, 4) AS size, generate_series(0, 3) AS member
WHERE member < size ORDER BY size, member;
-- Any size (Message DB's smallint limit does not apply), members >= size
-- and negative members simply match nothing.
SELECT (SELECT sum(jsonb_array_length(eventodb.category_get('gw-read', 'account', 1, -1, NULL, m, 40000)::jsonb))
        FROM generate_series(0, 39999) m) AS all_members_40000;
SELECT eventodb.category_get('gw-read', 'account', 1, -1, NULL, 5, 3) AS member_too_big,
       eventodb.category_get('gw-read', 'account', 1, -1, NULL, -1, 3) AS negative_member;
SELECT pg_temp.try($$SELECT eventodb.category_get('gw-read', 'account', 1, -1, NULL, 0, 0)$$) AS size_0;
-- A group needs both member and size; one alone means no grouping.
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', 1, 1000, NULL, 0, NULL)) = pg_temp.pos(eventodb.category_get('gw-read', 'account', 1, 1000, NULL, NULL, NULL)) AS member_only_ignored;
-- Group, correlation and batch combine; batch counts matching messages.
SELECT pg_temp.pos(eventodb.category_get('gw-read', 'account', 1, 1, 'workflow', 0, 3)) AS combined;
SELECT pg_temp.pos(eventodb.category_get('gw-read', '', 1, 2, NULL, 1, 3)) AS everything_member_1;

-- Unknown namespace: EV002 from every reader.
SELECT pg_temp.try($$SELECT eventodb.stream_get('nope', 'a-1', 0, NULL, 10)$$),
       pg_temp.try($$SELECT eventodb.stream_last('nope', 'a-1', NULL)$$),
       pg_temp.try($$SELECT eventodb.stream_version('nope', 'a-1')::text$$),
       pg_temp.try($$SELECT eventodb.category_get('nope', 'a', 1, 10, NULL, NULL, NULL)$$);
-- ... even when the answer would be [] without looking.
SELECT pg_temp.try($$SELECT eventodb.category_get('nope', 'a-1', 1, 10, NULL, NULL, NULL)$$);

SELECT eventodb.namespace_delete('gw-read');
