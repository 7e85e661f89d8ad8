-- Status derivation (engine.md §6.10; data-model.md §9.1 execution_summary).
--
-- For executions this shard runs, the projections are authoritative: the execution row and
-- its step_state rows give every field of the status routes without reading the log. For a
-- log without a projection row (imported, or written by another server) a reader derives the
-- status from the log with noetl.execution_status_from_log, accepting both the Rust and the
-- Python event families (data-model.md §4.3).


-- noetl.execution_summary(p_execution_id bigint, p_include_plan boolean DEFAULT false) -> jsonb
--
-- {execution: <row, without plan unless asked>, status, completed, failed, cancelled,
--  steps: [{name, status, epoch, completions, iterations_*, in_flight, entered_at,
--  finished_at, error}], counts: {total, completed, running, failed, skipped},
--  completed_steps (by first completion), current_step (the most recently entered step),
--  error, start_time, end_time}; NULL when the execution is unknown. Read-only.
CREATE OR REPLACE FUNCTION noetl.execution_summary(p_execution_id bigint, p_include_plan boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql   -- not sql: a SQL function with SET is planned on every call (~4 ms for this one)
STABLE
SET search_path = ''
SET plan_cache_mode = force_generic_plan   -- the event joins would otherwise be re-planned too
AS $$
BEGIN
    RETURN (SELECT jsonb_build_object(
        'execution', CASE WHEN p_include_plan THEN to_jsonb(x) ELSE to_jsonb(x) - 'plan' END,
        'status', x.status,
        'completed', x.status IN ('COMPLETED', 'FAILED', 'CANCELLED'),
        'failed', x.status = 'FAILED',
        'cancelled', x.status = 'CANCELLED',
        'error', x.error,
        'start_time', x.start_time,
        'end_time', x.end_time,
        'steps', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'name', s.step_name, 'status', s.status, 'epoch', s.epoch, 'completions', s.completions,
                       'is_loop', s.is_loop, 'iterations_expected', s.iterations_expected,
                       'iterations_dispatched', s.iterations_dispatched,
                       'iterations_completed', s.iterations_completed, 'iterations_failed', s.iterations_failed,
                       'in_flight', s.in_flight, 'entered_at', s.entered_at, 'finished_at', s.finished_at,
                       'error', s.error)
                   ORDER BY (x.plan -> 'steps' -> s.step_name ->> 'index')::integer NULLS LAST, s.step_name)
              FROM noetl.step_state AS s WHERE s.execution_id = x.execution_id), '[]'::jsonb),
        'counts', (
            SELECT jsonb_build_object(
                       'total', count(*),
                       'completed', count(*) FILTER (WHERE s.status = 'COMPLETED'),
                       'running', count(*) FILTER (WHERE s.status IN ('ENTERED', 'WAITING')),
                       'failed', count(*) FILTER (WHERE s.status = 'FAILED'),
                       'skipped', count(*) FILTER (WHERE s.status = 'SKIPPED'))
              FROM noetl.step_state AS s WHERE s.execution_id = x.execution_id),
        'completed_steps', coalesce((
            SELECT jsonb_agg(s.step_name ORDER BY e.stream_version NULLS LAST, s.first_completed_event_id)
              FROM noetl.step_state AS s
              LEFT JOIN noetl.event AS e
                ON e.execution_id = s.execution_id AND e.event_id = s.first_completed_event_id
             WHERE s.execution_id = x.execution_id AND s.status = 'COMPLETED'), '[]'::jsonb),
        'current_step', (
            SELECT s.step_name
              FROM noetl.step_state AS s
              JOIN noetl.event AS e ON e.execution_id = s.execution_id AND e.event_id = s.enter_event_id
             WHERE s.execution_id = x.execution_id
             ORDER BY e.stream_version DESC
             LIMIT 1))
      FROM noetl.execution AS x
     WHERE x.execution_id = p_execution_id);
END;
$$;


-- noetl.execution_status_from_log(p_execution_id bigint) -> jsonb
--
-- §6.10 for a log without a projection: {exists, status, terminal_event_id, terminal_event_type}.
-- The execution exists if it has a playbook_started, playbook.initialized or
-- workflow.initialized row; its status is that of its newest terminal row (by stream_version,
-- then time and id for rows stored without a position), COMPLETED / FAILED / CANCELLED by the
-- alias families of data-model.md §4.3, else RUNNING. A command.failed alone never fails it.
-- Reads the log (for tools and tests, never called by a pass).
CREATE OR REPLACE FUNCTION noetl.execution_status_from_log(p_execution_id bigint)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    WITH started AS (
        SELECT EXISTS (SELECT 1 FROM noetl.event AS e
                        WHERE e.execution_id = p_execution_id
                          AND lower(e.event_type) IN ('playbook_started', 'playbook.initialized', 'workflow.initialized')) AS yes
    ), terminal AS (
        SELECT e.event_id, e.event_type,
               CASE WHEN lower(e.event_type) IN ('playbook.completed', 'playbook_completed', 'workflow.completed') THEN 'COMPLETED'
                    WHEN lower(e.event_type) IN ('playbook.failed', 'playbook_failed', 'workflow.failed') THEN 'FAILED'
                    ELSE 'CANCELLED' END AS status
          FROM noetl.event AS e
         WHERE e.execution_id = p_execution_id
           AND lower(e.event_type) IN ('playbook.completed', 'playbook_completed', 'workflow.completed',
                                       'playbook.failed', 'playbook_failed', 'workflow.failed',
                                       'execution.cancelled', 'playbook.cancelled', 'playbook_cancelled')
         ORDER BY e.stream_version DESC NULLS LAST, e.created_at DESC, e.event_id DESC
         LIMIT 1
    )
    SELECT jsonb_build_object(
        'exists', s.yes,
        'status', CASE WHEN NOT s.yes THEN NULL ELSE coalesce((SELECT t.status FROM terminal AS t), 'RUNNING') END,
        'terminal_event_id', (SELECT t.event_id FROM terminal AS t),
        'terminal_event_type', (SELECT t.event_type FROM terminal AS t))
      FROM started AS s
$$;


-- noetl.execution_variables(p_execution_id bigint) -> jsonb
--
-- The `variables` object of the status route (http-api.md §2.7.1): every key of the merged
-- workload at top level, the execution variables (set:, policy set, /api/vars), each step's
-- binding under the step name (the value templates see as {{ step }}, without the `data` alias;
-- only steps whose activation completed have one), and `workload` itself. On a name clash the
-- later layer wins, in the order of the render context (engine.md §4.1), and the reserved name
-- `workload` wins over all. NULL when the execution is unknown. Read-only: PK-prefix reads of
-- noetl.transient and noetl.step_state, bounded by the plan and the variables, never the log.
-- Values are returned whole; redaction and size compaction are the route's business.
CREATE OR REPLACE FUNCTION noetl.execution_variables(p_execution_id bigint)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT w.workload
           || coalesce((SELECT jsonb_object_agg(t.var_name, t.var_value)
                          FROM noetl.transient AS t WHERE t.execution_id = p_execution_id), '{}'::jsonb)
           || coalesce((SELECT jsonb_object_agg(s.step_name, s.result)
                          FROM noetl.step_state AS s
                         WHERE s.execution_id = p_execution_id AND s.result IS NOT NULL), '{}'::jsonb)
           || jsonb_build_object('workload', w.workload)
      FROM noetl.execution AS x
     CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(x.workload) = 'object' THEN x.workload
                                     ELSE '{}'::jsonb END AS workload) AS w
     WHERE x.execution_id = p_execution_id
$$;
