-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- §1.6, §6.5, EC-10, EC-11, EC-12: step `set` values are evaluated against one context and
-- written together (b sees the old a), native types kept (5, "n=5", 3.0, undefined -> null);
-- the arc guard sees them in the same pass; arc `set` writes before the target's `when`;
-- the next command's ctx and render_context see every variable.
BEGIN;
SELECT plan(6);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('set_step_and_arc');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start'), '{"v": 5}') FROM t;
SELECT is((SELECT jsonb_object_agg(var_name, var_value) FROM noetl.transient WHERE execution_id = t.x),
          '{"a": 1, "b": 0, "n": 5, "s": "n=5", "f": 3.0, "u": null, "pair": [5, "literal"], "branch": "taken", "doubled": 10}'::jsonb,
          'variables') FROM t;
SELECT is((SELECT var_value::text FROM noetl.transient WHERE execution_id = t.x AND var_name = 'f'), '3.0', 'a float stays 3.0') FROM t;
SELECT is((SELECT array_agg(DISTINCT var_type || ':' || source_step) FROM noetl.transient WHERE execution_id = t.x),
          ARRAY['computed:start'], 'var_type computed, source_step start') FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:report'],
          'the arc guard saw the step set; report''s when saw the arc set') FROM t;
SELECT is((SELECT e.context -> 'render_context' -> 'ctx' -> 'doubled' FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'command.issued' AND e.node_name = 'report'), '10'::jsonb, 'ctx.doubled in the command context') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
