-- requires: shard
-- The shard tables refuse values outside the closed vocabularies of §4.5 and §4.8, keep the
-- execution's terminal invariant of §2.7, and derive step_state.in_flight (§3.3).
BEGIN;
SELECT plan(18);

-- execution (§2.7, §4.5)
SELECT lives_ok($$INSERT INTO noetl.execution (execution_id, catalog_id, path, version, plan, plan_format,
                                               server_url, command_subject, start_time)
                  VALUES (10, 1, 'examples/hello', 1, '{}', 1, 'http://localhost:8082',
                          'noetl.commands.shared.10', now())$$,
                'a RUNNING execution with the required snapshot columns is accepted');
SELECT results_eq($$SELECT status::text, kind, workload, env, ctx, event_count FROM noetl.execution WHERE execution_id = 10$$,
                  $$VALUES ('RUNNING', 'playbook', '{}'::jsonb, '{}'::jsonb, '{}'::jsonb, 0::bigint)$$,
                  'a new execution defaults to RUNNING, kind playbook, empty workload/env/ctx, no events');
SELECT throws_ok($$UPDATE noetl.execution SET status = 'DONE' WHERE execution_id = 10$$,
                 '23514', NULL, 'execution.status is RUNNING, COMPLETED, FAILED or CANCELLED');
SELECT throws_ok($$UPDATE noetl.execution SET status = 'COMPLETED' WHERE execution_id = 10$$,
                 '23514', NULL, 'a terminal status needs end_time and terminal_event_id in the same statement');
SELECT lives_ok($$UPDATE noetl.execution SET status = 'COMPLETED', end_time = now(), terminal_event_id = 99
                  WHERE execution_id = 10$$,
                'status, end_time and terminal_event_id set together are accepted');
SELECT throws_ok($$UPDATE noetl.execution SET end_time = NULL WHERE execution_id = 10$$,
                 '23514', NULL, 'a terminal execution keeps its end_time');

-- command (§2.9)
SELECT throws_ok($$INSERT INTO noetl.command (command_id, event_id, execution_id, catalog_id, step_name, status)
                   VALUES (5, 5, 10, 1, 'start', 'QUEUED')$$,
                 '23514', NULL, 'command.status is PENDING, CLAIMED, RUNNING, COMPLETED, FAILED or CANCELLED');
SELECT throws_ok($$INSERT INTO noetl.command (command_id, event_id, execution_id, catalog_id, step_name)
                   VALUES (5, 6, 10, 1, 'start')$$,
                 '23514', NULL, 'command.event_id equals command_id');
SELECT lives_ok($$INSERT INTO noetl.command (command_id, event_id, execution_id, catalog_id, step_name)
                  VALUES (5, 5, 10, 1, 'start')$$, 'a PENDING command is accepted');

-- outbox (§8.2)
SELECT throws_ok($$INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id, status)
                   VALUES (10, 5, 'noetl.commands.shared.10', '{}', '5', 'SENT')$$,
                 '23514', NULL, 'outbox.status is PENDING, IN_FLIGHT, PUBLISHED or FAILED');
SELECT lives_ok($$INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
                  VALUES (10, 5, 'noetl.commands.shared.10', '{}', '5')$$,
                'an outbox row gets a minted outbox_id and the defaults');
SELECT throws_ok($$INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
                   VALUES (10, 5, 'noetl.commands.shared.10', '{}', '5')$$,
                 '23505', NULL, 'one outbox row per (execution_id, event_id)');

-- step_state (§3.3)
SELECT throws_ok($$INSERT INTO noetl.step_state (execution_id, step_name, status) VALUES (10, 's', 'RUNNING')$$,
                 '23514', NULL, 'step_state.status is WAITING, ENTERED, COMPLETED, FAILED, SKIPPED or CANCELLED');
INSERT INTO noetl.step_state (execution_id, step_name, status, iterations_dispatched, iterations_completed, iterations_failed)
VALUES (10, 'loop', 'ENTERED', 7, 3, 1);
SELECT is((SELECT in_flight FROM noetl.step_state WHERE step_name = 'loop'), 3,
          'in_flight = dispatched - completed - failed');

-- transient, result_ref, ingest_request (§4.8)
SELECT throws_ok($$INSERT INTO noetl.transient (execution_id, var_name, var_type, var_value) VALUES (10, 'x', 'global', '1')$$,
                 '23514', NULL, 'transient.var_type is user_defined, step_result, computed or iterator_state');
SELECT throws_ok($$INSERT INTO noetl.transient (execution_id, var_name, var_type, var_value, scope)
                   VALUES (10, 'x', 'computed', '1', 'session')$$,
                 '23514', NULL, 'transient.scope is step, execution, workflow or permanent');
SELECT throws_ok($$INSERT INTO noetl.result_ref (ref, execution_id, name, scope, store_tier)
                   VALUES ('noetl://execution/10/result/r/1', 10, 'r', 'execution', 'ftp')$$,
                 '23514', NULL, 'result_ref.store_tier is one of the reference tiers');
SELECT throws_ok($$INSERT INTO noetl.ingest_request (execution_id, state) VALUES (10, 'queued')$$,
                 '23514', NULL, 'ingest_request.state is accepted, processing, completed or failed');

SELECT * FROM finish();
ROLLBACK;
