-- Starting an execution (engine.md §6.9, §5.0 playbook_started; data-model.md §9.1
-- start_execution, execute_request).


-- noetl.start_execution(p_execution_id, p_catalog_id, p_path, p_version, p_kind, p_plan,
--     p_plan_format, p_workload, p_env, p_parent_execution_id, p_server_url,
--     p_parent_command_id DEFAULT NULL) -> jsonb {execution_id, status, commands_generated, duplicate}
--
-- Creates the execution row (RUNNING; command_subject noetl.commands.<system|shared>.<id>, from
-- the path without one leading '/'), writes playbook_started (the execution's only root) and
-- runs the start pass in the same transaction: the entry step is activated like any other step
-- (its when and loop apply), then joins and the end of the execution are checked. The start pass
-- may already end the run (entry skipped with no way on, empty loop, evaluation error).
-- Idempotent on p_execution_id: an existing execution is returned with duplicate true and
-- nothing is written. Locks: the new (or existing) execution row.
CREATE OR REPLACE FUNCTION noetl.start_execution(
    p_execution_id        bigint,
    p_catalog_id          bigint,
    p_path                text,
    p_version             integer,
    p_kind                text,
    p_plan                jsonb,
    p_plan_format         integer,
    p_workload            jsonb,
    p_env                 jsonb,
    p_parent_execution_id bigint,
    p_server_url          text,
    p_parent_command_id   bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_root     bigint;
    v_status   text;
    v_pass     jsonb;
    v_n        integer;
    v_url      text := regexp_replace(regexp_replace(coalesce(p_server_url, ''), '/+$', ''), '/api$', '');
    v_meta     jsonb;
BEGIN
    -- guards
    IF p_execution_id IS NULL OR p_plan IS NULL OR jsonb_typeof(p_plan -> 'steps') <> 'object'
       OR p_plan ->> 'entry' IS NULL OR NOT (p_plan -> 'steps') ? (p_plan ->> 'entry') THEN
        RAISE EXCEPTION 'start_execution: a compiled plan with an entry step is required' USING ERRCODE = 'NE422';
    END IF;

    -- lock: the new row (a concurrent start of the same id waits here, then sees it)
    INSERT INTO noetl.execution (
        execution_id, catalog_id, parent_execution_id, status, start_time, path, version, kind,
        plan, plan_format, workload, env, server_url, command_subject)
    VALUES (
        p_execution_id, p_catalog_id, p_parent_execution_id, 'RUNNING', now(), p_path, p_version,
        coalesce(p_kind, 'playbook'), p_plan, p_plan_format, coalesce(p_workload, '{}'::jsonb),
        coalesce(p_env, '{}'::jsonb), v_url,
        'noetl.commands.'
            || CASE WHEN regexp_replace(p_path, '^/', '') LIKE 'system/%' THEN 'system' ELSE 'shared' END
            || '.' || p_execution_id::text)
    ON CONFLICT (execution_id) DO NOTHING;
    IF NOT FOUND THEN
        SELECT x.status INTO v_status FROM noetl.execution AS x
         WHERE x.execution_id = p_execution_id FOR NO KEY UPDATE;
        SELECT count(*) INTO v_n FROM noetl.event AS e
         WHERE e.execution_id = p_execution_id AND e.event_type = 'command.issued'
           AND e.parent_event_id = noetl.root_event_id(p_execution_id);
        RETURN jsonb_build_object('execution_id', p_execution_id, 'status', v_status,
                                  'commands_generated', v_n, 'duplicate', true);
    END IF;

    -- effects: the root row, then the start pass
    v_root := noetl.snowflake_id();
    v_meta := jsonb_build_object('emitter', 'control_plane',
                                 'emitted_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'));
    IF p_parent_command_id IS NOT NULL THEN
        v_meta := v_meta || jsonb_build_object('parent_command_id', p_parent_command_id::text);
    END IF;
    PERFORM noetl.append_event(p_execution_id, v_root, NULL, 'playbook_started', p_path, 'execution', 'STARTED',
        NULL, v_meta,
        jsonb_build_object('catalog_id', p_catalog_id::text, 'execution_id', p_execution_id::text,
                           'path', p_path, 'version', p_version, 'workload', coalesce(p_workload, '{}'::jsonb),
                           'parent_execution_id', p_parent_execution_id::text),
        NULL, NULL, NULL, 'server', NULL, NULL, 'playbook');

    v_pass := noetl.pass_new(v_root, jsonb_build_object('name', 'playbook_started', 'step', NULL,
                                                          'status', 'STARTED', 'event_id', v_root::text));
    v_pass := noetl.run_pass(p_execution_id, p_plan, v_pass, NULL, NULL);
    v_n := noetl.write_pass(p_execution_id, p_plan, v_pass);

    SELECT x.status INTO v_status FROM noetl.execution AS x WHERE x.execution_id = p_execution_id;
    RETURN jsonb_build_object('execution_id', p_execution_id, 'status', v_status,
                              'commands_generated', v_n, 'duplicate', false);
END;
$$;


-- noetl.execute_request(p_parent_execution_id, p_idempotency_key, p_execution_id) -> bigint
--
-- Idempotency of a sub-playbook execute (http-api.md §2.4.1): on the parent's shard, the first
-- call for (parent, key) records p_execution_id as the child and returns it; later calls return
-- the recorded child. Locks the parent's execution row when this shard has it.
CREATE OR REPLACE FUNCTION noetl.execute_request(
    p_parent_execution_id bigint,
    p_idempotency_key     text,
    p_execution_id        bigint
)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_child bigint;
BEGIN
    PERFORM 1 FROM noetl.execution AS x WHERE x.execution_id = p_parent_execution_id FOR NO KEY UPDATE;
    INSERT INTO noetl.ingest_request (execution_id, idempotency_key, state, status, child_execution_id)
    VALUES (p_parent_execution_id, p_idempotency_key, 'completed', 'COMPLETED', p_execution_id)
    ON CONFLICT (execution_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING child_execution_id INTO v_child;
    IF v_child IS NULL THEN
        SELECT r.child_execution_id INTO v_child FROM noetl.ingest_request AS r
         WHERE r.execution_id = p_parent_execution_id AND r.idempotency_key = p_idempotency_key;
    END IF;
    RETURN v_child;
END;
$$;
