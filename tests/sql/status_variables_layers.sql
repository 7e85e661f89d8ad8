-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- http-api.md §2.7.1 `variables` (noetl.execution_variables): workload keys at top level, then
-- the execution variables, then each completed step's binding under its name (a later layer
-- wins a name clash, as in the render context), and `workload` itself; a step that has not
-- completed has no entry; NULL for an unknown execution.
BEGIN;
SELECT plan(7);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('set_step_and_arc', '{"start": "shadowed by the step", "keep": {"k": [1, 2]}}');

SELECT is(noetl.execution_variables(x),
          '{"a": 0, "start": "shadowed by the step", "keep": {"k": [1, 2]},
            "workload": {"a": 0, "start": "shadowed by the step", "keep": {"k": [1, 2]}}}'::jsonb,
          'before any step completes: the workload and its keys') FROM t;

SELECT pg_temp.run(x, pg_temp.cmd(x, 'start'), '{"v": 5, "api_token": "kept as stored"}') FROM t;
SELECT is(noetl.execution_variables(x) -> 'start', '{"v": 5, "api_token": "kept as stored"}'::jsonb,
          'a completed step''s binding under its name, without the data alias, unredacted') FROM t;
SELECT is(noetl.execution_variables(x) -> 'a', '1'::jsonb, 'a set: variable wins over the workload key') FROM t;
SELECT is(noetl.execution_variables(x) -> 'doubled', '10'::jsonb, 'an arc set: variable') FROM t;
SELECT is(noetl.execution_variables(x) -> 'workload' -> 'a', '0'::jsonb, 'workload stays the merged workload') FROM t;
SELECT ok(NOT noetl.execution_variables(x) ? 'report', 'a step still running has no entry') FROM t;
SELECT is(noetl.execution_variables(-1), NULL, 'NULL for an unknown execution');

SELECT * FROM finish();
ROLLBACK;
