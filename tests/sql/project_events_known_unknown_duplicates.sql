-- requires: shard
-- noetl.project_events (data-model §9.1): events of a known execution take its catalog_id and the
-- next positions without touching the projection; events of an unknown execution need a real
-- catalog_id and get no position; a re-sent batch is all duplicates; bad envelopes are reported
-- by index while the rest are stored; a non-array argument raises NE422.
BEGIN;
SELECT plan(21);

INSERT INTO noetl.execution (execution_id, catalog_id, path, version, plan, plan_format,
                             server_url, command_subject, start_time, event_count, last_event_type)
VALUES (10, 7, 'tests/project', 1, '{}', 1, 'http://127.0.0.1:8082', 'noetl.commands.shared.10', now(),
        2, 'command.issued');

SELECT is(noetl.project_events($$[
            {"event_id": 101, "execution_id": 10, "event_type": "step.enter", "node_name": "a",
             "status": "ok", "timestamp": "2026-06-04T06:51:26.123456789Z", "catalog_id": 999},
            {"event_id": "102", "execution_id": "10", "event_type": "command.completed", "node_name": "a",
             "result": {"status": "COMPLETED", "context": {"n": 1}}, "meta": {"k": "v"}, "duration": 1.5}
          ]$$::jsonb),
          '{"projected": 2, "duplicates": 0, "rejected": []}'::jsonb,
          'two events of a known execution are projected');
SELECT results_eq($$SELECT event_id, catalog_id, stream_version, status, producer FROM noetl.event
                    WHERE execution_id = 10 ORDER BY stream_version$$,
                  $$VALUES (101::bigint, 7::bigint, 3::bigint, 'COMPLETED'::varchar, 'projection'::text),
                           (102::bigint, 7::bigint, 4::bigint, 'COMPLETED'::varchar, 'projection'::text)$$,
                  'they take the execution''s catalog_id (not the envelope''s) and the next positions');
SELECT is((SELECT (event_count, status, last_event_type)::text FROM noetl.execution WHERE execution_id = 10),
          '(4,RUNNING,command.issued)', 'only the position counter of the execution row moves');
SELECT is((SELECT created_at FROM noetl.event WHERE execution_id = 10 AND event_id = 101),
          '2026-06-04 06:51:26.123457+00'::timestamptz, 'the sent timestamp is the event time');
SELECT is((SELECT (result, meta, duration, node_id)::text FROM noetl.event WHERE execution_id = 10 AND event_id = 102),
          '("{""status"": ""COMPLETED"", ""context"": {""n"": 1}}","{""k"": ""v""}",1.5,a)',
          'result, meta, duration and node_id are stored');

SELECT is(noetl.project_events($$[
            {"event_id": 101, "execution_id": 10, "event_type": "step.enter", "node_name": "a"},
            {"event_id": 102, "execution_id": 10, "event_type": "command.completed"}
          ]$$::jsonb),
          '{"projected": 0, "duplicates": 2, "rejected": []}'::jsonb,
          're-projecting the same pair is two duplicates');
SELECT is((SELECT event_count FROM noetl.execution WHERE execution_id = 10), 4::bigint,
          'duplicates take no position');

-- unknown executions
SELECT is(noetl.project_events($$[
            {"event_id": 201, "execution_id": 20, "event_type": "x", "catalog_id": "55",
             "created_at": "2026-06-04 08:00:00"},
            {"event_id": 202, "execution_id": 20, "event_type": "x"},
            {"event_id": 203, "execution_id": 20, "event_type": "x", "catalog_id": 0}
          ]$$::jsonb),
          $${"projected": 1, "duplicates": 0, "rejected": [
              {"index": 1, "reason": "catalog_id is required for an execution this shard does not know"},
              {"index": 2, "reason": "catalog_id is required for an execution this shard does not know"}]}$$::jsonb,
          'an unknown execution''s event is stored only with a non-zero catalog_id');
