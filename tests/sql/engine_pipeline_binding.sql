-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.8 (h), §7.4, EC-47, EC-48: a pipeline is one command whose tool_config is the
-- task list in the nested form, shipped unrendered (worker-scoped names intact); the worker's
-- _context_updates write variables (var_type step_result) before the step's set; the binding
-- has the labels, their merged keys and results; the Python-worker shape {results, ctx} binds
-- the same way.
BEGIN;
SELECT plan(6);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('pipeline_policy_rules');
UPDATE t SET c = pg_temp.cmd(x, 'start');
SELECT is((SELECT e.node_type || ' ' || (e.context -> 'tool_config' -> 1 -> 'count' -> 'input' ->> 'body') || ' '
                  || (e.context -> 'tool_config' -> 0 -> 'fetch' ->> 'url') FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c),
          'task_sequence {{ _prev }} {{ api_url }}/api/v1/assessments', 'nested task list, unrendered') FROM t;
SELECT pg_temp.run(x, c, '{"fetch": {"status_code": 200, "data": {"items": [1]}}, "count": {"n": 10}, "_context_updates": {"ctx.total": 10, "iter.j": 1, "foo.bar": 2}}') FROM t;
SELECT is((SELECT result FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'start'),
          '{"fetch": {"status_code": 200, "data": {"items": [1]}}, "count": {"n": 10}, "status_code": 200, "data": {"items": [1]},
            "n": 10, "results": {"fetch": {"status_code": 200, "data": {"items": [1]}}, "count": {"n": 10}}}'::jsonb, '§7.4 binding') FROM t;
SELECT is((SELECT jsonb_object_agg(var_name, var_value || to_jsonb(var_type)) FROM noetl.transient WHERE execution_id = t.x),
          '{"total": [10, "step_result"], "j": [1, "step_result"]}'::jsonb, 'worker updates written; other dotted keys ignored') FROM t;
SELECT is((SELECT (e.context -> 'render_context' -> 'ctx' -> 'total') || (e.context -> 'render_context' -> 'start' -> 'results' -> 'count' -> 'n')
             FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'command.issued' AND e.node_name = 'end'),
          '[10, 10]'::jsonb, 'end sees ctx.total and start.results.count.n') FROM t;
SELECT is(noetl.step_binding('{"data": {"results": {"fetch": {"a": 1}, "count": {"n": 2}}, "_prev": {"n": 2}, "ctx": {"k": 1}}}',
          (SELECT plan -> 'steps' -> 'start' -> 'tool' FROM test_plans WHERE name = 'pipeline_policy_rules')),
          '{"fetch": {"a": 1}, "count": {"n": 2}, "a": 1, "n": 2, "results": {"fetch": {"a": 1}, "count": {"n": 2}}}'::jsonb,
          'Python-worker shape binds from results');
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
