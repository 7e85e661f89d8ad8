-- The render context (engine.md §4) and control-flow evaluation against it (§3, §6.6).
--
-- A context is composed from layers, lowest first (§4.1):
--   0  path (the catalog path) and result (legacy alias) — added only when no other layer
--      defines the name
--   1  the effective workload's keys
--   2  the execution variables (noetl.transient)
--   3  the step bindings (step_state.result of steps with a completed activation), an object
--      binding without its own `data` key exposed with the alias `data` (§4.3)
--   4  iteration names of an iteration command: <iterator>, loop_index, _index, _total
--   5  reserved names: workload, ctx, iter, execution_id, catalog_id, job, env (+ event, output
--      in pass contexts)
--
-- noetl.context_parts() reads layers 1–3 and 5 once (PK-prefix reads of step_state and
-- transient, bounded by the plan and the number of variables, never by the log), and
-- noetl.compose_context() assembles a command's or a pass's context from them.
--
-- Evaluation goes through noetl.eval_field / noetl.eval_guard_field, which call the evaluator
-- (noetl.eval_value / noetl.eval_guard, eval_value.sql) and turn any evaluation error into
-- SQLSTATE NT001 with the field's document path in front of the message (§3.11), which the
-- pass turns into playbook.failed reason evaluate_error.


