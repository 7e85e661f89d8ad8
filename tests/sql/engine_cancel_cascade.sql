-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.7 (g), §5.9 (i), D4, EC-43, EC-44: cancel writes execution.cancelled (parent =
-- playbook_started, meta with cascade and parent_cancel_id) and abandons every unfinished
-- command and live step; claims answer execution_cancelled; later worker events change
-- nothing; the app cascades to children found with child_executions; cancelling a terminal
-- execution writes nothing. Sub-playbook linkage: every child row carries the parent id and
-- playbook_started records the parent command.
BEGIN;
SELECT plan(13);
\ir support/invariants.psql

CREATE TEMP TABLE t (p bigint, c bigint, pc bigint, cc bigint, r jsonb) ON COMMIT DROP;
INSERT INTO t (p) SELECT pg_temp.start_plan('subplaybook_parent');
SELECT pg_temp.run(p, pg_temp.cmd(p, 'start')) FROM t;
UPDATE t SET pc = pg_temp.cmd(p, 'call_child');
SELECT pg_temp.claim(pc) FROM t;
-- the worker's playbook tool starts the child (the app calls start_execution on the child's shard)
UPDATE t SET c = noetl.snowflake_id();
SELECT noetl.start_execution(c, 611677533586588199, 'tests/subplaybook_child', 1, 'playbook',
       (SELECT plan FROM test_plans WHERE name = 'subplaybook_child'), 1, '{"n": 2}', '{}', p, 'http://127.0.0.1:8082', pc) FROM t;
SELECT is((SELECT bool_and(parent_execution_id = t.p) FROM noetl.event WHERE execution_id = t.c), true,
          'every child row carries parent_execution_id') FROM t;
SELECT is((SELECT context ->> 'parent_execution_id' = t.p::text AND meta ->> 'parent_command_id' = t.pc::text
             AND context -> 'workload' = '{"n": 2}'::jsonb FROM noetl.event WHERE execution_id = t.c AND stream_version = 1),
          true, 'child playbook_started: parent ids and workload') FROM t;
UPDATE t SET cc = pg_temp.cmd(c, 'start');
SELECT pg_temp.claim(cc, 'wc') FROM t;

UPDATE t SET r = noetl.cancel_execution(p, 'user', true);
SELECT is(r ->> 'status', 'cancelled', 'parent cancelled') FROM t;
SELECT is((SELECT meta FROM noetl.event WHERE execution_id = t.p AND event_type = 'execution.cancelled'),
          '{"reason": "user", "cancelled_by": "api", "cascade": true, "parent_cancel_id": null}'::jsonb, 'cancel meta') FROM t;
SELECT is((SELECT array_agg(x.execution_id) FROM noetl.child_executions(ARRAY[t.p]) AS x), ARRAY[c], 'child_executions finds the child') FROM t;
SELECT is(noetl.cancel_execution(c, 'user', true, 'api', (r ->> 'event_id')::bigint) ->> 'status', 'cancelled', 'cascade to the child') FROM t;
SELECT is((SELECT meta ->> 'parent_cancel_id' = t.r ->> 'event_id' AND parent_event_id = noetl.root_event_id(t.c)
             FROM noetl.event WHERE execution_id = t.c AND event_type = 'execution.cancelled'), true, 'child row: parent_cancel_id, parent root') FROM t;
SELECT is(noetl.claim_command(cc, 'wc2') ->> 'outcome', 'execution_cancelled', 'claims answer execution_cancelled') FROM t;
SELECT is((SELECT array_agg(DISTINCT status) FROM noetl.command WHERE execution_id IN (t.p, t.c) AND command_id IN (t.pc, t.cc)),
          ARRAY['CANCELLED'], 'unfinished commands CANCELLED') FROM t;
SELECT pg_temp.run(c, cc) FROM t;
SELECT is(pg_temp.status(c) || ' ' || (SELECT count(*) FROM noetl.event WHERE execution_id = t.c AND event_type LIKE 'playbook.%'),
          'CANCELLED 0', 'the child''s late completion changes nothing') FROM t;
SELECT is(noetl.cancel_execution(c, 'again', false), '{"status": "already_terminal", "event_id": null, "execution_status": "CANCELLED"}'::jsonb,
          'EC-44: already terminal, nothing written') FROM t;
SELECT is(pg_temp.invariants(p), '{}', 'parent invariants') FROM t;
SELECT is(pg_temp.invariants(c), '{}', 'child invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
