-- Queries of POST /api/postgres/execute (sanic_app/routes/postgres.py).

-- name: read_only
-- First statement of the query transaction: nothing it runs may write (second line of defence).
SET TRANSACTION READ ONLY;

-- name: set_search_path
-- The caller's schema list for the query transaction only.
SELECT pg_catalog.set_config('search_path', %(schema)s, true);
