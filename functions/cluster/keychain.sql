-- Keychain functions (data-model.md §9.2, §2.4): a cache of resolved secrets and tokens keyed
-- by catalog entry. Cluster database. data_encrypted is the app's envelope.

-- noetl.keychain_cache_key(p_name, p_catalog_id, p_scope, p_execution_id) -> text
--
-- local + execution: <name>:<catalog_id>:<execution_id>; shared + execution:
-- <name>:<catalog_id>:shared:<execution_id>; anything else: <name>:<catalog_id>:global.
CREATE OR REPLACE FUNCTION noetl.keychain_cache_key(
    p_name text, p_catalog_id bigint, p_scope text, p_execution_id bigint
)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT p_name || ':' || p_catalog_id::text || ':' ||
           CASE
               WHEN p_scope = 'local' AND p_execution_id IS NOT NULL THEN p_execution_id::text
               WHEN p_scope = 'shared' AND p_execution_id IS NOT NULL THEN 'shared:' || p_execution_id::text
               ELSE 'global'
           END
$$;

-- noetl.keychain_put(...) -> noetl.keychain
--
-- Upserts on the cache key, replacing data, expiry and renewal fields and keeping
-- created_at and access_count. expires_at is never NULL: the given instant, else now() +
-- ttl, else one hour for local scope and one day otherwise. An unknown catalog_id raises the
-- foreign-key violation 23503 (the app answers 404 catalog_not_found).
CREATE OR REPLACE FUNCTION noetl.keychain_put(
    p_keychain_name text,
    p_catalog_id bigint,
    p_credential_type text,
    p_cache_type text,
    p_scope_type text,
    p_execution_id bigint,
    p_parent_execution_id bigint,
    p_data_encrypted text,
    p_schema jsonb,
    p_expires_at timestamptz,
    p_ttl_seconds integer,
    p_auto_renew boolean,
    p_renew_config jsonb
)
RETURNS noetl.keychain
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO noetl.keychain AS k (
        cache_key, keychain_name, catalog_id, credential_type, cache_type, scope_type,
        execution_id, parent_execution_id, data_encrypted, schema, expires_at, auto_renew,
        renew_config)
    VALUES (
        noetl.keychain_cache_key(p_keychain_name, p_catalog_id, p_scope_type, p_execution_id),
        p_keychain_name, p_catalog_id, coalesce(p_credential_type, 'secret'),
        coalesce(p_cache_type, 'token'), coalesce(p_scope_type, 'global'),
        p_execution_id, p_parent_execution_id, p_data_encrypted, p_schema,
        coalesce(p_expires_at,
                 pg_catalog.now() + pg_catalog.make_interval(secs => p_ttl_seconds),
                 pg_catalog.now() + CASE WHEN p_scope_type = 'local' THEN interval '3600 seconds'
                                         ELSE interval '86400 seconds' END),
        coalesce(p_auto_renew, false), p_renew_config)
    ON CONFLICT (cache_key) DO UPDATE
        SET keychain_name = excluded.keychain_name,
            credential_type = excluded.credential_type,
            cache_type = excluded.cache_type,
            scope_type = excluded.scope_type,
            execution_id = excluded.execution_id,
            parent_execution_id = excluded.parent_execution_id,
            data_encrypted = excluded.data_encrypted,
            schema = excluded.schema,
            expires_at = excluded.expires_at,
            auto_renew = excluded.auto_renew,
            renew_config = excluded.renew_config
    RETURNING k.*
$$;

-- noetl.keychain_get(p_cache_key) -> jsonb
--
-- {status:"not_found"} for a missing key; {status:"expired", row, auto_renew, renew_config}
-- without touching the row when expires_at <= now(); otherwise {status:"found", row} after
-- bumping accessed_at and access_count (row shows the bumped values).
CREATE OR REPLACE FUNCTION noetl.keychain_get(p_cache_key text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row noetl.keychain;
BEGIN
    SELECT k.* INTO v_row FROM noetl.keychain AS k WHERE k.cache_key = p_cache_key;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'not_found');
    END IF;
    IF v_row.expires_at <= pg_catalog.now() THEN
        RETURN jsonb_build_object('status', 'expired', 'row', to_jsonb(v_row),
                                  'auto_renew', coalesce(v_row.auto_renew, false),
                                  'renew_config', v_row.renew_config);
    END IF;
    UPDATE noetl.keychain AS k
    SET accessed_at = pg_catalog.now(), access_count = coalesce(k.access_count, 0) + 1
    WHERE k.cache_key = p_cache_key
    RETURNING k.* INTO v_row;
    RETURN jsonb_build_object('status', 'found', 'row', to_jsonb(v_row));
END
$$;

-- noetl.keychain_delete(p_cache_key) -> boolean: whether a row was deleted.
CREATE OR REPLACE FUNCTION noetl.keychain_delete(p_cache_key text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    DELETE FROM noetl.keychain AS k WHERE k.cache_key = p_cache_key;
    RETURN FOUND;
END
$$;

-- noetl.keychain_list(p_catalog_id) -> SETOF noetl.keychain, by keychain_name then scope_type.
CREATE OR REPLACE FUNCTION noetl.keychain_list(p_catalog_id bigint)
RETURNS SETOF noetl.keychain
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT k.* FROM noetl.keychain AS k
    WHERE k.catalog_id = p_catalog_id
    ORDER BY k.keychain_name, k.scope_type, k.cache_key
$$;

-- noetl.keychain_cleanup_expired() -> integer
--
-- Deletes expired rows that will not be renewed; returns how many. Safe to run from any number
-- of app processes.
CREATE OR REPLACE FUNCTION noetl.keychain_cleanup_expired()
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    DELETE FROM noetl.keychain AS k
    WHERE k.expires_at <= pg_catalog.now() AND NOT coalesce(k.auto_renew, false);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
