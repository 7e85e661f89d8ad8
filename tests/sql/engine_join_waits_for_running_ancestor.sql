-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- EC-23: a join waits while an ancestor is ENTERED even if that ancestor will route elsewhere;
-- the ancestor's completion pass releases it. EC-14: an inclusive router with two arcs to one
-- target enters it once (both arcs' set applied in arc order, the last write wins).
BEGIN;
SELECT plan(7);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('join_waits_for_running_ancestor');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'a')) FROM t;
SELECT is((SELECT status FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'collect'), 'WAITING',
          'collect waits for the running ancestor b') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'b'), '{"go": false}') FROM t;
SELECT is((pg_temp.engine_rows(x))[4:], ARRAY['step.enter:elsewhere', 'step.enter:collect'],
          'b routes elsewhere and its pass releases collect') FROM t;
SELECT is((SELECT e.result -> 'context' ->> 'trigger_step' FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'step.enter' AND e.node_name = 'collect'), 'a', 'trigger_step a') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'elsewhere')) FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'collect')) ->> 'execution_status', 'COMPLETED', 'completes') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('inclusive_same_target_twice');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:work'], 'EC-14: work entered once') FROM t;
SELECT is((SELECT var_value #>> '{}' FROM noetl.transient WHERE execution_id = t.x AND var_name = 'via'), 'second',
          'EC-14: both arcs'' set, last write wins') FROM t;

SELECT * FROM finish();
ROLLBACK;
