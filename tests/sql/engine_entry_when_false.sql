-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- EC-20: the entry step's `when` is evaluated too; false with no way on writes step.skipped
-- and playbook.completed right after playbook_started, in the start pass.
BEGIN;
SELECT plan(4);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('entry_when_false');
SELECT is(pg_temp.rows(x), ARRAY['playbook_started:tests/entry_when_false', 'step.skipped:start', 'playbook.completed:playbook'],
          'skipped entry, completed') FROM t;
SELECT is(pg_temp.status(x), 'COMPLETED', 'status COMPLETED') FROM t;
SELECT is((SELECT count(*)::int FROM noetl.event AS e WHERE e.execution_id = t.x AND e.stream_version > 1
             AND e.parent_event_id = noetl.root_event_id(t.x)), 2, 'both rows are children of playbook_started') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'invariants') FROM t;

SELECT * FROM finish();
ROLLBACK;
