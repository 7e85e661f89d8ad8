-- The decision procedure (engine.md §6.4–§6.8): one pass per trigger, inside the transaction
-- that ingested the trigger, under the execution lock.
--
-- The model. A pass starts from a trigger (playbook_started, or a command.completed /
-- command.failed of a live command) and walks the plan: it completes the trigger's step,
-- applies `set`, routes over the step's arcs, arrives at targets, holds joins until no ancestor
-- is live, activates steps (guard, skip chain, tool-less `end`, loops) and finally checks for
-- the end of the execution. All state lives in projection rows — noetl.step_state (one row per
-- touched step), noetl.transient (variables), noetl.loop_item (pending loop elements) — plus a
-- small pass document threaded through the functions below as INOUT p_pass:
--
--   {"trigger":   <event_id of the trigger: parent of every engine row of the pass>,
--    "event":     <the `event` name templates see, §4.4>,
--    "activated": {<step>: true} — steps activated in this pass (a second one is a cycle),
--    "commands":  [<command entries written by noetl.write_pass, dispatch.sql>],
--    "terminal":  null | {"kind": "completed"} | {"kind": "failed", reason, steps, error}}
--
-- Control rows (step.enter, step.skipped, loop.done, step.exit) are inserted as they are
-- generated (they need their ids at once, e.g. as loop_event_id); commands and the terminal
-- row are written after all evaluation (write_pass), which gives the row order of §5.0.
-- The evaluating part of a pass runs in a PL/pgSQL exception block (a savepoint): an
-- evaluation error (NT001), a synchronous cycle (NT010) or an unexpected internal error rolls
-- back every effect of the pass except the trigger command's own status, and the execution
-- fails (reason evaluate_error or cycle_without_progress).
--
-- Locks: the caller holds the execution row (FOR NO KEY UPDATE) and, for a completion, the
-- trigger's command row; step_state rows are then written, then new command and outbox rows
-- (data-model.md §9.0 lock order). Cost: a bounded number of step_state/transient rows and PK
-- lookups per pass, never a read of the event log (D11).


-- noetl.pass_new(p_trigger bigint, p_event jsonb) -> jsonb
CREATE OR REPLACE FUNCTION noetl.pass_new(p_trigger bigint, p_event jsonb)
RETURNS jsonb
LANGUAGE sql
STABLE      -- not IMMUTABLE: jsonb_build_object/to_jsonb are STABLE, and an IMMUTABLE
            -- function whose body is less than immutable is never inlined
-- no SET search_path: inlinable into its callers (events.sql header explains why)
AS $$
    SELECT jsonb_build_object('trigger', p_trigger, 'event', p_event, 'activated', '{}'::jsonb,
                              'commands', '[]'::jsonb, 'terminal', NULL)
$$;


-- noetl.emit_control(p_execution_id, p_pass, p_event_type, p_step, p_status, p_result) -> bigint
--
-- Writes one engine control row of the pass (parent = the pass trigger, node_type NULL,
-- meta {"emitted_by": "orchestrator"}) and returns its event_id.
CREATE OR REPLACE FUNCTION noetl.emit_control(
    p_execution_id bigint,
    p_pass         jsonb,
    p_event_type   text,
    p_step         text,
    p_status       text,
    p_result       jsonb
)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_id bigint := noetl.snowflake_id();
BEGIN
    PERFORM noetl.append_event(p_execution_id, v_id, (p_pass ->> 'trigger')::bigint, p_event_type,
                               p_step, NULL, p_status, p_result,
                               jsonb_build_object('emitted_by', 'orchestrator'));
    RETURN v_id;
END;
$$;


