-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.3 (c), EC-17, EC-18, EC-19: a false step.when writes step.skipped once and routes
-- on through the skipped step's own arcs in the same pass (c); a skip chain reaching `end` runs
-- end's tool (c2); a skipped step with no way on ends the branch and completes the run (c3);
-- with the guard true the step runs normally (c4).
BEGIN;
SELECT plan(11);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
-- c
INSERT INTO t SELECT pg_temp.start_plan('step_when_skip_chain');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(pg_temp.rows(x), ARRAY['playbook_started:tests/step_when_skip_chain', 'step.enter:start', 'command.issued:start',
          'command.claimed:start', 'command.started:start', 'call.done:start', 'command.completed:start',
          'step.skipped:middle', 'step.enter:tail', 'command.issued:tail'], 'c: skipped middle, tail entered in the same pass') FROM t;
SELECT is((SELECT e.result FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'step.skipped'),
          '{"status": "SKIPPED", "context": {"reason": "when_false", "trigger_step": "start"}}'::jsonb, 'step.skipped payload') FROM t;
SELECT is((SELECT e.result -> 'context' ->> 'trigger_step' FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'step.enter' AND e.node_name = 'tail'), 'middle', 'tail trigger_step middle') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'tail')) FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'end')) ->> 'execution_status', 'COMPLETED', 'c: completes') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'c: invariants') FROM t;

-- c2
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('step_when_skip_to_end');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.skipped:middle', 'step.enter:end'], 'c2: the chain reaches end') FROM t;
SELECT isnt(pg_temp.cmd(x, 'end'), NULL, 'c2: end''s tool is issued') FROM t;

-- c3
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('step_when_no_way_on');
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'start')) ->> 'execution_status', 'COMPLETED', 'c3: completes') FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.skipped:middle', 'playbook.completed:playbook'],
          'c3: skipped, then playbook.completed in the same pass (output.status is skipped)') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'c3: invariants') FROM t;

-- c4
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('step_when_skip_chain', '{"skip_middle": false}');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:middle'], 'c4: middle runs') FROM t;

SELECT * FROM finish();
ROLLBACK;
