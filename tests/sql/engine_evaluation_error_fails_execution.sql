-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- EC-02, D3: an arc guard that raises ({{ ctx.count > 0 }} with count undefined) rolls back the
-- whole pass except the completed command's own status and fails the run with reason
-- evaluate_error, failed_steps [], the error prefixed with the arc's path; EC-25: a cycle of
-- skipped steps fails with cycle_without_progress.
BEGIN;
SELECT plan(9);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('guard_evaluation_error');
UPDATE t SET c = pg_temp.cmd(x, 'start');
SELECT is(pg_temp.run(x, c) ->> 'execution_status', 'FAILED', 'FAILED') FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'playbook.failed:playbook'], 'nothing of the pass is kept') FROM t;
SELECT is((SELECT e.meta ->> 'reason' || ' ' || (e.meta -> 'failed_steps')::text FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'playbook.failed'), 'evaluate_error []', 'reason evaluate_error, no failed steps') FROM t;
SELECT ok((SELECT error LIKE 'workflow[0].next.arcs[0].when: %' FROM noetl.execution WHERE execution_id = t.x),
          'the error starts with the arc''s path') FROM t;
SELECT is((SELECT status FROM noetl.command WHERE execution_id = t.x AND command_id = t.c), 'COMPLETED', 'the command''s own status is kept') FROM t;
SELECT is((SELECT status FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'start'), 'CANCELLED',
          'the step''s rolled-back completion leaves it abandoned') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

DELETE FROM t;
INSERT INTO t (x) SELECT pg_temp.start_plan('cycle_all_skipped');
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'start')) ->> 'execution_status', 'FAILED', 'EC-25: FAILED') FROM t;
SELECT is((SELECT e.meta ->> 'reason' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'playbook.failed'),
          'cycle_without_progress', 'EC-25: reason cycle_without_progress') FROM t;

SELECT * FROM finish();
ROLLBACK;
