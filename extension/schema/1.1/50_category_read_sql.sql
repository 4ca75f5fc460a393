
-- The category read statement a face prepares (get_category_messages,
-- category_get, category_positions share it), for EXPLAIN: both must use
-- the category index for rare and common categories alike.
CREATE FUNCTION eventodb.category_read_sql(
  face text, correlation boolean, consumer_group boolean)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_category_read_sql'
LANGUAGE C STABLE STRICT;
