-- Catalog functions (data-model.md §9.2): register a new version, resolve one entry, list, and
-- the one update a catalog row allows (a recompiled plan). Cluster database.

-- noetl.catalog_register(...) -> (catalog_id, version, kind)
--
-- Every call inserts a new version of p_path: versions are allocated under a per-path
-- transaction advisory lock, so two concurrent registrations of one path get consecutive
-- versions and never collide. An unknown kind is first added to noetl.resource (§4.7) with
-- empty flags; a known kind keeps its row. No de-duplication of identical content.
CREATE OR REPLACE FUNCTION noetl.catalog_register(
    p_path text,
    p_kind text,
    p_content text,
    p_payload jsonb,
    p_layout jsonb,
    p_meta jsonb,
    p_plan jsonb,
    p_plan_format integer
)
RETURNS TABLE (catalog_id bigint, version integer, kind text)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_kind text := noetl.normalize_kind(p_kind);
    v_path text := pg_catalog.btrim(coalesce(p_path, ''));
    v_version integer;
    v_id bigint;
BEGIN
    -- guard: a path is required; the kind registry only holds normalised names
    IF v_path = '' THEN
        RAISE EXCEPTION 'catalog path is required' USING ERRCODE = 'NE422';
    END IF;

    -- effects: the kind exists before the row that references it
    INSERT INTO noetl.resource (name, meta)
    VALUES (v_kind, '{"executable": false, "catalog": true}'::jsonb)
    ON CONFLICT (name) DO NOTHING;

    -- lock: one registration of this path at a time
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('noetl.catalog:' || v_path, 0));

    SELECT coalesce(max(c.version), 0) + 1 INTO v_version
    FROM noetl.catalog AS c WHERE c.path = v_path;

    INSERT INTO noetl.catalog AS c (path, version, kind, content, layout, payload, meta, plan, plan_format)
    VALUES (v_path, v_version, v_kind, p_content, p_layout, p_payload, p_meta, p_plan,
            CASE WHEN p_plan IS NULL THEN NULL ELSE p_plan_format END)
    RETURNING c.catalog_id INTO v_id;

    RETURN QUERY SELECT v_id, v_version, v_kind;
END
$$;

-- noetl.catalog_get(p_catalog_id, p_path, p_version) -> noetl.catalog
--
-- By catalog_id when given; else by path and version; else the latest version of path.
-- Returns NULL (a row of NULLs from a scalar call, no row from FROM) when nothing matches.
CREATE OR REPLACE FUNCTION noetl.catalog_get(
    p_catalog_id bigint,
    p_path text DEFAULT NULL,
    p_version integer DEFAULT NULL
)
RETURNS SETOF noetl.catalog
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT c.* FROM noetl.catalog AS c WHERE c.catalog_id = p_catalog_id
    UNION ALL
    (SELECT c.* FROM noetl.catalog AS c
     WHERE p_catalog_id IS NULL AND c.path = p_path
       AND (p_version IS NULL OR c.version = p_version)
     ORDER BY c.version DESC
     LIMIT 1)
$$;

-- noetl.catalog_set_plan(p_catalog_id, p_plan, p_plan_format) -> void
--
-- The only update of a catalog row (§3.8): a recompilation from content. Unknown id: NE404.
CREATE OR REPLACE FUNCTION noetl.catalog_set_plan(p_catalog_id bigint, p_plan jsonb, p_plan_format integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    UPDATE noetl.catalog AS c
    SET plan = p_plan, plan_format = CASE WHEN p_plan IS NULL THEN NULL ELSE p_plan_format END
    WHERE c.catalog_id = p_catalog_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'catalog entry % does not exist', p_catalog_id USING ERRCODE = 'NE404';
    END IF;
END
$$;

-- noetl.catalog_list(p_kind, p_path) -> SETOF noetl.catalog
--
-- Every version, newest created_at first (then catalog_id), filtered by normalised kind and
-- exact path when given.
CREATE OR REPLACE FUNCTION noetl.catalog_list(p_kind text DEFAULT NULL, p_path text DEFAULT NULL)
RETURNS SETOF noetl.catalog
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    -- plpgsql, not sql: normalize_kind.sql is applied after this file
    RETURN QUERY
    SELECT c.* FROM noetl.catalog AS c
    WHERE (p_kind IS NULL OR c.kind = noetl.normalize_kind(p_kind))
      AND (p_path IS NULL OR c.path = p_path)
    ORDER BY c.created_at DESC, c.catalog_id DESC;
END
$$;