SELECT is((SELECT (catalog_id, stream_version IS NULL, created_at)::text FROM noetl.event WHERE execution_id = 20),
          '(55,t,"2026-06-04 08:00:00+00")', 'it keeps its catalog_id, gets no position, and a zone-less time is UTC');
SELECT is((SELECT count(*) FROM noetl.execution WHERE execution_id = 20), 0::bigint,
          'no execution row is created');

-- bad envelopes next to good ones
SELECT is(noetl.project_events($$[
            "not an object",
            {"execution_id": 10, "event_type": "x"},
            {"event_id": 1.5, "execution_id": 10, "event_type": "x"},
            {"event_id": 301, "execution_id": "ten", "event_type": "x"},
            {"event_id": 302, "execution_id": 10, "event_type": "  "},
            {"event_id": 303, "execution_id": 10, "event_type": "x", "result": {"status": 1}},
            {"event_id": 304, "execution_id": 10, "event_type": "x", "result": {"status": "OK", "data": 1}},
            {"event_id": 305, "execution_id": 10, "event_type": "x", "timestamp": "2026-13-45T00:00:00Z"},
            {"event_id": 306, "execution_id": 10, "event_type": "x", "timestamp": "yesterday"},
            {"event_id": "99999999999999999999", "execution_id": 10, "event_type": "x"},
            {"event_id": 307, "execution_id": 10, "event_type": "good", "duration": "slow", "error": {"e": 1}},
            {"event_id": 307, "execution_id": 10, "event_type": "good again"}
          ]$$::jsonb) -> 'rejected',
          $$[{"index": 0, "reason": "the event must be a JSON object"},
             {"index": 1, "reason": "event_id is missing or not a signed 64-bit integer"},
             {"index": 2, "reason": "event_id is missing or not a signed 64-bit integer"},
             {"index": 3, "reason": "execution_id is missing or not a signed 64-bit integer"},
             {"index": 4, "reason": "event_type is missing or not a non-empty string"},
             {"index": 5, "reason": "result must be an object with a string status and at most reference and context objects"},
             {"index": 6, "reason": "result must be an object with a string status and at most reference and context objects"},
             {"index": 7, "reason": "timestamp / created_at is not an RFC 3339 date-time"},
             {"index": 8, "reason": "timestamp / created_at is not an RFC 3339 date-time"},
             {"index": 9, "reason": "event_id is missing or not a signed 64-bit integer"}]$$::jsonb,
          'every bad envelope is rejected with its index and reason');
SELECT is((SELECT (event_type, stream_version, duration IS NULL, error)::text FROM noetl.event
            WHERE execution_id = 10 AND event_id = 307),
          '(good,5,t,"{""e"": 1}")', 'the good envelope is stored once (the later copy is a duplicate)');
SELECT is((SELECT count(*) FROM noetl.event WHERE execution_id = 10), 3::bigint, 'nothing else was written');

-- ids
SELECT is(noetl.project_event_id('9223372036854775807'), 9223372036854775807::bigint, 'the largest id');
SELECT is(noetl.project_event_id('"-9223372036854775808"'), '-9223372036854775808'::bigint, 'the smallest id, as a string');
SELECT is(noetl.project_event_id('9223372036854775808'), NULL, 'one past the range is not an id');
SELECT is(noetl.project_event_id('12.0'), NULL, 'a number with a fraction part is not an id');
SELECT is(noetl.project_event_id('true'), NULL, 'a boolean is not an id');
SELECT is(noetl.project_event_time('"2026-06-04T08:00:00+02:00"'), '2026-06-04 06:00:00+00'::timestamptz,
          'an offset is converted to UTC');

SELECT throws_ok($$SELECT noetl.project_events('{"events": []}'::jsonb)$$, 'NE422', NULL,
                 'an object instead of an array raises NE422');
SELECT is(noetl.project_events('[]'::jsonb), '{"projected": 0, "duplicates": 0, "rejected": []}'::jsonb,
          'an empty array projects nothing');

SELECT * FROM finish();
ROLLBACK;
