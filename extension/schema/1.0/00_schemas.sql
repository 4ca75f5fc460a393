-- EventoDB install script, assembled from extension/sql/*.sql in name order.
\echo Use "CREATE EXTENSION eventodb" to load this file. \quit

-- message_store: the Message DB face and the default namespace (SQL-API.md §1).
-- eventodb: the gateway's entry points and the namespace registry.
CREATE SCHEMA message_store;
CREATE SCHEMA eventodb;
