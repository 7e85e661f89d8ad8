-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §4.7.4, EC-42: the app's claim succeeded, rendering failed, so it records a server
-- command.failed (meta.reason render_error, no worker) through apply_event: the step and the
-- execution fail with the render message; the next claim is already_terminal.
BEGIN;
SELECT plan(6);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('bad_template_at_claim');
UPDATE t SET c = pg_temp.cmd(x, 'start');
SELECT is((SELECT e.context -> 'input' ->> 'ratio' FROM noetl.event AS e WHERE e.execution_id = t.x AND e.event_id = t.c),
          '{{ 1 / 0 }}', 'the template is stored unrendered') FROM t;
SELECT is(pg_temp.claim(c) ->> 'outcome', 'claimed', 'claimed') FROM t;
SELECT is(noetl.apply_event(x, jsonb_build_object('event_type', 'command.failed', 'status', 'FAILED',
          'meta', '{"reason": "render_error", "emitted_by": "server"}'::jsonb,
          'payload', jsonb_build_object('command_id', pg_temp.cid(x, c), 'error', 'render failed at input.ratio: division by zero')))
          ->> 'execution_status', 'FAILED', 'the render failure fails the run') FROM t;
SELECT is((SELECT error FROM noetl.execution WHERE execution_id = t.x), 'step ''start'' failed: render failed at input.ratio: division by zero',
          'playbook.failed carries the render error naming the field') FROM t;
SELECT is(pg_temp.claim(c, 'w2') ->> 'outcome', 'already_terminal', 'a repeated claim is already_terminal') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
