-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- EC-37: two loop steps of one execution keep their own collections, counters and aggregates
-- (and a join of both sees both counts). EC-36: arcs of a loop step testing
-- event.name == 'call.done' never match; the branch ends and the run completes.
BEGIN;
SELECT plan(6);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('two_loops');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(array_length(pg_temp.cmds(x, 'first'), 1) || '/' || array_length(pg_temp.cmds(x, 'second'), 1), '2/1',
          'parallel first issues 2, sequential second issues 1') FROM t;
SELECT pg_temp.run(x, c, jsonb_build_object('x', i)) FROM t, unnest(pg_temp.cmds(t.x, 'first')) WITH ORDINALITY AS u(c, i);
SELECT pg_temp.run(x, pg_temp.cmd(x, 'second'), '{"y": 10}') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'second'), '{"y": 20}') FROM t;
SELECT is((SELECT status FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'end'), 'WAITING', 'end waits for second') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'second'), '{"y": 30}') FROM t;
SELECT is((SELECT jsonb_build_object('f', f.result -> 'count', 's', s.result -> 'count', 'sr', s.result -> 'results')
             FROM noetl.step_state AS f, noetl.step_state AS s
            WHERE f.execution_id = t.x AND f.step_name = 'first' AND s.execution_id = t.x AND s.step_name = 'second'),
          '{"f": 2, "s": 3, "sr": [{"y": 10}, {"y": 20}, {"y": 30}]}'::jsonb, 'separate aggregates') FROM t;
SELECT is((SELECT (e.context -> 'render_context' -> 'first' -> 'count') || (e.context -> 'render_context' -> 'second' -> 'count')
             FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'command.issued' AND e.node_name = 'end'),
          '[2, 3]'::jsonb, 'end''s context sees both counts') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('loop_call_done_never_matches');
SELECT pg_temp.run(x, c) FROM t, unnest(pg_temp.cmds(t.x, 'start')) AS c;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'loop.done:start', 'playbook.completed:playbook'],
          'EC-36: call.done arc never matches; the run completes') FROM t;

SELECT * FROM finish();
ROLLBACK;
