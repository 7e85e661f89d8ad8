-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.4 d1, EC-35, §7.5: a parallel loop without max_in_flight issues every iteration
-- at entry (iteration meta, render_context item/iter, readable ids with :i<index>); completions
-- before the last write nothing; the last writes loop.done and routes with event.name ==
-- 'loop.done'; results are in index order whatever the completion order.
BEGIN;
SELECT plan(12);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint[]) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('loop_parallel');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
UPDATE t SET c = pg_temp.cmds(x, 'process');
SELECT is(array_length(c, 1), 3, 'three iterations issued at entry') FROM t;
SELECT is((SELECT e.result -> 'context' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'step.enter' AND e.node_name = 'process'),
          '{"activation": 1, "trigger_step": "start", "iterations_expected": 3, "iterator_var": "item", "mode": "parallel", "max_in_flight": null}'::jsonb,
          'loop step.enter context') FROM t;
SELECT is((SELECT e.meta - 'command_id' - 'execution_id' - 'catalog_id' - 'loop_event_id' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c[2]),
          '{"step": "process", "tool_kind": "python", "max_attempts": 3, "attempt": 1, "actionable": true, "activation": 1,
            "trigger_step": "start", "emitted_by": "orchestrator", "iteration_index": 1, "iteration_total": 3,
            "iterator_step": "process", "item_var": "item", "loop_iteration_index": 1}'::jsonb, 'iteration meta') FROM t;
SELECT is((SELECT e.meta ->> 'command_id' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c[2]),
          t.x || ':process:' || t.c[2] || ':i1', 'readable id with :i1') FROM t;
SELECT is((SELECT e.meta ->> 'loop_event_id' = s.enter_event_id::text FROM noetl.event AS e, noetl.step_state AS s
            WHERE e.execution_id = t.x AND e.event_id = t.c[1] AND s.execution_id = t.x AND s.step_name = 'process'),
          true, 'loop_event_id = the loop''s step.enter') FROM t;
SELECT is((SELECT jsonb_build_object('item', rc -> 'item', 'loop_index', rc -> 'loop_index', '_index', rc -> '_index',
                                     '_total', rc -> '_total', 'iter', rc -> 'iter')
             FROM (SELECT e.context -> 'render_context' AS rc FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c[3]) AS q),
          '{"item": 3, "loop_index": 2, "_index": 2, "_total": 3,
            "iter": {"item": 3, "_index": 2, "_first": false, "_last": true, "_total": 3}}'::jsonb, 'iteration names') FROM t;

SELECT is(pg_temp.run(x, c[2], '{"y": 4}') ->> 'commands_generated', '0', '1 of 3: nothing') FROM t;
SELECT is(pg_temp.run(x, c[1], '{"y": 2}') ->> 'commands_generated', '0', '2 of 3: nothing') FROM t;
SELECT is(pg_temp.run(x, c[3], '{"y": 6}') ->> 'commands_generated', '1', '3 of 3: end issued') FROM t;
SELECT is((pg_temp.engine_rows(x))[3:], ARRAY['loop.done:process', 'step.enter:end'], 'loop.done then end') FROM t;
SELECT is((SELECT result FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'process'),
          '{"results": [{"y": 2}, {"y": 4}, {"y": 6}], "data": [{"y": 2}, {"y": 4}, {"y": 6}], "count": 3,
            "stats": {"total": 3, "success": 3, "failed": 0}}'::jsonb, 'aggregate in index order') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'end')) FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
