-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.11 (k), EC-31: a loop over [] completes in the entering pass (step.enter with
-- iterations_expected 0, loop.done, the empty aggregate, routing with event.name loop.done);
-- null is an empty loop too; a string holding a JSON list is that list; undefined and an
-- object are evaluation errors that fail the run (evaluate_error).
BEGIN;
SELECT plan(10);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('loop_empty');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is((pg_temp.rows(x))[8:], ARRAY['step.enter:process', 'loop.done:process', 'step.enter:end', 'command.issued:end'],
          'k: rows 8-11 in the same pass') FROM t;
SELECT is((SELECT result FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'process'),
          '{"results": [], "data": [], "count": 0, "stats": {"total": 0, "success": 0, "failed": 0}}'::jsonb, 'k: empty aggregate') FROM t;
SELECT is((SELECT e.result FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'loop.done'),
          '{"status": "COMPLETED", "context": {"iterations": 0, "succeeded": 0, "failed": 0, "activation": 1}}'::jsonb, 'k: loop.done payload') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'end')) ->> 'execution_status', 'COMPLETED', 'k: completes') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'k: invariants') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('engine/loop_collection', '{"items": null}');
SELECT is(pg_temp.status(x), 'COMPLETED', 'null: an empty loop, and with no way on the run completes in the start pass') FROM t;
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('engine/loop_collection', '{"items": "[1, 2]"}');
SELECT is(array_length(pg_temp.cmds(x, 'start'), 1), 2, 'a string holding a JSON list: two iterations') FROM t;
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('engine/loop_collection');
SELECT is((SELECT status || ' ' || (error LIKE 'workflow[0].loop.in: %')::text FROM noetl.execution WHERE execution_id = t.x),
          'FAILED true', 'undefined: evaluation error, located') FROM t;
SELECT is((SELECT e.meta ->> 'reason' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'playbook.failed'),
          'evaluate_error', 'reason evaluate_error') FROM t;
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('engine/loop_collection', '{"items": {"a": 1}}');
SELECT is(pg_temp.status(x), 'FAILED', 'an object: evaluation error') FROM t;

SELECT * FROM finish();
ROLLBACK;
