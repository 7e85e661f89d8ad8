-- Writing a pass (engine.md §6.6 "Writing a pass", §4.8, §5.0; data-model.md §2.9, §8.2).
--
-- After all evaluation of a pass, noetl.write_pass issues its commands, in the order the pass
-- collected them, then writes its terminal row if any. Every command is three rows written in
-- the same transaction: its command.issued event (context = the §4.8 document with the full
-- render_context built now, so all commands of a pass see the same variables and bindings),
-- its noetl.command row (PENDING, with a copy of the meta) and its noetl.outbox notification
-- (subject = the execution's command_subject, payload exactly {execution_id, event_id,
-- command_id, step, server_url}, msg_id = the decimal event_id). The outbox trigger and the
-- bridge (outbox.sql, triggers/) take it from there.
--
-- The commands of one entry (one plain command, or a batch of loop iterations) are written
-- set-based: ids are minted and stream positions reserved for the whole batch, then one
-- statement inserts the event, command and outbox rows, so a 10,000-item parallel loop is three
-- bulk inserts, not 30,000 statements.


-- noetl.issue_commands(p_execution_id, p_plan, p_trigger, p_parts, p_exec, p_entry) -> integer
--
-- Issues the commands of one pass entry (see loops.sql for the entry shape); p_parts is
-- noetl.context_parts() taken once for the pass, p_exec {catalog_id, parent_execution_id,
-- server_url, command_subject}. Returns the number of commands written.
CREATE OR REPLACE FUNCTION noetl.issue_commands(
    p_execution_id bigint,
    p_plan         jsonb,
    p_trigger      bigint,
    p_parts        jsonb,
    p_exec         jsonb,
    p_entry        jsonb
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_step     text := p_entry ->> 'step';
    v_def      jsonb := p_plan -> 'steps' -> (p_entry ->> 'step');
    v_tool     jsonb := v_def -> 'tool';
    v_loop     jsonb := p_entry -> 'loop';
    v_trigstep text := p_entry ->> 'trigger_step';
    v_k        integer;
    v_ids      bigint[];
    v_base     bigint;
    v_trig     jsonb;
    v_static   jsonb;
    v_meta     jsonb;
    v_timeout  jsonb;
    v_xid      text := p_execution_id::text;
BEGIN
    v_k := CASE WHEN jsonb_typeof(v_loop) = 'object' THEN jsonb_array_length(v_loop -> 'items') ELSE 1 END;
    IF v_k = 0 THEN
        RETURN 0;
    END IF;
    IF v_trigstep IS NOT NULL THEN
        SELECT s.result INTO v_trig FROM noetl.step_state AS s
         WHERE s.execution_id = p_execution_id AND s.step_name = v_trigstep;
    END IF;

    -- the parts of command.issued.context that every command of the entry shares (§4.8)
    v_static := jsonb_build_object(
        'tool_config', CASE WHEN v_tool ->> 'form' = 'pipeline'
                            THEN (SELECT coalesce(jsonb_agg(jsonb_build_object(t ->> 'name', t - 'name') ORDER BY o), '[]'::jsonb)
                                    FROM jsonb_array_elements(coalesce(v_tool -> 'tasks', '[]'::jsonb)) WITH ORDINALITY AS a(t, o))
                            ELSE coalesce(v_tool -> 'config', jsonb_build_object('kind', v_tool -> 'kind')) END,
        'args', CASE WHEN v_tool ->> 'form' = 'pipeline' THEN '{}'::jsonb ELSE coalesce(v_tool -> 'input', '{}'::jsonb) END,
        'input', CASE WHEN v_tool ->> 'form' = 'pipeline' THEN '{}'::jsonb ELSE coalesce(v_tool -> 'input', '{}'::jsonb) END);
    IF jsonb_typeof(v_def -> 'router') = 'object' THEN
        v_static := v_static || jsonb_build_object('spec', jsonb_build_object('next_mode', v_def -> 'router' -> 'mode'));
    END IF;
    IF jsonb_typeof(p_plan -> 'keychain') = 'array' AND jsonb_array_length(p_plan -> 'keychain') > 0 THEN
        v_static := v_static || jsonb_build_object('keychain', p_plan -> 'keychain');
    END IF;

    -- the command meta (§5.0) without its per-command keys
    v_meta := jsonb_build_object(
        'step', v_step, 'tool_kind', v_def -> 'node_type', 'max_attempts', 3, 'attempt', 1,
        'execution_id', v_xid, 'catalog_id', p_exec ->> 'catalog_id', 'actionable', true,
        'activation', (p_entry -> 'epoch')::integer, 'trigger_step', v_trigstep, 'emitted_by', 'orchestrator');
    IF coalesce(v_tool ->> 'form', 'single') = 'single' THEN
        v_timeout := CASE WHEN jsonb_typeof(v_tool -> 'timeout_seconds') = 'number' THEN v_tool -> 'timeout_seconds'
                          WHEN jsonb_typeof(v_tool -> 'config' -> 'timeout_seconds') = 'number' THEN v_tool -> 'config' -> 'timeout_seconds'
                          WHEN jsonb_typeof(v_tool -> 'config' -> 'timeout') = 'number' THEN v_tool -> 'config' -> 'timeout' END;
        IF v_timeout IS NOT NULL THEN
            v_meta := v_meta || jsonb_build_object('timeout_seconds', v_timeout);
        END IF;
    END IF;

    -- ids and stream positions for the whole batch (the execution row is already ours)
    SELECT array_agg(noetl.snowflake_id() ORDER BY g) INTO v_ids FROM generate_series(1, v_k) AS g;
    UPDATE noetl.execution AS x
       SET event_count = x.event_count + v_k, last_event_id = v_ids[v_k],
           last_event_type = 'command.issued', last_node_name = v_step, updated_at = now()
     WHERE x.execution_id = p_execution_id
    RETURNING x.event_count - v_k INTO v_base;

    WITH src AS MATERIALIZED (
        SELECT s.o, v_ids[s.o] AS id, s.idx,
               CASE WHEN s.idx IS NOT NULL
                    THEN noetl.iteration_names(v_loop ->> 'iterator', s.item, s.idx, (v_loop ->> 'total')::integer) END AS names
          FROM (SELECT 1::bigint AS o, NULL::integer AS idx, NULL::jsonb AS item
                 WHERE jsonb_typeof(v_loop) IS DISTINCT FROM 'object'
                UNION ALL
                SELECT e.o, ((v_loop ->> 'from')::integer + e.o - 1)::integer, e.item
                  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(v_loop) = 'object' THEN v_loop -> 'items' ELSE '[]'::jsonb END)
                       WITH ORDINALITY AS e(item, o)) AS s
    ), cmd_rows AS MATERIALIZED (
        SELECT src.o, src.id, src.idx,
               v_xid || ':' || v_step || ':' || src.id::text || coalesce(':i' || src.idx::text, '') AS cid,
               noetl.compose_context(p_parts, src.names -> 'layer4',
                   CASE WHEN src.idx IS NOT NULL THEN jsonb_build_object('iter', src.names -> 'iter') END, v_trig) AS render_context
          FROM src
    ), ev AS (
        INSERT INTO noetl.event (
            execution_id, catalog_id, event_id, parent_event_id, parent_execution_id,
            event_type, node_id, node_name, node_type, status, context, result, meta,
            stream_version, producer, command_id)
        SELECT p_execution_id, (p_exec ->> 'catalog_id')::bigint, r.id, p_trigger, (p_exec ->> 'parent_execution_id')::bigint,
               'command.issued', v_step, v_step, v_def ->> 'node_type', 'PENDING',
               jsonb_set(v_static, '{render_context}', r.render_context),   -- one copy of the context, not two
               '{"status": "PENDING"}'::jsonb,
               noetl.command_meta(v_meta, r.cid, r.idx, v_loop, v_step),
               v_base + r.o, 'server', r.id
          FROM cmd_rows AS r
    ), cmd AS (
        INSERT INTO noetl.command (
            command_id, event_id, execution_id, catalog_id, parent_execution_id, step_name, tool_kind,
            status, meta, step_epoch, iter_index, loop_event_id, latest_event_id)
        SELECT r.id, r.id, p_execution_id, (p_exec ->> 'catalog_id')::bigint, (p_exec ->> 'parent_execution_id')::bigint,
               v_step, v_def ->> 'node_type', 'PENDING',
               noetl.command_meta(v_meta, r.cid, r.idx, v_loop, v_step),
               (p_entry ->> 'epoch')::integer, r.idx,
               CASE WHEN r.idx IS NOT NULL THEN v_loop ->> 'loop_event_id' END, r.id
          FROM cmd_rows AS r
    )
    INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
    SELECT p_execution_id, r.id, p_exec ->> 'command_subject',
           noetl.command_notification(p_execution_id, r.id, r.cid, v_step, p_exec ->> 'server_url'),
           r.id::text
      FROM cmd_rows AS r;

    RETURN v_k;
