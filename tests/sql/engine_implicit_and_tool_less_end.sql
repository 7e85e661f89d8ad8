-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- EC-27: a step without next reaches `end` over its implicit arc and end runs once, after it;
-- EC-28: without `end` the run completes when the last leaf completes; EC-29: a tool-less end
-- writes step.enter + step.exit in the same pass, then playbook.completed; EC-30: an arc to an
-- undefined end enters the compiler's virtual end the same way.
BEGIN;
SELECT plan(7);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('implicit_end');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'work')) FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'end')) ->> 'execution_status', 'COMPLETED', 'EC-27: implicit arc to end; completes') FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:work', 'step.enter:end', 'playbook.completed:playbook'], 'EC-27: end once, after work') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('leaves_without_end');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'left')) ->> 'execution_status', 'RUNNING', 'EC-28: one leaf done, still running') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'right')) ->> 'execution_status', 'COMPLETED', 'EC-28: last leaf completes the run') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('end_without_tool');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is((pg_temp.rows(x))[8:], ARRAY['step.enter:end', 'step.exit:end', 'playbook.completed:playbook'], 'EC-29: enter, exit, completed') FROM t;
SELECT is((SELECT e.result::text || e.node_type IS NULL FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'step.exit'),
          true, 'EC-29: step.exit has node_type null') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('virtual_end');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'work')) FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:work', 'step.enter:end', 'step.exit:end', 'playbook.completed:playbook'],
          'EC-30: the virtual end') FROM t;

SELECT * FROM finish();
ROLLBACK;
