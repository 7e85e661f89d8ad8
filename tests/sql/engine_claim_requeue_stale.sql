-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- data-model.md §9.1 claim_command / get_command / requeue_command / stale_commands,
-- http-api.md §2.5.1: outcomes in order (not_found, claimed with command.claimed,
-- already_claimed_by_you without a write, active_claim, reclaimed by compare-and-swap);
-- requeue moves a claimed command back to PENDING and re-arms its outbox row with a new
-- msg_id; a worker-posted command.claimed is a claim; stale_commands lists old claims.
BEGIN;
SELECT plan(17);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint, n bigint, r jsonb) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('linear');
UPDATE t SET c = pg_temp.cmd(x, 'start');

SELECT is(noetl.claim_command(42, 'w1'), '{"outcome": "not_found"}'::jsonb, 'not_found');
SELECT is(noetl.get_command(c) ->> 'command_status', 'PENDING', 'get_command: PENDING, no side effect') FROM t;
UPDATE t SET r = noetl.claim_command(c, 'w1', NULL, '{"locality": {"zone": "a"}}');
SELECT is(r ->> 'outcome', 'claimed', 'claimed') FROM t;
SELECT is(jsonb_build_object('e', (r -> 'event_id') = to_jsonb(c), 'x', (r -> 'execution_id') = to_jsonb(x), 'n', r -> 'node_name',
                             'a', r -> 'action', 'tk', r -> 'context' -> 'tool_config' -> 'kind', 'att', r -> 'meta' -> 'attempt'),
          '{"e": true, "x": true, "n": "start", "a": "python", "tk": "python", "att": 1}'::jsonb, 'claim view') FROM t;
SELECT is((SELECT e.result || jsonb_build_object('m', e.meta, 'p', e.parent_event_id = t.c, 'w', e.worker_id) FROM noetl.event AS e
            WHERE e.execution_id = t.x AND e.event_type = 'command.claimed'),
          jsonb_build_object('status', 'RUNNING', 'context', jsonb_build_object('command_id', t.x || ':start:' || t.c, 'worker_id', 'w1'),
                             'm', jsonb_build_object('command_id', t.x || ':start:' || t.c, 'worker_id', 'w1', 'actionable', false,
                                                     'informative', true, 'locality', '{"zone": "a"}'::jsonb),
                             'p', true, 'w', 'w1'), 'command.claimed row') FROM t;
UPDATE t SET n = (SELECT event_count FROM noetl.execution WHERE execution_id = t.x);
SELECT is(noetl.claim_command(c, 'w1') ->> 'outcome', 'already_claimed_by_you', 'same worker again') FROM t;
SELECT is((SELECT event_count FROM noetl.execution WHERE execution_id = t.x), n, 'no write for a repeated claim') FROM t;
SELECT is(noetl.claim_command(c, 'w2') ->> 'outcome', 'active_claim', 'another worker: active_claim') FROM t;
SELECT is(noetl.claim_command(c, 'w2') ->> 'holder', 'w1', 'active_claim names the holder') FROM t;
SELECT is(noetl.claim_command(c, 'w2', 'w1') ->> 'outcome', 'reclaimed', 'steal from w1: reclaimed') FROM t;
SELECT is((SELECT worker_id || ' ' || status FROM noetl.command WHERE execution_id = t.x AND command_id = t.c), 'w2 CLAIMED', 'new holder') FROM t;

SELECT is((SELECT count(*)::int FROM noetl.stale_commands(now() + interval '1 minute', now() - interval '1 hour', 10) AS s
            WHERE s.execution_id = t.x), 1, 'stale_commands lists the claimed command') FROM t;
SELECT is(noetl.requeue_command(x, c, 'holder died'), '{"requeued": true}'::jsonb, 'requeue a claimed command') FROM t;
SELECT is((SELECT status || ' ' || attempt || ' ' || (meta -> 'requeues' -> 0 ->> 'reason') FROM noetl.command
            WHERE execution_id = t.x AND command_id = t.c), 'PENDING 2 holder died', 'PENDING, attempt 2, reason recorded') FROM t;
SELECT is((SELECT msg_id || ' ' || republished || ' ' || status FROM noetl.outbox WHERE execution_id = t.x AND event_id = t.c),
          t.c || '-r1 1 PENDING', 'outbox re-armed with a new msg_id') FROM t;

-- a worker-posted command.claimed is a claim
SELECT is(noetl.apply_event(x, jsonb_build_object('event_type', 'command.claimed', 'worker_id', 'w3',
          'payload', jsonb_build_object('command_id', pg_temp.cid(x, c)))) ->> 'claim_outcome', 'claimed', 'posted command.claimed claims') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
