-- Loop activations (engine.md §6.6 loop branch, dispatch_iterations; §7.5; data-model.md §3.4).
--
-- A loop activation evaluates its collection once, when it is entered (activate(),
-- orchestrator.sql). Iterations are issued by index: all at once when the loop is unbounded,
-- otherwise max_in_flight at entry (1 for sequential) and one more per completed iteration,
-- each in the pass of that completion. The elements not issued at entry are kept one row per
-- index in noetl.loop_item, so a later dispatch reads (and deletes) exactly the rows it
-- issues instead of detoasting the whole collection: per-event cost does not grow with the
-- loop's length. The step_state counters (iterations_expected / _dispatched / _completed, and
-- the generated in_flight) are the loop's whole progress; loop.done is written when
-- iterations_completed reaches iterations_expected (run_pass, orchestrator.sql).
--
-- A command entry of the pass for iterations is
--   {"step", "epoch", "trigger_step", "loop": {"from": <first index>, "items": [<elements>],
--    "total": n, "iterator": <name>, "loop_event_id": <step.enter id>}}
-- and write_pass (dispatch.sql) issues one command per element, set-based.


-- noetl.loop_enter(p_execution_id, p_plan, INOUT p_pass, p_step, p_from, p_epoch, p_items, p_mif)
--
-- Writes the loop's step.enter (with iterations_expected, iterator_var, mode, max_in_flight),
-- then either completes an empty loop at once (loop.done, empty aggregate, routing with
-- event.name = "loop.done") or queues the first iterations and stores the rest.
-- The step_state row of the new activation already exists (activate()).
CREATE OR REPLACE FUNCTION noetl.loop_enter(
    p_execution_id bigint,
    p_plan         jsonb,
    INOUT p_pass   jsonb,
    p_step         text,
    p_from         text,
    p_epoch        integer,
    p_items        jsonb,
    p_mif          integer
)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_loop  jsonb := p_plan -> 'steps' -> p_step -> 'loop';
    v_n     integer := jsonb_array_length(p_items);
    v_first integer;
    v_enter bigint;
    v_ev    bigint;
    v_slice jsonb;
BEGIN
    v_enter := noetl.emit_control(p_execution_id, p_pass, 'step.enter', p_step, 'ENTERED',
        jsonb_build_object('status', 'ENTERED', 'context', jsonb_build_object(
            'activation', p_epoch, 'trigger_step', p_from, 'iterations_expected', v_n,
            'iterator_var', v_loop ->> 'iterator', 'mode', coalesce(v_loop ->> 'mode', 'sequential'),
            'max_in_flight', p_mif)));

    IF v_n = 0 THEN
        UPDATE noetl.step_state SET enter_event_id = v_enter
         WHERE execution_id = p_execution_id AND step_name = p_step;
        v_ev := noetl.emit_control(p_execution_id, p_pass, 'loop.done', p_step, 'COMPLETED',
            jsonb_build_object('status', 'COMPLETED', 'context', jsonb_build_object(
                'iterations', 0, 'succeeded', 0, 'failed', 0, 'activation', p_epoch)));
        p_pass := jsonb_set(p_pass, '{event}', jsonb_build_object('name', 'loop.done', 'step', p_step,
                                                 'status', 'COMPLETED', 'event_id', v_ev::text));
        p_pass := noetl.complete(p_execution_id, p_plan, p_pass, p_step,
            '{"results": [], "data": [], "count": 0, "stats": {"total": 0, "success": 0, "failed": 0}}'::jsonb);
        RETURN;
    END IF;

    v_first := CASE WHEN p_mif IS NULL THEN v_n ELSE least(p_mif, v_n) END;
    IF v_first < v_n THEN
        INSERT INTO noetl.loop_item (execution_id, step_name, epoch, iter_index, item)
        SELECT p_execution_id, p_step, p_epoch, (e.o - 1)::integer, e.item
          FROM jsonb_array_elements(p_items) WITH ORDINALITY AS e(item, o)
         WHERE e.o > v_first;
        SELECT jsonb_agg(e.item ORDER BY e.o) INTO v_slice
          FROM jsonb_array_elements(p_items) WITH ORDINALITY AS e(item, o)
         WHERE e.o <= v_first;
    ELSE
        v_slice := p_items;
    END IF;
    UPDATE noetl.step_state SET enter_event_id = v_enter, iterations_dispatched = v_first
     WHERE execution_id = p_execution_id AND step_name = p_step;

    p_pass := jsonb_set(p_pass, '{commands}', (p_pass -> 'commands') || jsonb_build_array(jsonb_build_object(
        'step', p_step, 'epoch', p_epoch, 'trigger_step', p_from,
        'loop', jsonb_build_object('from', 0, 'items', v_slice, 'total', v_n,
                                   'iterator', v_loop ->> 'iterator', 'loop_event_id', v_enter))));
END;
$$;


-- noetl.loop_dispatch(p_execution_id, INOUT p_pass, p_step)
--
-- dispatch_iterations() of a completion pass: issue as many further iterations, in index
-- order, as max_in_flight allows (none for an unbounded loop, which issued everything at
-- entry). Reads and deletes exactly those loop_item rows.
CREATE OR REPLACE FUNCTION noetl.loop_dispatch(p_execution_id bigint, INOUT p_pass jsonb, p_step text)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_st    noetl.step_state;
    v_k     integer;
    v_items jsonb;
BEGIN
    SELECT * INTO v_st FROM noetl.step_state AS s
     WHERE s.execution_id = p_execution_id AND s.step_name = p_step;
    v_k := v_st.iterations_expected - v_st.iterations_dispatched;
    IF v_st.max_in_flight IS NOT NULL THEN
        v_k := least(v_k, v_st.max_in_flight - v_st.in_flight);
    END IF;
    IF v_k <= 0 THEN
        RETURN;
    END IF;

    WITH taken AS (
        DELETE FROM noetl.loop_item AS li
         WHERE li.execution_id = p_execution_id AND li.step_name = p_step AND li.epoch = v_st.epoch
           AND li.iter_index >= v_st.iterations_dispatched
           AND li.iter_index < v_st.iterations_dispatched + v_k
        RETURNING li.iter_index, li.item
    )
    SELECT jsonb_agg(t.item ORDER BY t.iter_index) INTO v_items FROM taken AS t;
    IF coalesce(jsonb_array_length(v_items), 0) <> v_k THEN
        RAISE EXCEPTION 'loop step ''%'': % pending elements expected from index %, found %',
            p_step, v_k, v_st.iterations_dispatched, coalesce(jsonb_array_length(v_items), 0)
            USING ERRCODE = 'XX000';
    END IF;

    UPDATE noetl.step_state AS s SET iterations_dispatched = s.iterations_dispatched + v_k, updated_at = now()
     WHERE s.execution_id = p_execution_id AND s.step_name = p_step;
    p_pass := jsonb_set(p_pass, '{commands}', (p_pass -> 'commands') || jsonb_build_array(jsonb_build_object(
        'step', p_step, 'epoch', v_st.epoch, 'trigger_step', v_st.trigger_step,
        'loop', jsonb_build_object('from', v_st.iterations_dispatched, 'items', v_items,
                                   'total', v_st.iterations_expected, 'iterator', v_st.iterator,
                                   'loop_event_id', v_st.enter_event_id))));
END;
$$;
