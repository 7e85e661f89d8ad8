-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- engine.md §5.10 (j), EC-15, EC-55, EC-16: no matching arc ends the branch; with nothing else
-- live the run completes in the same pass, parent = the completion (also with on_no_match:
-- quiet and an `end` step that is not entered); with a live sibling nothing is written until
-- the sibling's branch ends.
BEGIN;
SELECT plan(8);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint) ON COMMIT DROP;
INSERT INTO t SELECT pg_temp.start_plan('no_arc_matches');
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'start'), '{"v": 5}') ->> 'execution_status', 'COMPLETED', 'j: completes') FROM t;
SELECT is(pg_temp.rows(x), ARRAY['playbook_started:tests/no_arc_matches', 'step.enter:start', 'command.issued:start',
          'command.claimed:start', 'command.started:start', 'call.done:start', 'command.completed:start',
          'playbook.completed:playbook'], 'j: the 8 rows') FROM t;
SELECT is((SELECT p.event_type FROM noetl.event AS e JOIN noetl.event AS p
             ON p.execution_id = e.execution_id AND p.event_id = e.parent_event_id
            WHERE e.execution_id = t.x AND e.event_type = 'playbook.completed'), 'command.completed', 'parent = the completion') FROM t;
SELECT is(pg_temp.invariants(x), '{}', 'j: invariants') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('no_arc_matches_quiet');
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'start'), '{"v": 5}') ->> 'execution_status', 'COMPLETED',
          'quiet (inclusive, end not entered) behaves as complete') FROM t;

DELETE FROM t;
INSERT INTO t SELECT pg_temp.start_plan('engine/no_match_sibling_live');
SELECT pg_temp.run(x, pg_temp.cmd(x, 'start')) FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'quick')) ->> 'commands_generated', '0', 'EC-16: no match while slow is live: nothing') FROM t;
SELECT is(pg_temp.engine_rows(x), ARRAY['step.enter:start', 'step.enter:quick', 'step.enter:slow'], 'EC-16: no rows written') FROM t;
SELECT is(pg_temp.run(x, pg_temp.cmd(x, 'slow')) ->> 'execution_status', 'COMPLETED', 'EC-16: completes when slow ends') FROM t;

SELECT * FROM finish();
ROLLBACK;
