-- Ending an execution from outside a pass (engine.md §6.8 cancel; data-model.md §9.1
-- cancel_execution, child_executions, finalize_execution; D4).
--
-- Cancel and finalize write the execution's one terminal row under the execution lock and
-- abandon its unfinished work (noetl.abandon, orchestrator.sql): unfinished commands and live
-- steps become CANCELLED, so later worker events are stored without effect and claims answer
-- execution_cancelled / already_terminal. A cascade is driven by the app, one execution at a
-- time, across shards, with child_executions.


-- noetl.cancel_execution(p_execution_id, p_reason, p_cascade, p_cancelled_by DEFAULT 'api',
--     p_parent_cancel_id DEFAULT NULL, p_meta DEFAULT NULL) -> jsonb {status, event_id, execution_status}
--
-- A RUNNING execution gets execution.cancelled (parent = its playbook_started; meta {reason,
-- cancelled_by, cascade, parent_cancel_id (decimal string, null on the addressed execution)}
-- merged with p_meta) and becomes CANCELLED with end_time and terminal_event_id; its
-- unfinished commands and live steps become CANCELLED. Any other status: nothing is written,
-- status "already_terminal" (EC-44). Unknown execution: NE404.
CREATE OR REPLACE FUNCTION noetl.cancel_execution(
    p_execution_id     bigint,
    p_reason           text,
    p_cascade          boolean,
    p_cancelled_by     text DEFAULT 'api',
    p_parent_cancel_id bigint DEFAULT NULL,
    p_meta             jsonb DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_status text;
    v_id     bigint;
BEGIN
    SELECT x.status INTO v_status FROM noetl.execution AS x
     WHERE x.execution_id = p_execution_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'execution % not found', p_execution_id USING ERRCODE = 'NE404';
    END IF;
    IF v_status <> 'RUNNING' THEN
        RETURN jsonb_build_object('status', 'already_terminal', 'event_id', NULL, 'execution_status', v_status);
    END IF;

    v_id := noetl.snowflake_id();
    PERFORM noetl.append_event(p_execution_id, v_id, noetl.root_event_id(p_execution_id), 'execution.cancelled',
        'playbook', NULL, 'CANCELLED', '{"status": "CANCELLED"}'::jsonb,
        jsonb_build_object('reason', p_reason, 'cancelled_by', coalesce(p_cancelled_by, 'api'),
                           'cascade', coalesce(p_cascade, false), 'parent_cancel_id', p_parent_cancel_id::text)
            || coalesce(p_meta, '{}'::jsonb));
    UPDATE noetl.execution
       SET status = 'CANCELLED', end_time = now(), terminal_event_id = v_id, updated_at = now()
     WHERE execution_id = p_execution_id;
    PERFORM noetl.abandon(p_execution_id);
    RETURN jsonb_build_object('status', 'cancelled', 'event_id', v_id, 'execution_status', 'CANCELLED');
END;
$$;


-- noetl.child_executions(p_parent_ids bigint[]) -> SETOF (execution_id, parent_execution_id, status)
--
-- The executions of this shard whose parent is one of p_parent_ids (execution_parent_idx).
CREATE OR REPLACE FUNCTION noetl.child_executions(p_parent_ids bigint[])
RETURNS TABLE (execution_id bigint, parent_execution_id bigint, status text)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT x.execution_id, x.parent_execution_id, x.status::text
      FROM noetl.execution AS x
     WHERE x.parent_execution_id = ANY (p_parent_ids)
     ORDER BY x.execution_id
$$;


-- noetl.finalize_execution(p_execution_id, p_status, p_error, p_reason DEFAULT NULL) -> jsonb
--
-- Admin finalisation of a RUNNING execution: p_status COMPLETED or FAILED (else NE422) writes
-- playbook.completed / playbook.failed (parent = playbook_started, meta {reason: "finalize",
-- finalize_reason, error}), sets the status and abandons unfinished work as a failure does.
-- Returns {status: "finalized" | "already_terminal"}; unknown execution: NE404.
CREATE OR REPLACE FUNCTION noetl.finalize_execution(
    p_execution_id bigint,
    p_status       text,
    p_error        text,
    p_reason       text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_status text;
    v_status_in text := upper(btrim(coalesce(p_status, '')));
    v_id     bigint;
BEGIN
    IF v_status_in NOT IN ('COMPLETED', 'FAILED') THEN
        RAISE EXCEPTION 'status must be COMPLETED or FAILED, got %', coalesce(p_status, 'null') USING ERRCODE = 'NE422';
    END IF;
    SELECT x.status INTO v_status FROM noetl.execution AS x
     WHERE x.execution_id = p_execution_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'execution % not found', p_execution_id USING ERRCODE = 'NE404';
    END IF;
    IF v_status <> 'RUNNING' THEN
        RETURN jsonb_build_object('status', 'already_terminal', 'execution_status', v_status);
    END IF;

    v_id := noetl.finish_execution(p_execution_id, noetl.root_event_id(p_execution_id),
        CASE WHEN v_status_in = 'COMPLETED' THEN '{"kind": "completed"}'::jsonb
             ELSE jsonb_build_object('kind', 'failed', 'reason', 'finalize', 'steps', '[]'::jsonb,
                                     'error', coalesce(p_error, 'finalized by an administrator')) END,
        jsonb_strip_nulls(jsonb_build_object('reason', 'finalize', 'finalize_reason', p_reason, 'error', p_error)));
    PERFORM noetl.abandon(p_execution_id);
    RETURN jsonb_build_object('status', 'finalized', 'event_id', v_id, 'execution_status', v_status_in);
END;
$$;
