-- requires: shard
-- Plans: compiled from tests/playbooks into test_plans.
-- data-model.md §9.1 execution_events / event_position / execution_event_count / stream_state:
-- reads follow stream_version (ingest order), not id value; filters, paging, newest first, the
-- numeric fallback of since_event_id, and the terminal position of a finished execution.
BEGIN;
SELECT plan(14);
\ir support/invariants.psql

CREATE TEMP TABLE t (x bigint, c bigint) ON COMMIT DROP;
INSERT INTO t (x) SELECT pg_temp.start_plan('linear');
UPDATE t SET c = pg_temp.cmd(x, 'start');
-- a worker event with a tiny id arrives after events with large ids
SELECT noetl.apply_event(x, jsonb_build_object('event_type', 'command.heartbeat', 'step', 'start', 'event_id', 5,
                         'payload', jsonb_build_object('command_id', pg_temp.cid(x, c)))) FROM t;

SELECT is((SELECT array_agg(stream_version ORDER BY o) FROM (SELECT e.stream_version, row_number() OVER () AS o
             FROM noetl.execution_events(t.x, 0, NULL) AS e) AS s),
          (SELECT array_agg(g::bigint) FROM generate_series(1, (SELECT count(*) FROM noetl.event WHERE execution_id = t.x)) AS g),
          'every event once, in stream order') FROM t;
SELECT is((SELECT event_id FROM noetl.execution_events(t.x, 0, NULL) AS e ORDER BY e.stream_version DESC LIMIT 1), 5::bigint,
          'the small id comes last') FROM t;
SELECT is(noetl.event_position(x, 5), (SELECT max(stream_version) FROM noetl.event WHERE execution_id = t.x), 'position') FROM t;
SELECT is(noetl.event_position(x, 999), NULL, 'unknown id has no position') FROM t;
SELECT is((SELECT count(*) FROM noetl.execution_events(t.x, noetl.event_position(t.x, 5), NULL)), 0::bigint,
          'nothing after the last position') FROM t;
SELECT is((SELECT array_agg(event_type) FROM noetl.execution_events(t.x, 0, 10, ARRAY['command.issued', 'command.heartbeat'])),
          ARRAY['command.issued', 'command.heartbeat']::varchar[], 'type filter') FROM t;
SELECT is((SELECT e.event_id FROM noetl.execution_events(t.x, 0, 1, NULL, true) AS e), 5::bigint, 'newest first') FROM t;
SELECT is(noetl.execution_event_count(x, 1) || ' ' || noetl.execution_event_count(x, 0, ARRAY['command.issued'])
          || ' ' || noetl.execution_event_count(x, 0, NULL, 4), (noetl.execution_event_count(x) - 1) || ' 1 '
          || noetl.execution_event_count(x), 'counts over the same filters') FROM t;
-- the SSE poll read: positions after p_after_version, ascending, at most p_limit, every column
SELECT is((SELECT array_agg(e.stream_version) FROM noetl.stream_events(t.x, 1, 2) AS e),
          ARRAY[2, 3]::bigint[], 'stream_events: the next positions in order, limited') FROM t;
SELECT is((SELECT count(*) FROM noetl.stream_events(t.x, (SELECT event_count FROM noetl.execution WHERE execution_id = t.x), 100)),
          0::bigint, 'stream_events: nothing after the last position') FROM t;
SELECT is((SELECT to_jsonb(e) FROM noetl.stream_events(t.x, 0, 1) AS e),
          (SELECT to_jsonb(e) FROM noetl.event AS e WHERE e.execution_id = t.x AND e.stream_version = 1),
          'stream_events: the whole row') FROM t;
SELECT is((SELECT h.last_seq || ' ' || h.status || ' ' || coalesce(h.terminal_seq::text, 'none')
             FROM noetl.stream_head(t.x) AS h),
          (SELECT event_count || ' RUNNING none' FROM noetl.execution WHERE execution_id = t.x),
          'stream_head while running: the counter, no terminal position') FROM t;
SELECT pg_temp.run(x, c) FROM t;
SELECT pg_temp.run(x, pg_temp.cmd(x, 'end')) FROM t;
SELECT is(noetl.stream_state(x) ->> 'terminal_event_type', 'playbook.completed', 'terminal event') FROM t;
SELECT is((noetl.stream_state(x) ->> 'terminal_seq')::bigint, (noetl.stream_state(x) ->> 'last_seq')::bigint,
          'the terminal event is the last position') FROM t;

SELECT * FROM finish();
ROLLBACK;
