-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- EC-24, EC-12: the back arc check -> fetch_page re-enters fetch_page (new step.enter,
-- activation k+1, no join barrier) while ctx.has_more; the binding is replaced when the new
-- activation completes; the tool-less `end` then writes step.enter + step.exit and the run
-- completes.
BEGIN;
SELECT plan(6);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('pagination_cycle');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'fetch_page'), '{"offset": 0}') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'check')) FROM t;
SELECT is((SELECT e.result -> 'context' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_type = 'step.enter'
            AND e.node_name = 'fetch_page' ORDER BY e.stream_version DESC LIMIT 1),
          '{"activation": 2, "trigger_step": "check"}'::jsonb, 'fetch_page re-entered, activation 2') FROM t;
SELECT is((SELECT e.context -> 'render_context' -> 'ctx' -> 'offset' FROM noetl.event AS e WHERE e.execution_id = t.x
            AND e.event_type = 'command.issued' AND e.node_name = 'fetch_page' ORDER BY e.stream_version DESC LIMIT 1),
          '1'::jsonb, 'the second page sees offset 1') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'fetch_page'), '{"offset": 1}') FROM t;
SELECT is((SELECT result FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'fetch_page'), '{"offset": 1}'::jsonb,
          'binding replaced by the new activation') FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'check')) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'fetch_page'), '{"offset": 2}') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'check')) ->> 'execution_status', 'COMPLETED', 'third page: has_more false, end, completed') FROM t;
SELECT is((pg_temp.engine_rows(x))[array_length(pg_temp.engine_rows(x), 1) - 2:],
          ARRAY['step.enter:end', 'step.exit:end', 'playbook.completed:playbook'], 'tool-less end: enter, exit, completed') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants (3 activations of fetch_page and check)') FROM t;

SELECT * FROM finish();
ROLLBACK;
