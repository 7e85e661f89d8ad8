-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.4 d2, EC-32: a sequential loop issues iteration i+1 only in the pass of
-- iteration i's completion, in index order, parent = that completion; the pending elements
-- live in loop_item until issued; the last completion writes loop.done.
BEGIN;
SELECT plan(10);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('loop_sequential');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(array_length(pg_temp.cmds(x, 'process'), 1), 1, 'one iteration at entry') FROM t;
SELECT is((SELECT e.result -> 'context' ->> 'mode' || '/' || (e.result -> 'context' ->> 'max_in_flight') FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'step.enter' AND e.node_name = 'process'), 'sequential/1', 'mode sequential, max_in_flight 1') FROM t;
SELECT is((SELECT array_agg(iter_index ORDER BY iter_index) FROM noetl.loop_item WHERE execution_id = t.x), ARRAY[1, 2], 'elements 1 and 2 pending') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'process'), '{"y": 2}') ->> 'commands_generated', '1', 'i0 done: i1 issued') FROM t;
SELECT is((SELECT c.iter_index FROM noetl.command AS c WHERE c.execution_id = t.x AND c.status = 'PENDING'), 1, 'the pending one is i1') FROM t;
SELECT is((SELECT p.event_type FROM noetl.command AS c JOIN noetl.event AS e ON e.execution_id = c.execution_id AND e.event_id = c.command_id
             JOIN noetl.event AS p ON p.execution_id = e.execution_id AND p.event_id = e.parent_event_id
            WHERE c.execution_id = t.x AND c.iter_index = 1), 'command.completed', 'i1 issued by i0''s completion') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'process'), '{"y": 4}') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'process'), '{"y": 6}') ->> 'commands_generated', '1', 'i2 done: end issued') FROM t;
SELECT is((SELECT count(*)::int FROM noetl.loop_item WHERE execution_id = t.x), 0, 'no pending elements left') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'end')) ->> 'execution_status', 'COMPLETED', 'completes') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
