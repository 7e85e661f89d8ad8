-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.5 (e), EC-21, EC-6: an inclusive fan-out writes both step.enter rows before both
-- command.issued; the first branch to finish leaves `end` WAITING and writes nothing; the second
-- releases it (trigger_step = the last arrival), end runs exactly once, one terminal row —
-- whichever branch finishes first.
BEGIN;
SELECT plan(12);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('inclusive_fan_out_join');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is((pg_temp.rows(x))[8:11], ARRAY['step.enter:a', 'step.enter:b', 'command.issued:a', 'command.issued:b'],
          'control rows first, then commands') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'a'), '{"a": 1}') ->> 'commands_generated', '0', 'a done: nothing issued') FROM t;
SELECT is((SELECT status || ':' || array_to_string(arrivals, ',') FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'end'),
          'WAITING:a', 'end WAITING with arrival a') FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:a', 'step.enter:b'], 'no rows written by a''s pass') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'b'), '{"b": 2}') ->> 'commands_generated', '1', 'b done: end issued') FROM t;
SELECT is((SELECT e.result -> 'context' ->> 'trigger_step' FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'step.enter' AND e.node_name = 'end'), 'b', 'trigger_step b (last arrival)') FROM t;
SELECT is((SELECT (e.context -> 'render_context' -> 'a') || (e.context -> 'render_context' -> 'b') FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'command.issued' AND e.node_name = 'end'),
          '{"a": 1, "b": 2, "data": {"b": 2}}'::jsonb, 'end sees both bindings') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'end')) ->> 'execution_status', 'COMPLETED', 'completes') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants (end entered once, one terminal row)') FROM t;

-- the other order
DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('inclusive_fan_out_join');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'b')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'a')) FROM t;
SELECT is((SELECT count(*)::int FROM noetl.event WHERE execution_id = t.x AND event_type = 'step.enter' AND node_name = 'end'), 1,
          'reverse order: end entered once') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'end')) ->> 'execution_status', 'COMPLETED', 'reverse order: completes') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'reverse order: invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
