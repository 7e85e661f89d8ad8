-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §6.3, §6.11 invariant 7, EC-38, EC-39, EC-45, EC-46: a re-sent event_id or
-- idempotency key returns the first answer and changes nothing; a second command.completed of
-- one command (another id) is not stored and answers the first one's id; a command.failed
-- after it is stored and changes nothing; an id collision with another type mints a fresh id;
-- an unattributable event is stored under playbook_started; after the terminal row events are
-- stored and change nothing; statuses are normalised; an unknown execution is NE404.
BEGIN;
SELECT plan(17);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint, cid text, n bigint, r jsonb) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('linear');
UPDATE t SET c = pg_temp.cmd(x, 'start');
UPDATE t SET cid = pg_temp.cid(x, c);
SELECT pg_temp.claim(c) FROM t;
UPDATE t SET r = noetl.apply_event(x, jsonb_build_object('event_type', 'command.completed', 'event_id', 900000000000000001,
    'worker_id', 'w1', 'status', 'ok', 'payload', jsonb_build_object('command_id', cid, 'status', 'success')));
SELECT is(r ->> 'event_id', '900000000000000001', 'the producer''s event_id is kept') FROM t;
UPDATE t SET n = (SELECT event_count FROM noetl.execution WHERE execution_id = t.x);
SELECT is(noetl.apply_event(x, jsonb_build_object('event_type', 'command.completed', 'event_id', '900000000000000001',
    'worker_id', 'w1', 'payload', jsonb_build_object('command_id', cid))) - 'execution_status',
    '{"event_id": 900000000000000001, "duplicate": true, "commands_generated": 0}'::jsonb, 'EC-38: same id, same answer, duplicate') FROM t;
SELECT is((SELECT event_count FROM noetl.execution WHERE execution_id = t.x), n, 'EC-38: nothing written') FROM t;
SELECT is(noetl.apply_event(x, jsonb_build_object('event_type', 'command.completed', 'worker_id', 'w2',
    'payload', jsonb_build_object('command_id', cid))) ->> 'event_id', '900000000000000001', 'EC-39: a second completion answers the first id') FROM t;
SELECT is((SELECT event_count FROM noetl.execution WHERE execution_id = t.x), n, 'EC-39: and is not stored') FROM t;
SELECT is(noetl.apply_event(x, jsonb_build_object('event_type', 'command.failed', 'worker_id', 'w2',
    'payload', jsonb_build_object('command_id', cid, 'error', 'late'))) ->> 'duplicate', 'false', 'EC-39: a later command.failed is stored') FROM t;
SELECT is((SELECT status FROM noetl.command WHERE execution_id = t.x AND command_id = t.c), 'COMPLETED', 'EC-39: and changes nothing') FROM t;
SELECT is((SELECT status || ' ' || (meta ->> 'client_status') FROM noetl.event WHERE execution_id = t.x AND event_id = 900000000000000001),
          'COMPLETED ok', 'status ok normalised to COMPLETED, client_status kept') FROM t;

-- a colliding id of another type gets a fresh id
UPDATE t SET r = noetl.apply_event(x, jsonb_build_object('event_type', 'command.heartbeat', 'event_id', 900000000000000001,
    'worker_id', 'w1', 'payload', jsonb_build_object('command_id', cid)));
SELECT isnt(r ->> 'event_id', '900000000000000001', 'collision: fresh id') FROM t;
SELECT is((SELECT meta ->> 'client_event_id' FROM noetl.event WHERE execution_id = t.x AND event_id = (t.r ->> 'event_id')::bigint),
          '900000000000000001', 'collision: the producer''s id in meta.client_event_id') FROM t;

-- idempotency key
UPDATE t SET r = noetl.apply_event(x, '{"event_type": "worker.note", "idempotency_key": "k-1", "payload": {"a": 1}}');
SELECT is(noetl.apply_event(x, '{"event_type": "worker.note", "idempotency_key": "k-1", "payload": {"a": 2}}') ->> 'event_id',
          r ->> 'event_id', 'a known idempotency key returns the first event') FROM t;

-- EC-45: unattributable
UPDATE t SET r = noetl.apply_event(x, '{"event_type": "call.done", "worker_id": "w1", "payload": {"command_id": "1:start:42"}}');
SELECT is((SELECT parent_event_id = noetl.root_event_id(t.x) AND command_id IS NULL FROM noetl.event
            WHERE execution_id = t.x AND event_id = (t.r ->> 'event_id')::bigint), true, 'EC-45: parent playbook_started, no command') FROM t;
SELECT is((SELECT result FROM noetl.event WHERE execution_id = t.x AND event_id = (t.r ->> 'event_id')::bigint),
          '{"status": "COMPLETED", "context": {"command_id": "1:start:42"}}'::jsonb, 'result shaped {status, context}') FROM t;

-- EC-46: after the terminal row
SELECT pg_temp.run(x, pg_temp.cmd(x, 'end')) FROM t;
UPDATE t SET n = (SELECT count(*) FROM noetl.event WHERE execution_id = t.x AND meta ->> 'emitted_by' = 'orchestrator');
SELECT is(noetl.apply_event(x, jsonb_build_object('event_type', 'command.completed', 'worker_id', 'w1',
    'payload', jsonb_build_object('command_id', cid || 'x'))) ->> 'execution_status', 'COMPLETED', 'EC-46: stored, status unchanged') FROM t;
SELECT is((SELECT count(*) FROM noetl.event WHERE execution_id = t.x AND meta ->> 'emitted_by' = 'orchestrator'), n, 'EC-46: no engine rows') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;
SELECT throws_ok($$SELECT noetl.apply_event(1, '{"event_type": "call.done"}')$$, 'NE404', NULL, 'unknown execution: NE404');

SELECT * FROM finish();
ROLLBACK;
