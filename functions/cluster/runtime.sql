-- Runtime registry functions (data-model.md §9.2, §2.5): worker pools, server and broker
-- registrations. Cluster database. Rows are never deleted; offline is a status.

-- noetl.runtime_register(...) -> noetl.runtime
--
-- Upserts on (kind, name): status lower-cased (default ready), every other field replaced,
-- heartbeat = updated_at = now(); runtime_id and created_at kept on update.
CREATE OR REPLACE FUNCTION noetl.runtime_register(
    p_kind text,
    p_name text,
    p_uri text,
    p_status text,
    p_labels jsonb,
    p_capabilities jsonb,
    p_capacity integer,
    p_runtime jsonb
)
RETURNS noetl.runtime
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO noetl.runtime AS r (name, kind, uri, status, labels, capabilities, capacity, runtime)
    VALUES (pg_catalog.btrim(p_name), coalesce(p_kind, 'worker_pool'), p_uri,
            coalesce(nullif(pg_catalog.lower(pg_catalog.btrim(p_status)), ''), 'ready'),
            p_labels, p_capabilities, p_capacity, p_runtime)
    ON CONFLICT (kind, name) DO UPDATE
        SET uri = excluded.uri,
            status = excluded.status,
            labels = excluded.labels,
            capabilities = excluded.capabilities,
            capacity = excluded.capacity,
            runtime = excluded.runtime,
            heartbeat = pg_catalog.now(),
            updated_at = pg_catalog.now()
    RETURNING r.*
$$;

-- noetl.runtime_heartbeat(p_kind, p_name) -> noetl.runtime
--
-- heartbeat = updated_at = now(), status ready; no row when the registration is missing.
CREATE OR REPLACE FUNCTION noetl.runtime_heartbeat(p_kind text, p_name text)
RETURNS SETOF noetl.runtime
LANGUAGE sql
SET search_path = ''
AS $$
    UPDATE noetl.runtime AS r
    SET heartbeat = pg_catalog.now(), updated_at = pg_catalog.now(), status = 'ready'
    WHERE r.kind = p_kind AND r.name = p_name
    RETURNING r.*
$$;

-- noetl.runtime_deregister(p_kind, p_name) -> boolean
--
-- Marks the row offline (never deletes); false when there is no such row. Idempotent.
CREATE OR REPLACE FUNCTION noetl.runtime_deregister(p_kind text, p_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    UPDATE noetl.runtime AS r
    SET status = 'offline', updated_at = pg_catalog.now()
    WHERE r.kind = p_kind AND r.name = p_name;
    RETURN FOUND;
END
$$;

-- noetl.runtime_list(p_kind, p_status, p_name_contains, p_runtime) -> SETOF noetl.runtime
--
-- NULL filters match everything; status compares lower-cased with 'active' read as 'ready';
-- the name filter is a case-insensitive substring; p_runtime matches runtime->>'type'.
-- Ordered by kind, then name.
CREATE OR REPLACE FUNCTION noetl.runtime_list(
    p_kind text DEFAULT NULL,
    p_status text DEFAULT NULL,
    p_name_contains text DEFAULT NULL,
    p_runtime text DEFAULT NULL
)
RETURNS SETOF noetl.runtime
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT r.* FROM noetl.runtime AS r
    WHERE (p_kind IS NULL OR r.kind = p_kind)
      AND (p_status IS NULL
           OR replace(pg_catalog.lower(r.status), 'active', 'ready') = replace(pg_catalog.lower(p_status), 'active', 'ready'))
      AND (p_name_contains IS NULL
           OR pg_catalog.strpos(pg_catalog.lower(r.name), pg_catalog.lower(p_name_contains)) > 0)
      AND (p_runtime IS NULL OR r.runtime ->> 'type' = p_runtime)
    ORDER BY r.kind, r.name
$$;

-- noetl.runtime_sweep(p_offline_after_seconds) -> integer
--
-- Marks ready rows whose heartbeat is older than the limit offline; returns how many.
-- Idempotent, so any number of app processes may run it.
CREATE OR REPLACE FUNCTION noetl.runtime_sweep(p_offline_after_seconds integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE noetl.runtime AS r
    SET status = 'offline', updated_at = pg_catalog.now()
    WHERE r.status <> 'offline'
      AND r.heartbeat < pg_catalog.now() - pg_catalog.make_interval(secs => p_offline_after_seconds);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
