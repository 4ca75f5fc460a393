
-- The gateway's SSE catch-up (docs/http-api.md#live-pokes-subscribe): the rows
-- stream_get and category_get would return, with the same arguments, as
-- positions only, so no message is rendered to JSON for the gateway to
-- parse it again for three numbers.
CREATE FUNCTION eventodb.stream_positions(
  ns text, stream text, from_position bigint, from_global_position bigint,
  batch_size bigint)
RETURNS TABLE(stream_name text, "position" bigint, global_position bigint)
AS 'MODULE_PATHNAME', 'ev_stream_positions'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.category_positions(
  ns text, category text, from_position bigint, batch_size bigint,
  correlation text, member bigint, size bigint)
RETURNS TABLE(stream_name text, "position" bigint, global_position bigint)
AS 'MODULE_PATHNAME', 'ev_category_positions'
LANGUAGE C VOLATILE;
