-- Event-log primitives of the orchestrator (engine.md §5.0, data-model.md §2.8, §4.4, §5.7, §9.1).
--
-- Every row the engine, the claim path or ingest writes into noetl.event goes through
-- noetl.append_event / noetl.append_events_reserve, which take the next gap-free position of the
-- execution (stream_version, called `seq` in engine.md) from noetl.execution.event_count. The
-- caller MUST already hold the execution lock (SELECT ... FOR NO KEY UPDATE on the execution
-- row, data-model.md §9.0); the UPDATE here then only re-touches a row this transaction owns, so
-- positions are assigned in commit order and never skip.
--
-- The helpers below are pure: status normalisation (§4.4), result shaping (§9.1 "Result
-- shaping") and command-id parsing (§5.7). They are LANGUAGE sql with no dependency on other
-- functions of this folder, so file order does not matter.
--
-- Why these helpers have no `SET search_path = ''` (STYLE.md asks for it everywhere else): a
-- function with a SET clause is never inlined, and a LANGUAGE sql function that is not inlined
-- is parsed and planned again in every transaction that calls it (its plan lives in the
-- calling expression's state, which PL/pgSQL rebuilds per transaction). On the ingest path that
-- cost ~100-150 us per call, several calls per event. Without the SET, each body is a single
-- expression (no FROM, no sub-select) that the planner inlines into the caller's cached plan.
-- The bodies name only pg_catalog built-ins, which resolve before anything else on any
-- search_path, and every caller is itself a function with an empty search_path.


-- noetl.normalize_event_status(p_status text, p_event_type text) -> text
--
-- data-model.md §4.4: a sent status is upper-cased, OK/SUCCESS/SUCCEEDED/DONE -> COMPLETED,
-- ERROR/FAILURE/TIMEOUT -> FAILED, CANCELED -> CANCELLED, anything else kept upper-cased.
-- Without a (non-blank) sent status, it is derived from the event type: contains cancel ->
-- CANCELLED; error or failed -> FAILED; done, exit or completed -> COMPLETED; else RUNNING.
CREATE OR REPLACE FUNCTION noetl.normalize_event_status(p_status text, p_event_type text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
-- no SET: inlinable (see the file header)
AS $$
    SELECT CASE
        WHEN nullif(btrim(p_status), '') IS NOT NULL THEN
            CASE upper(btrim(p_status))
                WHEN 'OK' THEN 'COMPLETED'
                WHEN 'SUCCESS' THEN 'COMPLETED'
                WHEN 'SUCCEEDED' THEN 'COMPLETED'
                WHEN 'DONE' THEN 'COMPLETED'
                WHEN 'ERROR' THEN 'FAILED'
                WHEN 'FAILURE' THEN 'FAILED'
                WHEN 'TIMEOUT' THEN 'FAILED'
                WHEN 'CANCELED' THEN 'CANCELLED'
                ELSE upper(btrim(p_status))
            END
        WHEN strpos(lower(p_event_type), 'cancel') > 0 THEN 'CANCELLED'
        WHEN strpos(lower(p_event_type), 'error') > 0 OR strpos(lower(p_event_type), 'failed') > 0 THEN 'FAILED'
        WHEN strpos(lower(p_event_type), 'done') > 0 OR strpos(lower(p_event_type), 'exit') > 0
             OR strpos(lower(p_event_type), 'completed') > 0 THEN 'COMPLETED'
        ELSE 'RUNNING'
    END
$$;


-- noetl.shape_event_result(p_status, p_payload, p_result_kind, p_result_uri, p_event_ids) -> jsonb
--
-- data-model.md §9.1 "Result shaping", so every stored result passes chk_event_result_shape:
--   data: object payload -> {status, context: payload}; other non-null -> {status, context:
--         {value: payload}}; SQL NULL or JSON null -> {status}
--   ref:  {status, reference: {store_tier, logical_uri}} (+ context when the payload is an object);
--         store_tier gcs for gs://, s3 for s3://, else artifact
--   refs: {status, reference: {event_ids, total_parts}} (+ context when the payload is an object)
CREATE OR REPLACE FUNCTION noetl.shape_event_result(
    p_status      text,
    p_payload     jsonb,
    p_result_kind text DEFAULT 'data',
    p_result_uri  text DEFAULT NULL,
    p_event_ids   jsonb DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
STABLE      -- not IMMUTABLE: jsonb_build_object/to_jsonb are STABLE, and an IMMUTABLE
            -- function whose body is less than immutable is never inlined
PARALLEL SAFE
-- no SET: inlinable (see the file header)
AS $$
    SELECT jsonb_build_object('status', p_status)
        || CASE coalesce(p_result_kind, 'data')
               WHEN 'ref' THEN jsonb_build_object('reference', jsonb_build_object(
                       'store_tier', CASE WHEN p_result_uri LIKE 'gs://%' THEN 'gcs'
                                          WHEN p_result_uri LIKE 's3://%' THEN 's3'
                                          ELSE 'artifact' END,
                       'logical_uri', p_result_uri))
               WHEN 'refs' THEN jsonb_build_object('reference', jsonb_build_object(
                       'event_ids', coalesce(p_event_ids, '[]'::jsonb),
                       'total_parts', CASE WHEN jsonb_typeof(p_event_ids) = 'array'
                                           THEN jsonb_array_length(p_event_ids) ELSE 0 END))
               ELSE '{}'::jsonb
           END
        || CASE
               WHEN jsonb_typeof(p_payload) = 'object' THEN jsonb_build_object('context', p_payload)
               WHEN coalesce(p_result_kind, 'data') NOT IN ('ref', 'refs')
                    AND p_payload IS NOT NULL AND jsonb_typeof(p_payload) <> 'null'
                   THEN jsonb_build_object('context', jsonb_build_object('value', p_payload))
               ELSE '{}'::jsonb
           END
$$;


-- noetl.parse_command_id(p_value jsonb) -> bigint
--
-- data-model.md §5.7: a JSON integer or a string of digits is the id itself; otherwise an
-- optional trailing ":i<digits>" is stripped and the digits after the last ':' are the id (step
-- names may contain ':'). Anything else, or a value outside bigint, is NULL.
CREATE OR REPLACE FUNCTION noetl.parse_command_id(p_value jsonb)
RETURNS bigint
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
-- no SET: inlinable (see the file header). One expression, so the digits are produced once:
-- a digit string (the number's text, or a string's tail after its last ':' once ':i<n>' is
-- stripped — for a plain digit string that tail is the string itself) of 1..19 digits, cast
-- through numeric and capped at 2^63 so that an out-of-range value becomes NULL, not an error.
AS $$
    SELECT nullif(least(substring(
               CASE jsonb_typeof(p_value)
                   WHEN 'number' THEN p_value::text
                   WHEN 'string' THEN substring(regexp_replace(p_value #>> '{}', ':i[0-9]+$', '') FROM '([^:]*)$')
               END FROM '^([0-9]{1,19})$')::numeric, 9223372036854775808), 9223372036854775808)::bigint
$$;


-- noetl.error_text(p_value jsonb) -> text
--
-- An error value as text (engine.md §7.2): a JSON string is itself, SQL NULL and JSON null are
-- NULL, any other value is its JSON text (jsonb key order).
CREATE OR REPLACE FUNCTION noetl.error_text(p_value jsonb)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
-- no SET: inlinable (see the file header)
AS $$
    SELECT CASE jsonb_typeof(p_value)
               WHEN 'string' THEN p_value #>> '{}'
               WHEN 'null' THEN NULL
               ELSE p_value::text
           END
$$;


-- noetl.append_event(...) -> bigint   (the row's stream_version)
--
-- Inserts one event row of a known execution at the next position. catalog_id and
-- parent_execution_id are copied from the execution row (never from a client); node_id is the
-- node name unless given. The caller holds the execution lock and has minted p_event_id.
-- Also maintains execution.last_event_id / last_event_type / last_node_name / event_count.
CREATE OR REPLACE FUNCTION noetl.append_event(
    p_execution_id    bigint,
    p_event_id        bigint,
    p_parent_event_id bigint,
    p_event_type      text,
    p_node_name       text,
    p_node_type       text,
    p_status          text,
    p_result          jsonb,
    p_meta            jsonb,
    p_context         jsonb DEFAULT NULL,
    p_error           text DEFAULT NULL,
    p_command_id      bigint DEFAULT NULL,
    p_worker_id       text DEFAULT NULL,
    p_producer        text DEFAULT 'server',
    p_created_at      timestamptz DEFAULT NULL,
    p_idempotency_key text DEFAULT NULL,
    p_node_id         text DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_seq        bigint;
    v_catalog_id bigint;
    v_parent_x   bigint;
    v_at         timestamptz := coalesce(p_created_at, clock_timestamp());
BEGIN
    UPDATE noetl.execution AS x
       SET event_count = x.event_count + 1,
           last_event_id = p_event_id,
           last_event_type = p_event_type,
           last_node_name = p_node_name,
           updated_at = now()
     WHERE x.execution_id = p_execution_id
    RETURNING x.event_count, x.catalog_id, x.parent_execution_id
         INTO v_seq, v_catalog_id, v_parent_x;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'execution % not found', p_execution_id USING ERRCODE = 'NE404';
    END IF;

    INSERT INTO noetl.event (
        execution_id, catalog_id, event_id, parent_event_id, parent_execution_id,
        created_at, event_time, event_type, node_id, node_name, node_type, status,
        context, result, meta, error, worker_id, stream_version, producer,
        idempotency_key, command_id
    ) VALUES (
        p_execution_id, v_catalog_id, p_event_id, p_parent_event_id, v_parent_x,
        v_at, v_at, p_event_type, coalesce(p_node_id, p_node_name), p_node_name, p_node_type, p_status,
        p_context, p_result, p_meta, p_error, p_worker_id, v_seq, p_producer,
        p_idempotency_key, p_command_id
    );
    RETURN v_seq;
END;
$$;


-- noetl.root_event_id(p_execution_id bigint) -> bigint
--
-- The execution's playbook_started row: always position 1 of its stream (start_execution
-- writes it first), found through event_stream_uidx without scanning the log.
CREATE OR REPLACE FUNCTION noetl.root_event_id(p_execution_id bigint)
RETURNS bigint
LANGUAGE plpgsql   -- not sql: a SQL function with SET is planned on every call; PL/pgSQL keeps the plan
STABLE
SET search_path = ''
AS $$
BEGIN
    RETURN (SELECT e.event_id FROM noetl.event AS e
             WHERE e.execution_id = p_execution_id AND e.stream_version = 1);
END;
$$;