-- noetl.write_variables(p_execution_id, p_items, p_ctx, p_source_step) -> void
--
-- §6.5 write_variables for `set` items [{"var", "at", "v"}, …]: every value is evaluated
-- against the same p_ctx first (§1.6, EC-11), then all are written together; a later item of
-- the same variable wins. Undefined is stored as JSON null (§3.10). var_type computed.
CREATE OR REPLACE FUNCTION noetl.write_variables(
    p_execution_id bigint,
    p_items        jsonb,
    p_ctx          jsonb,
    p_source_step  text
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_item   jsonb;
    v_values jsonb := '{}'::jsonb;
BEGIN
    FOR v_item IN SELECT value FROM jsonb_array_elements(coalesce(p_items, '[]'::jsonb)) LOOP
        v_values := v_values || jsonb_build_object(v_item ->> 'var',
                                    coalesce(noetl.eval_field(v_item, p_ctx), 'null'::jsonb));
    END LOOP;
    PERFORM noetl.store_variables(p_execution_id, v_values, 'computed', p_source_step);
END;
$$;


-- noetl.store_variables(p_execution_id, p_values jsonb, p_var_type, p_source_step) -> void
--
-- Upserts {name: value} into noetl.transient (the single variable store, §6.2).
CREATE OR REPLACE FUNCTION noetl.store_variables(
    p_execution_id bigint,
    p_values       jsonb,
    p_var_type     text,
    p_source_step  text
)
RETURNS void
LANGUAGE plpgsql   -- not sql: a SQL function with SET is planned on every call; PL/pgSQL keeps the plan
VOLATILE
SET search_path = ''
AS $$
BEGIN
    INSERT INTO noetl.transient AS t (execution_id, var_name, var_type, var_value, source_step)
    SELECT p_execution_id, v.key, p_var_type, coalesce(v.value, 'null'::jsonb), p_source_step
      FROM jsonb_each(coalesce(p_values, '{}'::jsonb)) AS v
    ON CONFLICT (execution_id, var_name) DO UPDATE
       SET var_value = excluded.var_value, var_type = excluded.var_type,
           source_step = excluded.source_step, accessed_at = now();
END;
$$;


-- noetl.apply_updates(p_execution_id, p_updates jsonb, p_step) -> void
--
-- §7.4: worker-reported updates; ctx.k / iter.k / step.k / bare k write variable k
-- (var_type step_result), other keys are ignored. Values are stored as reported.
CREATE OR REPLACE FUNCTION noetl.apply_updates(p_execution_id bigint, p_updates jsonb, p_step text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_values jsonb;
BEGIN
    IF p_updates IS NULL OR p_updates = '{}'::jsonb THEN
        RETURN;
    END IF;
    SELECT coalesce(jsonb_object_agg(n.name, n.value ORDER BY n.ord), '{}'::jsonb) INTO v_values
      FROM (SELECT noetl.update_var_name(u.key) AS name, u.value, row_number() OVER () AS ord
              FROM jsonb_each(p_updates) AS u) AS n
     WHERE n.name IS NOT NULL;
    PERFORM noetl.store_variables(p_execution_id, v_values, 'step_result', p_step);
END;
$$;


-- noetl.activate(p_execution_id, p_plan, INOUT p_pass, p_step, p_from)
--
-- §6.6 activate(): guard → skip chain, or a new activation (epoch + 1) that is tool-less
-- (step.enter + step.exit + complete), a loop (collection, max_in_flight, step.enter, empty →
-- loop.done + complete, else first iterations), or a plain step (step.enter + one command).
-- Raises NT010 when the step was already activated in this pass (cycle_without_progress).
CREATE OR REPLACE FUNCTION noetl.activate(
    p_execution_id bigint,
    p_plan         jsonb,
    INOUT p_pass   jsonb,
    p_step         text,
    p_from         text
)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_def    jsonb := p_plan -> 'steps' -> p_step;
    v_loop   jsonb := v_def -> 'loop';
    v_ctx    jsonb;
    v_epoch  integer;
    v_enter  bigint;
    v_ev     bigint;
    v_items  jsonb;
    v_n      integer;
    v_mif    integer;
    v_mode   text;
BEGIN
    -- guard: a step entered twice in one pass is a cycle without progress
    IF p_pass -> 'activated' ? p_step THEN
        RAISE EXCEPTION 'step ''%'' entered twice in one pass', p_step USING ERRCODE = 'NT010';
    END IF;
    IF v_def IS NULL THEN
        RAISE EXCEPTION 'plan has no step ''%''', p_step USING ERRCODE = 'NT001';
    END IF;
    p_pass := jsonb_set(p_pass, '{activated}', (p_pass -> 'activated') || jsonb_build_object(p_step, true));

    -- step.when, evaluated in the routing step's context (§4.4)
    IF jsonb_typeof(v_def -> 'when') = 'object' THEN
        v_ctx := noetl.pass_context(p_execution_id, p_pass, p_from);
        IF NOT noetl.eval_guard_field(v_def -> 'when', v_ctx) THEN
            PERFORM noetl.emit_control(p_execution_id, p_pass, 'step.skipped', p_step, 'SKIPPED',
                jsonb_build_object('status', 'SKIPPED', 'context',
                    jsonb_build_object('reason', 'when_false', 'trigger_step', p_from)));
            INSERT INTO noetl.step_state AS s (execution_id, step_name, status, trigger_step, arrivals, finished_at)
            VALUES (p_execution_id, p_step, 'SKIPPED', p_from, '{}', now())
            ON CONFLICT (execution_id, step_name) DO UPDATE
               SET status = 'SKIPPED', trigger_step = excluded.trigger_step, arrivals = '{}',
                   finished_at = now(), updated_at = now();
            p_pass := noetl.route(p_execution_id, p_plan, p_pass, p_step);
            RETURN;
        END IF;
    END IF;

    -- loop collection and limit, evaluated before anything of the activation is written
    IF jsonb_typeof(v_loop) = 'object' THEN
        v_ctx := coalesce(v_ctx, noetl.pass_context(p_execution_id, p_pass, p_from));
        v_items := noetl.loop_collection(v_loop -> 'in', v_ctx);
        v_n := jsonb_array_length(v_items);
        v_mode := coalesce(v_loop ->> 'mode', 'sequential');
        v_mif := CASE WHEN v_mode = 'sequential' THEN 1
                      ELSE noetl.loop_max_in_flight(v_loop -> 'max_in_flight', v_ctx) END;
    END IF;

    -- the new activation
    INSERT INTO noetl.step_state AS s (
        execution_id, step_name, status, epoch, trigger_step, arrivals, entered_at,
        is_loop, loop_mode, iterator, max_in_flight, iterations_expected)
    VALUES (p_execution_id, p_step, 'ENTERED', 1, p_from, '{}', now(),
            v_loop IS NOT NULL AND jsonb_typeof(v_loop) = 'object', v_mode, v_loop ->> 'iterator', v_mif,
            CASE WHEN v_n IS NOT NULL THEN v_n WHEN jsonb_typeof(v_def -> 'tool') = 'object' THEN 1 ELSE 0 END)
    ON CONFLICT (execution_id, step_name) DO UPDATE
       SET status = 'ENTERED', epoch = s.epoch + 1, trigger_step = excluded.trigger_step, arrivals = '{}',
           entered_at = now(), finished_at = NULL, error = NULL,
           is_loop = excluded.is_loop, loop_mode = excluded.loop_mode, iterator = excluded.iterator,
           max_in_flight = excluded.max_in_flight, iterations_expected = excluded.iterations_expected,
           iterations_dispatched = 0, iterations_completed = 0, iterations_failed = 0, updated_at = now()
    RETURNING s.epoch INTO v_epoch;

    -- tool-less step (only `end`): step.enter + step.exit in the same pass, then complete
    IF jsonb_typeof(v_def -> 'tool') IS DISTINCT FROM 'object' THEN
        v_enter := noetl.emit_control(p_execution_id, p_pass, 'step.enter', p_step, 'ENTERED',
            jsonb_build_object('status', 'ENTERED', 'context',
                jsonb_build_object('activation', v_epoch, 'trigger_step', p_from)));
        v_ev := noetl.emit_control(p_execution_id, p_pass, 'step.exit', p_step, 'COMPLETED',
            jsonb_build_object('status', 'COMPLETED'));
        UPDATE noetl.step_state SET enter_event_id = v_enter
         WHERE execution_id = p_execution_id AND step_name = p_step;
        p_pass := jsonb_set(p_pass, '{event}', jsonb_build_object('name', 'step.exit', 'step', p_step,
                                                 'status', 'COMPLETED', 'event_id', v_ev::text));
        p_pass := noetl.complete(p_execution_id, p_plan, p_pass, p_step, NULL);
        RETURN;
    END IF;

    -- loop step
    IF jsonb_typeof(v_loop) = 'object' THEN
        p_pass := noetl.loop_enter(p_execution_id, p_plan, p_pass, p_step, p_from, v_epoch, v_items, v_mif);
        RETURN;
    END IF;

    -- plain step: one command
    v_enter := noetl.emit_control(p_execution_id, p_pass, 'step.enter', p_step, 'ENTERED',
        jsonb_build_object('status', 'ENTERED', 'context',
            jsonb_build_object('activation', v_epoch, 'trigger_step', p_from)));
    UPDATE noetl.step_state SET enter_event_id = v_enter, iterations_dispatched = 1
     WHERE execution_id = p_execution_id AND step_name = p_step;
    p_pass := jsonb_set(p_pass, '{commands}', (p_pass -> 'commands') || jsonb_build_array(
        jsonb_build_object('step', p_step, 'epoch', v_epoch, 'trigger_step', p_from)));
END;
$$;


-- noetl.complete(p_execution_id, p_plan, INOUT p_pass, p_step, p_binding)
--
-- §6.5 complete(): the step's activation is COMPLETED; a non-NULL p_binding (JSON null
-- included) becomes its binding; the step's `set` is evaluated against one context and
-- written; then its arcs are routed. p_binding SQL NULL = no binding (tool-less step).
CREATE OR REPLACE FUNCTION noetl.complete(
    p_execution_id bigint,
    p_plan         jsonb,
    INOUT p_pass   jsonb,
    p_step         text,
    p_binding      jsonb
)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_set jsonb := p_plan -> 'steps' -> p_step -> 'set';
    v_ev  bigint := (p_pass -> 'event' ->> 'event_id')::bigint;
BEGIN
    UPDATE noetl.step_state AS s
       SET status = 'COMPLETED', completions = s.completions + 1,
           result = coalesce(p_binding, s.result),
           result_event_id = CASE WHEN p_binding IS NULL THEN s.result_event_id ELSE v_ev END,
           first_completed_event_id = coalesce(s.first_completed_event_id, v_ev),
           finished_at = now(), updated_at = now()
     WHERE s.execution_id = p_execution_id AND s.step_name = p_step;

    IF jsonb_typeof(v_set) = 'array' AND jsonb_array_length(v_set) > 0 THEN
        PERFORM noetl.write_variables(p_execution_id, v_set,
                                      noetl.pass_context(p_execution_id, p_pass, p_step), p_step);
    END IF;
    p_pass := noetl.route(p_execution_id, p_plan, p_pass, p_step);
END;
$$;


-- noetl.route(p_execution_id, p_plan, INOUT p_pass, p_step)
--
-- §6.5 route(): arcs in order (exclusive: the first true guard; inclusive: every true guard),
-- then the taken arcs' `set` (one context, arc order, last write wins), then one arrival per
-- distinct target in order of first appearance. No router, or no arc taken: the branch ends.
CREATE OR REPLACE FUNCTION noetl.route(
    p_execution_id bigint,
    p_plan         jsonb,
    INOUT p_pass   jsonb,
    p_step         text
)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_router   jsonb := p_plan -> 'steps' -> p_step -> 'router';
    v_ctx      jsonb;
    v_arc      jsonb;
    v_taken    jsonb := '[]'::jsonb;
    v_sets     jsonb := '[]'::jsonb;
    v_targets  text[] := '{}';
    v_back     boolean[] := '{}';
    v_inclusive boolean;
    i          integer;
BEGIN
    IF jsonb_typeof(v_router) IS DISTINCT FROM 'object' THEN
        RETURN;                                                 -- a leaf: the branch ends
    END IF;
    v_inclusive := v_router ->> 'mode' = 'inclusive';

    FOR v_arc IN SELECT value FROM jsonb_array_elements(coalesce(v_router -> 'arcs', '[]'::jsonb)) LOOP
        IF jsonb_typeof(v_arc -> 'when') = 'object' AND v_ctx IS NULL
           AND jsonb_typeof(v_arc -> 'when' -> 'v' -> 'lit') IS DISTINCT FROM 'boolean' THEN
            v_ctx := noetl.pass_context(p_execution_id, p_pass, p_step);   -- sees the step's set
        END IF;
        IF noetl.eval_guard_field(v_arc -> 'when', v_ctx) THEN
            v_taken := v_taken || jsonb_build_array(v_arc);
            IF jsonb_typeof(v_arc -> 'set') = 'array' THEN
                v_sets := v_sets || (v_arc -> 'set');
            END IF;
            EXIT WHEN NOT v_inclusive;
        END IF;
    END LOOP;

    IF jsonb_array_length(v_taken) = 0 THEN
        RETURN;                                                 -- no match: the branch ends
    END IF;
    IF jsonb_array_length(v_sets) > 0 THEN
        PERFORM noetl.write_variables(p_execution_id, v_sets,
                                      coalesce(v_ctx, noetl.pass_context(p_execution_id, p_pass, p_step)), p_step);
    END IF;

    FOR v_arc IN SELECT value FROM jsonb_array_elements(v_taken) LOOP
        IF NOT (v_arc ->> 'to') = ANY (v_targets) THEN
            v_targets := v_targets || (v_arc ->> 'to');
            v_back := v_back || coalesce((v_arc ->> 'back')::boolean, false);
        END IF;
    END LOOP;
    FOR i IN 1 .. array_length(v_targets, 1) LOOP
        p_pass := noetl.arrive(p_execution_id, p_plan, p_pass, v_targets[i], p_step, v_back[i]);
    END LOOP;
END;
$$;


-- noetl.arrive(p_execution_id, p_plan, INOUT p_pass, p_step, p_from, p_back)
--
-- §6.6 arrive(): absorbed while the step's activation is in progress; recorded while it waits
-- as a join; a forward arrival at a join starts its wait; anything else activates the step.
CREATE OR REPLACE FUNCTION noetl.arrive(
    p_execution_id bigint,
    p_plan         jsonb,
    INOUT p_pass   jsonb,
    p_step         text,
    p_from         text,
    p_back         boolean
)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_status text;
BEGIN
    SELECT s.status INTO v_status FROM noetl.step_state AS s
     WHERE s.execution_id = p_execution_id AND s.step_name = p_step;
    IF v_status = 'ENTERED' THEN
        RETURN;                                                 -- one activation at a time (EC-26)
    END IF;
    IF v_status = 'WAITING' THEN
        UPDATE noetl.step_state SET arrivals = arrivals || p_from, updated_at = now()
         WHERE execution_id = p_execution_id AND step_name = p_step;
        RETURN;
    END IF;
    IF jsonb_typeof(p_plan -> 'steps' -> p_step -> 'join') = 'object' AND NOT p_back THEN
        INSERT INTO noetl.step_state AS s (execution_id, step_name, status, arrivals)
        VALUES (p_execution_id, p_step, 'WAITING', ARRAY[p_from])
        ON CONFLICT (execution_id, step_name) DO UPDATE
           SET status = 'WAITING', arrivals = ARRAY[p_from], updated_at = now();
        RETURN;                                                 -- released by release_joins
    END IF;
    p_pass := noetl.activate(p_execution_id, p_plan, p_pass, p_step, p_from);
END;
$$;


-- noetl.release_joins(p_execution_id, p_plan, INOUT p_pass)
--
-- §6.7: repeatedly, in definition order, activate every WAITING join none of whose ancestors
-- is ENTERED or WAITING; its trigger is the last arrival. Forward arcs form a DAG, so this ends.
CREATE OR REPLACE FUNCTION noetl.release_joins(p_execution_id bigint, p_plan jsonb, INOUT p_pass jsonb)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_join     text;
    v_arrivals text[];
    v_changed  boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM noetl.step_state AS s
                    WHERE s.execution_id = p_execution_id AND s.status = 'WAITING') THEN
        RETURN;
    END IF;
    LOOP
        v_changed := false;
        FOR v_join IN SELECT value FROM jsonb_array_elements_text(coalesce(p_plan -> 'joins', '[]'::jsonb)) LOOP
            SELECT s.arrivals INTO v_arrivals FROM noetl.step_state AS s
             WHERE s.execution_id = p_execution_id AND s.step_name = v_join AND s.status = 'WAITING';
            CONTINUE WHEN NOT FOUND;
            CONTINUE WHEN EXISTS (
                SELECT 1 FROM noetl.step_state AS s
                 WHERE s.execution_id = p_execution_id
                   AND s.step_name IN (SELECT jsonb_array_elements_text(p_plan -> 'steps' -> v_join -> 'join' -> 'ancestors'))
                   AND s.status IN ('ENTERED', 'WAITING'));
            p_pass := noetl.activate(p_execution_id, p_plan, p_pass, v_join, v_arrivals[array_length(v_arrivals, 1)]);
            v_changed := true;
        END LOOP;
        EXIT WHEN NOT v_changed;
    END LOOP;
