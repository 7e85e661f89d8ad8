-- Step results (engine.md §7): what a worker's call result means to the engine.
--
--   extract_call_result  §7.1  payload of call.done / command.completed -> {data, status, error, updates}
--   classify_outcome     §7.2  ok or failed, with the error text
--   step_binding         §7.3, §7.4  the value a step contributes to templates under its name
--   call_updates         §7.4  worker-side variable updates a command reports
--   loop_aggregate       §7.5  the binding of a loop activation, from its command rows
--
-- A call result is stored on the command row (noetl.command.result) as
-- {"data": …, "status": <lower-case text or null>, "error": …, "updates": {…}}.


-- noetl.extract_call_result(p_payload jsonb) -> jsonb
--
-- §7.1, first matching rule wins. p_payload is the event payload as sent (never the redacted or
-- shaped copy). A rule-1 reference into this shard's result store (noetl://…) is resolved
-- through noetl.result_ref/result_blob; an unresolvable one gives data {"_ref": <reference>}.
-- updates = the envelope's context_updates overlaid with data._context_updates (objects only).
CREATE OR REPLACE FUNCTION noetl.extract_call_result(p_payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    p       jsonb := CASE WHEN jsonb_typeof(p_payload) = 'object' THEN p_payload ELSE '{}'::jsonb END;
    r       jsonb := p -> 'result';
    v       jsonb;
    v_data  jsonb;
    v_stat  jsonb;
    v_err   jsonb;
    v_upd   jsonb := '{}'::jsonb;
BEGIN
    IF jsonb_typeof(r) = 'object' AND jsonb_typeof(r -> 'reference') = 'object' THEN
        -- rule 1: a result held by reference
        SELECT b.data INTO v
          FROM noetl.result_ref AS rr JOIN noetl.result_blob AS b ON b.ref_id = rr.ref_id
         WHERE rr.ref = r -> 'reference' ->> 'ref';
        IF v IS NULL THEN
            v_data := jsonb_build_object('_ref', r -> 'reference');
            v_stat := r -> 'status'; v_err := r -> 'error';
        ELSIF jsonb_typeof(v) = 'object' AND v ? 'status' AND v ? 'data' THEN
            v_data := v -> 'data'; v_stat := v -> 'status'; v_err := v -> 'error';
            IF jsonb_typeof(v -> 'context_updates') = 'object' THEN v_upd := v -> 'context_updates'; END IF;
        ELSE
            v_data := v; v_stat := r -> 'status'; v_err := r -> 'error';
        END IF;
    ELSIF jsonb_typeof(r) = 'object' AND jsonb_typeof(r -> 'context') = 'object' AND r -> 'context' ? 'data' THEN
        -- rule 2: the Rust worker's tool result inside result.context
        v_data := r -> 'context' -> 'data';
        v_stat := coalesce(nullif(r -> 'context' -> 'status', 'null'::jsonb), r -> 'status');
        v_err := coalesce(nullif(r -> 'context' -> 'error', 'null'::jsonb), r -> 'error');
        IF jsonb_typeof(r -> 'context' -> 'context_updates') = 'object' THEN
            v_upd := r -> 'context' -> 'context_updates';
        END IF;
    ELSIF jsonb_typeof(r) = 'object' AND jsonb_typeof(r -> 'context') = 'object' THEN
        v_data := r -> 'context'; v_stat := r -> 'status'; v_err := r -> 'error';               -- rule 3
    ELSIF jsonb_typeof(r) = 'object' AND r ? 'data' THEN
        v_data := r -> 'data'; v_stat := r -> 'status'; v_err := r -> 'error';                  -- rule 4
    ELSIF jsonb_typeof(p -> 'response') = 'object' AND p -> 'response' ? 'data' AND p -> 'response' ? 'status' THEN
        v_data := p -> 'response' -> 'data'; v_stat := p -> 'response' -> 'status';             -- rule 5
        v_err := p -> 'response' -> 'error';
    ELSIF p ? 'response' THEN
        v_data := p -> 'response'; v_stat := p -> 'status'; v_err := p -> 'error';              -- rule 6
    ELSIF p ? 'data' THEN
        v_data := p -> 'data'; v_stat := p -> 'status'; v_err := p -> 'error';                  -- rule 7
    ELSE
        v_data := 'null'::jsonb; v_stat := p -> 'status'; v_err := p -> 'error';                -- rule 8
    END IF;

    IF jsonb_typeof(v_data) = 'object' AND jsonb_typeof(v_data -> '_context_updates') = 'object' THEN
        v_upd := v_upd || (v_data -> '_context_updates');
    END IF;

    RETURN jsonb_build_object(
        'data', coalesce(v_data, 'null'::jsonb),
        'status', CASE WHEN v_stat IS NULL OR jsonb_typeof(v_stat) = 'null' THEN 'null'::jsonb
                       ELSE to_jsonb(lower(noetl.error_text(v_stat))) END,
        'error', coalesce(v_err, 'null'::jsonb),
        'updates', v_upd);
END;
$$;


-- noetl.classify_outcome(p_event_type, p_payload, p_sent_status, p_call_result, p_call_error)
--     -> (ok boolean, error text)
--
-- §7.2. command.failed is failed (error: payload.error, else the call.error text, else
-- "command failed"). command.completed is failed when a call.error arrived, or when the tool
-- status (the call result's, else the status sent with the event) is error/failed/failure/
-- timeout; otherwise ok.
CREATE OR REPLACE FUNCTION noetl.classify_outcome(
    p_event_type  text,
    p_payload     jsonb,
    p_sent_status text,
    p_call_result jsonb,
    p_call_error  text,
    OUT ok        boolean,
    OUT error     text
)
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_status text;
BEGIN
    IF p_event_type = 'command.failed' THEN
        ok := false;
        error := coalesce(noetl.error_text(p_payload -> 'error'), p_call_error, 'command failed');
        RETURN;
    END IF;
    IF p_call_error IS NOT NULL THEN
        ok := false; error := p_call_error; RETURN;
    END IF;
    v_status := lower(coalesce(p_call_result ->> 'status',
                               CASE WHEN jsonb_typeof(p_payload) = 'object' THEN p_payload ->> 'status' END,
                               p_sent_status));
    IF v_status IN ('error', 'failed', 'failure', 'timeout') THEN
        ok := false;
        error := coalesce(noetl.error_text(p_call_result -> 'error'),
                          CASE WHEN jsonb_typeof(p_payload) = 'object' THEN noetl.error_text(p_payload -> 'error') END,
                          format('tool returned status ''%s''', v_status));
        RETURN;
    END IF;
    ok := true;
END;
$$;


-- noetl.step_binding(p_call_result jsonb, p_tool jsonb) -> jsonb
--
-- §7.3 for a single tool: data minus a top-level _context_updates. §7.4 for a pipeline
-- (p_tool.form = 'pipeline'): labels from the Python-worker shape {results, _prev|ctx} or the
-- Rust shape {<label>: data, _context_updates}; b = labels in plan order then the others, then
-- the keys of object label values (later labels win), then b.results = labels.
-- Never SQL NULL: a tool that returned nothing binds JSON null.
CREATE OR REPLACE FUNCTION noetl.step_binding(p_call_result jsonb, p_tool jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    d        jsonb := coalesce(p_call_result -> 'data', 'null'::jsonb);
    v_labels jsonb;
    v_order  text[];
    b        jsonb := '{}'::jsonb;
    v_merged jsonb := '{}'::jsonb;
    k        text;
BEGIN
    IF jsonb_typeof(d) <> 'object' THEN
        RETURN d;
    END IF;
    IF coalesce(p_tool ->> 'form', 'single') <> 'pipeline' THEN
        RETURN d - '_context_updates';
    END IF;

    IF jsonb_typeof(d -> 'results') = 'object' AND (d ? '_prev' OR d ? 'ctx') THEN
        v_labels := d -> 'results';
    ELSE
        v_labels := d - '_context_updates';
    END IF;

    SELECT coalesce(array_agg(t ->> 'name' ORDER BY o), '{}')
      INTO v_order
      FROM jsonb_array_elements(coalesce(p_tool -> 'tasks', '[]'::jsonb)) WITH ORDINALITY AS a(t, o)
     WHERE v_labels ? (t ->> 'name');
    SELECT v_order || coalesce(array_agg(key ORDER BY key), '{}')   -- jsonb key order is what
      INTO v_order                                                  -- jsonb_object_keys gives;
      FROM jsonb_object_keys(v_labels) AS key                       -- the sort only makes the
     WHERE NOT key = ANY (v_order);                                 -- aggregate deterministic

    FOREACH k IN ARRAY v_order LOOP
        b := b || jsonb_build_object(k, v_labels -> k);
    END LOOP;
    FOREACH k IN ARRAY v_order LOOP
        IF jsonb_typeof(v_labels -> k) = 'object' THEN
            v_merged := v_merged || (v_labels -> k);
        END IF;
    END LOOP;
    RETURN b || v_merged || jsonb_build_object('results', v_labels);
END;
$$;


-- noetl.call_updates(p_call_result jsonb, p_tool jsonb) -> jsonb
--
-- §7.4: the updates the extraction found (context_updates, _context_updates), plus the Python
-- worker pipeline's `ctx` (bare names) for a pipeline. An object, possibly empty.
CREATE OR REPLACE FUNCTION noetl.call_updates(p_call_result jsonb, p_tool jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
-- no SET search_path: inlinable into its callers (events.sql header explains why)
AS $$
    SELECT CASE WHEN jsonb_typeof(p_call_result -> 'updates') = 'object' THEN p_call_result -> 'updates' ELSE '{}'::jsonb END
        || CASE WHEN p_tool ->> 'form' = 'pipeline'
                     AND jsonb_typeof(p_call_result -> 'data') = 'object'
                     AND jsonb_typeof(p_call_result -> 'data' -> 'results') = 'object'
                     AND jsonb_typeof(p_call_result -> 'data' -> 'ctx') = 'object'
                THEN p_call_result -> 'data' -> 'ctx' ELSE '{}'::jsonb END
$$;


-- noetl.update_var_name(p_key text) -> text
--
-- §7.4 / §1.6: ctx.<k>, iter.<k>, step.<k> and a bare identifier <k> name variable <k>; any
-- other key (other dotted forms, non-identifiers) is ignored (NULL).
CREATE OR REPLACE FUNCTION noetl.update_var_name(p_key text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
-- no SET search_path: inlinable into its callers (events.sql header explains why)
AS $$
    SELECT CASE
        WHEN p_key ~ '^[A-Za-z_][A-Za-z0-9_]*$' THEN p_key
        WHEN p_key ~ '^(ctx|iter|step)\.[A-Za-z_][A-Za-z0-9_]*$' THEN substring(p_key FROM '\.(.*)$')
    END
$$;


-- noetl.loop_aggregate(p_execution_id, p_step, p_epoch, p_tool) -> jsonb
--
-- §7.5: {"results": [b0…], "data": [b0…], "count": n, "stats": {"total": n, "success": n,
-- "failed": 0}} with bi the binding of iteration i's command of that activation, in index order
-- whatever the completion order. Reads the activation's command rows once, through
-- command_step_idx (called once per loop activation, when its last iteration completes).
CREATE OR REPLACE FUNCTION noetl.loop_aggregate(p_execution_id bigint, p_step text, p_epoch integer, p_tool jsonb)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT jsonb_build_object(
               'results', r.list, 'data', r.list, 'count', r.n,
               'stats', jsonb_build_object('total', r.n, 'success', r.n, 'failed', 0))
      FROM (
        SELECT coalesce(jsonb_agg(noetl.step_binding(c.result, p_tool) ORDER BY c.iter_index), '[]'::jsonb) AS list,
               count(*) AS n
          FROM noetl.command AS c
         WHERE c.execution_id = p_execution_id AND c.step_name = p_step AND c.step_epoch = p_epoch
      ) AS r
$$;
