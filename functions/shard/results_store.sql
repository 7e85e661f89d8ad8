-- The large-result store (data-model.md §2.12, §3.7, §9.1 result_put / result_resolve /
-- cleanup_*; http-api.md §2.12). Payloads live in noetl.result_blob with store tier `db`;
-- references read `noetl://execution/<execution_id>/result/<name>/<ref_id>`.
--
-- A result may be stored for an execution id this shard does not know (the worker decides when
-- to store; the reference allowed it); parent_execution_id is then NULL. Nothing here locks the
-- execution row: refs are insert-only rows keyed by a fresh id.


-- noetl.result_put(p_execution_id, p_name, p_data, p_scope, p_source_step, p_ttl_seconds, p_meta)
--   -> jsonb {ref, store, scope, expires_at, bytes, sha256}
--
-- Inserts the ref and its blob. p_meta may carry `bytes` and `sha256` computed by the caller
-- over the compact JSON text it received (jsonb text is not compact), `correlation` and
-- `extracted` (stored in their columns) and anything else (kept in meta). A NULL p_ttl_seconds
-- never expires. NE422 for an empty name, a name with '/', an unknown scope or a negative ttl.
-- Every call stores a new ref (a retry stores a second copy; refs are immutable).
CREATE OR REPLACE FUNCTION noetl.result_put(
    p_execution_id bigint,
    p_name         text,
    p_data         jsonb,
    p_scope        text,
    p_source_step  text,
    p_ttl_seconds  integer,
    p_meta         jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_id      bigint := noetl.snowflake_id();
    v_scope   text := coalesce(p_scope, 'execution');
    v_ref     text;
    v_text    text := coalesce(p_data, 'null'::jsonb)::text;
    v_bytes   bigint;
    v_sha     text;
    v_expires timestamptz;
    v_parent  bigint;
BEGIN
    -- guards
    IF p_name IS NULL OR btrim(p_name) = '' OR strpos(p_name, '/') > 0 THEN
        RAISE EXCEPTION 'name must be a non-empty string without ''/''; got %', coalesce(p_name, 'null')
            USING ERRCODE = 'NE422';
    END IF;
    IF v_scope NOT IN ('step', 'execution', 'workflow', 'permanent') THEN
        RAISE EXCEPTION 'scope must be one of step, execution, workflow, permanent; got %', v_scope
            USING ERRCODE = 'NE422';
    END IF;
    IF p_ttl_seconds < 0 THEN
        RAISE EXCEPTION 'ttl must not be negative; got %', p_ttl_seconds USING ERRCODE = 'NE422';
    END IF;

    -- effects
    v_ref := 'noetl://execution/' || p_execution_id::text || '/result/' || p_name || '/' || v_id::text;
    v_bytes := coalesce((p_meta ->> 'bytes')::bigint, octet_length(v_text));
    v_sha := coalesce(p_meta ->> 'sha256', encode(pg_catalog.sha256(convert_to(v_text, 'UTF8')), 'hex'));
    v_expires := CASE WHEN p_ttl_seconds IS NOT NULL THEN now() + make_interval(secs => p_ttl_seconds) END;
    SELECT x.parent_execution_id INTO v_parent FROM noetl.execution AS x WHERE x.execution_id = p_execution_id;

    INSERT INTO noetl.result_ref (ref_id, ref, execution_id, parent_execution_id, name, scope, source_step,
                                  store_tier, content_type, bytes_size, sha256, compression, expires_at,
                                  extracted, correlation, meta)
    VALUES (v_id, v_ref, p_execution_id, v_parent, p_name, v_scope, p_source_step, 'db', 'application/json',
            v_bytes, v_sha, 'none', v_expires, p_meta -> 'extracted', p_meta -> 'correlation',
            coalesce(p_meta, '{}'::jsonb) - ARRAY['bytes', 'sha256', 'extracted', 'correlation']);
    INSERT INTO noetl.result_blob (ref_id, execution_id, data) VALUES (v_id, p_execution_id, coalesce(p_data, 'null'::jsonb));

    RETURN jsonb_build_object('ref', v_ref, 'store', 'db', 'scope', v_scope, 'expires_at', v_expires,
                              'bytes', v_bytes, 'sha256', v_sha);
END;
$$;


-- noetl.result_resolve(p_ref text) -> jsonb
--
-- The stored data of a ref, exactly as put (a JSON null comes back as the JSON literal null),
-- with accessed_at = now() and access_count + 1. NE404 when the ref is unknown or expired.
CREATE OR REPLACE FUNCTION noetl.result_resolve(p_ref text)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_id   bigint;
    v_data jsonb;
BEGIN
    UPDATE noetl.result_ref AS r
       SET accessed_at = now(), access_count = coalesce(r.access_count, 0) + 1
     WHERE r.ref = p_ref AND (r.expires_at IS NULL OR r.expires_at > now())
    RETURNING r.ref_id INTO v_id;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'result % not found or expired', p_ref USING ERRCODE = 'NE404';
    END IF;
    SELECT b.data INTO v_data FROM noetl.result_blob AS b WHERE b.ref_id = v_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'result % has no stored data', p_ref USING ERRCODE = 'NE404';
    END IF;
    RETURN v_data;
END;
$$;


-- noetl.cleanup_expired_result_refs() -> integer
--
-- Deletes every expired ref (its blob goes with it); returns how many.
CREATE OR REPLACE FUNCTION noetl.cleanup_expired_result_refs()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    DELETE FROM noetl.result_ref AS r WHERE r.expires_at IS NOT NULL AND r.expires_at <= now();
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;


-- noetl.cleanup_execution_result_refs(p_execution_id) -> integer
--
-- Deletes the execution-bound refs of one execution (scopes `step` and `execution`; `workflow`
-- and `permanent` refs outlive it); blobs go with them. Returns how many.
CREATE OR REPLACE FUNCTION noetl.cleanup_execution_result_refs(p_execution_id bigint)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    DELETE FROM noetl.result_ref AS r WHERE r.execution_id = p_execution_id AND r.scope IN ('step', 'execution');
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