-- noetl.context_parts(p_execution_id bigint) -> jsonb {lower, top, path}
--
-- lower = layers 1–3 merged (higher wins), top = layer 5 without event/output, path = layer 0.
CREATE OR REPLACE FUNCTION noetl.context_parts(p_execution_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_workload jsonb;
    v_env      jsonb;
    v_path     text;
    v_catalog  bigint;
    v_vars     jsonb;
    v_binds    jsonb;
    v_xid      text := p_execution_id::text;
BEGIN
    SELECT x.workload, x.env, x.path, x.catalog_id INTO v_workload, v_env, v_path, v_catalog
      FROM noetl.execution AS x WHERE x.execution_id = p_execution_id;
    SELECT coalesce(jsonb_object_agg(t.var_name, t.var_value), '{}'::jsonb) INTO v_vars
      FROM noetl.transient AS t WHERE t.execution_id = p_execution_id;
    SELECT coalesce(jsonb_object_agg(s.step_name,
               CASE WHEN jsonb_typeof(s.result) = 'object' AND NOT s.result ? 'data'
                    THEN s.result || jsonb_build_object('data', s.result)
                    ELSE s.result END), '{}'::jsonb)
      INTO v_binds
      FROM noetl.step_state AS s
     WHERE s.execution_id = p_execution_id AND s.result IS NOT NULL;

    RETURN jsonb_build_object(
        'lower', coalesce(v_workload, '{}'::jsonb) || v_vars || v_binds,
        'top', jsonb_build_object(
            'workload', coalesce(v_workload, '{}'::jsonb),
            'ctx', coalesce(v_workload, '{}'::jsonb) || v_vars,
            'iter', '{}'::jsonb,
            'execution_id', v_xid,
            'catalog_id', v_catalog::text,
            'job', jsonb_build_object('uuid', v_xid, 'execution_id', v_xid, 'id', v_xid),
            'env', coalesce(v_env, '{}'::jsonb)),
        'path', v_path);
END;
$$;


-- noetl.expose_binding(p_binding jsonb) -> jsonb
--
-- §4.3: an object binding without a `data` key is exposed with "data": itself (one level).
CREATE OR REPLACE FUNCTION noetl.expose_binding(p_binding jsonb)
RETURNS jsonb
LANGUAGE sql
STABLE      -- not IMMUTABLE: jsonb_build_object/to_jsonb are STABLE, and an IMMUTABLE
            -- function whose body is less than immutable is never inlined
PARALLEL SAFE
-- no SET search_path: inlinable into its callers (events.sql header explains why)
AS $$
    SELECT CASE WHEN jsonb_typeof(p_binding) = 'object' AND NOT p_binding ? 'data'
                THEN p_binding || jsonb_build_object('data', p_binding)
                ELSE p_binding END
$$;


-- noetl.compose_context(p_parts, p_iter_names, p_top_extra, p_result) -> jsonb
--
-- lower || iteration names || top || p_top_extra (iter, event, output), then path and result
-- (layer 0) only where no other layer defines them. p_result is a raw binding (SQL NULL: none).
-- Built by one aggregate over the layers' top-level pairs (a later layer wins a name, as with ||):
-- every jsonb || or jsonb_build_object copies its operands value by value, all the way down, so
-- the former chain of five merges copied a large workload (which appears three times in a
-- context: its keys, workload and ctx) about fifteen times per command; this copies it once.
CREATE OR REPLACE FUNCTION noetl.compose_context(
    p_parts      jsonb,
    p_iter_names jsonb,
    p_top_extra  jsonb,
    p_result     jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v jsonb;
BEGIN
    SELECT jsonb_object_agg(l.key, l.value ORDER BY l.layer) INTO v   -- the last value of a key wins
      FROM (SELECT 0 AS layer, 'path' AS key, p_parts -> 'path' AS value
             WHERE p_parts ->> 'path' IS NOT NULL
            UNION ALL
            SELECT 0, 'result', noetl.expose_binding(p_result) WHERE p_result IS NOT NULL
            UNION ALL
            SELECT 1, e.key, e.value FROM jsonb_each(p_parts -> 'lower') AS e
            UNION ALL
            SELECT 2, e.key, e.value FROM jsonb_each(p_iter_names) AS e
            UNION ALL
            SELECT 3, e.key, e.value FROM jsonb_each(p_parts -> 'top') AS e
            UNION ALL
            SELECT 4, e.key, e.value FROM jsonb_each(p_top_extra) AS e) AS l;
    RETURN coalesce(v, '{}'::jsonb);
END;
$$;


-- noetl.iteration_names(p_iterator, p_item, p_index, p_total) -> jsonb {layer4, iter}
CREATE OR REPLACE FUNCTION noetl.iteration_names(p_iterator text, p_item jsonb, p_index integer, p_total integer)
RETURNS jsonb
LANGUAGE sql
STABLE      -- not IMMUTABLE: jsonb_build_object/to_jsonb are STABLE, and an IMMUTABLE
            -- function whose body is less than immutable is never inlined
PARALLEL SAFE
-- no SET search_path: inlinable into its callers (events.sql header explains why)
AS $$
    SELECT jsonb_build_object(
        'layer4', jsonb_build_object(p_iterator, p_item, 'loop_index', p_index, '_index', p_index, '_total', p_total),
        'iter', jsonb_build_object(p_iterator, p_item, '_index', p_index, '_first', p_index = 0,
                                   '_last', p_index = p_total - 1, '_total', p_total))
$$;


-- noetl.pass_context(p_execution_id, p_pass, p_routing_step) -> jsonb
--
-- §4, §4.4: the command context without iteration names, plus event (the pass's current
-- completion), output (the routing step's outcome: ok with its binding, or skipped; undefined
-- in the start pass) and result (the routing step's binding, when defined).
CREATE OR REPLACE FUNCTION noetl.pass_context(p_execution_id bigint, p_pass jsonb, p_routing_step text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_status text;
    v_result jsonb;
    v_extra  jsonb := jsonb_build_object('event', p_pass -> 'event');
BEGIN
    IF p_routing_step IS NOT NULL THEN
        SELECT s.status, s.result INTO v_status, v_result
          FROM noetl.step_state AS s
         WHERE s.execution_id = p_execution_id AND s.step_name = p_routing_step;
        v_extra := v_extra || jsonb_build_object('output',
            CASE WHEN v_status = 'SKIPPED'
                 THEN jsonb_build_object('status', 'skipped', 'data', NULL, 'error', NULL)
                 ELSE jsonb_build_object('status', 'ok', 'data', coalesce(v_result, 'null'::jsonb), 'error', NULL) END);
    END IF;
    RETURN noetl.compose_context(noetl.context_parts(p_execution_id), NULL, v_extra, v_result);
END;
$$;


-- noetl.build_context(p_execution_id bigint, p_step text, p_iteration integer DEFAULT NULL) -> jsonb
--
-- The command context the engine would store right now for the current activation of p_step
-- (engine.md §6.1), for iteration p_iteration of a loop step: result is the binding of the
-- activation's trigger_step; the element comes from the activation's pending loop_item row or,
-- once dispatched, from the iteration command's stored context. For tools, tests and operators;
-- the pass builds contexts in bulk (dispatch.sql) with the same functions.
CREATE OR REPLACE FUNCTION noetl.build_context(p_execution_id bigint, p_step text, p_iteration integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_st     noetl.step_state;
    v_result jsonb;
    v_item   jsonb;
    v_names  jsonb;
BEGIN
    SELECT * INTO v_st FROM noetl.step_state AS s WHERE s.execution_id = p_execution_id AND s.step_name = p_step;
    IF v_st.trigger_step IS NOT NULL THEN
        SELECT s.result INTO v_result FROM noetl.step_state AS s
         WHERE s.execution_id = p_execution_id AND s.step_name = v_st.trigger_step;
    END IF;
    IF p_iteration IS NULL OR NOT coalesce(v_st.is_loop, false) THEN
        RETURN noetl.compose_context(noetl.context_parts(p_execution_id), NULL, NULL, v_result);
    END IF;
    SELECT li.item INTO v_item FROM noetl.loop_item AS li
     WHERE li.execution_id = p_execution_id AND li.step_name = p_step
       AND li.epoch = v_st.epoch AND li.iter_index = p_iteration;
    IF NOT FOUND THEN
        SELECT e.context -> 'render_context' -> v_st.iterator INTO v_item
          FROM noetl.command AS c JOIN noetl.event AS e
            ON e.execution_id = c.execution_id AND e.event_id = c.command_id
         WHERE c.execution_id = p_execution_id AND c.step_name = p_step
           AND c.step_epoch = v_st.epoch AND c.iter_index = p_iteration;
    END IF;
    v_names := noetl.iteration_names(v_st.iterator, coalesce(v_item, 'null'::jsonb), p_iteration, v_st.iterations_expected);
    RETURN noetl.compose_context(noetl.context_parts(p_execution_id), v_names -> 'layer4',
                                 jsonb_build_object('iter', v_names -> 'iter'), v_result);
END;
$$;


-- noetl.eval_field(p_field jsonb, p_ctx jsonb) -> jsonb
--
-- Evaluates a compiled field {"at", "src", "v"} (or a set item {"key", "var", "at", "v"}):
-- the native value, SQL NULL for undefined. A literal spec is returned without calling the
-- evaluator. Any evaluation error (the evaluator's own SQLSTATE NT001, or a data exception)
-- is re-raised as NT001 with "<at>: " in front of the message.
CREATE OR REPLACE FUNCTION noetl.eval_field(p_field jsonb, p_ctx jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF p_field -> 'v' ? 'lit' THEN          -- no evaluator call, no subtransaction
        RETURN p_field -> 'v' -> 'lit';
    END IF;
    RETURN noetl.eval_field_located(p_field, p_ctx, 'value') -> 'v';
END;
$$;


-- noetl.eval_field_located(p_field, p_ctx, p_mode) -> jsonb {"v": value} or {} for undefined
--
-- One evaluator call inside an exception block (one subtransaction): p_mode value
-- (noetl.eval_value), guard (noetl.eval_guard, a boolean), collection (noetl.eval_collection,
-- §6.6) or max_in_flight (noetl.eval_max_in_flight, §3.10; undefined = no limit).
CREATE OR REPLACE FUNCTION noetl.eval_field_located(p_field jsonb, p_ctx jsonb, p_mode text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v jsonb;
BEGIN
    CASE p_mode
        WHEN 'guard' THEN v := to_jsonb(coalesce(noetl.eval_guard(p_field, p_ctx), false));
        WHEN 'collection' THEN v := noetl.eval_collection(p_field, p_ctx);
        WHEN 'max_in_flight' THEN v := to_jsonb(noetl.eval_max_in_flight(p_field, p_ctx));
        ELSE v := noetl.eval_value(p_field -> 'v', p_ctx);
    END CASE;
    RETURN CASE WHEN v IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('v', v) END;
EXCEPTION
    WHEN SQLSTATE 'NT001' OR data_exception THEN
        RAISE EXCEPTION '%: %', coalesce(p_field ->> 'at', '?'), SQLERRM USING ERRCODE = 'NT001';
END;
$$;


-- noetl.eval_guard_field(p_field jsonb, p_ctx jsonb) -> boolean
--
-- A step or arc `when` (§3.5 guard rule); an absent field (SQL or JSON null) is true. A boolean
-- literal is answered without the evaluator. Errors as noetl.eval_field.
CREATE OR REPLACE FUNCTION noetl.eval_guard_field(p_field jsonb, p_ctx jsonb)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF p_field IS NULL OR jsonb_typeof(p_field) = 'null' THEN
        RETURN true;
    END IF;
    IF jsonb_typeof(p_field -> 'v' -> 'lit') = 'boolean' THEN
        RETURN (p_field -> 'v' ->> 'lit')::boolean;
    END IF;
    RETURN (noetl.eval_field_located(p_field, p_ctx, 'guard') ->> 'v')::boolean;
END;
$$;


-- noetl.loop_collection(p_field jsonb, p_ctx jsonb) -> jsonb (an array)
--
-- §6.6 collection rule (the evaluator's eval_collection); a literal list is used as is.
CREATE OR REPLACE FUNCTION noetl.loop_collection(p_field jsonb, p_ctx jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF jsonb_typeof(p_field -> 'v' -> 'lit') = 'array' THEN
        RETURN p_field -> 'v' -> 'lit';
    END IF;
    RETURN noetl.eval_field_located(p_field, p_ctx, 'collection') -> 'v';
END;
$$;


-- noetl.loop_max_in_flight(p_mif jsonb, p_ctx jsonb) -> integer
--
-- §3.10 / §6.6 mif(): the plan holds an integer literal (used as is, at least 1), a compiled
-- field (evaluated: undefined or null -> NULL = unlimited; else int filter, at least 1) or null.
CREATE OR REPLACE FUNCTION noetl.loop_max_in_flight(p_mif jsonb, p_ctx jsonb)
RETURNS integer
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF p_mif IS NULL OR jsonb_typeof(p_mif) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(p_mif) = 'number' THEN
        RETURN greatest(1, least((p_mif #>> '{}')::numeric, 2147483647))::integer;
    END IF;
    RETURN (noetl.eval_field_located(p_mif, p_ctx, 'max_in_flight') ->> 'v')::integer;
END;
$$;
