-- Persistent subscriptions (docs/subscriptions.md): the server keeps each
-- subscription's checkpoint, deliveries with leases, attempts, parked
-- messages and consumers. The state lives in tables of the namespace's
-- schema, created by the first subscription_create there
-- (extension/sub_storage.c); the default namespace keeps them in schema
-- eventodb_default, because message_store holds exactly Message DB's objects.

CREATE SCHEMA eventodb_default;

-- Subscription ids are drawn database-wide, so a delivery id (which starts
-- with its subscription's id) is never reused, not even by a subscription
-- re-created under the same name in another namespace.
CREATE SEQUENCE eventodb.subscription_id_seq;
SELECT pg_catalog.pg_extension_config_dump('eventodb.subscription_id_seq', '');

CREATE TYPE eventodb.delivery AS (
  delivery_id text,
  attempt integer,
  id text,
  stream_name text,
  type text,
  "position" bigint,
  global_position bigint,
  data jsonb,
  metadata jsonb,
  "time" timestamp
);

CREATE TYPE eventodb.parked_message AS (
  id text,
  stream_name text,
  type text,
  "position" bigint,
  global_position bigint,
  data jsonb,
  metadata jsonb,
  "time" timestamp,
  attempts integer,
  reason text,
  parked_at timestamp
);

CREATE FUNCTION eventodb.subscription_create(ns text, name text, category text,
  options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'ev_subscription_create'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_update(ns text, name text, options jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_subscription_update'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_delete(ns text, name text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_subscription_delete'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_get(ns text, name text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_subscription_get'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_list(ns text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_subscription_list'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_fetch(ns text, name text, consumer text,
  max integer DEFAULT 10)
RETURNS SETOF eventodb.delivery
AS 'MODULE_PATHNAME', 'ev_subscription_fetch'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_ack(ns text, name text, delivery_ids text[])
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_subscription_ack'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_nack(ns text, name text, delivery_ids text[],
  action text DEFAULT 'retry', reason text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_subscription_nack'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_release(ns text, name text, consumer text,
  delivery_ids text[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_subscription_release'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_parked(ns text, name text,
  "position" bigint DEFAULT 0, batch_size integer DEFAULT 100)
RETURNS SETOF eventodb.parked_message
AS 'MODULE_PATHNAME', 'ev_subscription_parked'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_replay_parked(ns text, name text,
  global_positions bigint[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ev_subscription_replay_parked'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.subscription_reset(ns text, name text, "position" text)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_subscription_reset'
LANGUAGE C VOLATILE;

CREATE FUNCTION eventodb.delivery_json(eventodb.delivery)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_delivery_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION eventodb.parked_json(eventodb.parked_message)
RETURNS text
AS 'MODULE_PATHNAME', 'ev_parked_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
