-- EventoDB upgrade 1.0 -> 1.1, assembled from extension/sql/1.1/*.sql in
-- name order. A fresh CREATE EXTENSION runs the 1.0 install script and then
-- this one, so a fresh install and an upgraded one are the same objects.
\echo Use "ALTER EXTENSION eventodb UPDATE TO '1.1'" to load this file. \quit
