-- requires: shard
-- engine.md §5.1 (a): a two-step linear playbook from test_plans 'linear' produces exactly the
-- rows of the table, with the command context of §4.8, the meta of §5.0 and one outbox row per
-- command; the invariants of §6.11 hold after every step.
BEGIN;
SELECT plan(22);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c1 bigint, c2 bigint) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('linear');
UPDATE t SET c1 = pg_temp.cmd(x, 'start');

SELECT is(pg_temp.rows(x), ARRAY['playbook_started:tests/linear', 'step.enter:start', 'command.issued:start'],
          'start: playbook_started, step.enter, command.issued') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants after start') FROM t;
SELECT is((SELECT e.node_id || '/' || e.node_type || '/' || e.status || '/' || (e.parent_event_id IS NULL)::text
             FROM noetl.event AS e WHERE e.execution_id = t.x AND e.stream_version = 1),
          'playbook/execution/STARTED/true', 'playbook_started is the root, node playbook, type execution') FROM t;
SELECT is((SELECT e.result FROM noetl.event AS e WHERE e.execution_id = t.x AND e.stream_version = 2),
          '{"status": "ENTERED", "context": {"activation": 1, "trigger_step": null}}'::jsonb,
          'step.enter of the entry step: activation 1, trigger_step null') FROM t;
SELECT is((SELECT e.meta ->> 'command_id' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c1),
          t.x || ':start:' || t.c1, 'readable command id X:start:#3') FROM t;
SELECT is((SELECT e.meta - 'command_id' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c1),
          jsonb_build_object('step', 'start', 'tool_kind', 'python', 'max_attempts', 3, 'attempt', 1,
                             'execution_id', t.x::text, 'catalog_id', '611677533586588198', 'actionable', true,
                             'activation', 1, 'trigger_step', NULL, 'emitted_by', 'orchestrator'),
          'command meta of §5.0') FROM t;
SELECT is((SELECT e.context - 'render_context' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c1),
          '{"tool_config": {"kind": "python", "code": "result = {''n'': 1}"}, "args": {}, "input": {}, "spec": {"next_mode": "exclusive"}}'::jsonb,
          'command.issued context: tool_config, args, input, spec') FROM t;
SELECT is((SELECT e.context -> 'render_context' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c1),
          jsonb_build_object('workload', '{}'::jsonb, 'ctx', '{}'::jsonb, 'iter', '{}'::jsonb,
                             'execution_id', t.x::text, 'catalog_id', '611677533586588198',
                             'job', jsonb_build_object('uuid', t.x::text, 'execution_id', t.x::text, 'id', t.x::text),
                             'env', '{}'::jsonb, 'path', 'tests/linear'),
          'render_context of the entry step') FROM t;
SELECT is((SELECT o.payload FROM noetl.outbox AS o WHERE o.execution_id = t.x AND o.event_id = t.c1),
          jsonb_build_object('execution_id', t.x, 'event_id', t.c1, 'command_id', t.x || ':start:' || t.c1,
                             'step', 'start', 'server_url', 'http://127.0.0.1:8082'),
          'outbox payload is exactly the notification body') FROM t;
SELECT is((SELECT o.subject || ' ' || o.msg_id FROM noetl.outbox AS o WHERE o.execution_id = t.x AND o.event_id = t.c1),
          'noetl.commands.shared.' || t.x || ' ' || t.c1, 'outbox subject and msg_id') FROM t;

SELECT is((pg_temp.run(x, c1, '{"n": 1}') ->> 'commands_generated')::int, 1, 'start completes: one command issued') FROM t;
UPDATE t SET c2 = pg_temp.cmd(x, 'end');
SELECT is(pg_temp.invariants(x), '{}', 'invariants after start completed') FROM t;
SELECT is((SELECT e.context -> 'render_context' -> 'start' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c2),
          '{"n": 1, "data": {"n": 1}}'::jsonb, 'render_context.start has the data alias') FROM t;
SELECT is((SELECT e.context -> 'render_context' -> 'result' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c2),
          '{"n": 1, "data": {"n": 1}}'::jsonb, 'result is the trigger step''s binding') FROM t;
SELECT is((SELECT count(*)::int FROM noetl.event AS e WHERE e.execution_id = t.x
              AND e.stream_version IN (8, 9) AND e.parent_event_id = (SELECT event_id FROM noetl.event
                  WHERE execution_id = t.x AND event_type = 'command.completed')), 2,
          'step.enter and command.issued of end point at the completion') FROM t;

SELECT is((pg_temp.run(x, c2, '{"done": true}') ->> 'execution_status'), 'COMPLETED', 'end completes the run') FROM t;
SELECT is(pg_temp.rows(x), ARRAY['playbook_started:tests/linear', 'step.enter:start', 'command.issued:start',
          'command.claimed:start', 'command.started:start', 'call.done:start', 'command.completed:start',
          'step.enter:end', 'command.issued:end', 'command.claimed:end', 'command.started:end', 'call.done:end',
          'command.completed:end', 'playbook.completed:playbook'], 'the 14 rows of §5.1 in order') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants at the end') FROM t;
SELECT is((SELECT e.result || e.meta FROM noetl.event AS e WHERE e.execution_id = t.x AND e.stream_version = 14),
          '{"status": "COMPLETED", "emitted_by": "orchestrator"}'::jsonb, 'playbook.completed payload') FROM t;
SELECT is((SELECT array_agg(c.status ORDER BY c.command_id) FROM noetl.command AS c WHERE c.execution_id = t.x),
          ARRAY['COMPLETED', 'COMPLETED'], 'both commands COMPLETED') FROM t;
SELECT is((SELECT s.status || '/' || s.epoch FROM noetl.step_state AS s WHERE s.execution_id = t.x AND s.step_name = 'end'),
          'COMPLETED/1', 'end step completed once') FROM t;
SELECT is((SELECT x2.terminal_event_id IS NOT NULL AND x2.end_time IS NOT NULL FROM noetl.execution AS x2 WHERE x2.execution_id = t.x),
          true, 'terminal_event_id and end_time set') FROM t;

SELECT * FROM finish();
ROLLBACK;
