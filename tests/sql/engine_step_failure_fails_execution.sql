-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.6 (f), EC-40, EC-41: a command.failed fails the step and the execution in its
-- pass (playbook.failed reason step_failed, failed_steps, the error text); a command.completed
-- whose tool status is error does the same (f2); a sibling still running is abandoned: its
-- command CANCELLED, claims refused, its later events stored without effect (f3).
BEGIN;
SELECT plan(14);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('failing_step');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is((SELECT e.meta ->> 'timeout_seconds' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'command.issued' AND e.node_name = 'boom'),
          '30', 'timeout_seconds in the command meta') FROM t;
SELECT is(pg_temp.fail(x, pg_temp.cmd(x, 'boom'), 'relation "missing_table" does not exist') ->> 'execution_status', 'FAILED', 'f: FAILED') FROM t;
SELECT is((pg_temp.rows(x))[8:], ARRAY['step.enter:boom', 'command.issued:boom', 'command.claimed:boom', 'command.started:boom',
          'call.error:boom', 'command.failed:boom', 'playbook.failed:playbook'], 'f: rows 8-14') FROM t;
SELECT is((SELECT e.result FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'playbook.failed'),
          jsonb_build_object('status', 'FAILED', 'context', jsonb_build_object('error', 'step ''boom'' failed: relation "missing_table" does not exist',
                             'reason', 'step_failed', 'failed_steps', jsonb_build_array('boom'))), 'f: playbook.failed result') FROM t;
SELECT is((SELECT e.meta FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'playbook.failed'),
          jsonb_build_object('status', 'FAILED', 'error', 'step ''boom'' failed: relation "missing_table" does not exist',
                             'reason', 'step_failed', 'failed_steps', jsonb_build_array('boom'), 'emitted_by', 'orchestrator'), 'f: playbook.failed meta') FROM t;
SELECT is((SELECT x2.error FROM noetl.execution AS x2 WHERE x2.execution_id = t.x),
          'step ''boom'' failed: relation "missing_table" does not exist', 'f: execution error') FROM t;
SELECT is((SELECT status FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'boom'), 'FAILED', 'f: step FAILED') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'f: invariants') FROM t;

-- f2: the tool reports an error status inside command.completed
DELETE FROM t;
INSERT INTO t (x) SELECT pg_temp.start_plan('failing_step');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
UPDATE t SET c = pg_temp.cmd(x, 'boom');
SELECT noetl.apply_event(x, jsonb_build_object('event_type', 'call.done', 'worker_id', 'w1', 'payload', jsonb_build_object(
    'command_id', pg_temp.cid(x, c), 'result', '{"status": "COMPLETED", "context": {"status": "error", "data": null, "error": "ZeroDivisionError"}}'::jsonb))) FROM t;
SELECT is(noetl.apply_event(x, jsonb_build_object('event_type', 'command.completed', 'worker_id', 'w1', 'status', 'error',
    'payload', jsonb_build_object('command_id', pg_temp.cid(x, c), 'status', 'error'))) ->> 'execution_status', 'FAILED', 'f2: FAILED') FROM t;
SELECT is((SELECT e.status FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'command.completed' AND e.node_name = 'boom'), 'FAILED',
          'f2: command.completed stored FAILED') FROM t;
SELECT is((SELECT x2.error FROM noetl.execution AS x2 WHERE x2.execution_id = t.x), 'step ''boom'' failed: ZeroDivisionError', 'f2: the tool''s error') FROM t;

-- f3: a sibling is running when a step fails
DELETE FROM t;
INSERT INTO t (x) SELECT pg_temp.start_plan('inclusive_fan_out_join');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
UPDATE t SET c = pg_temp.cmd(x, 'b');
SELECT pg_temp.claim(c, 'w2') FROM t;
SELECT pg_temp.fail(x, pg_temp.cmd(x, 'a'), 'boom') FROM t;
SELECT is((SELECT status FROM noetl.command WHERE execution_id = t.x AND command_id = t.c), 'CANCELLED', 'f3: the sibling''s command CANCELLED') FROM t;
SELECT is(noetl.claim_command(c, 'w3') ->> 'outcome', 'already_terminal', 'f3: claims refused') FROM t;
SELECT noetl.apply_event(x, jsonb_build_object('event_type', 'command.completed', 'worker_id', 'w2',
    'payload', jsonb_build_object('command_id', pg_temp.cid(x, c), 'status', 'success'))) FROM t;
SELECT is(pg_temp.invariants(x) || pg_temp.status(x), ARRAY['FAILED'], 'f3: the late completion is stored, changes nothing') FROM t;

SELECT * FROM finish();
ROLLBACK;
