-- docs/http-api.md#wire-conventions: the response JSON rendered in the database -
-- compact, object keys sorted by byte value at every level, strings escaped
-- like Go's encoding/json, numbers as stored, times in RFC 3339 UTC.
\set VERBOSITY terse
\pset null <null>

SELECT eventodb.namespace_create('gw-render') IS NOT NULL AS created;

-- Records with exact times, through the import path.
CREATE FUNCTION pg_temp.rec(n int, stream text, pos int, type text, data text, meta text, t text) RETURNS text
LANGUAGE sql AS $$
  SELECT format('{"id":"00000000-0000-4000-8000-%s","stream":%s,"type":%s,"pos":%s,"gpos":%s,"data":%s,"meta":%s,"time":"%s"}',
                lpad(n::text, 12, '0'), to_jsonb(stream), to_jsonb(type), pos, n, data, meta, t)
$$;

SELECT eventodb.import_batch('gw-render', '[' || concat_ws(',',
  pg_temp.rec(1, 'keys-1', 0, 'T', '{"b":1,"a":2,"aa":3,"B":4,"_":5,"é":6,"~":7,"":8,"ab":{"z":1,"y":{"d":1,"c":2},"x":[{"q":1,"p":2}]}}', 'null', '2025-03-01T09:15:02.123456Z'),
  pg_temp.rec(2, 'strings-1', 0, 'T', '{"html":"<a href=\"x\">&</a>","sep":"\u2028|\u2029","ctl":"\u0001\b\f\n\r\t\u001f\u007f","q":"\"\\/","uni":"é 日本 😀"}', '{"k":"v"}', '2025-03-01T09:15:02.5Z'),
  pg_temp.rec(3, 'numbers-1', 0, 'T', '{"one":1.0,"big":1e21,"huge":12345678901234567890,"neg0":-0,"tiny":1E-7,"pi":3.14159,"int":100,"exp":-5.5e3,"frac":1.50}', 'null', '2025-03-01T09:15:02Z'),
  pg_temp.rec(4, 'values-1', 0, 'T', '{"t":true,"f":false,"n":null,"eo":{},"ea":[],"nested":[[],[{}],[1,[2,[3]]]]}', 'null', '2025-03-01T09:15:02.120Z'),
  pg_temp.rec(5, 'scalars-1', 0, 'T', '[3,1,{"b":1,"a":0}]', '"text"', '2025-03-01T09:15:02.000001Z'),
  pg_temp.rec(6, 'scalars-1', 1, 'T', '5', 'null', '2025-03-01T09:15:02.999999Z'),
  pg_temp.rec(7, 'scalars-1', 2, 'T', 'null', 'null', '1999-12-31T23:59:59.9+01:00'),
  pg_temp.rec(8, 'odd <&> "name"-1', 0, 'type <&>', '{}', 'null', '2025-03-01T09:15:02Z')) || ']');

-- Keys by byte value at every level (jsonb keeps them length-first).
SELECT eventodb.stream_get('gw-render', 'keys-1', 0, NULL, 10);
-- Go's escapes: <, >, & and U+2028/9 as \u; \b \f \n \r \t short; other
-- controls \u00xx; DEL and non-ASCII raw; '/' not escaped.
SELECT eventodb.stream_get('gw-render', 'strings-1', 0, NULL, 10);
-- Numbers as stored by jsonb (parse to the same double as the original).
SELECT eventodb.stream_get('gw-render', 'numbers-1', 0, NULL, 10);
SELECT eventodb.stream_get('gw-render', 'values-1', 0, NULL, 10);
-- Non-object payloads pass through; SQL NULL and JSON null are null.
SELECT eventodb.stream_get('gw-render', 'scalars-1', 0, NULL, 10);
-- Stream names and types are escaped too (category messages carry both).
SELECT eventodb.category_get('gw-render', 'odd <&> "name"', 1, 10, NULL, NULL, NULL);
SELECT eventodb.stream_last('gw-render', 'odd <&> "name"-1', 'type <&>');

-- ns_streams: lastActivity truncated (not rounded) to whole seconds.
SELECT eventodb.ns_streams('gw-render', 'scalars', '', 10);
SELECT eventodb.ns_streams('gw-render', '', '', 3);
SELECT eventodb.ns_categories('gw-render');

-- namespace_info / namespace_list: createdAt whole seconds, lastActivity
-- with the message-time format, strings escaped.
SELECT eventodb.namespace_create('<ns & "co">', E'line\nbreak \u2028') IS NOT NULL AS created;
UPDATE eventodb.namespaces SET created_at = 1740820502 WHERE id IN ('gw-render', '<ns & "co">');
SELECT eventodb.namespace_info('gw-render');
SELECT eventodb.namespace_info('<ns & "co">');
SELECT eventodb.namespace_list();

-- Time formats over the whole range of fractions (render_time).
SELECT eventodb.import_batch('gw-render', '[' || string_agg(
         pg_temp.rec(100 + i::int, 'time-1', i::int - 1, 'T', '{}', 'null', t), ',' ORDER BY i) || ']')
FROM unnest(ARRAY['2025-01-02T03:04:05.100000Z', '2025-01-02T03:04:05.010Z', '2025-01-02T03:04:05.000100Z',
                  '2025-01-02T03:04:05.123450Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z',
                  '1970-01-01T00:00:00Z', '1969-12-31T23:59:59.5Z']) WITH ORDINALITY AS u(t, i);
SELECT m->>0 AS id, m->>6 AS time
FROM jsonb_array_elements(eventodb.stream_get('gw-render', 'time-1', 0, NULL, 100)::jsonb) AS m;
SELECT eventodb.ns_streams('gw-render', 'time', '', 10);

SELECT eventodb.namespace_delete('gw-render'), eventodb.namespace_delete('<ns & "co">');
