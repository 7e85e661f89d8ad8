-- Queries of the keychain routes (sanic_app/routes/keychain.py). Cluster database.

-- name: cache_key
-- The cache key of (name, catalog entry, scope, execution) (noetl.keychain_cache_key).
SELECT noetl.keychain_cache_key(%(name)s, %(catalog_id)s, %(scope)s, %(execution_id)s) AS cache_key;

-- name: get
-- Reads one entry: not_found / expired (untouched) / found (access bumped) (noetl.keychain_get).
SELECT noetl.keychain_get(noetl.keychain_cache_key(%(name)s, %(catalog_id)s, %(scope)s, %(execution_id)s)) AS result;

-- name: put
-- Upserts one entry by cache key with the TTL rule of data-model §2.4 (noetl.keychain_put).
SELECT cache_key, keychain_name, catalog_id, expires_at, auto_renew,
       round(extract(epoch FROM expires_at - now()))::int AS ttl_seconds
FROM noetl.keychain_put(%(name)s, %(catalog_id)s, %(credential_type)s, %(cache_type)s, %(scope)s,
                        %(execution_id)s, %(parent_execution_id)s, %(data_encrypted)s, NULL,
                        %(expires_at)s, %(ttl_seconds)s, %(auto_renew)s, %(renew_config)s);

-- name: delete
-- Deletes one entry by its cache key; whether it existed.
SELECT k.cache_key, noetl.keychain_delete(k.cache_key) AS deleted
FROM (SELECT noetl.keychain_cache_key(%(name)s, %(catalog_id)s, %(scope)s, %(execution_id)s) AS cache_key) AS k;

-- name: list
-- Every entry of one catalog entry, without data (noetl.keychain_list).
SELECT keychain_name, cache_key, credential_type, cache_type, scope_type, execution_id, expires_at,
       expires_at <= now() AS expired, auto_renew, access_count, accessed_at, created_at
FROM noetl.keychain_list(%(catalog_id)s);