END;
$$;


-- noetl.command_notification(p_execution_id, p_event_id, p_command_id, p_step, p_server_url) -> jsonb
--
-- The NATS notification body of a command, exactly these five keys (D8, data-model §8.2): ids as
-- JSON numbers, the readable command id as a string. The one definition for issue and requeue.
-- Plain SQL without SET so it inlines into the set-based insert of write_commands.
CREATE OR REPLACE FUNCTION noetl.command_notification(
    p_execution_id bigint, p_event_id bigint, p_command_id text, p_step text, p_server_url text)
RETURNS jsonb
LANGUAGE sql
STABLE  -- as jsonb_build_object is: a function declared stricter than its body is never inlined
AS $$
    SELECT pg_catalog.jsonb_build_object('execution_id', p_execution_id, 'event_id', p_event_id,
                                         'command_id', p_command_id, 'step', p_step,
                                         'server_url', p_server_url)
$$;


-- noetl.command_meta(p_base, p_command_id, p_index, p_loop, p_step) -> jsonb
--
-- The command meta of §5.0: the shared part plus the readable command_id and, for an
-- iteration, iteration_index, iteration_total, iterator_step, item_var, loop_event_id (a
-- decimal string) and loop_iteration_index.
CREATE OR REPLACE FUNCTION noetl.command_meta(p_base jsonb, p_command_id text, p_index integer, p_loop jsonb, p_step text)
RETURNS jsonb
LANGUAGE sql
STABLE      -- not IMMUTABLE: jsonb_build_object/to_jsonb are STABLE, and an IMMUTABLE
            -- function whose body is less than immutable is never inlined
