-- Queries shared by every route family of the HTTP layer (sanic_app/db.py).

-- name: set_statement_timeout
-- Bounds the statements of the current transaction (list and statistics fan-out, query guard).
SELECT pg_catalog.set_config('statement_timeout', %(ms)s, true);

-- name: set_lock_timeout
-- Bounds lock waits of the current transaction (claims).
SELECT pg_catalog.set_config('lock_timeout', %(ms)s, true);

-- name: ping
-- Liveness of one database for /api/health.
SELECT 1 AS ok;
