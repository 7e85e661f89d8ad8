-- Queries of the credential routes (sanic_app/routes/credentials.py) and of
-- `noetl-pg credentials rewrap`. Cluster database; data_encrypted is the app's envelope.

-- name: upsert
-- Creates or updates a credential by name (noetl.credential_upsert).
SELECT id, name, type, meta, tags, description, created_at, updated_at
FROM noetl.credential_upsert(%(name)s, %(type)s, %(data_encrypted)s, %(meta)s, %(tags)s, %(description)s, NULL);

-- name: get
-- One credential by id or name, digits tried as an id first (noetl.credential_get).
SELECT id, name, type, data_encrypted, meta, tags, description, created_at, updated_at
FROM noetl.credential_get(%(identifier)s);

-- name: list
-- Credentials without data, by name, filtered by exact type and a name/description substring.
SELECT id, name, type, meta, tags, description, created_at, updated_at
FROM noetl.credential_list(%(type)s, %(q)s);

-- name: delete
-- Deletes by id or name; the deleted id or NULL.
SELECT noetl.credential_delete(%(identifier)s) AS id;

-- name: keychain_fallback
-- The first unexpired keychain entry among the candidate cache keys, in the given order,
-- for the credential route's keychain fallback (http-api §2.2.2).
SELECT k.cache_key, k.credential_type, k.data_encrypted, k.expires_at, k.created_at
FROM unnest(%(cache_keys)s::text[]) WITH ORDINALITY AS c(cache_key, position)
JOIN noetl.keychain AS k ON k.cache_key = c.cache_key
WHERE k.expires_at > now()
ORDER BY c.position
LIMIT 1;

-- name: keychain_touch
-- Bumps the access counters of a keychain entry read through the fallback.
UPDATE noetl.keychain
SET accessed_at = now(), access_count = coalesce(access_count, 0) + 1
WHERE cache_key = %(cache_key)s
RETURNING accessed_at;

-- name: rewrap_candidates
-- Every stored envelope of both tables, for the rewrap command to decide in the app.
SELECT 'credential' AS source, id::text AS key, data_encrypted FROM noetl.credential
UNION ALL
SELECT 'keychain' AS source, cache_key AS key, data_encrypted FROM noetl.keychain;

-- name: rewrap_credential
-- Replaces one credential envelope only if it is still the value that was read.
UPDATE noetl.credential SET data_encrypted = %(new)s
WHERE id = %(key)s::bigint AND data_encrypted = %(old)s;

-- name: rewrap_keychain
-- Replaces one keychain envelope only if it is still the value that was read.
UPDATE noetl.keychain SET data_encrypted = %(new)s
WHERE cache_key = %(key)s AND data_encrypted = %(old)s;
