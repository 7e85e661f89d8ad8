-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- EC-33: a parallel loop of 5 with max_in_flight 2 issues 2 at entry and exactly one more per
-- completion while any remain; loop.done after the fifth. EC-34: max_in_flight
-- "{{ (n | default(1) | int) or 1 }}" with n undefined is 1.
BEGIN;
SELECT plan(9);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('loop_parallel_max_in_flight');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(array_length(pg_temp.cmds(x, 'process'), 1), 2, 'two at entry') FROM t;
SELECT is(pg_temp.run(x, (pg_temp.cmds(x, 'process'))[2], '{"upper": "B"}') ->> 'commands_generated', '1', 'one more per completion (3rd)') FROM t;
SELECT is(pg_temp.run(x, (pg_temp.cmds(x, 'process'))[1], '{"upper": "A"}') ->> 'commands_generated', '1', 'one more (4th)') FROM t;
SELECT is(pg_temp.run(x, (pg_temp.cmds(x, 'process'))[1], '{"upper": "C"}') ->> 'commands_generated', '1', 'one more (5th)') FROM t;
SELECT is(pg_temp.run(x, (pg_temp.cmds(x, 'process'))[1], '{"upper": "D"}') ->> 'commands_generated', '0', 'none left to issue') FROM t;
SELECT is(pg_temp.run(x, (pg_temp.cmds(x, 'process'))[1], '{"upper": "E"}') ->> 'commands_generated', '1', 'fifth done: loop.done, end issued') FROM t;
SELECT is((SELECT result -> 'results' FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'process'),
          '[{"upper": "A"}, {"upper": "B"}, {"upper": "C"}, {"upper": "D"}, {"upper": "E"}]'::jsonb, 'results in index order') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('loop_max_in_flight_template');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is((SELECT max_in_flight FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'process'), 1,
          'EC-34: template with n undefined gives 1') FROM t;

SELECT * FROM finish();
ROLLBACK;
