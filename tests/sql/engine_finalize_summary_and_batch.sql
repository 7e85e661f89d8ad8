-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- data-model.md §9.1 finalize_execution, execution_summary, apply_events, batch_request,
-- execute_request; engine.md §6.10: the summary derives status and progress from the
-- projections; the from-log derivation accepts both event families; a batch is applied in
-- order under one lock and is idempotent by key.
BEGIN;
SELECT plan(16);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint, r jsonb) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('inclusive_fan_out_join');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
UPDATE t SET c = pg_temp.cmd(x, 'a');
SELECT pg_temp.claim(c) FROM t;
-- a batch: started, call.done, completed of a
UPDATE t SET r = noetl.apply_events(x, jsonb_build_array(
    jsonb_build_object('event_type', 'command.started', 'payload', jsonb_build_object('command_id', pg_temp.cid(x, c))),
    jsonb_build_object('event_type', 'call.done', 'payload', jsonb_build_object('command_id', pg_temp.cid(x, c), 'data', '{"a": 1}'::jsonb)),
    jsonb_build_object('event_type', 'command.completed', 'payload', jsonb_build_object('command_id', pg_temp.cid(x, c)))), 'batch-1', 'w1');
SELECT is(jsonb_array_length(r -> 'event_ids') || ' ' || (r ->> 'duplicate'), '3 false', 'batch applied') FROM t;
SELECT is(noetl.apply_events(x, '[]', 'batch-1', 'w1') -> 'event_ids', r -> 'event_ids', 'batch idempotent by key') FROM t;
SELECT is(noetl.batch_request((r ->> 'request_id')::bigint) ->> 'state', 'completed', 'batch_request') FROM t;
SELECT is((SELECT count(*)::int FROM noetl.event WHERE execution_id = t.x AND meta ->> 'batch_request_id' = r ->> 'request_id'),
          3, 'every stored item carries meta.batch_request_id') FROM t;
SELECT is((SELECT array_agg((i ->> 'event_id')::bigint) FROM jsonb_array_elements(r -> 'items') AS i),
          (SELECT array_agg(v::bigint) FROM jsonb_array_elements_text(r -> 'event_ids') AS v),
          'items answer each element in order') FROM t;
SELECT is((SELECT result FROM noetl.step_state WHERE execution_id = t.x AND step_name = 'a'), '{"a": 1}'::jsonb, 'rule 7 data via the batch') FROM t;
SELECT is((SELECT worker_id FROM noetl.event WHERE execution_id = t.x AND event_type = 'call.done' AND node_name = 'a'), 'w1', 'the batch worker_id applies') FROM t;

UPDATE t SET r = noetl.execution_summary(x);
SELECT is(jsonb_build_object('s', r -> 'status', 'c', r -> 'counts', 'cs', r -> 'completed_steps', 'cur', r -> 'current_step', 'plan', r -> 'execution' ? 'plan'),
          '{"s": "RUNNING", "c": {"total": 4, "completed": 2, "running": 2, "failed": 0, "skipped": 0}, "cs": ["start", "a"], "cur": "b", "plan": false}'::jsonb,
          'summary of a running execution') FROM t;
SELECT is(noetl.execution_status_from_log(x) ->> 'status', 'RUNNING', 'from the log: RUNNING') FROM t;

SELECT is(noetl.finalize_execution(x, 'FAILED', 'stuck', 'operator') ->> 'status', 'finalized', 'finalize') FROM t;
SELECT is((SELECT meta ->> 'reason' || ' ' || (meta ->> 'finalize_reason') || ' ' || error FROM noetl.event WHERE execution_id = t.x AND event_type = 'playbook.failed'),
          'finalize operator stuck', 'playbook.failed by finalize') FROM t;
SELECT is(noetl.finalize_execution(x, 'COMPLETED', NULL) ->> 'status', 'already_terminal', 'finalize twice: already_terminal') FROM t;
SELECT throws_ok($$SELECT noetl.finalize_execution(1, 'RUNNING', NULL)$$, 'NE422', NULL, 'bad status: NE422');
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

-- the from-log derivation accepts the Python family (an imported log without projection)
INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status)
VALUES (7, 1, 70, 'playbook.initialized', 'initialized'), (7, 1, 71, 'workflow.failed', 'failed');
SELECT is(noetl.execution_status_from_log(7) ->> 'status', 'FAILED', 'workflow.failed read as FAILED');

SELECT is(noetl.execute_request(x, 'key-1', 111) || '/' || noetl.execute_request(x, 'key-1', 222), '111/111',
          'execute_request returns the first child for a key') FROM t;

SELECT * FROM finish();
ROLLBACK;