-- no SET search_path: inlinable into its callers (events.sql header explains why)
AS $$
    SELECT p_base || jsonb_build_object('command_id', p_command_id)
        || CASE WHEN p_index IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('iteration_index', p_index, 'iteration_total', (p_loop ->> 'total')::integer,
                                        'iterator_step', p_step, 'item_var', p_loop ->> 'iterator',
                                        'loop_event_id', p_loop ->> 'loop_event_id', 'loop_iteration_index', p_index)
           END
$$;


-- noetl.finish_execution(p_execution_id, p_parent_event_id, p_terminal, p_meta_extra) -> bigint
--
-- Writes the terminal row of a RUNNING execution and sets its terminal status, end_time and
-- terminal_event_id together (§6.8):
--   {"kind": "completed"}                         -> playbook.completed
--   {"kind": "failed", reason, steps, error}      -> playbook.failed (+ error column), then abandon
-- p_meta_extra is merged into the meta (finalize_execution's reason). Returns the row's id.
CREATE OR REPLACE FUNCTION noetl.finish_execution(
    p_execution_id    bigint,
    p_parent_event_id bigint,
    p_terminal        jsonb,
    p_meta_extra      jsonb DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_id     bigint := noetl.snowflake_id();
    v_detail jsonb;
BEGIN
    IF p_terminal ->> 'kind' = 'completed' THEN
        PERFORM noetl.append_event(p_execution_id, v_id, p_parent_event_id, 'playbook.completed', 'playbook', NULL,
            'COMPLETED', '{"status": "COMPLETED"}'::jsonb,
            jsonb_build_object('status', 'COMPLETED', 'emitted_by', 'orchestrator') || coalesce(p_meta_extra, '{}'::jsonb));
        UPDATE noetl.execution
           SET status = 'COMPLETED', end_time = now(), terminal_event_id = v_id, updated_at = now()
         WHERE execution_id = p_execution_id;
        DELETE FROM noetl.loop_item WHERE execution_id = p_execution_id;
    ELSE
        v_detail := jsonb_build_object('error', p_terminal -> 'error', 'reason', p_terminal -> 'reason',
                                       'failed_steps', coalesce(p_terminal -> 'steps', '[]'::jsonb));
        PERFORM noetl.append_event(p_execution_id, v_id, p_parent_event_id, 'playbook.failed', 'playbook', NULL,
            'FAILED', jsonb_build_object('status', 'FAILED', 'context', v_detail),
            jsonb_build_object('status', 'FAILED') || v_detail || jsonb_build_object('emitted_by', 'orchestrator')
                || coalesce(p_meta_extra, '{}'::jsonb),
            NULL, p_terminal ->> 'error');
        UPDATE noetl.execution
           SET status = 'FAILED', error = p_terminal ->> 'error', end_time = now(), terminal_event_id = v_id,
               updated_at = now()
         WHERE execution_id = p_execution_id;
        PERFORM noetl.abandon(p_execution_id);
    END IF;
    RETURN v_id;
END;
$$;


-- noetl.write_pass(p_execution_id, p_plan, p_pass) -> integer
--
-- §6.6 write(P): the pass's commands in collection order (after its control rows, which are
-- already written), then its terminal row. Returns the number of commands written.
CREATE OR REPLACE FUNCTION noetl.write_pass(p_execution_id bigint, p_plan jsonb, p_pass jsonb)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_n     integer := 0;
    v_parts jsonb;
    v_exec  jsonb;
    v_entry jsonb;
BEGIN
    IF jsonb_array_length(coalesce(p_pass -> 'commands', '[]'::jsonb)) > 0 THEN
        SELECT jsonb_build_object('catalog_id', x.catalog_id, 'parent_execution_id', x.parent_execution_id,
                                  'server_url', x.server_url, 'command_subject', x.command_subject)
          INTO v_exec FROM noetl.execution AS x WHERE x.execution_id = p_execution_id;
        v_parts := noetl.context_parts(p_execution_id);
        FOR v_entry IN SELECT value FROM jsonb_array_elements(p_pass -> 'commands') LOOP
            v_n := v_n + noetl.issue_commands(p_execution_id, p_plan, (p_pass ->> 'trigger')::bigint,
                                              v_parts, v_exec, v_entry);
        END LOOP;
    END IF;
    IF jsonb_typeof(p_pass -> 'terminal') = 'object' THEN
        PERFORM noetl.finish_execution(p_execution_id, (p_pass ->> 'trigger')::bigint, p_pass -> 'terminal');
    END IF;
    RETURN v_n;
END;
$$;