END;
$$;


-- noetl.terminal_check(p_execution_id, INOUT p_pass)
--
-- §6.8: when no step is ENTERED or WAITING, the pass ends the execution with
-- playbook.completed (written by write_pass, after any rows of the pass).
CREATE OR REPLACE FUNCTION noetl.terminal_check(p_execution_id bigint, INOUT p_pass jsonb)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
BEGIN
    IF jsonb_typeof(p_pass -> 'terminal') = 'object' THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM noetl.step_state AS s
                WHERE s.execution_id = p_execution_id AND s.status IN ('ENTERED', 'WAITING')) THEN
        RETURN;
    END IF;
    p_pass := jsonb_set(p_pass, '{terminal}', '{"kind": "completed"}'::jsonb);
END;
$$;


-- noetl.pass_failed(p_pass, p_reason, p_steps text[], p_error) -> jsonb
--
-- §6.8 fail(): the pass keeps no control row or command and ends with playbook.failed.
CREATE OR REPLACE FUNCTION noetl.pass_failed(p_pass jsonb, p_reason text, p_steps text[], p_error text)
RETURNS jsonb
LANGUAGE sql
STABLE      -- not IMMUTABLE: jsonb_build_object/to_jsonb are STABLE, and an IMMUTABLE
            -- function whose body is less than immutable is never inlined
