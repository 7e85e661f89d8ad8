-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- EC-26: an arc arriving at a step whose activation is still running is absorbed: no second
-- activation and no row. EC-34: max_in_flight "{{ 0 }}" becomes 1.
BEGIN;
SELECT plan(5);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('engine/arrival_absorbed');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'a')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'b')) FROM t;
SELECT is((SELECT status || '/' || epoch FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'a'), 'ENTERED/2',
          'b''s back arc re-entered a') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'c')) ->> 'commands_generated', '0', 'c''s arrival at the running a is absorbed') FROM t;
SELECT is((SELECT epoch FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'a'), 2, 'no second activation') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'a')) ->> 'execution_status', 'COMPLETED', 'a''s second round matches no arc: completed') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('engine/loop_mif_zero');
SELECT is(array_length(pg_temp.cmds(x, 'start'), 1), 1, 'EC-34: {{ 0 }} gives one in flight') FROM t;

SELECT * FROM finish();
ROLLBACK;
