-- docs/sql-api.md#get_category_messages step 3 correlation vectors: correlation filters on
-- category(metadata->>'correlationStreamName').
SET search_path = message_store, public;
TRUNCATE message_store.messages RESTART IDENTITY;
\set VERBOSITY terse
\pset null <null>

SELECT write_message(gen_random_uuid()::varchar, s, 'T', '{}', m::jsonb)
FROM (VALUES
  (1, 'corr-1', '{"correlationStreamName": "workflow-123"}'),
  (2, 'corr-2', '{"correlationStreamName": "workflow"}'),
  (3, 'corr-3', '{"correlationStreamName": "other-1"}'),
  (4, 'corr-4', '{"correlationStreamName": ""}'),
  (5, 'corr-5', '{"correlationStreamName": "-9"}'),
  (6, 'corr-6', NULL),
  (7, 'corr-7', '{"correlationStreamName": "workflow:command-1"}'),
  (8, 'corr-8', '{"other": "workflow-1"}'),
  (9, 'corr-9', '{"correlationStreamName": null}')
) AS v(n, s, m)
ORDER BY n;

SELECT c AS correlation,
       array_agg(stream_name ORDER BY global_position) AS streams
FROM unnest(ARRAY['workflow', '', 'workflow:command', 'other', 'none']) AS c
LEFT JOIN LATERAL get_category_messages('corr', 1, 1000, c) ON true
GROUP BY c
ORDER BY c;

-- NULL correlation: no filter.
SELECT count(*) FROM get_category_messages('corr', 1, 1000, NULL);

-- A correlation containing '-' is an error, even with matching rows.
SELECT * FROM get_category_messages('corr', 1, 1000, 'workflow-123');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM get_category_messages('corr', 1, 1000, '-');
\echo :LAST_ERROR_SQLSTATE
