-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.2 (b), EC-22, EC-13, EC-01: an exclusive router takes the first true arc only
-- (a later arc's guard is not evaluated, so a guard that would raise is harmless); the join
-- `end` is released by the taken branch alone and nothing is written for the untaken one; a
-- guard on a missing name is false, not an error.
BEGIN;
SELECT plan(9);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('exclusive_one_branch_not_taken');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start'), '{"is_hot": true}') FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:hot'], 'arc 0 taken: hot entered') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'hot')) FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:hot', 'step.enter:end'],
          'the join end is released by hot alone; nothing for cold') FROM t;
SELECT is((SELECT e.result -> 'context' ->> 'trigger_step' FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'step.enter' AND e.node_name = 'end'), 'hot', 'trigger_step hot') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'end')) ->> 'execution_status', 'COMPLETED', 'completes') FROM t;
SELECT is((SELECT count(*)::int FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'cold'), 0, 'cold never touched') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

-- EC-13: arcs 0 and 1 would both match; arc 1's guard (which would raise) is never evaluated
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('exclusive_both_match');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start'), '{"v": 1}') FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:first'], 'only arc 0 taken, no evaluation error') FROM t;

-- EC-01: {{ missing.flag }} is false
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('engine/missing_name_guard');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:plain'], 'missing name: guard false, next arc taken') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
