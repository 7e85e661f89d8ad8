-- Queries of the result-store routes (sanic_app/routes/results.py). The execution's owning shard.

-- name: put
-- Stores one result and its data (noetl.result_put); {ref, store, scope, expires_at, bytes, sha256}.
SELECT noetl.result_put(%(execution_id)s, %(name)s, %(data)s, %(scope)s, %(source_step)s, %(ttl_seconds)s,
                        %(meta)s) AS result;

-- name: resolve
-- The stored data of a ref, bumping its access counters (noetl.result_resolve); NE404 when unknown or expired.
SELECT noetl.result_resolve(%(ref)s) AS data;