-- no SET search_path: inlinable into its callers (events.sql header explains why)
AS $$
    SELECT p_pass || jsonb_build_object('commands', '[]'::jsonb, 'terminal',
        jsonb_build_object('kind', 'failed', 'reason', p_reason, 'steps', to_jsonb(coalesce(p_steps, '{}')),
                           'error', p_error))
$$;


-- noetl.abandon(p_execution_id bigint) -> void
--
-- §6.8 abandon(): every unfinished command and every ENTERED or WAITING step of the execution
-- becomes CANCELLED (commands first: lock order). Pending loop elements are dropped.
CREATE OR REPLACE FUNCTION noetl.abandon(p_execution_id bigint)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$
    UPDATE noetl.command SET status = 'CANCELLED', completed_at = now(), updated_at = now()
     WHERE execution_id = p_execution_id AND status IN ('PENDING', 'CLAIMED', 'RUNNING');
    UPDATE noetl.step_state SET status = 'CANCELLED', finished_at = now(), updated_at = now()
     WHERE execution_id = p_execution_id AND status IN ('ENTERED', 'WAITING');
    DELETE FROM noetl.loop_item WHERE execution_id = p_execution_id;
$$;


-- noetl.run_pass(p_execution_id, p_plan, p_pass, p_step, p_command) -> jsonb (the pass)
--
-- The evaluating part of a pass, inside a savepoint (§6.4, §6.9). p_step NULL: the start pass
-- (activate the entry step). Otherwise the trigger command of step p_step, already COMPLETED,
-- completes (p_command: {"result": <its call result>}): worker updates, then either the
-- next iterations of its loop, or loop.done + complete, or complete with its binding. Joins
-- and the end of the execution are checked after. On an evaluation error, a cycle or an
-- internal error, everything done here is rolled back and the returned pass fails the run.
CREATE OR REPLACE FUNCTION noetl.run_pass(
    p_execution_id bigint,
    p_plan         jsonb,
    p_pass         jsonb,
    p_step         text,
    p_command      jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_pass  jsonb := p_pass;
    v_tool  jsonb;
    v_upd   jsonb;
    v_st    noetl.step_state;
    v_ev    bigint;
BEGIN
    BEGIN
        IF p_step IS NULL THEN
            v_pass := noetl.activate(p_execution_id, p_plan, v_pass, p_plan ->> 'entry', NULL);
        ELSE
            v_tool := p_plan -> 'steps' -> p_step -> 'tool';
            v_upd := noetl.call_updates(p_command -> 'result', v_tool);
            IF v_upd <> '{}'::jsonb THEN
                PERFORM noetl.apply_updates(p_execution_id, v_upd, p_step);
            END IF;
            -- one completed iteration (a plain step counts its single command the same way)
            UPDATE noetl.step_state AS s
               SET iterations_completed = s.iterations_completed + 1,
                   updated_at = CASE WHEN s.is_loop THEN now() ELSE s.updated_at END
             WHERE s.execution_id = p_execution_id AND s.step_name = p_step
            RETURNING * INTO v_st;
            IF v_st.is_loop THEN
                IF v_st.iterations_completed < v_st.iterations_expected THEN
                    -- more to issue only while some elements are not dispatched yet
                    IF v_st.iterations_dispatched < v_st.iterations_expected THEN
                        v_pass := noetl.loop_dispatch(p_execution_id, v_pass, p_step);
                    END IF;
                ELSE
                    v_ev := noetl.emit_control(p_execution_id, v_pass, 'loop.done', p_step, 'COMPLETED',
                        jsonb_build_object('status', 'COMPLETED', 'context', jsonb_build_object(
                            'iterations', v_st.iterations_expected, 'succeeded', v_st.iterations_completed,
                            'failed', 0, 'activation', v_st.epoch)));
                    v_pass := jsonb_set(v_pass, '{event}', jsonb_build_object('name', 'loop.done', 'step', p_step,
                                                            'status', 'COMPLETED', 'event_id', v_ev::text));
                    v_pass := noetl.complete(p_execution_id, p_plan, v_pass, p_step,
                                             noetl.loop_aggregate(p_execution_id, p_step, v_st.epoch, v_tool));
                END IF;
            ELSE
                v_pass := noetl.complete(p_execution_id, p_plan, v_pass, p_step,
                                         noetl.step_binding(p_command -> 'result', v_tool));
            END IF;
        END IF;
        v_pass := noetl.release_joins(p_execution_id, p_plan, v_pass);
        v_pass := noetl.terminal_check(p_execution_id, v_pass);
    EXCEPTION
        WHEN SQLSTATE 'NT001' THEN
            v_pass := noetl.pass_failed(p_pass, 'evaluate_error', '{}', SQLERRM);
        WHEN SQLSTATE 'NT010' THEN
            v_pass := noetl.pass_failed(p_pass, 'cycle_without_progress', '{}', SQLERRM);
        WHEN OTHERS THEN
            -- transient conditions (serialization, deadlock, lock timeout, cancel, resources,
            -- connection, internal) are the caller's to retry; anything else would otherwise
            -- leave the execution RUNNING forever (D3)
            IF left(SQLSTATE, 2) IN ('40', '55', '57', '53', '08', '58', 'XX') THEN
                RAISE;
            END IF;
            v_pass := noetl.pass_failed(p_pass, 'evaluate_error', '{}',
                                        format('internal error in the engine (%s): %s', SQLSTATE, SQLERRM));
    END;
    RETURN v_pass;
END;
$$;


-- noetl.on_completion(p_execution_id, p_event_id, p_event_type, p_payload, p_sent_status, p_command) -> integer
--
-- §6.4: the completion pass of a command.completed / command.failed just stored as p_event_id.
-- Returns the number of commands the pass issued. Does nothing (0) for an unresolved command,
-- a command already terminal (duplicate or abandoned), a terminal execution, or a stale
-- activation; otherwise the command becomes COMPLETED or FAILED (§7.2) before the pass, so that
-- status survives a rolled-back pass. p_command is the command row as the caller read it under
-- the execution lock (SQL NULL row: unresolved); the caller holds the execution lock, which
-- every writer of command rows takes first, so the row cannot have changed since.
DROP FUNCTION IF EXISTS noetl.on_completion(bigint, bigint, text, jsonb, text, bigint);  -- the former by-id form
CREATE OR REPLACE FUNCTION noetl.on_completion(
    p_execution_id bigint,
    p_event_id     bigint,
    p_event_type   text,
    p_payload      jsonb,
    p_sent_status  text,
    p_command      noetl.command
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_cmd     noetl.command := p_command;
    v_result  jsonb;
    v_outcome record;
    v_xstatus text;
    v_plan    jsonb;
    v_st      noetl.step_state;
    v_pass    jsonb;
BEGIN
    -- guards: unattributable, duplicate or abandoned commands change nothing
    IF v_cmd.command_id IS NULL OR v_cmd.status IN ('COMPLETED', 'FAILED', 'CANCELLED') THEN
        RETURN 0;
    END IF;

    -- effects on the command: its call result and outcome
    v_result := coalesce(v_cmd.result, noetl.extract_call_result(p_payload));
    v_outcome := noetl.classify_outcome(p_event_type, p_payload, p_sent_status, v_result, v_cmd.error);
    UPDATE noetl.command AS c
       SET status = CASE WHEN v_outcome.ok THEN 'COMPLETED' ELSE 'FAILED' END,
           result = v_result,
           error = CASE WHEN v_outcome.ok THEN c.error ELSE v_outcome.error END,
           completed_at = now(), latest_event_id = p_event_id, updated_at = now()
     WHERE c.execution_id = p_execution_id AND c.command_id = v_cmd.command_id
    RETURNING * INTO v_cmd;

    -- guard: a terminal execution or a stale activation gets no pass
    SELECT x.status, x.plan INTO v_xstatus, v_plan FROM noetl.execution AS x
     WHERE x.execution_id = p_execution_id;
    IF v_xstatus <> 'RUNNING' THEN
        RETURN 0;
    END IF;
    SELECT * INTO v_st FROM noetl.step_state AS s
     WHERE s.execution_id = p_execution_id AND s.step_name = v_cmd.step_name
       FOR UPDATE;
    IF NOT FOUND OR v_cmd.step_epoch <> v_st.epoch OR v_st.status <> 'ENTERED' THEN
        RETURN 0;
    END IF;

    v_pass := noetl.pass_new(p_event_id, jsonb_build_object('name', 'call.done', 'step', v_cmd.step_name,
                                                              'status', 'COMPLETED', 'event_id', p_event_id::text));
    IF NOT v_outcome.ok THEN
        UPDATE noetl.step_state AS s
           SET status = 'FAILED', error = v_outcome.error, finished_at = now(),
               iterations_failed = s.iterations_failed + 1, updated_at = now()
         WHERE s.execution_id = p_execution_id AND s.step_name = v_cmd.step_name;
        v_pass := noetl.pass_failed(v_pass, 'step_failed', ARRAY[v_cmd.step_name],
                                    format('step ''%s'' failed: %s', v_cmd.step_name, v_outcome.error));
    ELSE
        v_pass := noetl.run_pass(p_execution_id, v_plan, v_pass, v_cmd.step_name,
                                 jsonb_build_object('result', v_cmd.result));   -- all run_pass reads of it
    END IF;
    RETURN noetl.write_pass(p_execution_id, v_plan, v_pass);
END;
$$;
